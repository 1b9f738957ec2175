//! Markdown documents read whole: an agent reading a project's guide (`CLAUDE.md`, a README, a
//! design note) for the parts its task touches. The sections with the most words of the
//! question stay whole, up to two fifths of the lines; the others keep their heading and first
//! line and lose the rest, so the document's outline stays. In a numbered view the numbers skip
//! where lines went (the numbered-view compressor drops them and writes the marker); a document
//! printed as it is (`cat README.md`) shows `[… N lines (a–b) …]` there.

use super::runs::{long_runs, runs};
use super::text::is_atx_heading;
use super::{Compressor, Context};
use crate::request::marker::{self, thousands};
use crate::request::query::Query;

/// Compresses Markdown documents printed as they are.
pub struct Markdown;

impl Compressor for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < MIN_DOCUMENT_LINES {
            return None;
        }
        let omitted = long_runs(omitted_lines(&lines, ctx.query)?, MIN_SECTION_RUN);
        let total = omitted.iter().filter(|o| **o).count();
        if total == 0 {
            return None;
        }
        let mut out = String::with_capacity(text.len() / 2);
        for (omit, run) in runs(&omitted) {
            if omit {
                out.push_str(&marker::omitted_run(run.start, run.end - 1));
            } else {
                for line in &lines[run] {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let what = format!("{} lines of sections off the question omitted (each keeps its heading and first line)", thousands(total));
        out.push_str(&marker::marker(ctx.key, &what));
        Some(out)
    }
}

/// Extensions of Markdown files.
const EXTENSIONS: [&str; 3] = [".md", ".markdown", ".mdx"];

/// A section's share of the document from which a question word names no section in particular.
const QUERY_MAX_SHARE: f64 = 0.25;
/// Share of the document's lines the sections most on the question may keep whole.
const KEPT_SHARE: f64 = 0.4;
/// Lines a document printed as it is has at least before it is shortened, as a numbered view
/// of a whole file.
const MIN_DOCUMENT_LINES: usize = 300;
/// Runs of a section's lines shorter than this stay: sections are short, and a short gap saves
/// little.
pub const MIN_SECTION_RUN: usize = 5;

/// Whether `text`, from a Markdown file, is long enough and has the sections to be shortened.
pub fn detect(text: &str) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    lines.len() >= MIN_DOCUMENT_LINES && lines.iter().filter(|l| is_atx_heading(l)).count() >= 2
}

/// Whether `path` names a Markdown file.
pub fn is_markdown(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

/// The lines of the document `lines` (their text, numbers taken off) that a reader of `query`
/// can do without: in each section off the question, every line after its heading and its first
/// non-blank line. `None` when the document has fewer than two sections.
pub fn omitted_lines(lines: &[&str], query: &str) -> Option<Vec<bool>> {
    // Section starts, headings inside code fences aside (`# comment` in a shell example).
    let mut starts = Vec::new();
    let mut fenced = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && is_atx_heading(line) {
            starts.push(i);
        }
    }
    if starts.len() < 2 {
        return None;
    }
    let ranges: Vec<std::ops::Range<usize>> =
        starts.iter().enumerate().map(|(n, &start)| start..starts.get(n + 1).copied().unwrap_or(lines.len())).collect();
    let text_of = |range: &std::ops::Range<usize>| lines[range.clone()].join("\n");
    let query = Query::new(query).discriminative(ranges.iter().map(text_of), QUERY_MAX_SHARE);
    // The sections with the most question words stay whole, most first, until they hold
    // KEPT_SHARE of the lines: a question's common words touch most sections of a guide.
    let hits: Vec<usize> = ranges.iter().map(|r| query.hits(&text_of(r))).collect();
    let mut ranked: Vec<usize> = (0..ranges.len()).filter(|&n| hits[n] > 0).collect();
    ranked.sort_by_key(|&n| (std::cmp::Reverse(hits[n]), n));
    let mut whole = vec![false; ranges.len()];
    let mut kept = 0;
    for n in ranked {
        if kept >= (lines.len() as f64 * KEPT_SHARE) as usize {
            break;
        }
        whole[n] = true;
        kept += ranges[n].len();
    }
    let mut omitted = vec![false; lines.len()];
    for (range, _) in ranges.iter().zip(&whole).filter(|(_, whole)| !**whole) {
        let first_said = (range.start + 1..range.end).find(|&i| !lines[i].trim().is_empty());
        let from = first_said.map_or(range.end, |i| i + 1);
        omitted[from..range.end].iter_mut().for_each(|o| *o = true);
    }
    Some(omitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "# Guide\n\nIntro line.\n\n## Install\nnpm i\n\n## Testing\nnpm test\nthen lint\n\n## Sessions\n\nHow a session ends on /clear.\nMore on sessions.\n\n## Plugins\n\nHow to add a plugin.\n```bash\n# build it\nnpm run build\n```\nStep two.\n";

    #[test]
    fn sections_off_the_question_keep_their_heading_and_first_line() {
        let lines: Vec<&str> = GUIDE.lines().collect();
        let omitted = omitted_lines(&lines, "what happens to a session on /clear?").unwrap();
        let kept: Vec<&str> = lines.iter().zip(&omitted).filter(|(_, o)| !**o).map(|(l, _)| *l).collect();
        // The fenced `# build it` is no heading: the plugin section ends at the document's end.
        assert_eq!(kept, ["# Guide", "", "Intro line.", "## Install", "npm i", "## Testing", "npm test", "## Sessions", "", "How a session ends on /clear.", "More on sessions.", "", "## Plugins", "", "How to add a plugin."]);
    }

    #[test]
    fn a_long_document_printed_as_it_is_keeps_its_outline_and_notes_each_cut() {
        let filler: String = (0..60).map(|i| format!("Step {i} of the install.\n")).collect();
        let document = format!("{GUIDE}{}", ["Install", "Build", "Deploy", "Sessions end", "Theming"].iter().map(|h| format!("## {h}\n\nAbout {h}.\n{filler}")).collect::<String>());
        let ctx = Context { query: "what happens to a session on /clear?", key: "0123456789abcdef01234567", ..Context::default() };
        let out = Markdown.compress(&document, &ctx).unwrap();
        assert!(out.contains("## Sessions end\n\nAbout Sessions end.\nStep 0 of the install.\n"), "{out}");
        assert!(out.contains("## Theming\n\nAbout Theming.\n[… 6"), "{out}");
        assert!(out.ends_with("omitted (each keeps its heading and first line); headroom_retrieve hash=0123456789abcdef01234567]"));
        assert_eq!(Markdown.compress(GUIDE, &ctx), None, "a short document is read whole");
    }

    #[test]
    fn markdown_is_known_by_its_extension_and_needs_sections() {
        assert!(is_markdown("/repo/src/agents/CLAUDE.md") && is_markdown("docs/Intro.MDX") && !is_markdown("src/lib.rs"));
        assert_eq!(omitted_lines(&["# Only one", "text"], "x"), None);
        assert!(!is_atx_heading("#!/bin/sh") && !is_atx_heading("#include <stdio.h>") && is_atx_heading("### Step 1"));
    }
}
