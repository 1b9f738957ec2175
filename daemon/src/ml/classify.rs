//! Token classification in the LLMLingua-2 style: a model that scores every token of a text
//! keep or drop. The text is tokenized once without special tokens, cut into windows that fit
//! the model (512 positions with the special tokens), and each window is run on its own between
//! the tokenizer's own start and end tokens.

use super::runtime::Model;
use ort::environment::Environment;
use std::ops::Range;
use std::path::Path;

/// Positions the encoder reads, special tokens included.
const POSITIONS: usize = 512;

/// The keep/drop model.
pub struct Classifier {
    model: Model,
    /// The special tokens the tokenizer puts before and after a text.
    prefix: Vec<u32>,
    suffix: Vec<u32>,
}

/// Each token's place in the text and its probability of being kept.
pub struct Scored {
    pub tokens: Vec<Range<usize>>,
    pub keep: Vec<f32>,
}

impl Classifier {
    /// Loads a model whose first output is `[batch, sequence, 2]` logits (class 1: keep).
    pub fn load(env: &Environment, model: &Path, tokenizer: &Path) -> Result<Classifier, String> {
        let model = Model::load(env, model, tokenizer, None)?;
        // The tokenizer's special tokens around an empty text: one before, the rest after.
        let empty = model.tokenizer.encode("", true).map_err(|e| format!("cannot tokenize: {e}"))?;
        let (prefix, suffix) = match empty.get_ids() {
            [] => (vec![], vec![]),
            [first, rest @ ..] => (vec![*first], rest.to_vec()),
        };
        Ok(Classifier { model, prefix, suffix })
    }

    /// Tokens of `text` without special tokens.
    pub fn count_tokens(&self, text: &str) -> Result<usize, String> {
        Ok(self.model.tokenizer.encode(text, false).map_err(|e| format!("cannot tokenize: {e}"))?.len())
    }

    /// Every token of `text` with its keep probability; `None` when the model is busy.
    pub fn score(&self, text: &str) -> Result<Option<Scored>, String> {
        let encoding = self.model.tokenizer.encode(text, false).map_err(|e| format!("cannot tokenize: {e}"))?;
        let ids = encoding.get_ids();
        let window = POSITIONS - self.prefix.len() - self.suffix.len();
        let mut keep = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(window) {
            let input = [self.prefix.as_slice(), chunk, self.suffix.as_slice()].concat();
            let Some(out) = self.model.run(&[input])? else { return Ok(None) };
            let [_, width, 2] = out.shape[..] else {
                return Err(format!("expected [batch, sequence, 2] logits, got {:?}", out.shape));
            };
            for position in self.prefix.len()..self.prefix.len() + chunk.len() {
                let (drop, take) = (out.values[position * 2], out.values[position * 2 + 1]);
                keep.push(1.0 / (1.0 + (drop - take).exp()));
                debug_assert!(position < width);
            }
        }
        let tokens = encoding.get_offsets().iter().map(|&(start, end)| start..end).collect();
        Ok(Some(Scored { tokens, keep }))
    }
}
