//! Token counting with tiktoken's BPE tables, built once when the engine starts.

use tiktoken_rs::CoreBPE;

/// The two encodings current providers' models are priced in.
pub struct Tokenizer {
    o200k: &'static CoreBPE,
    cl100k: &'static CoreBPE,
}

impl Tokenizer {
    /// Builds both encoders (≈ 250 ms), so no request pays for it.
    pub fn load() -> Self {
        Tokenizer { o200k: tiktoken_rs::o200k_base_singleton(), cl100k: tiktoken_rs::cl100k_base_singleton() }
    }

    /// The encoder for `model`: cl100k for the GPT-4/3.5 generation, o200k for everything newer
    /// and for other providers' current models (the closest public estimate).
    pub fn for_model(&self, model: Option<&str>) -> &'static CoreBPE {
        let older = model
            .and_then(tiktoken_rs::tokenizer::get_tokenizer)
            .is_some_and(|t| t == tiktoken_rs::tokenizer::Tokenizer::Cl100kBase);
        if older { self.cl100k } else { self.o200k }
    }
}

/// Tokens in `text`, special-token text counted as ordinary text.
pub fn count(bpe: &CoreBPE, text: &str) -> u64 {
    bpe.count_ordinary(text) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_pick_their_encoding() {
        let t = Tokenizer::load();
        let text = "The quick brown fox 🦊 jumps over the lazy dog.";
        assert_eq!(count(t.for_model(Some("gpt-4")), text), count(t.cl100k, text));
        assert_eq!(count(t.for_model(Some("gpt-4o")), text), count(t.o200k, text));
        assert_eq!(count(t.for_model(None), text), count(t.o200k, text));
        assert_ne!(count(t.o200k, "héllo wörld ünïcödé"), count(t.cl100k, "héllo wörld ünïcödé"));
    }
}
