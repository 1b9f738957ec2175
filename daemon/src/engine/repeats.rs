//! Repeats across turns: agents run the same command again (a reproduce script after each
//! edit) or read the same file again, and get nearly the same output. The newer output is sent
//! as what differs: its first line, a marker saying the rest is as in the earlier output of the
//! same command or file, and the lines that earlier output does not have. Decided at first
//! sight and replayed like any other result; the earlier output is then never compacted, so
//! every line stays readable.

use crate::request::marker::{self, thousands};
use crate::request::provider::Candidate;
use std::collections::HashSet;

/// Lines (not blank) an output needs for a repeat to be worth pointing at.
const MIN_LINES: usize = 8;
/// Share of an output's lines the earlier output must already have.
const MIN_SHARED: f64 = 0.6;

/// The latest earlier output in `work` of the same command as `work[i]`, or of a read of the
/// same file.
pub fn earlier_run(work: &[&Candidate], i: usize) -> Option<usize> {
    let same = |j: usize| match (&work[i].command, &work[i].file_path) {
        (Some(command), _) => work[j].command.as_ref() == Some(command),
        (None, Some(path)) => work[j].file_path.as_ref() == Some(path),
        (None, None) => false,
    };
    (0..i).rev().find(|&j| same(j) && work[j].span.end <= work[i].span.start)
}

/// `text` as what differs from `earlier`, or `None` when too little is shared.
pub fn diff(text: &str, earlier: &str) -> Option<String> {
    let known: HashSet<&str> = earlier.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let lines: Vec<&str> = text.lines().collect();
    let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
    let shared = lines.iter().skip(1).filter(|l| known.contains(l.trim())).count();
    if non_blank < MIN_LINES || (shared as f64) < MIN_SHARED * non_blank as f64 {
        return None;
    }
    let mut out = String::with_capacity(text.len() / 4);
    out.push_str(lines[0]);
    out.push('\n');
    let note = format!(
        "{} of {} lines are as in the earlier output of this command or file and are not repeated; the other lines follow",
        thousands(shared),
        thousands(lines.len())
    );
    out.push_str(&marker::marker(&marker::key_for(text), &note));
    for line in lines.iter().skip(1).filter(|l| !l.trim().is_empty() && !known.contains(l.trim())) {
        out.push('\n');
        out.push_str(line);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rerun_keeps_its_first_line_and_what_changed() {
        let body: String = (0..20).map(|i| format!("check {i}: ok\n")).collect();
        let earlier = format!("python run.py\n{body}Result: FAIL\n");
        let later = format!("python run.py\n{body}Result: PASS\n");
        let out = diff(&later, &earlier).unwrap();
        assert!(out.starts_with("python run.py\n[headroom: 20 of 22 lines are as in the earlier output"), "{out}");
        assert!(out.ends_with("\nResult: PASS"), "{out}");
        assert!(out.contains(&marker::key_for(&later)));
        assert_eq!(diff("python run.py\nsomething else entirely\n", &earlier), None);
    }
}
