//! Sectioned reports: what a test harness writes per test (jtreg's `.jtr` files, CTest and
//! DejaGnu logs, CI step dumps) — named sections (`#section:main`, `-----stderr:(4/412)-----`),
//! `key=value` headers, the command lines each step ran, thread dumps and stack traces. No clock
//! and few repeated lines, so the log compressor does not see a log in them.
//!
//! Every section header, result, error and line with the question's words stays. What goes:
//! lines that repeat one already shown (the same option in every step's command, the same
//! warning in every section), stack frames past the first few of each trace (save the first two
//! in the program's own code: where it was), the middle of long continued commands (`\` at the
//! end of each line), what steps that passed printed (their header, command and result stay) —
//! and, while the report is still over a quarter of its size, the middles of its longest
//! sections. Each omitted run becomes `[… N lines (a–b) …]`, and one marker at the end says
//! what went.

use super::{Compressor, Context};
use crate::request::marker;
use crate::request::query::Query;
use std::collections::HashSet;

/// Compresses sectioned reports.
pub struct Report;

/// Section headers a block needs to be a report.
const MIN_SECTIONS: usize = 3;
/// Lines a block needs to be worth it.
const MIN_LINES: usize = 60;
/// Frames kept at the top of each stack trace or thread's stack.
const FRAMES_KEPT: usize = 4;
/// Frames of the program's own code kept in each trace wherever they are: where it was.
const OWN_FRAMES_KEPT: usize = 2;
/// Package prefixes of Java's platform: frames there are the runtime's, not the program's.
const PLATFORM_PACKAGES: [&str; 6] = ["java.", "javax.", "jdk.", "sun.", "com.sun.", "org.junit."];
/// Lines of a continued command kept at its start (its end is kept too).
const COMMAND_HEAD: usize = 2;
/// Share of the report's bytes kept, when the above leaves more.
const BUDGET: f64 = 0.25;
/// A budget never below this many bytes.
const MIN_BUDGET: usize = 4_000;
/// Lines kept at each end of a section whose middle goes for the budget.
const SECTION_ENDS: usize = 5;
/// Omitted runs are at least this many lines long.
const MIN_RUN: usize = 3;
/// Lines shorter than this may repeat: blank lines, braces, short separators.
const MIN_REPEAT_CHARS: usize = 16;

/// Whether a line heads a section: `#section:name`, or a name between runs of four or more of
/// one punctuation character (`----------messages:(7/439)----------`, `#-----testresult-----`,
/// `===== build =====`).
fn header(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with("#section:") {
        return true;
    }
    let t = t.trim_start_matches('#');
    let Some(mark) = t.chars().next().filter(|c| matches!(c, '-' | '=' | '*' | '#')) else { return false };
    let lead = t.len() - t.trim_start_matches(mark).len();
    let trail = t.len() - t.trim_end_matches(mark).len();
    lead >= 4 && trail >= 4 && lead + trail < t.len() && t[lead..t.len() - trail].chars().any(char::is_alphabetic)
}

/// Whether `text` is a sectioned report: enough lines and section headers.
pub fn detect(text: &str) -> bool {
    let mut lines = 0;
    let mut headers = 0;
    for line in text.lines() {
        lines += 1;
        headers += usize::from(header(line));
    }
    lines >= MIN_LINES && headers >= MIN_SECTIONS
}

/// Whether a line reports a failure or an outcome: it always stays.
fn outcome(line: &str) -> bool {
    let t = line.trim_start();
    let lower = t.to_ascii_lowercase();
    t.starts_with("result:") || t.starts_with("execStatus=") || t.starts_with("Caused by:")
        || ["exception", "error", "fail", "fatal", "timed out", "timeout"].iter().any(|w| lower.contains(w)) && !frame(line)
}

/// Whether a line tells of a failure (not an option naming one, as `-Dtest.timeout.factor` in a
/// continued command does): a step holding one did not pass, whatever its result says.
fn failing(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    !frame(line) && !line.trim_end().ends_with('\\') && ["exception", "error:", "failed", "fatal"].iter().any(|w| lower.contains(w))
}

/// Whether a line is a stack frame (Java and JavaScript `at …`, with jstack's lock lines).
fn frame(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("at ") || t.starts_with("- locked ") || t.starts_with("- waiting ") || t.starts_with("- parking ")
}

/// Whether a frame is in the program's own code: not Java's platform (its packages, or a
/// class loaded from a named module, `(java.base@17.0.15/…)`), nor Node's internals or an
/// installed package.
fn own_frame(line: &str) -> bool {
    let Some(at) = line.trim_start().strip_prefix("at ") else { return false };
    let in_module = at.split_once('(').is_some_and(|(_, place)| place.split('/').next().is_some_and(|m| m.contains('@')));
    !in_module && !PLATFORM_PACKAGES.iter().any(|p| at.starts_with(p)) && !at.contains("node:internal") && !at.contains("node_modules/")
}

/// Per line, whether it is one of the first [`OWN_FRAMES_KEPT`] frames of the program's own code
/// in its trace: these stay wherever they are in it.
fn own_frames_kept(lines: &[&str]) -> Vec<bool> {
    let mut in_trace = 0;
    lines
        .iter()
        .map(|line| {
            if !frame(line) {
                in_trace = 0;
                return false;
            }
            let own = own_frame(line);
            let kept = own && in_trace < OWN_FRAMES_KEPT;
            in_trace += usize::from(own);
            kept
        })
        .collect()
}

/// The key of a `key=value` line (`hostname=x86-grnet-03`, `$file=/build/…`).
fn property_key(line: &str) -> Option<&str> {
    let (key, _) = line.split_once('=')?;
    let mut chars = key.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '$' || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '$'))).then_some(key)
}

/// Why a line went.
#[derive(Clone, Copy, PartialEq)]
enum Dropped {
    Repeat,
    Frame,
    Command,
    Middle,
    Passed,
    Property,
}

/// The steps of a report, as line ranges: from each `#section:` line to the next (jtreg's steps
/// hold sub-sections of their own), or from each section header in a report without them.
fn steps(lines: &[&str]) -> Vec<(usize, usize)> {
    let top = |l: &str| l.trim().starts_with("#section:");
    if lines.iter().any(|l| top(l)) {
        spans(lines, |i| top(lines[i]))
    } else {
        spans(lines, |i| header(lines[i]))
    }
}

/// The line ranges from each line `starts` says opens one to the next such line.
fn spans(lines: &[&str], starts: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| starts(i)).collect();
    starts.iter().enumerate().map(|(n, &from)| (from, starts.get(n + 1).copied().unwrap_or(lines.len()))).collect()
}

impl Compressor for Report {
    fn name(&self) -> &'static str {
        "report"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let lines: Vec<&str> = text.lines().collect();
        let query = Query::new(ctx.query).discriminative(lines.iter().copied(), 0.05);
        let mut dropped: Vec<Option<Dropped>> = vec![None; lines.len()];
        let mut seen: HashSet<&str> = HashSet::new();
        let stays = |i: usize| header(lines[i]) || outcome(lines[i]) || query.hits(lines[i]) > 0;
        let own_frames = own_frames_kept(&lines);
        let mut frames_in_trace = 0;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            frames_in_trace = if frame(line) { frames_in_trace + 1 } else { 0 };
            let repeated = line.trim().len() >= MIN_REPEAT_CHARS && seen.contains(line.trim());
            if stays(i) {
                // A failure line said again word for word (a retry loop's `Failed: no packet`)
                // is counted like any repeat; headers and step results always stay.
                if repeated && !header(line) && !line.trim_start().starts_with("result:") {
                    dropped[i] = Some(Dropped::Repeat);
                }
            } else if frames_in_trace > FRAMES_KEPT && !own_frames[i] {
                dropped[i] = Some(Dropped::Frame);
            } else if repeated {
                dropped[i] = Some(Dropped::Repeat);
            } else if line.trim_end().ends_with('\\') {
                // A continued command: its first lines and its last stay.
                let end = (i..lines.len()).find(|&j| !lines[j].trim_end().ends_with('\\')).unwrap_or(lines.len() - 1);
                for (j, d) in dropped.iter_mut().enumerate().take(end).skip(i + COMMAND_HEAD) {
                    // An option naming the test or a timeout tells nothing of why it failed.
                    if !failing(lines[j]) && query.hits(lines[j]) < 2 {
                        *d = Some(Dropped::Command);
                    }
                }
                for l in &lines[i..=end] {
                    seen.insert(l.trim());
                }
                i = end + 1;
                continue;
            }
            seen.insert(line.trim());
            i += 1;
        }
        // A run of `key=value` lines (a harness's description of the test and of the machine)
        // keeps the outcome and the lines with the question's words; the others' keys are named.
        for (from, to) in spans(&lines, |i| property_key(lines[i]).is_some() && (i == 0 || property_key(lines[i - 1]).is_none())) {
            let end = (from..to).find(|&i| property_key(lines[i]).is_none()).unwrap_or(to);
            if end - from < MIN_RUN {
                continue;
            }
            for i in from..end {
                // `maxTimeout=600` names a limit, not an outcome.
                if dropped[i].is_none() && !failing(lines[i]) && !lines[i].starts_with("execStatus=") && query.hits(lines[i]) == 0 {
                    dropped[i] = Some(Dropped::Property);
                }
            }
        }
        // A step that passed (`#section:compile` … `result: Passed.`, nothing failing in it)
        // keeps what it ran and how it ended; what it printed on the way goes unless it has two
        // of the question's words (one is often the test's name, found on every step).
        for (from, to) in steps(&lines) {
            let step = from..to;
            let result = step.clone().filter(|&i| lines[i].trim_start().starts_with("result:")).collect::<Vec<_>>();
            let passed = !result.is_empty() && result.iter().all(|&i| lines[i].contains("Passed") || lines[i].contains("passed"));
            if !passed || step.clone().any(|i| failing(lines[i])) {
                continue;
            }
            for i in from + 1..to {
                let t = lines[i].trim_start();
                if dropped[i].is_none() && !t.starts_with("command:") && !result.contains(&i) && query.hits(lines[i]) < 2 {
                    dropped[i] = Some(Dropped::Passed);
                }
            }
        }
        // Still over budget: the middles of the longest sections go, their first and last
        // lines (what ran, how it ended) staying.
        let budget = ((text.len() as f64 * BUDGET) as usize).max(MIN_BUDGET);
        let mut kept: usize = (0..lines.len()).filter(|&i| dropped[i].is_none()).map(|i| lines[i].len() + 1).sum();
        let mut sections = spans(&lines, |i| i == 0 || header(lines[i]));
        sections.sort_by_key(|&(from, to)| (std::cmp::Reverse(to - from), from));
        for (from, to) in sections {
            if kept <= budget {
                break;
            }
            for i in from + SECTION_ENDS..to.saturating_sub(SECTION_ENDS) {
                if dropped[i].is_none() && !stays(i) && !own_frames[i] {
                    dropped[i] = Some(Dropped::Middle);
                    kept -= lines[i].len() + 1;
                }
            }
        }
        // Short lines said before (`Warning:`, a blank line) next to an omitted run go with it,
        // so one note is not split in two by a line that tells nothing new.
        let said_before: Vec<bool> = {
            let mut earlier: HashSet<&str> = HashSet::new();
            lines.iter().map(|l| !earlier.insert(l.trim())).collect()
        };
        let joins = |i: usize, next: usize, dropped: &[Option<Dropped>]| dropped[i].is_none() && said_before[i] && !stays(i) && dropped[next].is_some();
        for i in 1..lines.len() {
            if joins(i, i - 1, &dropped) {
                dropped[i] = Some(Dropped::Repeat);
            }
        }
        for i in (0..lines.len().saturating_sub(1)).rev() {
            if joins(i, i + 1, &dropped) {
                dropped[i] = Some(Dropped::Repeat);
            }
        }
        // A run shorter than this costs more as a note than as itself: it stays.
        let mut start = 0;
        while start < lines.len() {
            let end = (start..lines.len()).find(|&j| dropped[j].is_none()).unwrap_or(lines.len());
            if end - start < MIN_RUN {
                dropped[start..end].iter_mut().for_each(|d| *d = None);
            }
            start = end + 1;
        }
        let count = |why: Dropped| dropped.iter().filter(|d| **d == Some(why)).count();
        let (repeats, frames, commands, middles, passed, properties) =
            (count(Dropped::Repeat), count(Dropped::Frame), count(Dropped::Command), count(Dropped::Middle), count(Dropped::Passed), count(Dropped::Property));
        if repeats + frames + commands + middles + passed + properties == 0 {
            return None;
        }
        let mut out = String::with_capacity(text.len() / 2);
        let mut run: Option<(usize, usize)> = None;
        let flush = |run: &mut Option<(usize, usize)>, out: &mut String| {
            if let Some((from, to)) = run.take() {
                // A run of `key=value` lines (and blank ones) alone names its keys.
                let keys: Option<Vec<&str>> = (from..=to).filter(|&i| !lines[i].trim().is_empty()).map(|i| property_key(lines[i])).collect();
                out.push_str(&marker::omitted_run_naming(from, to, &keys.map_or(String::new(), |keys| keys.join(", "))));
            }
        };
        for (i, line) in lines.iter().enumerate() {
            if dropped[i].is_some() {
                run = Some(run.map_or((i, i), |(from, _)| (from, i)));
            } else {
                flush(&mut run, &mut out);
                out.push_str(line);
                out.push('\n');
            }
        }
        flush(&mut run, &mut out);
        let parts: Vec<String> = [
            (repeats, "repeating a line shown earlier"),
            (frames, "stack frames past the first 4 of a trace"),
            (commands, "middle lines of long commands"),
            (middles, "from the middle of long sections"),
            (passed, "printed by steps that passed"),
            (properties, "key=value lines off the question (their keys named)"),
        ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        let what = format!("{} of {} report lines omitted: {}", repeats + frames + commands + middles + passed + properties, lines.len(), parts.join(", "));
        out.push_str(&marker::marker(ctx.key, &what));
        if text.ends_with('\n') {
            out.push('\n');
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JTR: &str = include_str!("../../../tests/fixtures/testruns/DatagramSocketMulticasting.jtr");

    fn compress(text: &str, query: &str) -> String {
        let ctx = Context { query, key: "0123456789abcdef01234567", ..Context::default() };
        Report.compress(text, &ctx).expect("compressed")
    }

    #[test]
    fn a_jtreg_report_keeps_its_sections_results_and_errors() {
        assert!(detect(JTR));
        let out = compress(JTR, "why did the multicasting test time out?");
        assert!(out.len() * 10 < JTR.len() * 7, "{} of {}", out.len(), JTR.len());
        for line in JTR.lines().filter(|l| l.starts_with("#section:") || l.starts_with("result:") || l.starts_with("execStatus=") || l.contains("Exception")) {
            assert!(out.contains(line), "{line}");
        }
        // A step that passed keeps its command and result; the failing step keeps its sections.
        assert!(out.contains("printed by steps that passed"), "{out}");
        let main = &JTR[JTR.find("#section:junit").unwrap()..];
        for line in main.lines().filter(|l| header(l)) {
            assert!(out.contains(line), "{line}");
        }
        // A trace keeps its first frames; the rest are counted.
        assert!(out.contains("[headroom: ") && out.contains("stack frames past the first 4 of a trace"), "{out}");
        // Deep in the thread dump, the test's own frames say where it was stuck: they stay,
        // and the runtime's frames around them go.
        assert!(out.contains("\tat DatagramSocketMulticasting.testSendReceive(DatagramSocketMulticasting.java:324)\n\tat DatagramSocketMulticasting.testJoinGroup2("), "{out}");
        assert!(!out.contains("DatagramSocketMulticasting.test(DatagramSocketMulticasting.java:106)"), "only the first two: {out}");
        assert!(!out.contains("at sun.nio.ch.DatagramChannelImpl.receive(java.base"), "{out}");
        assert!(out.contains("middle lines of long commands"), "{out}");
        // The harness's key=value lines keep the outcome and those on the question; the
        // others are named by their keys.
        assert!(out.contains("\n[… 4 lines (15–18): description, elapsed, end, environment …]\nexecStatus=Error."), "{out}");
        assert!(out.contains("hostname, javatestOS") && !out.contains("hostname=x86"), "{out}");
        assert!(out.contains("title=Test DatagramSocket for sending and receiving multicast datagrams"), "on the question: {out}");
        // Every run left out is named by its lines, and is long enough to be worth a note.
        for note in out.lines().filter(|l| l.starts_with("[… ")) {
            let n: usize = note["[… ".len()..].split(' ').next().unwrap().parse().unwrap();
            assert!(n >= MIN_RUN, "{note}");
        }
    }

    #[test]
    fn a_passing_step_keeps_only_the_lines_on_two_of_the_questions_words() {
        let step = |name: &str, result: &str| {
            let printed: String = (0..8).map(|i| format!("compiling part {i} of {name}\n")).collect();
            let own = if name == "build" { "Skipping stale stubs\nUsing the cached classes\n" } else { "" };
            format!("#section:{name}\n----------messages:(9/300)----------\ncommand: compile {name}\n{printed}{own}result: {result}\n\n")
        };
        let text = format!("{}{}{}", step("build", "Passed. Build successful"), step("compile", "Passed. Compilation successful"), step("main", "Failed. Execution failed: timeout"));
        let out = compress(&text, "why did the build time out? were the cached classes stale?");
        assert!(out.contains("command: compile build\n") && out.contains("result: Passed. Build successful"), "{out}");
        assert!(!out.contains("compiling part 3 of build"), "{out}");
        // One of the question's words (`stale`) does not keep a line of a passing step; two do.
        assert!(!out.contains("Skipping stale stubs") && out.contains("Using the cached classes\n"), "{out}");
    }

    #[test]
    fn a_failure_said_again_word_for_word_is_counted() {
        // A test's retry loop: each group tried twice, the same failure line each time.
        let mut report = String::from("#section:main\n----------messages:(3/90)----------\ncommand: main Test\n----------System.out:(80/2000)----------\n");
        for group in ["224.80.80.80", "ff01:0:0:0:0:0:0:a", "ff02:0:0:0:0:0:0:a", "ff05:0:0:0:0:0:0:a"] {
            report.push_str(&format!("Test: /{group}\n"));
            for _ in 0..2 {
                report.push_str(&format!("Join: /{group}\nSend packet to: /{group}\nFailed: No packet received within timeout!!!\nLeave: /{group}\n"));
            }
        }
        report.push_str("----------System.err:(1/40)----------\njava.lang.Exception: 4 test(s) failed\nresult: Failed. Execution failed\n\ntest result: Failed. Execution failed\n");
        let out = compress(&report, "why did the test fail?");
        // Each group's second try, the same four lines again, goes; a single line between others
        // stays (a note would cost more than the line).
        assert_eq!(out.matches("Failed: No packet received within timeout!!!").count(), 4, "{out}");
        assert!(out.contains("16 repeating a line shown earlier"), "{out}");
        for group in ["224.80.80.80", "ff01:0:0:0:0:0:0:a", "ff02:0:0:0:0:0:0:a", "ff05:0:0:0:0:0:0:a"] {
            assert!(out.contains(&format!("Test: /{group}\n")), "{out}");
        }
        assert!(out.contains("result: Failed. Execution failed\n") && out.contains("test result: Failed. Execution failed"), "{out}");
    }

    #[test]
    fn a_short_line_said_before_goes_with_the_runs_around_it() {
        // jarsigner's stderr: the same warning, each under its own `Warning:` line.
        let mut report = String::from("#section:main\n----------messages:(3/90)----------\ncommand: main Test\n----------System.err:(40/2000)----------\n");
        for _ in 0..6 {
            report.push_str("Warning:\nThe generated certificate uses a 1024-bit RSA key which is considered a security risk.\nThis key size will be disabled in a future update of the runtime.\n\n");
        }
        report.push_str("result: Failed. Execution failed\n");
        let out = compress(&report, "which key sizes are disabled?");
        assert_eq!(out.matches("Warning:").count(), 1, "{out}");
        assert_eq!(out.matches("[… ").count(), 1, "one note for the repeats: {out}");
        assert!(out.contains("1024-bit RSA key") && out.contains("result: Failed."), "{out}");
    }

    #[test]
    fn frames_of_the_runtime_and_of_installed_packages_are_not_the_programs_own() {
        assert!(own_frame("\tat Loopback.test(Loopback.java:130)"));
        assert!(own_frame("    at parse (/app/src/config.js:12:5)"));
        assert!(!own_frame("\tat java.lang.Object.wait(java.base@17.0.15/Native Method)"));
        assert!(!own_frame("\tat com.sun.javatest.regtest.agent.MainWrapper.main(MainWrapper.java:85)"));
        assert!(!own_frame("\tat org.example.Net.open(net.jar@2.1/Net.java:40)"), "a class from a named module");
        assert!(!own_frame("    at Module._compile (node:internal/modules/cjs/loader:1256:14)"));
        assert!(!own_frame("    at Object.<anonymous> (/app/node_modules/yargs/index.js:5:1)"));
        assert!(!own_frame("\t- locked <0x0000000715957558> (a java.lang.Thread)"));
    }

    #[test]
    fn headers_are_told_from_rules_and_prose() {
        assert!(header("----------messages:(7/439)----------"));
        assert!(header("#-----testresult-----"));
        assert!(header("#section:main"));
        assert!(header("===== build ====="));
        assert!(!header("----------------"), "a rule names nothing");
        assert!(!header("-- a dash comment"));
        let plain: String = (0..80).map(|i| format!("line {i} of a plain listing\n")).collect();
        assert!(!detect(&plain));
    }
}
