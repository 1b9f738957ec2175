//! Sentence embeddings with all-MiniLM-L6-v2, computed as sentence-transformers does: at most
//! 256 tokens, the mean of the last hidden state over the attention mask, L2-normalised. Cosine
//! similarity is then a dot product.

use super::runtime::Model;
use ort::environment::Environment;
use std::path::Path;

/// The model file in the models directory.
pub const MODEL_FILE: &str = "minilm-int8.onnx";

/// Its tokenizer in the models directory.
pub const TOKENIZER_FILE: &str = "minilm-tokenizer.json";

/// sentence-transformers' `max_seq_length` for this model.
pub const MAX_TOKENS: usize = 256;

/// Texts per inference run. One: padding a batch to its longest text cost more than the runs
/// it saved (`cargo bench --bench ml`: 3 sentences of about 49 tokens took 24 ms one at a time,
/// 49 ms as one batch).
const BATCH: usize = 1;

/// The embedding model.
pub struct Embedder {
    model: Model,
}

impl Embedder {
    /// Loads the model and tokenizer from `dir`.
    pub fn load(env: &Environment, dir: &Path) -> Result<Embedder, String> {
        Ok(Embedder { model: Model::load(env, &dir.join(MODEL_FILE), &dir.join(TOKENIZER_FILE), Some(MAX_TOKENS))? })
    }

    /// The token ids the model reads for `text`, special tokens included, at most
    /// [`MAX_TOKENS`].
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, String> {
        let encoding = self.model.tokenizer.encode(text, true).map_err(|e| format!("cannot tokenize: {e}"))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// One unit vector per text, in order; `None` when the model is busy.
    pub fn embed(&self, texts: &[&str]) -> Result<Option<Vec<Vec<f32>>>, String> {
        let ids = texts.iter().map(|t| self.token_ids(t)).collect::<Result<Vec<_>, _>>()?;
        self.embed_ids(&ids)
    }

    /// [`Embedder::embed`] for texts already tokenized with [`Embedder::token_ids`].
    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Result<Option<Vec<Vec<f32>>>, String> {
        let mut vectors = Vec::with_capacity(ids.len());
        for batch in ids.chunks(BATCH) {
            let Some(out) = self.model.run(batch)? else { return Ok(None) };
            let [rows, width, dim] = out.shape[..] else {
                return Err(format!("expected a [batch, sequence, hidden] output, got {:?}", out.shape));
            };
            for (r, seq) in batch.iter().enumerate().take(rows) {
                let mut mean = vec![0f32; dim];
                for s in 0..seq.len().min(width) {
                    let row = &out.values[(r * width + s) * dim..][..dim];
                    mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
                }
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                mean.iter_mut().for_each(|v| *v /= norm);
                vectors.push(mean);
            }
        }
        Ok(Some(vectors))
    }
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
