//! The numbered-view compressor: file views as editors, `cat -n` and agents' file readers print
//! them, each line behind its number (`    12\t`, `    12→`, `12:`). Every kept line keeps its
//! own number and its text untouched, so an agent can still target it by number.
//!
//! Two things go. The padding before the numbers, which costs about a sixth of a view's tokens
//! and says nothing. And, in a long view (an agent reading a whole file for its shape), the
//! bodies of documentation and comment blocks of three lines or more and the blank lines: each
//! block keeps its summary line, the numbers skip where lines went, and one marker says how many
//! went and retrieves the view whole. A block of two lines is kept: the saving is small and the
//! words in it are often the ones an agent quotes back. In a view of a whole source file, the
//! bodies the code compressor would elide (functions off the question) go as well, in runs long
//! enough to matter: their signatures stay, and the numbers show where; shorter runs go too in
//! a view its harness clipped, whose note sends the agent to search and read ranges. A file the
//! agent is editing keeps every line ([`unpadded`] alone).

use super::harness::cut_short;
use super::runs::long_runs;
use super::{code, doc_blocks, markdown};
use crate::request::marker::{self, thousands};
use super::{Compressor, Context};

/// Compresses numbered file views.
pub struct Numbered;

/// Numbered lines a view has at least.
const MIN_LINES: usize = 5;

/// Views this long or longer are read for their shape and lose their documentation bodies and
/// blank lines; shorter ones are the lines an agent asked for, kept whole.
const MIN_LINES_TO_SHORTEN: usize = 100;

/// Views this long or longer are a whole file read for its shape: the bodies of functions off
/// the question go too.
const MIN_LINES_TO_ELIDE_BODIES: usize = 300;

/// Runs of body lines shorter than this are kept.
const MIN_BODY_RUN: usize = 15;

/// Runs of body lines shorter than this are kept in a view its harness clipped (OpenHands'
/// editor, past about 16,000 characters): the agent was told to search the file and read what it
/// needs by range, so the bodies off the question matter less there.
const MIN_BODY_RUN_CLIPPED: usize = 5;

/// Documentation and comment blocks shorter than this are kept whole.
const MIN_BLOCK_LINES: usize = 3;

/// What may stand between a line number and its text: a tab (`cat -n`, editors), an arrow
/// (Claude Code's reader) or a colon (SWE-agent's viewer; not before a digit, so a clock
/// `12:30` is not a number).
const SEPARATORS: [char; 3] = ['\t', '→', ':'];

/// A numbered line split up: its padding, number and text.
struct Line<'a> {
    padding: usize,
    number: &'a str,
    text: &'a str,
}

/// `line` split up, when it is a numbered line.
fn numbered(line: &str) -> Option<Line<'_>> {
    let padding = line.find(|c: char| c != ' ')?;
    let rest = &line[padding..];
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let separator = rest[digits..].chars().next().filter(|c| SEPARATORS.contains(c))?;
    let text = &rest[digits + separator.len_utf8()..];
    let clock = separator == ':' && text.starts_with(|c: char| c.is_ascii_digit());
    (digits > 0 && !clock).then(|| Line { padding, number: &rest[..digits], text })
}

/// A view line's code: the text after its line number and separator, or the whole line when it
/// has no number.
pub fn code_of(line: &str) -> &str {
    numbered(line).map_or(line, |l| l.text)
}

/// Whether `text` is a numbered view: at least [`MIN_LINES`] numbered lines counting up by one,
/// and most of its lines numbered.
pub fn detect(text: &str) -> bool {
    let (mut runs, mut previous, mut lines) = (0usize, None::<u64>, 0usize);
    for line in text.lines().take(2000) {
        lines += 1;
        if let Some(n) = numbered(line).and_then(|l| l.number.parse::<u64>().ok()) {
            if previous.is_none_or(|p| p + 1 == n) {
                runs += 1;
            }
            previous = Some(n);
        }
    }
    runs >= MIN_LINES && runs * 10 >= lines * 7
}

/// `line` without the padding before its number.
fn unpad(line: &str) -> &str {
    numbered(line).map_or(line, |l| &line[l.padding..])
}

/// `text` with the padding before each line number dropped and nothing else changed; `None`
/// when there is no padding.
pub fn unpadded(text: &str) -> Option<String> {
    let out = text.split('\n').map(unpad).collect::<Vec<_>>().join("\n");
    (out.len() < text.len()).then_some(out)
}

impl Compressor for Numbered {
    fn name(&self) -> &'static str {
        "numbered"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < MIN_LINES_TO_SHORTEN {
            return unpadded(text);
        }
        let parsed: Vec<Option<Line>> = lines.iter().map(|l| numbered(l)).collect();
        let codes: Vec<&str> = lines.iter().zip(&parsed).map(|(l, p)| p.as_ref().map_or(*l, |p| p.text)).collect();
        // The last numbered line stays: it shows where the view ends, and a harness appends its
        // notes to it (`<response clipped><NOTE>… search with grep -n …</NOTE>`).
        let last = parsed.iter().rposition(Option::is_some);
        let droppable = |i: usize| parsed[i].is_some() && Some(i) != last;
        let clipped = last.is_some_and(|i| cut_short(lines[i]));
        let mut dropped: Vec<bool> = (0..lines.len()).map(|i| droppable(i) && codes[i].trim().is_empty()).collect();
        let blank = dropped.iter().filter(|d| **d).count();
        let mut shortened = 0;
        for block in doc_blocks::find(&codes).into_iter().filter(|b| b.lines.len() >= MIN_BLOCK_LINES) {
            shortened += 1;
            block.lines.filter(|&i| i != block.summary && droppable(i)).for_each(|i| dropped[i] = true);
        }
        let in_comments = dropped.iter().filter(|d| **d).count() - blank;
        // In a whole source file, the bodies the code compressor would elide go too (their
        // signatures stay, so the numbers show where).
        let rows: Vec<usize> = (0..lines.len()).filter(|&i| parsed[i].is_some()).collect();
        let mut in_bodies = 0;
        let document = ctx.file_path.is_some_and(markdown::is_markdown);
        let omit = (lines.len() >= MIN_LINES_TO_ELIDE_BODIES)
            .then(|| {
                let row_codes: Vec<&str> = rows.iter().map(|&i| codes[i]).collect();
                if document { markdown::omitted_lines(&row_codes, ctx.query) } else { code::omitted_lines(&row_codes.join("\n"), ctx) }
            })
            .flatten()
            .map(|omit| long_runs(omit, if document { markdown::MIN_SECTION_RUN } else if clipped { MIN_BODY_RUN_CLIPPED } else { MIN_BODY_RUN }))
            .unwrap_or_default();
        for (&row, omit) in rows.iter().zip(omit) {
            if omit && !dropped[row] && droppable(row) {
                dropped[row] = true;
                in_bodies += 1;
            }
        }
        let omitted = dropped.iter().filter(|d| **d).count();
        if omitted == 0 {
            return unpadded(text);
        }
        // Kept lines lose their padding, from the parse already made of each.
        let kept = lines.iter().zip(&parsed).zip(&dropped).filter(|(_, dropped)| !**dropped);
        let mut out: Vec<&str> = kept.map(|((line, parsed), _)| parsed.as_ref().map_or(*line, |p| &line[p.padding..])).collect();
        let elided = if document { "sections" } else { "function bodies" };
        let bodies = if in_bodies > 0 { format!(", {} lines of {elided} off the question", thousands(in_bodies)) } else { String::new() };
        let what = format!(
            "{} blank lines{bodies} and {} lines of {} documentation and comment blocks omitted (each block keeps its summary line; numbers skip where lines went)",
            thousands(blank),
            thousands(in_comments),
            thousands(shortened)
        );
        let marker = marker::marker(ctx.key, &what);
        out.push(&marker);
        Some(out.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: &str = "Here's the result of running `cat -n` on /w/a.py:\n     1\timport os\n     2\t\n     3\tdef f(x):\n     4\t    return x  # 4\t5\n     5\t\n    10\tz = 1\n    11\ty = 2";

    #[test]
    fn padding_goes_and_every_number_and_line_stays() {
        assert!(detect(VIEW));
        let out = Numbered.compress(VIEW, &Context::default()).unwrap();
        assert_eq!(
            out,
            "Here's the result of running `cat -n` on /w/a.py:\n1\timport os\n2\t\n3\tdef f(x):\n4\t    return x  # 4\t5\n5\t\n10\tz = 1\n11\ty = 2"
        );
    }

    #[test]
    fn unnumbered_text_logs_and_clocks_are_not_views() {
        assert!(!detect("a\nb\nc\nd\ne\nf\n"));
        assert!(!detect("10:00 a\n11:00 b\n12:00 c\n13:00 d\n14:00 e\n"));
        assert!(!detect(include_str!("../../../tests/fixtures/logs/HDFS_2k.log")));
    }

    #[test]
    fn arrow_colon_and_unpadded_views_are_views() {
        assert!(detect("     1→import os\n     2→\n     3→x = 1\n     4→y = 2\n     5→z = 3\n"));
        assert!(detect("[File: /w/a.py (5 lines total)]\n1:import os\n2:\n3:x = 1\n4:y = 2\n5:z = 3\n"));
        assert!(detect("1\ta\n2\tb\n3\tc\n4\td\n5\te\n"));
        assert_eq!(unpadded("     9→x\n    10→y"), Some("9→x\n10→y".to_string()));
    }

    /// A long numbered view: a module docstring, a two-line comment, a function with a
    /// docstring, blank lines, and filler code to make it long.
    fn long_view() -> String {
        let mut code = vec!["\"\"\"", "Tables of things.", "", "Long description.", "\"\"\"", "# Two lines", "# of comment.", "import os", "", "def add(a, b):", "    \"\"\"Add two numbers.", "", "    Args: a, b", "    \"\"\"", "    return a + b"];
        let filler: Vec<String> = (0..100).map(|i| format!("x{i} = {i}")).collect();
        code.extend(filler.iter().map(String::as_str));
        let lines: Vec<String> = code.iter().enumerate().map(|(i, c)| format!("{:>6}\t{c}", i + 1)).collect();
        format!("Here's the result of running `cat -n` on /w/a.py:\n{}", lines.join("\n"))
    }

    #[test]
    fn a_long_view_drops_documentation_bodies_and_blank_lines_and_keeps_the_numbers() {
        let view = long_view();
        let ctx = Context { key: "0123456789abcdef01234567", ..Context::default() };
        let out = Numbered.compress(&view, &ctx).unwrap();
        let head: Vec<&str> = out.lines().take(8).collect();
        assert_eq!(head, ["Here's the result of running `cat -n` on /w/a.py:", "2\tTables of things.", "6\t# Two lines", "7\t# of comment.", "8\timport os", "10\tdef add(a, b):", "11\t    \"\"\"Add two numbers.", "15\t    return a + b"]);
        assert!(out.contains("115\tx99 = 99"));
        assert!(out.ends_with("[headroom: 3 blank lines and 5 lines of 2 documentation and comment blocks omitted (each block keeps its summary line; numbers skip where lines went); headroom_retrieve hash=0123456789abcdef01234567]"), "{out}");
    }

    #[test]
    fn a_whole_source_file_loses_the_long_bodies_off_the_question_and_keeps_every_number() {
        let source = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let view: String = source.lines().enumerate().map(|(i, l)| format!("{:>6}\t{l}\n", i + 1)).collect();
        let ctx = Context { query: "What does MarkDeprecated check?", file_path: Some("flag.go"), key: "0123456789abcdef01234567", ..Context::default() };
        let out = Numbered.compress(&view, &ctx).unwrap();
        assert!(out.len() * 3 < view.len() * 2, "{} -> {}", view.len(), out.len());
        // Every line shown is the file's line under its own number.
        let original: Vec<&str> = source.lines().collect();
        for line in out.lines().filter(|l| !l.is_empty() && !l.starts_with("[headroom:")) {
            let (number, text) = line.split_once('\t').expect(line);
            assert_eq!(original[number.parse::<usize>().unwrap() - 1], text);
        }
        // Long bodies off the question go, their signatures stay: the numbers skip after them.
        let numbered: Vec<(usize, &str)> =
            out.lines().filter_map(|l| l.split_once('\t')).map(|(n, text)| (n.parse().unwrap(), text)).collect();
        let gaps = numbered.windows(2).filter(|w| w[1].0 - w[0].0 > MIN_BODY_RUN).count();
        assert!(gaps >= 5, "{out}");
        let shown = |needle: &str| out.lines().any(|l| l.ends_with(needle));
        assert!(shown("func (f *FlagSet) SetNormalizeFunc(n func(f *FlagSet, name string) NormalizedName) {") && !shown("\tf.normalizeNameFunc = n"), "{out}");
        // The function asked about stays whole.
        let asked = source.find("func (f *FlagSet) MarkDeprecated(").unwrap();
        let end = asked + source[asked..].find("\n}\n").unwrap();
        assert!(source[asked..end].lines().all(|l| l.trim().is_empty() || shown(l)), "{out}");
        assert!(out.contains(" lines of function bodies off the question"), "{out}");
    }

    #[test]
    fn a_clipped_view_keeps_its_last_line_and_the_harness_note_on_it() {
        // OpenHands clips a long file inside a comment block and appends its note to that line.
        let note = "<response clipped><NOTE>To save on context only part of this file has been shown to you. You should retry this tool after you have searched inside the file with `grep -n` in order to find the line numbers of what you are looking for.</NOTE>";
        let clipped = format!("{}\n   116\t# A comment that\n   117\t# runs over three lines\n   118\t# and is cut of{note}", long_view());
        let ctx = Context { key: "0123456789abcdef01234567", ..Context::default() };
        let out = Numbered.compress(&clipped, &ctx).unwrap();
        assert!(out.contains(&format!("\n118\t# and is cut of{note}\n")), "{out}");
        assert!(out.contains("116\t# A comment that") && !out.contains("117\t"), "{out}");
    }

    #[test]
    fn a_clipped_view_of_a_source_file_loses_shorter_bodies_too() {
        let source = include_str!("../../../tests/fixtures/code/pflag_flag.go");
        let view: String = source.lines().enumerate().map(|(i, l)| format!("{:>6}\t{l}\n", i + 1)).collect();
        let clipped = format!("{}<response clipped><NOTE>To save on context only part of this file has been shown to you.</NOTE>", view.trim_end());
        let ctx = Context { query: "What does MarkDeprecated check?", file_path: Some("flag.go"), key: "0123456789abcdef01234567", ..Context::default() };
        let shown = |out: &str| out.lines().filter(|l| l.contains('\t')).count();
        let (whole, cut) = (Numbered.compress(&view, &ctx).unwrap(), Numbered.compress(&clipped, &ctx).unwrap());
        assert!(shown(&cut) < shown(&whole), "{} vs {}", shown(&cut), shown(&whole));
        // The function asked about still stays whole, and so does the note.
        let asked = source.find("func (f *FlagSet) MarkDeprecated(").unwrap();
        let end = asked + source[asked..].find("\n}\n").unwrap();
        assert!(source[asked..end].lines().all(|l| l.trim().is_empty() || cut.lines().any(|c| c.ends_with(l))), "{cut}");
        assert!(cut.contains("<response clipped><NOTE>"), "{cut}");
    }

    #[test]
    fn a_short_view_keeps_every_line() {
        let view = long_view();
        let short: Vec<&str> = view.lines().take(40).collect();
        let out = Numbered.compress(&short.join("\n"), &Context::default()).unwrap();
        assert_eq!(out.lines().count(), 40);
        assert!(!out.contains("headroom"));
    }
}
