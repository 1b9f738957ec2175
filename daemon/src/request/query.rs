//! The query (docs/architecture.md §3.7): the words of the latest user message that can tell relevant lines,
//! rows and hits from the rest. Shared by every compressor so they agree on what "matches" means.
//!
//! Matching is by whole words (letters, digits and `_`), case-insensitive, with common endings
//! folded (`errors` matches `ERROR`). Function words are ignored.

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

/// Folds a word for matching: lowercase, then one common English ending dropped when at least
/// four letters remain — three for a plural `s` (`errors`, `failed`, `escaping`, `escape`,
/// `uris` → `error`, `fail`, `escap`, `escap`, `uri`), so a question's wording finds the text's.
/// A stem left ending in `i` ends in `y` (`retried`, `retries` → `retry`). A word ending in `ss`
/// or `us` is not a plural (`class`, `status`: `statuses` folds to it too).
pub fn fold(word: &str) -> String {
    let mut lower = word.to_lowercase();
    for suffix in ["ing", "ed", "es", "e", "s"] {
        let stem = if suffix == "s" { 3 } else { 4 };
        if lower.ends_with(suffix) && lower.len() >= suffix.len() + stem && !(suffix == "s" && (lower.ends_with("ss") || lower.ends_with("us"))) {
            lower.truncate(lower.len() - suffix.len());
            if suffix.starts_with('e') && lower.ends_with('i') {
                lower.replace_range(lower.len() - 1.., "y");
            }
            break;
        }
    }
    lower
}

/// `text`'s words as the query reads code: each identifier whole and split into its words
/// (`TOKIO_WORKER_THREADS` holds `worker` and `threads`, `MarkFlagRequired` holds `required`).
pub fn with_identifier_parts(text: &str) -> String {
    words(text).flat_map(|w| std::iter::once(w.to_string()).chain(identifier_parts(w))).collect::<Vec<_>>().join(" ")
}

/// The words of `text` written as identifiers: `snake_case` or `camelCase`.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    words(text).filter(|w| w.contains('_') || w.chars().skip(1).any(char::is_uppercase))
}

/// The words of `text`: runs of letters, digits and `_`.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The parts of an identifier, folded: `_parse_optional` → parse, optional; `HTTPConnection` →
/// http, connection, and the whole name.
pub fn identifier_parts(name: &str) -> Vec<String> {
    let mut parts = vec![fold(&name.replace('_', ""))];
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c == '_'
            || (c.is_uppercase() && i > 0 && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase())));
        if boundary && !current.is_empty() {
            parts.push(fold(&current));
            current.clear();
        }
        if c != '_' {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(fold(&current));
    }
    parts
}

/// How code spells the bound a question's word asks for: "the longest it waits" is
/// `maxTimeout`, "the smallest size" `min_size`.
fn code_bound(word: &str) -> Option<&'static str> {
    match word {
        "longest" | "largest" | "biggest" | "highest" | "maximum" | "maximal" => Some("max"),
        "shortest" | "smallest" | "lowest" | "fewest" | "minimum" | "minimal" => Some("min"),
        _ => None,
    }
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
            .filter(|w| !STOPWORDS.contains(&w.to_lowercase().as_str()))
            .map(fold)
            .collect();
        Query { terms }
    }

    /// Terms of a question about code: an identifier it names also in the form code's words
    /// take (see [`identifier_parts`]: `auto_envvar_prefix` as `autoenvvarprefix`), a bound
    /// also as code spells it (see [`code_bound`]), other words as in [`Query::new`]. Not an
    /// identifier's parts: `add` of `addToolOutput` would find every `add…` function and every
    /// line that adds.
    pub fn of_code(text: &str) -> Self {
        let wholes = identifiers(text).map(|w| identifier_parts(w).swap_remove(0));
        let bounds = words(text).filter_map(|w| code_bound(&w.to_lowercase())).map(str::to_string);
        Query { terms: Query::new(text).terms.into_iter().chain(wholes).chain(bounds).collect() }
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

    /// The same query with only the terms `keep` accepts.
    pub fn only(&self, keep: impl Fn(&&str) -> bool) -> Query {
        Query { terms: self.terms.iter().filter(|t| keep(&t.as_str())).cloned().collect() }
    }

    /// The same query without numbers of one or two digits: in file names (`5.2.rst`,
    /// `test_1.py`) they match a version or a count in the question by chance.
    pub fn without_short_numbers(&self) -> Query {
        self.only(|t| !(t.len() < 3 && t.chars().all(|c| c.is_ascii_digit())))
    }

    /// The same query without terms that occur in more than `max_share` of `units` (lines,
    /// rows, hits): a word found nearly everywhere tells nothing apart.
    pub fn discriminative<S: AsRef<str>>(&self, units: impl Iterator<Item = S>, max_share: f64) -> Query {
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
            for word in words(unit.as_ref()) {
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

/// BM25's term-saturation and length-normalisation constants, at their usual values.
const K1: f64 = 1.2;
const B: f64 = 0.75;

impl Query {
    /// Each document's BM25 score for the terms, the documents being the collection: rare
    /// terms weigh more, repeated ones saturate, and long documents are not favoured for
    /// being long.
    pub fn bm25(&self, docs: &[&str]) -> Vec<f64> {
        let terms: Vec<&str> = self.terms().collect();
        if terms.is_empty() || docs.is_empty() {
            return vec![0.0; docs.len()];
        }
        let mut tf: Vec<Vec<u32>> = Vec::with_capacity(docs.len());
        let mut lengths = Vec::with_capacity(docs.len());
        let mut df = vec![0u32; terms.len()];
        for doc in docs {
            let mut counts = vec![0u32; terms.len()];
            let mut length = 0usize;
            for word in words(doc) {
                length += 1;
                for (t, term) in terms.iter().enumerate() {
                    if same_word(word, term) {
                        counts[t] += 1;
                    }
                }
            }
            for (d, c) in df.iter_mut().zip(&counts) {
                *d += u32::from(*c > 0);
            }
            tf.push(counts);
            lengths.push(length as f64);
        }
        let n = docs.len() as f64;
        let average = (lengths.iter().sum::<f64>() / n).max(1.0);
        let idf: Vec<f64> = df.iter().map(|&d| (1.0 + (n - f64::from(d) + 0.5) / (f64::from(d) + 0.5)).ln()).collect();
        tf.iter()
            .zip(&lengths)
            .map(|(counts, &length)| {
                counts
                    .iter()
                    .zip(&idf)
                    .map(|(&c, idf)| {
                        let c = f64::from(c);
                        idf * c * (K1 + 1.0) / (c + K1 * (1.0 - B + B * length / average))
                    })
                    .sum()
            })
            .collect()
    }
}

/// Whether `word` folds to `term` (an already folded term); words that cannot fold to it are
/// turned away without allocating.
fn same_word(word: &str, term: &str) -> bool {
    // Code's words come folded already (`response` as `respons`, see [`identifier_parts`]):
    // folding them again would lose them (`respon`).
    if word.eq_ignore_ascii_case(term) {
        return true;
    }
    let (w, t) = (word.as_bytes(), term.as_bytes());
    // A term ending in `y` is met as `…ied` and `…ies` too.
    let shared = t.len() - usize::from(t.ends_with(b"y"));
    if word.is_ascii() && (w.len() < t.len() || w.len() > t.len() + 3 || !w[..shared].eq_ignore_ascii_case(&t[..shared])) {
        return false;
    }
    fold(word) == term
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_skip_function_words_and_fold_plurals() {
        let q = Query::new("Which blocks show warnings or errors, and why? Issue #13");
        assert_eq!(q.terms().collect::<Vec<_>>(), vec!["13", "block", "error", "issu", "warning"]);
        assert_eq!(q.hits("ERROR in block 13"), 3);
        assert_eq!(q.hits("blocked 130 errorless"), 1, "whole words, common endings folded");
        assert_eq!(q.hits("blockade 130 errorless"), 0);
        let short = Query::new("the URIs and hosts");
        assert_eq!(short.terms().collect::<Vec<_>>(), vec!["host", "uri"]);
        assert_eq!(short.hits("host uri"), 2, "short plurals fold too");
        let prefix = Query::of_code("How is auto_envvar_prefix built?");
        assert_eq!(prefix.hits(&with_identifier_parts("if ctx.auto_envvar_prefix is not None:")), 2, "a snake_case name finds itself, also as code reads it");
        assert_eq!(prefix.hits(&with_identifier_parts("prefix = env")), 0, "its parts alone do not");
        let longest = Query::of_code("What is the longest it waits, and the smallest size?");
        assert_eq!(longest.hits(&with_identifier_parts("maxTimeout: maxTimeout ?? 30 * 1000")), 1, "a bound as code spells it");
        assert_eq!(longest.hits(&with_identifier_parts("const min_size = 32")), 2);
        assert_eq!(Query::new("the longest wait").hits("max_wait"), 0, "only in questions about code");
        let statuses = Query::new("Which statuses fail?");
        assert_eq!(statuses.hits(&with_identifier_parts("const { status } = xhr;")), 1, "`status` is not a plural");
        let retries = Query::new("Which requests are retried?");
        assert_eq!(retries.hits("fn retry(&self)"), 1, "a stem ending in i ends in y");
        assert_eq!(retries.hits("max_retries = 3 retries"), 1);
        assert_eq!(retries.hits("retract"), 0);
        let function_words = Query::new("How does it parse these flags, and where?");
        assert_eq!(function_words.terms().collect::<Vec<_>>(), vec!["flag", "pars"], "function words go before folding");
        // Code is read as identifier parts, folded already: `parseResponse` is `pars respons`.
        let parts = with_identifier_parts("parseResponse(socket.close())");
        assert_eq!(Query::new("Is the response parsed when the socket closes?").hits(&parts), 4, "{parts}");
    }

    #[test]
    fn bm25_prefers_rare_terms_and_short_documents() {
        let q = Query::new("port decision");
        let docs = ["the port decision is the default", "the port", "a long text about nothing much at all that mentions port once", "no match"];
        let scores = q.bm25(&docs);
        assert!(scores[1] > scores[2], "{scores:?}");
        assert!(scores[0] > scores[1], "{scores:?}");
        assert_eq!(scores[3], 0.0);
    }

    #[test]
    fn words_found_nearly_everywhere_are_dropped() {
        let q = Query::new("nova instance failing");
        let lines = ["nova a", "nova b", "nova c", "nova instance failing x"];
        let d = q.discriminative(lines.iter().copied(), 0.5);
        assert_eq!(d.terms().collect::<Vec<_>>(), vec!["fail", "instanc"]);
    }
}
