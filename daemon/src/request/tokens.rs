//! Token counting with tiktoken's BPE tables, built once when the engine starts.

use tiktoken_rs::CoreBPE;

/// The encodings current providers' models are priced in: o200k, built at start so no request
/// pays for it; cl100k, built the first time an older model asks (it costs ≈ 40 MB and ≈ 100 ms
/// that most users never need).
pub struct Tokenizer {
    o200k: &'static CoreBPE,
}

impl Tokenizer {
    /// Builds the o200k encoder.
    pub fn load() -> Self {
        Tokenizer { o200k: tiktoken_rs::o200k_base_singleton() }
    }

    /// The encoder for `model`: cl100k for the GPT-4/3.5 generation, o200k for everything newer
    /// and for other providers' current models (the closest public estimate).
    pub fn for_model(&self, model: Option<&str>) -> &'static CoreBPE {
        let older = model
            .and_then(tiktoken_rs::tokenizer::get_tokenizer)
            .is_some_and(|t| t == tiktoken_rs::tokenizer::Tokenizer::Cl100kBase);
        if older { tiktoken_rs::cl100k_base_singleton() } else { self.o200k }
    }
}

/// Tokens in `text`, special-token text counted as ordinary text.
pub fn count(bpe: &CoreBPE, text: &str) -> u64 {
    bpe.count_ordinary(text) as u64
}

/// Bytes counted at a time when counting can stop early; cut at a line end.
const CHUNK: usize = 8 * 1024;

/// Tokens in `text` when they matter only up to `limit`: counted exactly chunk by chunk until
/// the count passes `limit` (or the text ends), then extrapolated from the bytes counted.
/// The result is exact when at most `limit`, and always more than `limit` otherwise — which is
/// all the never-larger rule (docs/architecture.md §3.3) needs, at a fraction of a full count's cost.
pub fn count_past(bpe: &CoreBPE, text: &str, limit: u64) -> u64 {
    let mut tokens = 0u64;
    let mut at = 0usize;
    while at < text.len() {
        let mut end = (at + CHUNK).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if let Some(newline) = text[at..end].rfind('\n').filter(|_| end < text.len()) {
            end = at + newline + 1;
        }
        tokens += count(bpe, &text[at..end]);
        at = end;
        if tokens > limit && at < text.len() {
            return tokens.max(tokens * text.len() as u64 / at as u64);
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_pick_their_encoding() {
        let t = Tokenizer::load();
        let text = "The quick brown fox 🦊 jumps over the lazy dog.";
        let cl100k = tiktoken_rs::cl100k_base_singleton();
        assert_eq!(count(t.for_model(Some("gpt-4")), text), count(cl100k, text));
        assert_eq!(count(t.for_model(Some("gpt-4o")), text), count(t.o200k, text));
        assert_eq!(count(t.for_model(None), text), count(t.o200k, text));
        assert_ne!(count(t.o200k, "héllo wörld ünïcödé"), count(cl100k, "héllo wörld ünïcödé"));
    }

    #[test]
    fn counting_past_a_limit_is_exact_below_it_and_close_above_it() {
        let t = Tokenizer::load();
        let log = include_str!("../../../tests/fixtures/logs/HDFS_2k.log");
        let exact = count(t.o200k, log);
        assert_eq!(count_past(t.o200k, log, u64::MAX), exact);
        let estimate = count_past(t.o200k, log, 1_000);
        assert!(estimate > 1_000);
        assert!(estimate.abs_diff(exact) * 20 < exact, "estimate {estimate} vs exact {exact}");
    }
}
