//! Prose compressed word by word with the token classifier (LLMLingua-2 style), for small
//! blocks the request's model budget covers. Whole words are kept or dropped (a word scores as
//! its best token); numbers, identifiers, paths, URLs, code spans, list markers and the query's
//! words are always kept; lines, indentation and blank lines stay where they were, unlike
//! compressors that join the kept words with spaces.

use crate::request::marker::{self, thousands};
use crate::request::query::{fold, Query};
use super::{Compressor, Context};
use crate::ml::classify::Scored;
use std::ops::Range;

/// The token classifier's compressor.
pub struct Kompress;

/// Share of droppable words kept when the request does not say.
const DEFAULT_RATIO: f64 = 0.5;

impl Compressor for Kompress {
    fn name(&self) -> &'static str {
        "kompress"
    }

    fn compress(&self, text: &str, ctx: &Context) -> Option<String> {
        let scored = ctx.ml?.keep_scores(text)?;
        let ratio = ctx.target_ratio.map_or(DEFAULT_RATIO, f64::from);
        let (out, dropped, total) = rewrite(text, &scored, &Query::new(ctx.query), ratio);
        if dropped == 0 {
            return None;
        }
        let note = format!("{} of {} words dropped by the token classifier", thousands(dropped), thousands(total));
        Some(format!("{out}\n{}", marker::marker(ctx.key, &note)))
    }
}

/// A whitespace-separated word of the text.
struct Word {
    span: Range<usize>,
    score: f32,
    forced: bool,
}

/// Whether a word must stay whatever the model says: it carries a digit, an identifier or path
/// shape, a URL, a code span, a list marker, or a query term.
fn always_kept(word: &str, in_code: bool, first_on_line: bool, query: &Query) -> bool {
    let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
    let list_marker = first_on_line && (matches!(word, "-" | "*" | "+" | ">") || word.starts_with('#') || word.trim_end_matches(['.', ')']).chars().all(|c| c.is_ascii_digit()));
    let camel = bare.chars().skip(1).any(char::is_uppercase) && bare.chars().any(char::is_lowercase);
    in_code
        || list_marker
        || word.contains(['/', '\\', '_', '`', '@', '=', '<', '>'])
        || word.contains("::")
        || bare.contains('.')
        || camel
        || word.chars().any(|c| c.is_ascii_digit())
        || query.terms().any(|t| t == fold(bare))
}

/// The text with low-scoring words removed: the kept text, and how many of how many words went.
fn rewrite(text: &str, scored: &Scored, query: &Query, ratio: f64) -> (String, usize, usize) {
    let mut words = Vec::new();
    let mut in_code = false;
    let mut token = 0;
    for (line_start, line) in lines(text) {
        let mut first = true;
        for span in word_spans(line) {
            let span = span.start + line_start..span.end + line_start;
            let word = &text[span.clone()];
            let ticks = word.matches('`').count();
            let forced = always_kept(word, in_code, first, query);
            if ticks % 2 == 1 {
                in_code = !in_code;
            }
            first = false;
            // A word scores as its best token.
            while token < scored.tokens.len() && scored.tokens[token].end <= span.start {
                token += 1;
            }
            let mut score = 0f32;
            let mut t = token;
            while t < scored.tokens.len() && scored.tokens[t].start < span.end {
                score = score.max(scored.keep[t]);
                t += 1;
            }
            words.push(Word { span, score, forced });
        }
    }
    // Drop the lowest-scoring free words until only `ratio` of them are left.
    let mut free: Vec<usize> = (0..words.len()).filter(|&i| !words[i].forced).collect();
    free.sort_by(|&a, &b| words[a].score.total_cmp(&words[b].score).then(a.cmp(&b)));
    let to_drop = free.len() - (free.len() as f64 * ratio).ceil() as usize;
    let mut keep = vec![true; words.len()];
    for &i in &free[..to_drop] {
        keep[i] = false;
    }

    let mut out = String::with_capacity(text.len());
    let mut next = 0;
    let mut blank_run = false;
    for (line_start, line) in lines(text) {
        let line_end = line_start + line.len();
        let on_line: Vec<usize> = (next..words.len()).take_while(|&i| words[i].span.start < line_end).collect();
        next += on_line.len();
        let kept: Vec<&str> = on_line.iter().filter(|&&i| keep[i]).map(|&i| &text[words[i].span.clone()]).collect();
        if on_line.is_empty() {
            // A blank line: kept, but only one in a row.
            if !blank_run && !out.is_empty() {
                out.push('\n');
            }
            blank_run = true;
            continue;
        }
        if kept.is_empty() {
            continue;
        }
        blank_run = false;
        let indent = &line[..line.len() - line.trim_start().len()];
        out.push_str(indent);
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    (out, to_drop, words.len())
}

/// Each line of `text` without its line break, with where it starts.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |chunk| {
        let start = at;
        at += chunk.len();
        (start, chunk.trim_end_matches(['\n', '\r']))
    })
}

/// Byte ranges of the whitespace-separated words of a line.
fn word_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(s..line.len());
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores every token (here: every word) by the given function of its text.
    fn scored(text: &str, score: impl Fn(&str) -> f32) -> Scored {
        let mut tokens = Vec::new();
        let mut keep = Vec::new();
        for (start, line) in lines(text) {
            for span in word_spans(line) {
                let span = span.start + start..span.end + start;
                keep.push(score(&text[span.clone()]));
                tokens.push(span);
            }
        }
        Scored { tokens, keep }
    }

    #[test]
    fn low_scoring_words_go_and_the_layout_stays() {
        let text = "# Setup notes\n\nWe really very much recommend running the installer first.\n  - then simply restart the service at /etc/app.conf\n\n\n1. finally check port 8080 carefully\n";
        let low = ["really", "very", "much", "simply", "carefully", "the", "then", "first.", "finally", "at", "We"];
        let s = scored(text, |w| if low.contains(&w) { 0.1 } else { 0.9 });
        let (out, dropped, total) = rewrite(text, &s, &Query::new("how to restart"), 0.4);
        assert_eq!(out, "# Setup notes\n\nrecommend running installer\n  - restart service /etc/app.conf\n\n1. check port 8080\n");
        assert_eq!((dropped, total), (12, 26), "12 of the 20 free words go; 6 are always kept");
    }

    #[test]
    fn identifiers_numbers_code_spans_and_query_words_are_always_kept() {
        let text = "call `parse the config` then getUserName and snake_case 42 times, see https://x.io ok fine\n";
        let s = scored(text, |_| 0.0);
        let (out, ..) = rewrite(text, &s, &Query::new("fine"), 0.0);
        assert_eq!(out, "`parse the config` getUserName snake_case 42 https://x.io fine\n");
    }
}
