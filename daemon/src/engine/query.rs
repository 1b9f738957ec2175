//! The query (DESIGN §3.7): the words of the latest user message that can tell relevant lines,
//! rows and hits from the rest. Shared by every compressor so they agree on what "matches" means.
//!
//! Matching is by whole words (letters, digits and `_`), case-insensitive, with a light plural
//! folding (`errors` matches `ERROR`). Function words are ignored.

use std::collections::BTreeSet;

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but", "by",
    "can", "could", "did", "do", "does", "done", "each", "find", "for", "from", "get", "give", "got", "had", "has",
    "have", "how", "i", "if", "in", "into", "is", "it", "its", "list", "me", "might", "more", "most", "my", "no",
    "not", "of", "on", "one", "or", "other", "our", "out", "please", "show", "should", "so", "some", "tell", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "under", "up", "us",
    "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "explain", "summarise", "summarize", "look", "see", "use", "used", "using", "may", "must",
];

/// Folds a word for matching: lowercase, trailing plural `s` dropped on longer words.
pub fn fold(word: &str) -> String {
    let lower = word.to_lowercase();
    if lower.len() > 4 && lower.ends_with('s') && !lower.ends_with("ss") {
        lower[..lower.len() - 1].to_string()
    } else {
        lower
    }
}

/// The words of `text`: runs of letters, digits and `_`.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The folded terms of a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    terms: BTreeSet<String>,
}

impl Query {
    /// Terms of `text`: folded words that are not function words; numbers of any length count,
    /// other words need two letters or more.
    pub fn new(text: &str) -> Self {
        let terms = words(text)
            .filter(|w| w.chars().all(|c| c.is_ascii_digit()) || w.chars().count() >= 2)
            .map(fold)
            .filter(|w| !STOPWORDS.contains(&w.as_str()))
            .collect();
        Query { terms }
    }

    /// Whether no terms are left.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms, sorted.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().map(String::as_str)
    }

    /// How many distinct terms occur in `text` as words.
    pub fn hits(&self, text: &str) -> usize {
        if self.terms.is_empty() {
            return 0;
        }
        let mut found = vec![false; self.terms.len()];
        for word in words(text) {
            for (i, term) in self.terms.iter().enumerate() {
                if !found[i] && same_word(word, term) {
                    found[i] = true;
                }
            }
        }
        found.iter().filter(|f| **f).count()
    }

    /// The same query without terms that occur in more than `max_share` of `units` (lines,
    /// rows, hits): a word found nearly everywhere tells nothing apart.
    pub fn discriminative<'a>(&self, units: impl Iterator<Item = &'a str>, max_share: f64) -> Query {
        if self.terms.is_empty() {
            return self.clone();
        }
        let terms: Vec<&String> = self.terms.iter().collect();
        let mut counts: Vec<usize> = vec![0; terms.len()];
        let mut total = 0usize;
        let mut present = vec![false; terms.len()];
        for unit in units {
            total += 1;
            present.iter_mut().for_each(|p| *p = false);
            for word in words(unit) {
                for (i, t) in terms.iter().enumerate() {
                    if !present[i] && same_word(word, t) {
                        present[i] = true;
                        counts[i] += 1;
                    }
                }
            }
        }
        let limit = (total as f64 * max_share).max(1.0);
        let kept = terms.into_iter().zip(counts).filter(|(_, c)| (*c as f64) <= limit).map(|(t, _)| t.clone()).collect();
        Query { terms: kept }
    }
}

/// Whether `word` folds to `term` (an already folded term), without allocating for ASCII words.
fn same_word(word: &str, term: &str) -> bool {
    if !word.is_ascii() {
        return fold(word) == term;
    }
    let (w, t) = (word.as_bytes(), term.as_bytes());
    if w.len() == t.len() {
        return w.eq_ignore_ascii_case(t) && fold(word) == term;
    }
    // `term` may be the plural-folded form of `word`.
    w.len() == t.len() + 1 && w.len() > 4 && matches!(w[w.len() - 1], b's' | b'S') && w[..t.len()].eq_ignore_ascii_case(t) && fold(word) == term
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_skip_function_words_and_fold_plurals() {
        let q = Query::new("Which blocks show warnings or errors, and why? Issue #13");
        assert_eq!(q.terms().collect::<Vec<_>>(), vec!["13", "block", "error", "issue", "warning"]);
        assert_eq!(q.hits("ERROR in block 13"), 3);
        assert_eq!(q.hits("blocking 130 errorless"), 0, "whole words only");
    }

    #[test]
    fn words_found_nearly_everywhere_are_dropped() {
        let q = Query::new("nova instance failing");
        let lines = ["nova a", "nova b", "nova c", "nova instance failing x"];
        let d = q.discriminative(lines.iter().copied(), 0.5);
        assert_eq!(d.terms().collect::<Vec<_>>(), vec!["failing", "instance"]);
    }
}
