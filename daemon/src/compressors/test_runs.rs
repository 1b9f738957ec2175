//! Test runs and tracebacks: what an agent reads after running a test suite or a failing script.
//! Of a test run it needs the failures, their tracebacks and the summary; a line per passing
//! test (pytest's and unittest's verbose mode, cargo test, go test, jest and mocha) says only
//! "passed", so each run of them becomes a count (DejaGnu's `PASS:` and TAP's `ok N` lines too),
//! except the passes that have the question's words. Skipped tests in a run are counted with
//! their reasons, a reason few tests give naming them (`26 skipped: 'Windows only' ×25, 'not
//! on tty' (test_stty_match)`), and DejaGnu's announcements of test files that printed nothing
//! else join them (`(29 test files: 271 tests passed)`), as do
//! unittest's result lines of failures whose reports follow, by name. Of a traceback it needs
//! the frames in its own code; a run of frames inside installed libraries and the standard
//! library (site-packages, node_modules, `lib/python3.x`) keeps its first and last frame and
//! counts the rest. A run of frames an earlier traceback already shows (the same
//! failure in many tests) becomes one line naming their functions, and the `~~^^` lines Python
//! 3.11+ prints under a frame's source go. In pytest's failure reports the source listings and
//! local variables go (`[… 7 lines (40–46) …]`); each failing line (`>`), error (`E …`) and
//! frame's place stays. Every other line stays as it was, and one marker retrieves the output
//! whole.

use crate::request::marker::{self, thousands};
use crate::request::query::{with_identifier_parts, Query};
use super::{add_to_group, logs, Compressor, Context};

/// Compresses test-runner output and tracebacks.
pub struct TestRuns;

/// Consecutive passing and skipped tests that become a count; fewer do only when their lines
/// are more than twice as long as the count.
const MIN_PASS_RUN: usize = 3;
/// Consecutive library frames that are shortened; fewer stay as they are.
const MIN_LIBRARY_RUN: usize = 4;
/// Consecutive frames an earlier traceback shows that become a note; one stays as it is.
const MIN_REPEATED_RUN: usize = 2;

/// Whether a line reports one passing test, in the formats of the common runners; `=== RUN`
/// lines (go test) go with the passes they announce.
fn passes(line: &str) -> bool {
    let t = line.trim();
    t.contains("::") && (t.ends_with(" PASSED") || t.contains(" PASSED ") && t.ends_with("%]"))
        || t.ends_with(" ... ok") && (t.starts_with("test ") || t.starts_with("test_") || t.contains(" ("))
        || t.starts_with("--- PASS: ")
        || t.starts_with("=== RUN ")
        || t.starts_with("=== PAUSE ")
        || t.starts_with("=== CONT ")
        || t.starts_with(['✓', '✔']) && t.chars().nth(1) == Some(' ')
        || t.starts_with("PASS: ")
        || t.strip_prefix("ok ").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// Whether a line reports a pass of its own (not go's announcement of a test).
fn counts_as_pass(line: &str) -> bool {
    let t = line.trim_start();
    passes(line) && !t.starts_with("=== ")
}

/// Whether a line names a test whose result comes on a later line: go's `=== RUN` and
/// unittest's `test_x (pkg.mod.Class.test_x)`, alone (its docstring line carries the result) or
/// followed by ` ... ` and what the test logged before its result.
fn opens(line: &str) -> bool {
    let t = line.trim();
    let unittest = |head: &str| head.ends_with(')') && head.split_once(" (").is_some_and(|(name, path)| name.starts_with("test") && !name.contains(' ') && !path.contains(' '));
    t.starts_with("=== ") || unittest(t) || t.split_once(" ... ").is_some_and(|(head, rest)| unittest(head) && !is_result(rest))
}

/// Whether text after a unittest ` ... ` (or alone on a line) is a result: `ok`, `FAIL`,
/// `ERROR`, `skipped 'why'`, `expected failure`, `unexpected success`.
fn is_result(rest: &str) -> bool {
    let r = rest.trim();
    ["ok", "FAIL", "ERROR", "expected failure", "unexpected success"].contains(&r) || r.starts_with("skipped ")
}

/// Whether a trimmed line reports a unittest result, alone or after ` ... `.
fn reports_result(t: &str) -> bool {
    is_result(t) || t.rsplit_once(" ... ").is_some_and(|(_, rest)| is_result(rest))
}

/// The reason given for a skipped test, when a line reports one (unittest's `... skipped 'why'`,
/// pytest's `SKIPPED (why)`, go's `--- SKIP:`); `open` when an earlier line named the test, so
/// the line may be its docstring or the result alone.
fn skip_reason(line: &str, open: bool) -> Option<&str> {
    let t = line.trim();
    if let Some(reason) = t.strip_prefix("skipped ").filter(|_| open) {
        return Some(reason);
    }
    if let Some((head, reason)) = t.rsplit_once(" ... skipped ") {
        return (open || head.starts_with("test") || head.contains(" (")).then_some(reason);
    }
    if t.contains("::") && t.contains(" SKIPPED") {
        let after = t.split_once(" SKIPPED").map_or("", |(_, rest)| rest.trim());
        return Some(after.strip_prefix('(').and_then(|r| r.split_once(')')).map_or("", |(why, _)| why));
    }
    t.starts_with("--- SKIP: ").then_some("")
}

/// What one line of a run of passing and skipped tests is.
enum Entry<'a> {
    Pass,
    Skip(&'a str),
    /// It names a test whose result comes later.
    Opening,
    /// What a named test printed before its result.
    Inside,
    /// It announces the test file whose results follow (DejaGnu's `Running x.exp ...`).
    File,
    /// pytest's progress for a file, a character per test (`test_x.py ..s.. [ 40%]`), of passes
    /// and skips only: how many passed and how many were skipped.
    Progress(usize, usize),
}

/// A pytest progress line (`test_glob.py .s..F.   [ 18%]`, or its continuation `.....   [ 58%]`):
/// the file it names, if any, and its marks, a character per test.
fn progress_marks(line: &str) -> Option<(Option<&str>, &str)> {
    let (head, percent) = line.trim_end().rsplit_once('[')?;
    let percent = percent.strip_suffix("%]")?.trim();
    if percent.is_empty() || !percent.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut words = head.split_whitespace().rev();
    let marks = words.next()?;
    let file = words.next();
    let valid = words.next().is_none() && file.is_none_or(|f| f.ends_with(".py")) && marks.chars().all(|c| ".sxXFE".contains(c));
    valid.then_some((file, marks))
}

/// A pytest progress line of passes and skips only: how many passed and how many were skipped.
fn progress(line: &str) -> Option<(usize, usize)> {
    let (_, marks) = progress_marks(line)?;
    let skipped = marks.chars().filter(|&c| c == 's').count();
    marks.chars().all(|c| c == '.' || c == 's').then_some((marks.len() - skipped, skipped))
}

/// For each line, whether it is a progress line of a file all of whose progress lines (the one
/// naming it and its continuations) hold only passes and skips: a file with a failure keeps
/// every one of its lines, so each failure stays beside its file's name.
fn clean_progress(lines: &[&str]) -> Vec<bool> {
    let mut clean = vec![false; lines.len()];
    let mut at = 0;
    while at < lines.len() {
        if progress_marks(lines[at]).is_none() {
            at += 1;
            continue;
        }
        let end = at + 1 + lines[at + 1..].iter().take_while(|l| progress_marks(l).is_some_and(|(file, _)| file.is_none())).count();
        let group_clean = (at..end).all(|i| progress(lines[i]).is_some());
        clean[at..end].iter_mut().for_each(|c| *c = group_clean);
        at = end;
    }
    clean
}

/// Whether a line announces a test file: DejaGnu's `Running /src/gdb.base/break.exp ...`.
fn announces_file(line: &str) -> bool {
    line.strip_prefix("Running ").and_then(|rest| rest.strip_suffix(" ...")).is_some_and(|path| !path.is_empty() && !path.contains(char::is_whitespace))
}

/// The line as part of a run of passes and skips, or `None` when it ends the run; `open` when a
/// test named on an earlier line has no result yet.
fn entry(line: &str, open: bool) -> Option<Entry<'_>> {
    let t = line.trim();
    if !open && announces_file(line) {
        Some(Entry::File)
    } else if let Some((passed, skipped)) = progress(line).filter(|_| !open) {
        Some(Entry::Progress(passed, skipped))
    } else if let Some(reason) = skip_reason(line, open) {
        Some(Entry::Skip(reason))
    } else if counts_as_pass(line) || open && (t == "ok" || t.ends_with(" ... ok")) {
        Some(Entry::Pass)
    } else if passes(line) || opens(line) {
        Some(Entry::Opening)
    } else if open && !reports_result(t) && !fails(line) {
        Some(Entry::Inside)
    } else {
        None
    }
}

/// Lines a run of passes may hold between two tests (what one test printed after its result or
/// the next before its name).
const MAX_LINES_BETWEEN_TESTS: usize = 8;

/// Whether a line reports a failing test (or its error).
fn fails(line: &str) -> bool {
    let t = line.trim();
    ["FAIL", "ERROR"].contains(&t)
        || t.starts_with("--- FAIL")
        || t.rsplit_once(" ... ").is_some_and(|(_, rest)| matches!(rest, "FAIL" | "ERROR" | "unexpected success"))
        || t.contains("::") && (t.contains(" FAILED") || t.contains(" ERROR"))
}

/// Where the next test's line is, when the lines from `at` are what tests printed between two
/// of them: at most [`MAX_LINES_BETWEEN_TESTS`], none reporting a failure or having the
/// question's words.
fn between_tests(lines: &[&str], at: usize, query: &Query) -> Option<usize> {
    (at..lines.len().min(at + MAX_LINES_BETWEEN_TESTS + 1))
        .take_while(|&j| !fails(lines[j]) && query.hits(lines[j]) == 0)
        .find(|&j| j > at && entry(lines[j], false).is_some())
}

/// What stands for a run of `passed` passes and the skips with `reasons` (each with its count,
/// in order of first appearance) from `files` announced test files: `(12 tests passed, 3
/// skipped: 'Windows only' ×2, 'not on tty')`, `(4 test files: 97 tests passed)`.
fn run_note(passed: usize, reasons: &[(&str, usize)], named: &[(&str, Vec<&str>)], files: usize) -> String {
    let results = results_note(passed, reasons, named);
    match files {
        0 => format!("({results})"),
        1 if results.is_empty() => "(1 test file, no results)".to_string(),
        1 => format!("(1 test file: {results})"),
        n if results.is_empty() => format!("({} test files, no results)", thousands(n)),
        n => format!("({} test files: {results})", thousands(n)),
    }
}

/// The passes and skips of a run in words, empty when it has none; the skipped tests `named`
/// for their reason follow it in parentheses (`'not on tty' (test_stty_match)`).
fn results_note(passed: usize, reasons: &[(&str, usize)], named: &[(&str, Vec<&str>)]) -> String {
    let skipped: usize = reasons.iter().map(|(_, n)| n).sum();
    let why: Vec<String> = reasons
        .iter()
        .filter(|(reason, _)| !reason.is_empty())
        .map(|(reason, n)| {
            let quoted: String = reason.chars().take(MAX_REASON_CHARS).collect();
            let counted = if *n > 1 { format!("{quoted} ×{n}") } else { quoted };
            match named.iter().find(|(r, _)| r == reason) {
                Some((_, tests)) => format!("{counted} ({})", tests.join(", ")),
                None => counted,
            }
        })
        .collect();
    let why = if why.is_empty() { String::new() } else { format!(": {}", why.join(", ")) };
    let tests = |n: usize| marker::counted(n, "test", "tests");
    match (passed, skipped) {
        (0, 0) => String::new(),
        (p, 0) => format!("{} passed", tests(p)),
        (0, s) => format!("{} skipped{why}", tests(s)),
        (p, s) => format!("{} passed, {} skipped{why}", tests(p), thousands(s)),
    }
}

/// The name of the test a line names: unittest's `test_x (pkg.Class.test_x) ...`, pytest's
/// `tests/test_a.py::test_x SKIPPED`, go's `--- SKIP: TestX (0.00s)`.
fn test_name(line: &str) -> Option<&str> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix("--- SKIP: ") {
        return rest.split_whitespace().next();
    }
    if t.contains("::") {
        let head = t.split_whitespace().next()?;
        return head.rsplit("::").next();
    }
    let head = t.split_once(" ... ").map_or(t, |(head, _)| head);
    head.split_once(" (").map(|(name, _)| name).filter(|name| !name.contains(' '))
}

/// A unittest result line `test_x (pkg.Class.test_x) ... FAIL` whose test `reported` holds (its
/// traceback follows below): the test's name and its result.
fn reported_below<'a>(line: &'a str, reported: &std::collections::HashSet<&str>) -> Option<(&'a str, &'a str)> {
    let (head, result) = line.trim().rsplit_once(" ... ")?;
    let name = head.split_once(" (").map_or(head, |(name, _)| name);
    (matches!(result, "FAIL" | "ERROR") && reported.contains(head)).then_some((name, result))
}

/// Adds `n` to `key`'s count in `counts`, which keeps keys in order of first appearance.
fn tally<K: PartialEq>(counts: &mut Vec<(K, usize)>, key: K, n: usize) {
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, count)) => *count += n,
        None => counts.push((key, n)),
    }
}

/// A run's note with the failures in it that are reported below, by result and name, each
/// with its count: `(10 tests passed; reported below: ERROR test_clear ×2, FAIL test_get)`.
fn with_failures(note: String, failed: &[((&str, &str), usize)]) -> String {
    if failed.is_empty() {
        return note;
    }
    let listed: Vec<String> = failed.iter().map(|((result, name), n)| if *n > 1 { format!("{result} {name} ×{n}") } else { format!("{result} {name}") }).collect();
    let inner = note.trim_start_matches('(').trim_end_matches(')');
    let sep = if inner.is_empty() { "" } else { "; " };
    format!("({inner}{sep}reported below: {})", listed.join(", "))
}

/// Longest skip reason a run's note quotes, in characters.
const MAX_REASON_CHARS: usize = 100;
/// A skip reason given for this many tests or fewer in the whole output names them in the
/// note: few tests share it, so it is theirs (the machine lacks what they need), and their names
/// are what to act on. A reason many tests give (`'Windows only' ×25`) is only counted.
const NAMED_SKIPS: usize = 3;

/// The file a traceback frame line names, for Python (`  File "x.py", line 3, in f`) and
/// JavaScript (`    at f (/x/node_modules/y.js:3:5)`) frames.
fn frame_file(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("File \"") {
        return rest.split_once("\", line ").map(|(file, _)| file);
    }
    let rest = t.strip_prefix("at ")?;
    let inside = rest.rsplit_once('(').map_or(rest, |(_, f)| f.trim_end_matches(')'));
    inside.contains(':').then_some(inside)
}

/// Whether a frame's file is installed code rather than the project's own.
fn in_library(file: &str) -> bool {
    ["/site-packages/", "/dist-packages/", "/node_modules/", "<frozen ", "node:internal"].iter().any(|p| file.contains(p))
        || file.contains("/lib/python") && !file.contains("/site-packages/")
}

/// A Python frame is its `File` line and the indented lines after it (the source, and from
/// Python 3.11 the `~~^^` lines pointing into it); a JavaScript frame is one line.
fn frame_len(lines: &[&str], at: usize) -> usize {
    let file_line = lines[at];
    if !file_line.trim_start().starts_with("File \"") {
        return 1;
    }
    1 + lines[at + 1..]
        .iter()
        .take_while(|next| !next.trim().is_empty() && next.starts_with([' ', '\t']) && frame_file(next).is_none())
        .count()
}

/// The whitespace a line begins with.
fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Whether a line only points into the source line above it (`    ~~~~^^^^`), which Python
/// prints under a frame that names its function (a syntax error's caret is not one).
fn points_into_source(line: &str) -> bool {
    let t = line.trim();
    t.contains('^') && t.chars().all(|c| c == '^' || c == '~')
}

/// The function a frame line names: Python's `, in name`, JavaScript's `at name (`.
fn frame_function(line: &str) -> &str {
    let t = line.trim_start();
    match t.rsplit_once(", in ") {
        Some((_, name)) if t.starts_with("File \"") => name,
        _ => t.strip_prefix("at ").and_then(|rest| rest.split_once(" (")).map_or("<anonymous>", |(name, _)| name),
    }
}

/// One traceback frame: the line it begins on and how many lines it has.
#[derive(Clone, Copy)]
struct Frame {
    at: usize,
    len: usize,
}

/// The tracebacks in `lines`, each as its frames in order (frames with no line between them).
fn tracebacks(lines: &[&str]) -> Vec<Vec<Frame>> {
    let mut found: Vec<Vec<Frame>> = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        if frame_file(lines[at]).is_none() {
            at += 1;
            continue;
        }
        let frame = Frame { at, len: frame_len(lines, at) };
        match found.last_mut() {
            Some(last) if last.last().is_some_and(|f| f.at + f.len == at) => last.push(frame),
            _ => found.push(vec![frame]),
        }
        at += frame.len;
    }
    found
}

/// The runs of at least `min` consecutive frames of one traceback for which `pick` holds, as
/// ranges of their indices.
fn frame_runs(traceback: &[Frame], min: usize, pick: impl Fn(usize) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 0..=traceback.len() {
        if i < traceback.len() && pick(i) {
            continue;
        }
        if i - start >= min {
            runs.push(start..i);
        }
        start = i + 1;
    }
    runs
}

/// Whether `text` has a run of passing-test lines, a traceback with a run of library frames
/// worth shortening, or a test runner's closing tally: a run's failures are read one by one,
/// never as a log's repeated lines.
pub fn detect(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let mut run = 0;
    let pass_run = lines.iter().any(|l| {
        run = if passes(l) || skip_reason(l, false).is_some() { run + usize::from(!opens(l)) } else { 0 };
        run >= MIN_PASS_RUN
    });
    pass_run
        || tracebacks(&lines).iter().any(|tb| !frame_runs(tb, MIN_LIBRARY_RUN, |i| is_library(&lines, &tb[i])).is_empty())
        || lines.iter().any(|l| closes_run(l))
}

/// Whether a line is a test runner's closing tally: unittest's `Ran 12 tests in 0.3s`,
/// pytest's `==== 2 failed, 10 passed in 0.31s ====`.
fn closes_run(line: &str) -> bool {
    let t = line.trim();
    let unittest = t.strip_prefix("Ran ").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(" test") && rest.contains(" in "));
    let pytest = t.starts_with("==") && t.ends_with("==") && t.contains(" in ") && (t.contains(" passed") || t.contains(" failed"));
    unittest || pytest
}

/// Whether a frame is in installed code.
fn is_library(lines: &[&str], frame: &Frame) -> bool {
    frame_file(lines[frame.at]).is_some_and(in_library)
}

/// A frame's lines without those pointing into its source: what makes two frames the same.
fn frame_text(lines: &[&str], frame: &Frame) -> String {
    let own = &lines[frame.at..frame.at + frame.len];
    own.iter().filter(|l| !points_into_source(l)).copied().collect::<Vec<_>>().join("\n")
}

/// Whether a line heads one of pytest's failure reports (`____ TestX.test_y ____`).
fn heads_report(line: &str) -> bool {
    let t = line.trim();
    t.len() > 8 && t.starts_with("___") && t.ends_with("___") && t.trim_matches('_').trim().contains(|c: char| c.is_alphanumeric())
}

/// Drops, inside each of pytest's failure reports, the source it lists, the local variables it
/// prints (`self = <…>`) and the `^^^^` under the failing line, keeping that line (`>`), the
/// error (`E …`), where each frame is (`test_x.py:12: AssertionError`), captured output and
/// lines with the question's words; each dropped run is noted `[… 7 lines (40–46) …]`. How
/// many lines went.
fn pytest_listings(lines: &[&str], query: &Query, dropped: &mut [bool], replaced: &mut [Option<String>]) -> usize {
    let mut inside = false;
    let mut captured = false;
    let mut listing = vec![false; lines.len()];
    let mut went = 0;
    for (i, line) in lines.iter().enumerate() {
        if heads_report(line) {
            (inside, captured) = (true, false);
            continue;
        }
        if line.starts_with("===") {
            inside = false;
        }
        if line.starts_with("---") && line.contains(" Captured ") {
            captured = true;
        }
        // The `^^^^` under the failing line says nothing the line and its error do not.
        if inside && !dropped[i] && points_into_source(line) {
            dropped[i] = true;
            went += 1;
            continue;
        }
        let locals = line.split_once(" = ").is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'));
        listing[i] = inside && !captured && !dropped[i] && replaced[i].is_none() && (line.starts_with("    ") || locals) && query.hits(line) == 0;
    }
    let mut at = 0;
    while at < lines.len() {
        // A run, with the blank lines inside it.
        let Some(start) = (at..lines.len()).find(|&i| listing[i]) else { break };
        let mut end = start;
        while end < lines.len() && (listing[end] || lines[end].trim().is_empty() && listing.get(end + 1) == Some(&true)) {
            end += 1;
        }
        if end - start >= MIN_LISTING_RUN {
            dropped[start..end].iter_mut().for_each(|d| *d = true);
            replaced[start] = Some(marker::omitted_run(start, end - 1).trim_end().to_string());
            went += end - start;
        }
        at = end.max(start + 1);
    }
    went
}

/// Lines of a failure report's listing that go together; fewer stay.
const MIN_LISTING_RUN: usize = 3;

/// What shortening the tracebacks of a run took out.
#[derive(Default)]
struct Shortened {
    /// Frames repeating ones an earlier traceback shows.
    repeated: usize,
    /// Library frames between a run's first and last.
    library: usize,
    /// Lines pointing into a frame's source.
    pointers: usize,
}

/// Shortens every traceback in `lines`, marking what goes in `dropped` and what stands for it
/// in `replaced`: lines pointing into a frame's source go; a run of frames that an earlier
/// traceback already shows becomes `(3 frames as above: get, before_get, _interpolate_some)`;
/// a run of library frames keeps its first and last.
fn shorten_tracebacks(lines: &[&str], dropped: &mut [bool], replaced: &mut [Option<String>]) -> Shortened {
    let mut took = Shortened::default();
    let mut shown: std::collections::HashSet<String> = std::collections::HashSet::new();
    for traceback in tracebacks(lines) {
        let texts: Vec<String> = traceback.iter().map(|f| frame_text(lines, f)).collect();
        for run in frame_runs(&traceback, MIN_REPEATED_RUN, |i| shown.contains(&texts[i])) {
            let frames = &traceback[run];
            let (first, last) = (frames[0], frames[frames.len() - 1]);
            let names: Vec<&str> = frames.iter().map(|f| frame_function(lines[f.at])).collect();
            dropped[first.at..last.at + last.len].iter_mut().for_each(|d| *d = true);
            replaced[first.at] = Some(format!("{}({} frames as above: {})", indent(lines[first.at]), frames.len(), names.join(", ")));
            took.repeated += frames.len();
        }
        shown.extend(texts);
        for run in frame_runs(&traceback, MIN_LIBRARY_RUN, |i| is_library(lines, &traceback[i]) && !dropped[traceback[i].at]) {
            let (first, last) = (traceback[run.start], traceback[run.end - 1]);
            let from = first.at + first.len;
            dropped[from..last.at].iter_mut().for_each(|d| *d = true);
            replaced[from] = Some(format!("{}({} more library frames)", indent(lines[first.at]), thousands(run.len() - 2)));
            took.library += run.len() - 2;
        }
        for frame in &traceback {
            let runtime = lines[frame.at].trim_start().starts_with("File \"") && lines[frame.at].contains(", in ");
            if !runtime || dropped[frame.at] {
                continue;
            }
            for i in frame.at + 1..frame.at + frame.len {
                if points_into_source(lines[i]) {
                    dropped[i] = true;
                    took.pointers += 1;
                }
            }
        }
    }
    took
}

/// Shortens, as a log, each run of lines nothing above touched that reads as one (many lines of
/// a few templates, see [`logs::repetitive`]): what a test printed, such as a build's hundreds
/// of `copying` lines or a server's records. Returns what each run's marker note says.
fn printed_logs(lines: &[&str], ctx: &Context, dropped: &mut [bool], replaced: &mut [Option<String>]) -> Vec<String> {
    let mut notes = Vec::new();
    let mut end = 0;
    while end < lines.len() {
        let start = end;
        while end < lines.len() && !dropped[end] && replaced[end].is_none() {
            end += 1;
        }
        let block = lines[start..end].join("\n");
        if let Some((body, what)) = logs::repetitive(&block).then(|| logs::shorten(&block, start, ctx)).flatten() {
            dropped[start..end].fill(true);
            replaced[start] = Some(body.trim_end_matches('\n').to_string());
            notes.push(what);
        }
        end += 1;
    }
    notes
}

impl Compressor for TestRuns {
    fn name(&self) -> &'static str {
        "test_runs"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut replaced: Vec<Option<String>> = vec![None; lines.len()]; // what stands for a dropped line's run
        let mut dropped = vec![false; lines.len()];
        let mut passed = 0;
        // Words on more than a fiftieth of the lines (`test` in `test_copy`, a log level, the
        // test module the command ran) tell no pass apart.
        let units: Vec<String> = lines.iter().map(|l| with_identifier_parts(l)).collect();
        let query = Query::new(ctx.query).discriminative(units.iter().map(String::as_str), 0.02);
        let clean = clean_progress(&lines);
        // The tests unittest reports in full below (`FAIL: test_x (pkg.Class.test_x)`).
        let reported: std::collections::HashSet<&str> = lines.iter().filter_map(|l| l.strip_prefix("FAIL: ").or_else(|| l.strip_prefix("ERROR: "))).map(str::trim_end).collect();
        let (mut skipped, mut announced, mut named_failures) = (0, 0, 0);
        // How many tests each skip reason is given for, in the whole output.
        let mut skip_totals: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for line in &lines {
            if let Some(reason) = skip_reason(line, true).filter(|r| !r.is_empty()) {
                *skip_totals.entry(reason).or_default() += 1;
            }
        }
        let mut i = 0;
        while i < lines.len() {
            let (mut end, mut count, mut files) = (i, 0, 0);
            // Failures reported below, by result and name, with their counts.
            let mut failed: Vec<((&str, &str), usize)> = Vec::new();
            // Where the test still waiting for its result was named.
            let mut open: Option<usize> = None;
            // Whether the run's tests are named before their results: they print in between.
            let mut named_first = false;
            let mut reasons: Vec<(&str, usize)> = Vec::new();
            // The skipped tests of reasons few tests give, by reason.
            let mut named: Vec<(&str, Vec<&str>)> = Vec::new();
            // A failure reported below is named in the note even with the question's words.
            while end < lines.len() && (query.hits(lines[end]) == 0 || open.is_none() && reported_below(lines[end], &reported).is_some()) {
                // A file's announcement goes with the run when its results, or the next file's,
                // follow it; before anything else (a compiler's error) it stays.
                let results_follow = |next: &str| query.hits(next) == 0 && matches!(entry(next, false), Some(Entry::Pass | Entry::Skip(_) | Entry::File | Entry::Progress(..)));
                // A failure whose report follows below is named in the run's note.
                if let Some((name, result)) = reported_below(lines[end], &reported).filter(|_| open.is_none()) {
                    tally(&mut failed, (result, name), 1);
                    end += 1;
                    continue;
                }
                let line = match entry(lines[end], open.is_some()) {
                    None if named_first && open.is_none() => between_tests(&lines, end, &query).map(|next| (next, Entry::Inside)),
                    None => None,
                    Some(Entry::File) if !lines.get(end + 1).is_some_and(|next| results_follow(next)) => None,
                    Some(Entry::Progress(..)) if !clean[end] => None,
                    Some(e) => Some((end + 1, e)),
                };
                let Some((next, line)) = line else { break };
                match line {
                    Entry::Pass => {
                        count += 1;
                        open = None;
                    }
                    Entry::Skip(reason) => {
                        tally(&mut reasons, reason, 1);
                        let name = test_name(lines[open.unwrap_or(end)]);
                        if let Some(name) = name.filter(|_| skip_totals.get(reason).is_some_and(|&n| n <= NAMED_SKIPS)) {
                            add_to_group(&mut named, reason, name);
                        }
                        open = None;
                    }
                    Entry::Opening => {
                        open = Some(open.unwrap_or(end));
                        named_first = true;
                    }
                    Entry::Inside => {}
                    Entry::File => files += 1,
                    Entry::Progress(passes, skips) => {
                        count += passes;
                        if skips > 0 {
                            tally(&mut reasons, "", skips);
                        }
                    }
                }
                end = next;
            }
            // A test named but without its result in the run (it failed, or printed the
            // question's words) stays whole, from the line naming it.
            if let Some(at) = open {
                end = at;
            }
            let skips: usize = reasons.iter().map(|(_, n)| n).sum();
            let failures: usize = failed.iter().map(|(_, n)| n).sum();
            let note = with_failures(run_note(count, &reasons, &named, files), &failed);
            let run_chars: usize = lines[i..end].iter().map(|l| l.len() + 1).sum();
            // A run becomes its note when it has a few tests, or when the note is much shorter.
            let entries = count + skips + files + failures;
            if entries >= MIN_PASS_RUN || entries > 0 && run_chars > 2 * note.len() {
                dropped[i..end].iter_mut().for_each(|d| *d = true);
                replaced[i] = Some(format!("{}{note}", indent(lines[i])));
                passed += count;
                skipped += skips;
                announced += files;
                named_failures += failures;
            }
            i = end.max(i + 1);
        }
        let took = shorten_tracebacks(&lines, &mut dropped, &mut replaced);
        let listed = pytest_listings(&lines, &query, &mut dropped, &mut replaced);
        let logged = printed_logs(&lines, ctx, &mut dropped, &mut replaced);
        if passed + skipped + announced + named_failures + took.repeated + took.library + took.pointers + listed + logged.len() == 0 {
            return None;
        }
        let mut out = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            if let Some(stand_in) = &replaced[i] {
                out.push(stand_in.clone());
            }
            if !dropped[i] {
                out.push(line.to_string());
            }
        }
        let mut parts = Vec::new();
        match (passed, skipped) {
            (0, 0) => {}
            (p, 0) => parts.push(format!("the lines of {} passing tests counted", thousands(p))),
            (p, s) => parts.push(format!("the lines of {} passing and {} skipped tests counted", thousands(p), thousands(s))),
        }
        if named_failures > 0 {
            parts.push(format!("{} result lines of failures reported below named in the counts", thousands(named_failures)));
        }
        if announced > 0 {
            parts.push(format!("the announcements of {} test files with nothing else to show counted", thousands(announced)));
        }
        if took.repeated > 0 {
            parts.push(format!("{} traceback frames shown above omitted", thousands(took.repeated)));
        }
        if took.library > 0 {
            parts.push(format!("{} library frames of tracebacks omitted", thousands(took.library)));
        }
        if listed > 0 {
            parts.push(format!("{} lines of source, pointers and local variables in pytest's failure reports omitted", thousands(listed)));
        }
        if took.pointers > 0 {
            parts.push(format!("{} lines pointing into frames' source omitted", thousands(took.pointers)));
        }
        parts.extend(logged.iter().map(|what| format!("of a log the run printed, {what}")));
        let what = parts.join(", ");
        out.push(marker::marker(ctx.key, &what));
        Some(out.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(text: &str) -> String {
        let ctx = Context { key: "0123456789abcdef01234567", ..Context::default() };
        TestRuns.compress(text, &ctx).expect("compressed")
    }

    #[test]
    fn dejagnu_passes_are_counted_and_failures_and_passes_on_the_question_stay() {
        let log = include_str!("../../../tests/fixtures/testruns/gdb_check.log");
        assert!(detect(log));
        let ctx = Context { query: "did the case-insensitive breakpoint test pass?", key: "0123456789abcdef01234567", ..Context::default() };
        let out = TestRuns.compress(log, &ctx).expect("compressed");
        assert!(out.len() * 10 < log.len(), "{} of {}", out.len(), log.len());
        // Every line but passes and the announcements of files that only passed stays.
        let lines: Vec<&str> = log.lines().collect();
        for (i, line) in lines.iter().enumerate().filter(|(_, l)| !l.starts_with("PASS: ")) {
            let only_passed = announces_file(line) && lines.get(i + 1).is_some_and(|next| next.starts_with("PASS: ") || announces_file(next));
            assert!(only_passed || out.contains(line), "every failure, note and header of other output stays: {line}");
        }
        assert!(out.contains("Running /build/gdb-kUlB6r/gdb-13.1/gdb/testsuite/gdb.dlang/dlang-start.exp ...\ngdb compile failed, default_target_compile: Can't find gdc.\nUNTESTED: gdb.dlang/dlang-start.exp"), "{out}");
        assert!(!out.contains("gdb.dlang/expression.exp ...") && out.contains(" test files: "), "{out}");
        assert!(out.contains("PASS: gdb.dwarf2/dw2-case-insensitive.exp: setting breakpoint at fuNC_symtab"), "{out}");
        assert!(out.contains("tests passed)") && !out.contains("PASS: gdb.dlang/demangle.exp: _D8demangle4testFPFNfZaZv"), "{out}");
    }

    #[test]
    fn a_word_on_every_test_of_a_module_picks_out_no_pass() {
        // 1,790 unittest results, 5 failures in test_textwrap, whose name is on 85 lines (and
        // in the command, which is part of the question).
        let log = include_str!("../../../tests/fixtures/testruns/unittest_textwrap_broken.log");
        let query = "Which tests fail now? python3 -m unittest -v test.test_textwrap test.test_shlex test.test_argparse";
        let ctx = Context { query, key: "0123456789abcdef01234567", ..Context::default() };
        let out = TestRuns.compress(log, &ctx).expect("compressed");
        assert!(!out.lines().any(|l| l.contains("test_textwrap") && l.ends_with(" ... ok")), "{out}");
        for line in log.lines().filter(|l| l.starts_with("FAIL: ") || l.starts_with("AssertionError: ")) {
            assert!(out.contains(line), "lost: {line}");
        }
        assert!(out.len() * 20 < log.len(), "{} of {}", out.len(), log.len());
    }

    #[test]
    fn pytest_passes_are_counted_and_the_failure_and_summary_stay() {
        let mut text = String::from("============================= test session starts ==============================\n");
        for name in ["a", "b", "c", "d"] {
            text.push_str(&format!("tests/test_x.py::test_{name} PASSED                                   [ 20%]\n"));
        }
        text.push_str("tests/test_x.py::test_e FAILED                                   [100%]\n=========================== short test summary info ============================\nFAILED tests/test_x.py::test_e - AssertionError: 1 != 2\n========================= 1 failed, 4 passed in 0.12s ==========================");
        assert!(detect(&text));
        let out = compress(&text);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "============================= test session starts ==============================",
                "(4 tests passed)",
                "tests/test_x.py::test_e FAILED                                   [100%]",
                "=========================== short test summary info ============================",
                "FAILED tests/test_x.py::test_e - AssertionError: 1 != 2",
                "========================= 1 failed, 4 passed in 0.12s ==========================",
                "[headroom: the lines of 4 passing tests counted; headroom_retrieve hash=0123456789abcdef01234567]",
            ]
        );
    }

    #[test]
    fn go_cargo_and_unittest_passes_are_counted() {
        let go = "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- PASS: TestB (0.00s)\n=== RUN   TestC\n--- PASS: TestC (0.00s)\n=== RUN   TestD\n--- FAIL: TestD (0.00s)\n    d_test.go:9: want 2\nFAIL";
        assert!(compress(go).starts_with("(3 tests passed)\n=== RUN   TestD\n--- FAIL: TestD (0.00s)\n    d_test.go:9: want 2\nFAIL\n"));
        let cargo = "running 3 tests\ntest a::one ... ok\ntest a::two ... ok\ntest a::three ... ok\n\ntest result: ok. 3 passed";
        assert!(compress(cargo).starts_with("running 3 tests\n(3 tests passed)\n\ntest result: ok. 3 passed\n"));
        let unittest = "test_a (m.T) ... ok\ntest_b (m.T) ... ok\ntest_c (m.T) ... ok\ntest_d (m.T) ... FAIL\n";
        assert!(compress(unittest).starts_with("(3 tests passed)\ntest_d (m.T) ... FAIL\n"));
    }

    #[test]
    fn unittest_skips_count_with_their_reasons_and_docstring_records_count_as_passes() {
        let text = "test_copymode_symlink_to_symlink (test.test_shutil.TestCopy.test_copymode_symlink_to_symlink) ... skipped 'requires os.lchmod'\n\
test_does_not_crash (test.test_shutil.TestGetTerminalSize.test_does_not_crash)\n\
Check if get_terminal_size() returns a meaningful value. ... ok\n\
test_fallback (test.test_shutil.TestGetTerminalSize.test_fallback) ... ok\n\
test_empty_file (test.test_shutil.TestZeroCopyMACOS.test_empty_file) ... skipped 'macOS only'\n\
test_same_file (test.test_shutil.TestZeroCopyMACOS.test_same_file) ... skipped 'macOS only'\n\
test_disk_usage (test.test_shutil.TestMisc.test_disk_usage)\n\
Return disk usage statistics. ... FAIL\n\
test_chown (test.test_shutil.TestMisc.test_chown) ... ok\n\
\n\
Ran 7 tests in 0.020s\n\
\n\
FAILED (failures=1, skipped=3)";
        assert!(detect(text));
        let ctx = Context { query: "Which test failed?", key: "0123456789abcdef01234567", ..Context::default() };
        let out = TestRuns.compress(text, &ctx).expect("compressed");
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "(2 tests passed, 3 skipped: 'requires os.lchmod' (test_copymode_symlink_to_symlink), 'macOS only' ×2 (test_empty_file, test_same_file))",
                "test_disk_usage (test.test_shutil.TestMisc.test_disk_usage)",
                "Return disk usage statistics. ... FAIL",
                "(1 test passed)",
                "",
                "Ran 7 tests in 0.020s",
                "",
                "FAILED (failures=1, skipped=3)",
                "[headroom: the lines of 3 passing and 3 skipped tests counted; headroom_retrieve hash=0123456789abcdef01234567]",
            ]
        );
    }

    #[test]
    fn a_skip_reason_many_tests_give_is_counted_and_a_rare_one_names_its_tests() {
        let skip = |name: &str, why: &str| format!("{name} (test.test_os.Win32KillTests.{name}) ... skipped '{why}'\n");
        let mut text: String = (0..5).map(|i| skip(&format!("test_kill_{i}"), "Windows only")).collect();
        text += &skip("test_stty_match", "not on tty");
        text += "test_chown (test.test_os.ChownTests.test_chown) ... ok\n\nRan 7 tests in 0.020s\n\nOK (skipped=6)";
        let ctx = Context { query: "Which tests were skipped?", key: "0123456789abcdef01234567", ..Context::default() };
        let out = TestRuns.compress(&text, &ctx).expect("compressed");
        assert!(out.starts_with("(1 test passed, 6 skipped: 'Windows only' ×5, 'not on tty' (test_stty_match))\n"), "{out}");
    }

    #[test]
    fn what_passing_tests_log_goes_with_them_and_a_failing_tests_log_stays() {
        let log = |what: &str| format!("2026-12-06 17:49:04,425 asyncio      [9446]: DEBUG   {what}");
        let text = [
            format!("test_abort_barrier (test.test_asyncio.test_locks.BarrierTests.test_abort_barrier) ... {}", log("Using selector: EpollSelector")),
            "ok".to_string(),
            log("Close <_UnixSelectorEventLoop running=False closed=False debug=True>"),
            format!("test_barrier (test.test_asyncio.test_locks.BarrierTests.test_barrier) ... {}", log("Using selector: EpollSelector")),
            "ok".to_string(),
            "test_blocking_get (test.test_asyncio.test_locks.BarrierTests.test_blocking_get) ... ok".to_string(),
            format!("test_draining_state (test.test_asyncio.test_locks.BarrierTests.test_draining_state) ... {}", log("Using selector: EpollSelector")),
            log("Close <_UnixSelectorEventLoop running=False closed=True debug=True>"),
            "FAIL".to_string(),
            "test_filling_tasks (test.test_asyncio.test_locks.BarrierTests.test_filling_tasks) ... ok".to_string(),
            String::new(),
            "Ran 5 tests in 0.041s".to_string(),
        ]
        .join("\n");
        let out = compress(&text);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "(3 tests passed)", "{out}");
        assert_eq!(&lines[1..4], &text.lines().collect::<Vec<_>>()[6..9], "the failing test stays whole: {out}");
        assert_eq!(&lines[4..7], ["(1 test passed)", "", "Ran 5 tests in 0.041s"], "{out}");
        assert!(!out.contains("test_barrier "), "{out}");
    }

    #[test]
    fn library_frames_keep_the_first_and_last_and_project_frames_all_stay() {
        let text = "Traceback (most recent call last):\n  File \"/app/run.py\", line 3, in <module>\n    main()\n  File \"/usr/lib/python3.11/site-packages/requests/api.py\", line 59, in request\n    return session.request(method=method, url=url, **kwargs)\n  File \"/usr/lib/python3.11/site-packages/requests/sessions.py\", line 589, in request\n    resp = self.send(prep, **send_kwargs)\n  File \"/usr/lib/python3.11/site-packages/requests/sessions.py\", line 703, in send\n    r = adapter.send(request, **kwargs)\n  File \"/usr/lib/python3.11/site-packages/requests/adapters.py\", line 486, in send\n    resp = conn.urlopen(method=request.method, url=url)\n  File \"/usr/lib/python3.11/site-packages/requests/adapters.py\", line 519, in send\n    raise ConnectionError(e, request=request)\nrequests.exceptions.ConnectionError: refused";
        assert!(detect(text));
        let out = compress(text);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "Traceback (most recent call last):",
                "  File \"/app/run.py\", line 3, in <module>",
                "    main()",
                "  File \"/usr/lib/python3.11/site-packages/requests/api.py\", line 59, in request",
                "    return session.request(method=method, url=url, **kwargs)",
                "  (3 more library frames)",
                "  File \"/usr/lib/python3.11/site-packages/requests/adapters.py\", line 519, in send",
                "    raise ConnectionError(e, request=request)",
                "requests.exceptions.ConnectionError: refused",
                "[headroom: 3 library frames of tracebacks omitted; headroom_retrieve hash=0123456789abcdef01234567]",
            ]
        );
    }

    #[test]
    fn frames_an_earlier_traceback_shows_become_a_note_and_pointer_lines_go() {
        let run = include_str!("../../../tests/fixtures/testruns/configparser_unittest.txt");
        assert!(detect(run));
        let out = compress(run);
        let lines: Vec<&str> = out.lines().collect();
        assert!(!lines.iter().any(|l| points_into_source(l)), "{out}");
        // The first traceback stays whole, a multi-line call's second line too.
        assert_eq!(out.matches("line 828, in get").count(), 1, "{out}");
        assert!(lines.contains(&"                                          d)"), "{out}");
        // The second shares all but its test's frame with the first; the third repeats the first.
        assert!(out.contains("line 520, in test_default_case_sensitivity\n    _p = configparser.ConfigParser();"), "{out}");
        assert!(out.contains("\n  (3 frames as above: get, before_get, _interpolate_some)\nconfigparser.InterpolationMissingOptionError"), "{out}");
        assert!(out.contains("Traceback (most recent call last):\n  (4 frames as above: test_clear, get, before_get, _interpolate_some)\n"), "{out}");
        for key in ["'missing_836' which", "'missing_518' which"] {
            assert!(out.contains(key), "{key}: {out}");
        }
        assert!(out.contains("FAILED (failures=20, errors=32, skipped=5)"), "{out}");
        assert!(out.ends_with("[headroom: 7 traceback frames shown above omitted, 5 lines pointing into frames' source omitted; headroom_retrieve hash=0123456789abcdef01234567]"), "{out}");
    }

    #[test]
    fn a_failures_only_pytest_run_loses_its_listings_and_keeps_its_errors() {
        let run = include_str!("../../../tests/fixtures/testruns/configparser_pytest.txt");
        assert!(detect(run), "a failures-only pytest run is found by its tally");
        let out = compress(run);
        // The library function's listing goes under both failures; each error and place stays.
        assert!(!out.contains("rawval = parser.get(section, option, raw=True, fallback=rest)"), "{out}");
        assert!(out.contains("\n[… 33 lines (18–50) …]\n>                   raise InterpolationMissingOptionError("), "{out}");
        for key in ["'missing_836' which", "'missing_518' which"] {
            assert!(out.lines().any(|l| l.starts_with("E ") && l.contains(key)), "{key}: {out}");
        }
        assert_eq!(out.matches("/lib/python3.11/configparser.py:396: in before_get").count(), 2, "{out}");
        assert!(out.contains("55 failed, 271 passed"), "{out}");
    }

    #[test]
    fn a_default_pytest_run_keeps_each_failures_line_error_and_place() {
        let run = include_str!("../../../tests/fixtures/testruns/stdlib_pytest.txt");
        assert!(detect(run), "a pytest run is a test run, whatever it shortens");
        let out = compress(run);
        // Progress lines of passes and skips are counted; those with a failure stay.
        assert!(!out.contains("test_colorsys.py .......") && out.contains("test_bisect.py FFFFFFFFFFF"), "{out}");
        assert!(out.contains("FF....                                                                   [  8%]\n(69 tests passed, 2 skipped)\ntest_heapq.py"), "{out}");
        // A file with a failure keeps all its progress lines, each beside the file's name.
        assert!(out.contains("test_statistics.py ..................................................... [ 38%]\n......................."), "{out}");
        for line in run.lines().filter(|l| l.starts_with("E ") || l.starts_with('>') || l.starts_with("test_bisect.py:") || heads_report(l)) {
            assert!(out.contains(line), "{line}: {out}");
        }
        // The listing, the locals and the pointer under the failing line go, behind notes.
        assert!(!out.contains("self = <test_bisect.TestBisect") && !out.contains("    def test_negative_lo(self):"), "{out}");
        assert!(!out.lines().any(points_into_source), "{out}");
        assert!(out.contains("\n[… 4 lines (39–42) …]\n>       mod = self.module\n"), "{out}");
        assert!(out.contains("74 failed, 646 passed, 2 skipped"), "{out}");
    }

    #[test]
    fn failures_reported_below_are_named_in_the_count() {
        let run = include_str!("../../../tests/fixtures/testruns/configparser_unittest_run.txt");
        let out = compress(run);
        assert!(out.starts_with("(12 tests passed; reported below: ERROR test_clear, ERROR test_default_case_sensitivity, FAIL test_get_after_duplicate_option_error)\n"), "{out}");
        assert!(!out.contains(" ... ERROR") && !out.contains(" ... FAIL"), "{out}");
        for report in ["ERROR: test_clear (test_cp_m.ConfigParserTestCase.test_clear)", "FAIL: test_get_after_duplicate_option_error (test_cp_m.ConfigParserTestCase.test_get_after_duplicate_option_error)"] {
            assert!(out.contains(report), "{report}: {out}");
        }
        // A failure with no report below keeps its line.
        let unreported = run.replace("FAIL: test_get_after_duplicate_option_error", "FAIL: test_other");
        assert!(compress(&unreported).contains("test_get_after_duplicate_option_error (test_cp_m.ConfigParserTestCase.test_get_after_duplicate_option_error) ... FAIL"));
    }

    #[test]
    fn a_syntax_errors_caret_stays() {
        let syntax = "  File \"/app/conf.py\", line 3\n    x = (\n        ^\nSyntaxError: '(' was never closed";
        let run = format!("{}\n{syntax}\n", include_str!("../../../tests/fixtures/testruns/configparser_unittest.txt"));
        assert!(compress(&run).contains(syntax));
    }

    #[test]
    fn a_short_traceback_and_plain_output_are_left_alone() {
        assert!(!detect("Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in <module>\n    x()\nNameError: x"));
        assert!(!detect("total 4\n-rw-r--r-- 1 u u 0 a\nok\n"));
    }

    #[test]
    fn a_log_a_test_printed_is_shortened_as_a_log_and_its_failure_stays() {
        let mut run = String::from("test_freeze (test.test_tools.test_freeze.TestFreeze.test_freeze) ... \n");
        for n in 0..60 {
            run.push_str(&format!("changing mode of /tmp/build/lib/python3.11/encodings/codec_{n}.py to 644\n"));
        }
        run.push_str("make: *** [Makefile:2064: libinstall] Error 1\nERROR\n\nRan 1 test in 42.0s\n\nFAILED (errors=1)\n");
        let out = compress(&run);
        assert!(out.lines().count() < 30, "{out}");
        assert!(out.contains("make: *** [Makefile:2064: libinstall] Error 1") && out.contains("FAILED (errors=1)"), "{out}");
        assert!(out.contains("/tmp/build/lib/python3.11/encodings/: codec_0.py,") && out.contains("codec_59.py"), "every file stays named: {out}");
        assert!(out.contains("[… 60 lines (2–61) …]"), "omitted lines are numbered in the whole output: {out}");
        assert!(out.contains("of a log the run printed, "), "{out}");
    }
}
