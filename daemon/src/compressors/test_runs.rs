//! Test runs and tracebacks: what an agent reads after running a test suite or a failing script.
//! Of a test run it needs the failures, their tracebacks and the summary; a line per passing
//! test (pytest's and unittest's verbose mode, cargo test, go test, jest and mocha) says only
//! "passed", so each run of them becomes a count (DejaGnu's `PASS:` and TAP's `ok N` lines too),
//! except the passes that have the question's words. Skipped tests in a run are counted with
//! their reasons (`3 skipped: 'macOS only' ×2, 'not on tty'`). Of a traceback it needs the
//! frames in its own code; a run of frames inside installed libraries and the standard library
//! (site-packages, node_modules, `lib/python3.x`) keeps its first and last frame and counts the
//! rest. Every other line stays as it was, and one marker retrieves the output whole.

use crate::request::marker::{self, thousands};
use crate::request::query::{with_identifier_parts, Query};
use super::{Compressor, Context};

/// Compresses test-runner output and tracebacks.
pub struct TestRuns;

/// Consecutive passing and skipped tests that become a count; fewer do only when their lines
/// are more than twice as long as the count.
const MIN_PASS_RUN: usize = 3;
/// Consecutive library frames that are shortened; fewer stay as they are.
const MIN_LIBRARY_RUN: usize = 4;

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
}

/// The line as part of a run of passes and skips, or `None` when it ends the run; `open` when a
/// test named on an earlier line has no result yet.
fn entry(line: &str, open: bool) -> Option<Entry<'_>> {
    let t = line.trim();
    if let Some(reason) = skip_reason(line, open) {
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
/// in order of first appearance): `(12 tests passed, 3 skipped: 'Windows only' ×2, 'not on tty')`.
fn run_note(passed: usize, reasons: &[(&str, usize)]) -> String {
    let skipped: usize = reasons.iter().map(|(_, n)| n).sum();
    let why: Vec<String> = reasons
        .iter()
        .filter(|(reason, _)| !reason.is_empty())
        .map(|(reason, n)| {
            let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
            if *n > 1 { format!("{reason} ×{n}") } else { reason }
        })
        .collect();
    let why = if why.is_empty() { String::new() } else { format!(": {}", why.join(", ")) };
    let tests = |n: usize| format!("{} {}", thousands(n), if n == 1 { "test" } else { "tests" });
    match (passed, skipped) {
        (p, 0) => format!("({} passed)", tests(p)),
        (0, s) => format!("({} skipped{why})", tests(s)),
        (p, s) => format!("({} passed, {} skipped{why})", tests(p), thousands(s)),
    }
}

/// Longest skip reason a run's note quotes, in characters.
const MAX_REASON_CHARS: usize = 100;

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

/// A Python frame is its `File` line and the source line under it; a JavaScript frame is one line.
fn frame_len(lines: &[&str], at: usize) -> usize {
    let python = lines[at].trim_start().starts_with("File \"");
    let source = lines.get(at + 1).filter(|next| frame_file(next).is_none() && next.starts_with([' ', '\t']) && !next.trim().is_empty());
    if python && source.is_some() { 2 } else { 1 }
}

/// Whether `text` has a run of passing-test lines or a traceback with a run of library frames
/// worth shortening.
pub fn detect(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let mut run = 0;
    let pass_run = lines.iter().any(|l| {
        run = if passes(l) || skip_reason(l, false).is_some() { run + usize::from(!opens(l)) } else { 0 };
        run >= MIN_PASS_RUN
    });
    pass_run || library_runs(&lines).next().is_some()
}

/// The runs of at least [`MIN_LIBRARY_RUN`] library frames, each as the lines its frames begin.
fn library_runs<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = Vec<usize>> + 'a {
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < lines.len() {
            let mut frames = Vec::new();
            let mut end = at;
            while end < lines.len() && frame_file(lines[end]).is_some_and(in_library) {
                frames.push(end);
                end += frame_len(lines, end);
            }
            if frames.len() >= MIN_LIBRARY_RUN {
                at = end;
                return Some(frames);
            }
            at = end.max(at + 1);
        }
        None
    })
}

impl Compressor for TestRuns {
    fn name(&self) -> &'static str {
        "test_runs"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let lines: Vec<&str> = text.split('\n').collect();
        let mut replaced: Vec<Option<String>> = vec![None; lines.len()]; // what stands for a dropped line's run
        let mut dropped = vec![false; lines.len()];
        let (mut passed, mut frames_omitted) = (0, 0);
        // Words on more than a twentieth of the lines (`test` in `test_copy`, a log level) tell
        // no pass apart.
        let units: Vec<String> = lines.iter().map(|l| with_identifier_parts(l)).collect();
        let query = Query::new(ctx.query).discriminative(units.iter().map(String::as_str), 0.05);
        let mut skipped = 0;
        let mut i = 0;
        while i < lines.len() {
            let (mut end, mut count) = (i, 0);
            // Where the test still waiting for its result was named.
            let mut open: Option<usize> = None;
            // Whether the run's tests are named before their results: they print in between.
            let mut named_first = false;
            let mut reasons: Vec<(&str, usize)> = Vec::new();
            while end < lines.len() && query.hits(lines[end]) == 0 {
                let line = match entry(lines[end], open.is_some()) {
                    None if named_first && open.is_none() => between_tests(&lines, end, &query).map(|next| (next, Entry::Inside)),
                    None => None,
                    Some(e) => Some((end + 1, e)),
                };
                let Some((next, line)) = line else { break };
                match line {
                    Entry::Pass => {
                        count += 1;
                        open = None;
                    }
                    Entry::Skip(reason) => {
                        match reasons.iter_mut().find(|(r, _)| *r == reason) {
                            Some((_, n)) => *n += 1,
                            None => reasons.push((reason, 1)),
                        }
                        open = None;
                    }
                    Entry::Opening => {
                        open = Some(open.unwrap_or(end));
                        named_first = true;
                    }
                    Entry::Inside => {}
                }
                end = next;
            }
            // A test named but without its result in the run (it failed, or printed the
            // question's words) stays whole, from the line naming it.
            if let Some(at) = open {
                end = at;
            }
            let skips: usize = reasons.iter().map(|(_, n)| n).sum();
            let note = run_note(count, &reasons);
            let run_chars: usize = lines[i..end].iter().map(|l| l.len() + 1).sum();
            // A run becomes its note when it has a few tests, or when the note is much shorter.
            if count + skips >= MIN_PASS_RUN || count + skips > 0 && run_chars > 2 * note.len() {
                let indent = &lines[i][..lines[i].len() - lines[i].trim_start().len()];
                dropped[i..end].iter_mut().for_each(|d| *d = true);
                replaced[i] = Some(format!("{indent}{note}"));
                passed += count;
                skipped += skips;
            }
            i = end.max(i + 1);
        }
        for frames in library_runs(&lines) {
            let (first, last) = (frames[0], *frames.last().expect("a run has frames"));
            let middle = frames.len() - 2;
            let from = first + frame_len(&lines, first);
            dropped[from..last].iter_mut().for_each(|d| *d = true);
            let indent = &lines[first][..lines[first].len() - lines[first].trim_start().len()];
            replaced[from] = Some(format!("{indent}({} more library frames)", thousands(middle)));
            frames_omitted += middle;
        }
        if passed + skipped == 0 && frames_omitted == 0 {
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
        let tests = match (passed, skipped) {
            (p, 0) => format!("the lines of {} passing tests counted", thousands(p)),
            (p, s) => format!("the lines of {} passing and {} skipped tests counted", thousands(p), thousands(s)),
        };
        let what = match (passed + skipped, frames_omitted) {
            (0, f) => format!("{} library frames of tracebacks omitted", thousands(f)),
            (_, 0) => tests,
            (_, f) => format!("{tests} and {} library frames omitted", thousands(f)),
        };
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
        assert!(out.len() * 4 < log.len(), "{} of {}", out.len(), log.len());
        for line in log.lines().filter(|l| !l.starts_with("PASS: ")) {
            assert!(out.contains(line), "every failure, note and header stays: {line}");
        }
        assert!(out.contains("PASS: gdb.dwarf2/dw2-case-insensitive.exp: setting breakpoint at fuNC_symtab"), "{out}");
        assert!(out.contains("tests passed)") && !out.contains("PASS: gdb.dlang/demangle.exp: _D8demangle4testFPFNfZaZv"), "{out}");
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
                "(2 tests passed, 3 skipped: 'requires os.lchmod', 'macOS only' ×2)",
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
    fn a_short_traceback_and_plain_output_are_left_alone() {
        assert!(!detect("Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in <module>\n    x()\nNameError: x"));
        assert!(!detect("total 4\n-rw-r--r-- 1 u u 0 a\nok\n"));
    }
}
