//! The text compressor: prose, documents and markdown, the router's fallback for anything that is
//! not structured.
//!
//! Extractive: the text is split into blocks (paragraphs, list items, headings, code fences,
//! tables) and the prose into sentences. Headings and the document's first sentence are always
//! kept; the other sentences are ranked by BM25 over the query's terms (each sentence a document)
//! plus a small prior for coming early (in the document and in its paragraph), and the best are
//! kept under a byte budget, in their original order. Every run of left-out sentences becomes
//! `[…]`, and one marker at the end says how many sentences were left out of how many.

use crate::request::marker::{self, thousands};
use crate::request::query::Query;
use super::{Compressor, Context};
use std::ops::Range;

/// Compresses prose.
pub struct Text;

/// Texts shorter than this are left alone: the marker and the gaps would eat most of the gain.
const MIN_BYTES: usize = 1500;
/// Share of the original bytes kept when the caller sets no target ratio.
const DEFAULT_RATIO: f64 = 0.4;
/// What stands for a run of left-out sentences or blocks.
const GAP: &str = "[…]";
/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "al", "approx", "cf", "co", "corp", "dept", "dr", "e.g", "eg", "etc", "fig", "i.e", "ie", "inc", "jr", "ltd",
    "mr", "mrs", "ms", "no", "nos", "p", "pp", "prof", "sec", "sr", "st", "vol", "vs",
];

/// Whether `text` reads as prose worth compressing here: mostly letters and spaces, lines longer
/// than 30 characters on average, and few indented lines ending in `{`, `;` or `:` (code).
/// There is no `detect`: text is the fallback, this only keeps it away from code and data.
pub fn worth_trying(text: &str) -> bool {
    let (mut chars, mut letters) = (0usize, 0usize);
    let (mut lines, mut line_bytes, mut code) = (0usize, 0usize, 0usize);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        lines += 1;
        line_bytes += line.len();
        let end = line.trim_end();
        if line.starts_with([' ', '\t']) && end.ends_with(['{', ';', ':']) {
            code += 1;
        }
        for c in line.chars() {
            chars += 1;
            if c.is_alphabetic() || c == ' ' {
                letters += 1;
            }
        }
    }
    lines > 0 && letters * 10 >= chars * 8 && line_bytes > 30 * lines && code * 10 < lines
}

impl Compressor for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        if text.len() < MIN_BYTES {
            return None;
        }
        let blocks = blocks(text);
        let units: Vec<Unit> = blocks
            .iter()
            .enumerate()
            .flat_map(|(b, block)| (0..block.pieces.len()).map(move |p| Unit { block: b, piece: p }))
            .collect();
        let ratio = ctx.target_ratio.map_or(DEFAULT_RATIO, f64::from);
        let keep = choose(&blocks, &units, ctx, (text.len() as f64 * ratio) as usize);
        let omitted = keep.iter().filter(|k| !**k).count();
        if omitted == 0 {
            return None;
        }

        let mut out = String::with_capacity(text.len() / 2);
        let mut at = 0;
        let mut in_gap = false;
        for block in &blocks {
            let kept = &keep[at..at + block.pieces.len()];
            at += block.pieces.len();
            if !kept.contains(&true) {
                if !in_gap {
                    separate(&mut out, block.gap_before);
                    out.push_str(GAP);
                    in_gap = true;
                }
                continue;
            }
            separate(&mut out, block.gap_before);
            block.write(kept, &mut out);
            // A gap that ends this block also stands for whole blocks left out after it.
            in_gap = kept.last() == Some(&false);
        }
        out.push_str("\n\n");
        out.push_str(&marker::marker(ctx.key, &describe(&blocks, &keep)));
        (out.len() < text.len()).then_some(out)
    }
}

/// A blank line before a block that had one, a line break otherwise.
fn separate(out: &mut String, gap_before: bool) {
    if !out.is_empty() {
        out.push_str(if gap_before { "\n\n" } else { "\n" });
    }
}

/// What a block is, which decides how it is kept.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A markdown heading, a setext heading, a rule or a short title line: always kept.
    Heading,
    /// A code fence or a table: kept whole or not at all.
    Verbatim,
    /// A paragraph or a list item: split into sentences.
    Prose,
}

/// A block and its pieces: sentences for prose, the whole block otherwise.
struct Block<'a> {
    kind: Kind,
    gap_before: bool,
    /// A list item's indentation and bullet, written before its first kept sentence.
    bullet: &'a str,
    /// The block's text: prose lines joined by spaces, other blocks' lines as they were.
    text: String,
    pieces: Vec<Range<usize>>,
}

impl Block<'_> {
    fn piece(&self, p: usize) -> &str {
        &self.text[self.pieces[p].clone()]
    }

    /// Writes the kept pieces, with [`GAP`] for each run of left-out sentences.
    fn write(&self, kept: &[bool], out: &mut String) {
        out.push_str(self.bullet);
        let mut first = true;
        let mut in_gap = false;
        for (p, &keep) in kept.iter().enumerate() {
            if !keep && in_gap {
                continue;
            }
            if !first {
                out.push(' ');
            }
            first = false;
            in_gap = !keep;
            out.push_str(if keep { self.piece(p) } else { GAP });
        }
    }
}

/// A block being read.
struct Open<'a> {
    kind: Kind,
    bullet: &'a str,
    lines: Vec<&'a str>,
    gap_before: bool,
}

impl<'a> Open<'a> {
    fn new(kind: Kind, bullet: &'a str, line: &'a str, gap_before: bool) -> Self {
        Open { kind, bullet, lines: vec![line], gap_before }
    }

    /// The block, its prose split into sentences; a lone short line without end punctuation is
    /// a title.
    fn finish(self) -> Block<'a> {
        let Open { mut kind, bullet, lines, gap_before } = self;
        let text = lines.join(if kind == Kind::Prose { " " } else { "\n" });
        if kind == Kind::Prose && bullet.is_empty() && lines.len() == 1 && is_title(&text) {
            kind = Kind::Heading;
        }
        let pieces = if kind == Kind::Prose { sentences(&text) } else { std::iter::once(0..text.len()).collect() };
        Block { kind, gap_before, bullet, text, pieces }
    }
}

/// The blocks of `text`, in order.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut blocks = Vec::new();
    let mut open: Option<Open> = None;
    let mut gap = false;
    let mut fence: Option<&str> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(close) = fence {
            if let Some(code) = open.as_mut() {
                code.lines.push(line);
            }
            if trimmed.starts_with(close) {
                fence = None;
                blocks.extend(open.take().map(Open::finish));
            }
            continue;
        }
        if trimmed.is_empty() {
            blocks.extend(open.take().map(Open::finish));
            gap = true;
            continue;
        }
        let gap_before = std::mem::take(&mut gap);
        let open_kind = if gap_before { None } else { open.as_ref().map(|o| o.kind) };
        let in_table = open_kind == Some(Kind::Verbatim) && trimmed.starts_with('|');
        if in_table || open_kind == Some(Kind::Prose) && is_continuation(trimmed) {
            if let Some(o) = open.as_mut() {
                o.lines.push(if o.kind == Kind::Prose { trimmed } else { line });
            }
            continue;
        }
        // A `===` or `---` right under a lone line makes that line a setext heading.
        let setext = is_rule(trimmed) && !trimmed.starts_with(['*', '_']) && open_kind == Some(Kind::Prose);
        if let Some(title) = open.take_if(|o| setext && o.bullet.is_empty() && o.lines.len() == 1) {
            blocks.push(Open { kind: Kind::Heading, bullet: "", lines: vec![title.lines[0], line], gap_before: title.gap_before }.finish());
            continue;
        }
        blocks.extend(open.take().map(Open::finish));
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = Some(&trimmed[..3]);
            open = Some(Open::new(Kind::Verbatim, "", line, gap_before));
        } else if is_rule(trimmed) || is_atx_heading(trimmed) {
            blocks.push(Open::new(Kind::Heading, "", line, gap_before).finish());
        } else if trimmed.starts_with('|') {
            open = Some(Open::new(Kind::Verbatim, "", line, gap_before));
        } else if let Some(bullet) = bullet(line) {
            open = Some(Open::new(Kind::Prose, bullet, line[bullet.len()..].trim(), gap_before));
        } else {
            open = Some(Open::new(Kind::Prose, "", trimmed, gap_before));
        }
    }
    blocks.extend(open.map(Open::finish));
    blocks
}

/// Whether a line goes on the paragraph or list item above it rather than starting a block.
fn is_continuation(trimmed: &str) -> bool {
    !(is_rule(trimmed) || is_atx_heading(trimmed) || trimmed.starts_with("```") || trimmed.starts_with("~~~"))
        && bullet(trimmed).is_none()
}

/// `# Title` to `###### Title`.
pub(super) fn is_atx_heading(trimmed: &str) -> bool {
    let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && trimmed[hashes..].chars().next().is_none_or(char::is_whitespace)
}

/// `---`, `***`, `___` or `===` (spaces allowed between).
fn is_rule(trimmed: &str) -> bool {
    let mut marks = trimmed.chars().filter(|c| !c.is_whitespace());
    let Some(first) = marks.next().filter(|c| "-*_=".contains(*c)) else { return false };
    let mut n = 1;
    for c in marks {
        if c != first {
            return false;
        }
        n += 1;
    }
    n >= 3
}

/// A list item's indentation and bullet (`- `, `* `, `+ `, `1. `, `2) `), with the spaces after it.
fn bullet(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let mark = match rest.as_bytes().first()? {
        b'-' | b'*' | b'+' => 1,
        _ if (1..=3).contains(&digits) && matches!(rest.as_bytes().get(digits), Some(b'.' | b')')) => digits + 1,
        _ => return None,
    };
    let spaces = rest[mark..].bytes().take_while(|&b| b == b' ').count();
    (spaces > 0 && mark + spaces < rest.len()).then(|| &line[..indent + mark + spaces])
}

/// A short line with a letter and no sentence punctuation at its end: a title.
fn is_title(line: &str) -> bool {
    line.chars().count() <= 60 && line.chars().any(char::is_alphabetic) && !line.ends_with(['.', ',', ';', ':', '!', '?'])
}

/// The sentences of a paragraph, as byte ranges that together cover it (minus the spaces
/// between). A sentence ends at `.`, `!` or `?` (and any closing quotes or brackets) followed by
/// a space and a capital, a digit or an opening quote or bracket; not after an abbreviation or an
/// initial.
fn sentences(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'.' | b'!' | b'?') {
            continue;
        }
        let end = i + 1 + bytes[i + 1..].iter().take_while(|c| matches!(c, b'"' | b'\'' | b')' | b']')).count();
        if bytes.get(end) != Some(&b' ') {
            continue;
        }
        let next = end + bytes[end..].iter().take_while(|&&c| c == b' ').count();
        let opens = text[next..].chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || "\"'([*_`“‘".contains(c));
        if !opens || (b == b'.' && abbreviation(&text[start..i])) {
            continue;
        }
        out.push(start..end);
        start = next;
    }
    if start < text.len() {
        out.push(start..text.len());
    }
    out
}

/// Whether the word that ends `before` (where a period follows) is an abbreviation or an
/// initial, so the period does not end the sentence.
fn abbreviation(before: &str) -> bool {
    let word = before.rsplit(|c: char| !(c.is_alphanumeric() || c == '.')).next().unwrap_or("");
    let mut chars = word.chars();
    let initial = chars.next().is_some_and(char::is_uppercase) && chars.next().is_none();
    initial || ABBREVIATIONS.contains(&word.to_lowercase().as_str())
}

/// One sentence (or heading, or verbatim block) of the document.
struct Unit {
    block: usize,
    piece: usize,
}

/// Which units to keep within `budget` bytes: headings and the first sentence always, then the
/// rest by relevance to the query plus a small prior for coming early in the document and in
/// the paragraph. Relevance is BM25 over the query's terms, blended with the embedding
/// similarity to the query when the request's models cover the whole block.
fn choose(blocks: &[Block<'_>], units: &[Unit], ctx: &Context, budget: usize) -> Vec<bool> {
    let docs: Vec<&str> = units.iter().map(|u| blocks[u.block].piece(u.piece)).collect();
    let mut scores = Query::new(ctx.query).bm25(&docs);
    if let Some(similar) = ctx.ml.and_then(|ml| ml.similarities(&docs)) {
        blend(&mut scores, &similar);
    }
    let n = units.len() as f64;
    let first_sentence = units.iter().position(|u| blocks[u.block].kind == Kind::Prose);
    let mut order: Vec<(f64, usize)> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (scores[i] + 0.3 / (1.0 + u.piece as f64) + 0.2 * (1.0 - i as f64 / n), i))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

    // A block's first kept piece also pays for its bullet and line breaks.
    let cost = |i: usize, opened: &[bool]| {
        let u = &units[i];
        let block = &blocks[u.block];
        block.pieces[u.piece].len() + 1 + if opened[u.block] { 0 } else { block.bullet.len() + 2 }
    };
    let forced = |i: usize| blocks[units[i].block].kind == Kind::Heading || Some(i) == first_sentence;
    let mut keep = vec![false; units.len()];
    let mut opened = vec![false; blocks.len()];
    let mut spent = 0;
    for i in (0..units.len()).filter(|&i| forced(i)).chain(order.into_iter().map(|(_, i)| i)) {
        let c = cost(i, &opened);
        if !keep[i] && (forced(i) || spent + c <= budget) {
            keep[i] = true;
            opened[units[i].block] = true;
            spent += c;
        }
    }
    keep
}

/// How much the most similar unit gains, as a share of the best BM25 score (or of 1).
const SEMANTIC_WEIGHT: f64 = 0.5;

/// Adds each unit's similarity to the query, rescaled so the least similar unit gains nothing
/// and the most similar gains [`SEMANTIC_WEIGHT`] of the best lexical score: words the query
/// shares still lead, and units that say the same in other words come next.
fn blend(scores: &mut [f64], similar: &[f32]) {
    let (low, high) = similar.iter().fold((f32::MAX, f32::MIN), |(l, h), &s| (l.min(s), h.max(s)));
    if high - low < 1e-6 {
        return;
    }
    let scale = SEMANTIC_WEIGHT * scores.iter().copied().fold(1.0, f64::max);
    for (score, &s) in scores.iter_mut().zip(similar) {
        *score += scale * f64::from((s - low) / (high - low));
    }
}

/// The marker's text: sentences left out of how many, and verbatim blocks if any went.
fn describe(blocks: &[Block<'_>], keep: &[bool]) -> String {
    let (mut sentences, mut sentences_cut, mut verbatim, mut verbatim_cut) = (0, 0, 0, 0);
    let mut at = 0;
    for block in blocks {
        let kept = &keep[at..at + block.pieces.len()];
        at += block.pieces.len();
        let cut = kept.iter().filter(|k| !**k).count();
        match block.kind {
            Kind::Prose => {
                sentences += kept.len();
                sentences_cut += cut;
            }
            Kind::Verbatim => {
                verbatim += 1;
                verbatim_cut += cut;
            }
            Kind::Heading => {}
        }
    }
    let mut what = format!("omitted {} of {} sentences", thousands(sentences_cut), thousands(sentences));
    if verbatim_cut > 0 {
        what.push_str(&format!(" and {} of {} code blocks and tables", thousands(verbatim_cut), thousands(verbatim)));
    }
    what
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGHUB_LICENSE: &str = include_str!("../../../tests/fixtures/logs/LICENSE-loghub");

    /// Terms of use around the loghub licence: a preamble, the licence, and the usual
    /// disclaimers, in hard-wrapped paragraphs.
    fn terms_of_use() -> String {
        format!(
            "Terms of Use for the Collected Log Archives\n\n\
             This document describes how the archives published on this site may be used. It applies to \
             every file in the archive, including the parsed templates and the labelled samples. Please \
             read it in full before downloading anything. Questions about it can be sent to the \
             maintainers through the issue tracker.\n\n\
             The archives were gathered from production and laboratory systems over several years. Host \
             names, user names and addresses were replaced by placeholders where they could identify a \
             person. Some logs were shortened to keep the downloads small. The original sizes are listed \
             in the table of the accompanying paper.\n\n\
             {LOGHUB_LICENSE}\n\
             Commercial use of the archives is not covered by this notice and needs a separate written \
             agreement with the maintainers. Mirrors of the download site are welcome as long as the \
             files are served unmodified and the notice is shown next to them.\n\n\
             The archives are provided as is, without warranty of any kind, express or implied, \
             including but not limited to the warranties of merchantability and fitness for a particular \
             purpose. In no event shall the authors be liable for any claim, damages or other liability \
             arising from the use of the archives. The maintainers may update or withdraw individual files \
             at any time, for example when a contributor asks for their logs to be removed.\n\n\
             Contributions of new logs are reviewed by the maintainers before they are published. A \
             contributor confirms that they have the right to share the logs and that the logs contain no \
             secrets such as passwords or private keys. Accepted contributions are released under the \
             same notice as the rest of the archive.\n"
        )
    }

    fn ctx(query: &str) -> Context<'_> {
        Context { query, key: "0123456789abcdef01234567", ..Context::default() }
    }

    #[test]
    fn licence_keeps_the_sentence_on_redistribution() {
        let text = terms_of_use();
        assert!(worth_trying(&text));
        let out = Text.compress(&text, &ctx("Under what conditions may the data sets be redistributed?")).unwrap();
        assert!(out.contains(
            "The datasets are freely available for research or academic work, subject to the following condition: \
             For any usage or distribution of the loghub datasets, please refer to the loghub repository URL"
        ));
        assert!(out.starts_with("Terms of Use for the Collected Log Archives\n\nThis document describes how"));
        assert!(out.contains("LICENSE OF LOGHUB"), "titles are kept");
        assert!(out.contains(GAP));
        assert!(out.len() * 2 < text.len(), "{} of {} bytes", out.len(), text.len());
        let total = blocks(&text).iter().filter(|b| b.kind == Kind::Prose).map(|b| b.pieces.len()).sum::<usize>();
        assert!(out.ends_with(&format!(" of {total} sentences; headroom_retrieve hash=0123456789abcdef01234567]")), "{out}");
        assert_eq!(out.matches("[headroom: ").count(), 1);
    }

    #[test]
    fn without_a_match_the_leads_are_kept() {
        let text = terms_of_use();
        let out = Text.compress(&text, &ctx("kubernetes pod eviction")).unwrap();
        assert!(out.contains("This document describes how the archives published on this site may be used."));
        assert!(out.contains("The archives were gathered from production and laboratory systems over several years."));
        assert!(!out.contains("Questions about it can be sent"), "later sentences of a paragraph go first");
    }

    #[test]
    fn sentences_split_on_ends_not_on_abbreviations_or_initials() {
        let text = "Michael R. Lyu wrote it, e.g. in 2023. It works! Does it? \"Yes.\" Version 2.5 is out. ok then";
        let got: Vec<&str> = sentences(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(got, vec!["Michael R. Lyu wrote it, e.g. in 2023.", "It works!", "Does it?", "\"Yes.\"", "Version 2.5 is out. ok then"]);
    }

    #[test]
    fn markdown_keeps_headings_list_structure_and_gaps() {
        let mut text = String::from("# Setup guide\n\nInstall the daemon first. It runs as a user service.\n\n## Steps\n\n");
        for n in 1..=20 {
            text.push_str(&format!(
                "- Step {n} prepares the machine in one more way that nobody asked about. It has a second sentence too.\n"
            ));
        }
        text.push_str("- Finally, open the socket at $XDG_RUNTIME_DIR/headroom to check the daemon answers.\n\n");
        text.push_str("```sh\nsystemctl --user start headroomd\n```\n\nSetup\n=====\n\nThe end of the guide.\n");
        let out = Text.compress(&text, &ctx("how do I check the socket answers?")).unwrap();
        assert!(out.starts_with("# Setup guide\n\nInstall the daemon first."), "{out}");
        assert!(out.contains("\n\n## Steps\n\n"), "{out}");
        assert!(out.contains("\n- Finally, open the socket at $XDG_RUNTIME_DIR/headroom to check the daemon answers.\n"), "{out}");
        assert!(out.contains("Setup\n=====\n"), "setext headings are kept whole: {out}");
        assert!(out.contains(GAP));
        assert!(out.contains("[headroom: omitted "));
    }

    #[test]
    fn short_texts_and_code_are_left_alone() {
        assert_eq!(Text.compress(LOGHUB_LICENSE, &ctx("data")), None, "under 1,500 bytes");
        assert!(worth_trying(LOGHUB_LICENSE));
        assert!(!worth_trying(include_str!("../request/query.rs")));
        assert!(!worth_trying(include_str!("../../../tests/fixtures/logs/HDFS_2k.log")));
        assert!(!worth_trying(include_str!("../../../tests/fixtures/github/labels.json")));
        assert!(!worth_trying(include_str!("../../../tests/fixtures/diffs/octokit-fixtures-5946840.diff")));
        assert!(!worth_trying(""));
    }

    #[test]
    fn similarity_lifts_units_that_say_it_in_other_words_without_passing_lexical_matches() {
        let mut scores = vec![2.0, 0.0, 0.0];
        blend(&mut scores, &[0.3, 0.8, 0.1]);
        assert!(scores[0] > scores[1] && scores[1] > scores[2], "{scores:?}");
        let mut flat = vec![1.0, 0.0];
        blend(&mut flat, &[0.4, 0.4]);
        assert_eq!(flat, vec![1.0, 0.0], "equal similarities change nothing");
    }
}