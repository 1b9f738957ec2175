//! Progress lines: a build or an installer announcing each step on a line of its own — cargo's
//! `Compiling serde v1.0.209`, Django's `Applying auth.0001_initial... OK`, pip's `Collecting
//! requests`. Dozens of them say one thing: each step ran. A run of them keeps its first and
//! last lines and names the steps between in one note, `[… 44 more Compiling lines: libc,
//! cfg-if, … …]`; a step that ended otherwise (`FAILED`, a path after the version) breaks the
//! run and stays, and so does every other line.

use crate::request::marker::{self, thousands};

/// Lines a run has at least: fewer say little more than their note would.
const MIN_RUN: usize = 8;
/// Words a progress line has at most: longer lines are messages, not steps.
const MAX_WORDS: usize = 8;

/// A progress line's parts: its indentation, its verb (`Compiling`), the step (`serde`) and
/// the shape of the rest (`v<*>`, `OK`), digits masked.
fn step(line: &str) -> Option<(usize, &str, &str, String)> {
    let indent = line.len() - line.trim_start().len();
    let mut words = line.split_whitespace();
    let verb = words.next()?;
    let item = words.next()?;
    let rest: Vec<&str> = words.collect();
    // `Compiling`, not a level (`INFO`, `ERROR`): a log's lines are its own compressor's.
    let mut letters = verb.chars();
    let is_verb = verb.len() >= 4 && letters.next().is_some_and(|c| c.is_ascii_uppercase()) && letters.all(|c| c.is_ascii_lowercase());
    if !is_verb || rest.len() + 2 > MAX_WORDS {
        return None;
    }
    // Each run of digits one `0`: `v0.2.158` and `v1.0.0` are one shape.
    let mut shape = String::new();
    for c in rest.join(" ").chars() {
        if !c.is_ascii_digit() {
            shape.push(c);
        } else if !shape.ends_with('0') {
            shape.push('0');
        }
    }
    Some((indent, verb, item.trim_end_matches('.'), shape))
}

/// `text` with each run of [`MIN_RUN`] or more progress lines of one verb, indentation and
/// ending, each naming a step of its own, written as its first line, a note naming the steps
/// between and its last line, with what a marker should say went; `None` when there is no
/// such run.
pub fn collapse(text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let steps: Vec<_> = lines.iter().map(|l| step(l.strip_suffix('\r').unwrap_or(l))).collect();
    let alike = |a: usize, b: usize| match (&steps[a], &steps[b]) {
        (Some((i, v, _, s)), Some((j, w, _, t))) => i == j && v == w && s == t,
        _ => false,
    };
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let (mut runs, mut named) = (0usize, 0usize);
    let mut at = 0;
    while at < lines.len() {
        let end = (at + 1..lines.len()).find(|&j| !alike(at, j)).unwrap_or(lines.len());
        // Steps are distinct things (crates, migrations); a line said of one thing again and
        // again (`Retrying connection to 10.0.0.5`) is no progress list.
        let distinct = || steps[at..end].iter().flatten().map(|s| s.2).collect::<std::collections::HashSet<_>>().len() == end - at;
        if steps[at].is_none() || end - at < MIN_RUN || !distinct() {
            out.extend(lines[at..end].iter().map(|l| l.to_string()));
            at = end;
            continue;
        }
        let (indent, verb, _, _) = steps[at].as_ref().expect("a step");
        let middle: Vec<&str> = (at + 1..end - 1).filter_map(|j| steps[j].as_ref().map(|s| s.2)).collect();
        out.push(lines[at].to_string());
        out.push(format!("{}[… {} more {verb} lines: {} …]", " ".repeat(*indent), thousands(middle.len()), middle.join(", ")));
        out.push(lines[end - 1].to_string());
        runs += 1;
        named += middle.len();
        at = end;
    }
    if runs == 0 {
        return None;
    }
    let what = format!("{} progress lines named in {} (each ending like the lines around it but for its digits)", thousands(named), marker::counted(runs, "note", "notes"));
    Some((out.join("\n"), what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_build_steps_keeps_its_ends_and_names_the_rest() {
        let crates = ["libc v0.2.158", "cfg-if v1.0.0", "memchr v2.7.4", "serde v1.0.209", "quote v1.0.37", "syn v2.0.77", "bytes v1.7.1", "itoa v1.0.11", "log v0.4.22", "tokio v1.40.0"];
        let mut text: String = crates.iter().map(|c| format!("   Compiling {c}\n")).collect();
        text.push_str("   Compiling myapp v0.1.0 (/w/myapp)\nerror[E0308]: mismatched types\n");
        let (out, what) = collapse(&text).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "   Compiling libc v0.2.158");
        assert_eq!(lines[1], "   [… 8 more Compiling lines: cfg-if, memchr, serde, quote, syn, bytes, itoa, log …]");
        assert_eq!(lines[2], "   Compiling tokio v1.40.0");
        // The local crate's line ends otherwise (its path): it stays, as does the error.
        assert_eq!(lines[3..5], ["   Compiling myapp v0.1.0 (/w/myapp)", "error[E0308]: mismatched types"]);
        assert_eq!(what, "8 progress lines named in 1 note (each ending like the lines around it but for its digits)");
    }

    #[test]
    fn a_step_that_ended_otherwise_breaks_the_run_and_stays() {
        let names: Vec<String> = (1..=12).map(|i| format!("auth.{i:04}_change")).collect();
        let mut text: String = names.iter().take(9).map(|n| format!("  Applying {n}... OK\n")).collect();
        text.push_str("  Applying auth.0010_change... FAILED\n");
        text.push_str(&names[10..].iter().map(|n| format!("  Applying {n}... OK\n")).collect::<String>());
        let (out, _) = collapse(&text).unwrap();
        assert!(out.contains("  [… 7 more Applying lines: auth.0002_change, "), "{out}");
        assert!(out.contains("\n  Applying auth.0010_change... FAILED\n  Applying auth.0011_change... OK\n  Applying auth.0012_change... OK\n"), "{out}");
    }

    #[test]
    fn log_lines_and_repeats_of_one_step_are_no_progress() {
        let levels: String = (0..12).map(|i| format!("INFO Processed batch {i}\n")).collect();
        assert_eq!(collapse(&levels), None);
        let retries: String = (0..12).map(|i| format!("Retrying connection to 10.0.0.{i}\n")).collect();
        assert_eq!(collapse(&retries), None, "the hosts differ only in digits: they are evidence");
    }

    #[test]
    fn prose_code_and_short_runs_are_left_alone() {
        assert_eq!(collapse("Compiling a v1\nCompiling b v1\nCompiling c v1\n"), None);
        assert_eq!(collapse(include_str!("../engine/router.rs")), None);
        assert_eq!(collapse(include_str!("../../../tests/fixtures/logs/LICENSE-loghub")), None);
    }
}
