//! Runs of lines a file has already shown. Generated code repeats itself (an SDK's response
//! namespaces each declare the same result interfaces; bindings repeat one method per type) and
//! doc examples repeat their setup: a later copy of a run is sent as a note naming the earlier
//! lines it equals, which stay shown. Nothing is lost: the note says where every line is.

use std::collections::HashMap;
use std::ops::Range;

/// Lines a run has at least: a shorter run costs about what its note costs.
const MIN_LINES: usize = 6;
/// Characters of text (indentation aside) a run has at least, so runs of braces and blank lines
/// are never pointed at.
const MIN_CHARS: usize = 120;
/// Earlier runs compared with each run, the latest first (generated code repeats a block in
/// dozens of places; the latest copies are the likeliest to go on alike).
const CANDIDATES: usize = 8;

/// A run of lines equal, line for line, to the run starting at `first`.
#[derive(Debug, PartialEq, Eq)]
pub struct Repeat {
    /// The repeating lines, 0-based.
    pub rows: Range<usize>,
    /// The first line of the earlier run they equal.
    pub first: usize,
}

/// The runs of `lines` that repeat an earlier run, each as long as an earlier run goes on
/// alike. Only lines `free` says are shown as they are are compared: a repeat never stands in
/// for lines another edit changes, and never points at lines that are not shown.
pub fn repeats(lines: &[&str], free: impl Fn(usize) -> bool) -> Vec<Repeat> {
    let mut shown: Vec<bool> = (0..lines.len()).map(free).collect();
    // Where each window of MIN_LINES lines began, among windows of shown lines.
    let mut seen: HashMap<&[&str], Vec<usize>> = HashMap::new();
    let mut found = Vec::new();
    let mut row = 0;
    while row + MIN_LINES <= lines.len() {
        let window = &lines[row..row + MIN_LINES];
        let whole = shown[row..row + MIN_LINES].iter().all(|&s| s);
        if !whole || lines[row].trim().is_empty() || window.iter().map(|l| l.trim().len()).sum::<usize>() < MIN_CHARS {
            row += 1;
            continue;
        }
        // How far an earlier run goes on alike with this one: 0 unless its window is still shown
        // whole and ends before this one starts.
        let same_for = |first: usize| {
            if first + MIN_LINES > row || !shown[first..first + MIN_LINES].iter().all(|&s| s) {
                return 0;
            }
            let mut len = MIN_LINES;
            while row + len < lines.len() && first + len < row && shown[row + len] && shown[first + len] && lines[row + len] == lines[first + len] {
                len += 1;
            }
            len
        };
        let best = seen.get(window).into_iter().flatten().rev().take(CANDIDATES).map(|&first| (same_for(first), first)).max();
        match best.map(|(len, first)| (balanced(&lines[row..row + len]), first)) {
            Some((len, first)) if len >= MIN_LINES => {
                shown[row..row + len].iter_mut().for_each(|s| *s = false);
                found.push(Repeat { rows: row..row + len, first });
                row += len;
            }
            _ => {
                seen.entry(window).or_default().push(row);
                row += 1;
            }
        }
    }
    found
}

/// How many of `run`'s first lines to replace: the most that open as many brackets as they
/// close (a note never leaves a block open nor closes one it did not open, so what stands
/// around it still reads, and parses), blank lines at the end left out (they separate what
/// follows).
fn balanced(run: &[&str]) -> usize {
    let mut depth = 0i64;
    let mut len = 0;
    for (n, line) in run.iter().enumerate() {
        for c in line.chars() {
            depth += match c {
                '{' | '(' | '[' => 1,
                '}' | ')' | ']' => -1,
                _ => 0,
            };
            // A bracket closing one opened before the run (`} & (`): no later line may go.
            if depth < 0 {
                return len;
            }
        }
        if depth == 0 && !line.trim().is_empty() {
            len = n + 1;
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interface(name: &str) -> Vec<String> {
        vec![
            format!("export interface {name} {{"),
            "  /** The number of requests made to the model. */".into(),
            "  num_model_requests: number;".into(),
            "  /** The project ID of the grouped usage result. */".into(),
            "  project_id?: string | null;".into(),
            "  /** The user ID of the grouped usage result. */".into(),
            "  user_id?: string | null;".into(),
            "}".into(),
            String::new(),
        ]
    }

    #[test]
    fn a_later_copy_points_at_the_first() {
        let mut text = interface("A");
        text.extend(interface("B"));
        text.extend(interface("C"));
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        let found = repeats(&lines, |_| true);
        // Each copy from its second line (its name differs) to its last field: the closing brace
        // stays with the line that opened the block.
        assert_eq!(found, vec![Repeat { rows: 10..16, first: 1 }, Repeat { rows: 19..25, first: 1 }]);
        assert_eq!(balanced(&["a(", "b", ")", "c {", "d", ""]), 3, "a run ends where its brackets close");
        assert_eq!(balanced(&["a: string;", "b: number;", "} & (", "| {", "c: 1;", "}", ")"]), 2, "nor goes past a bracket opened before it");
    }

    #[test]
    fn a_copy_never_points_at_lines_replaced_by_a_note() {
        let block: Vec<String> = (0..6).map(|n| format!("    let value_{n} = compute_the_value_of_this_line({n}, &context);")).collect();
        // The block, the block again (a note), then the block rotated by one: its lines 1–5 and
        // the second copy's first line, which is a note by then.
        let mut text = block.clone();
        text.extend(block.clone());
        text.extend(block[1..].iter().cloned().chain(std::iter::once(block[0].clone())));
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        let found = repeats(&lines, |_| true);
        assert_eq!(found[0], Repeat { rows: 6..12, first: 0 });
        for r in &found[1..] {
            assert!(r.first + r.rows.len() <= 6, "points into the note: {found:?}");
        }
    }

    #[test]
    fn lines_not_shown_are_neither_replaced_nor_pointed_at() {
        let mut text = interface("A");
        text.extend(interface("B"));
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        assert_eq!(repeats(&lines, |row| row != 3), vec![], "the first copy is cut: nothing to point at");
        assert_eq!(repeats(&lines, |row| row != 12), vec![], "the second copy is cut: nothing to replace");
    }

    #[test]
    fn short_or_empty_runs_stay() {
        let braces: Vec<&str> = ["  }", "}", "", "  }", "}", ""].iter().copied().cycle().take(30).collect();
        assert_eq!(repeats(&braces, |_| true), vec![]);
        let mut text = interface("A");
        text.extend(interface("B"));
        text.truncate(9 + 5);
        let lines: Vec<&str> = text.iter().map(String::as_str).collect();
        assert_eq!(repeats(&lines, |_| true), vec![], "four shared lines are too few");
    }
}
