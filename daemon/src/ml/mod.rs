//! Models in the daemon (docs/architecture.md §1): ONNX Runtime loaded from a library file,
//! MiniLM sentence embeddings for semantic relevance, and an optional token classifier
//! (LLMLingua-2 style) that the user points the settings at.
//!
//! Everything here is optional: a missing library or model is said once, and every compressor
//! keeps its non-ML path. ML runs only within a per-request token budget, never on the whole of
//! a large tool output, and a busy model is skipped rather than waited for.

pub mod classify;
pub mod embed;
pub mod runtime;

use crate::config::MlSettings;
use classify::{Classifier, Scored};
use embed::{cosine, Embedder};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The daemon's models, loaded once.
#[derive(Default)]
pub struct Models {
    pub embedder: Option<Embedder>,
    pub classifier: Option<Classifier>,
    /// Tokens of model input one request may spend.
    pub budget_tokens: usize,
    /// One line per model: loaded, or why not (for the log and `headroom doctor`).
    pub report: Vec<String>,
}

impl Models {
    /// Loads what the settings name; never fails, says what is missing in `report`.
    pub fn load(settings: &MlSettings) -> Models {
        let mut models = Models { budget_tokens: settings.budget_tokens, ..Models::default() };
        if settings.budget_tokens == 0 {
            models.report.push("ML off (ml_budget_tokens = 0)".into());
            return models;
        }
        let env = match runtime::environment(&settings.onnxruntime()) {
            Ok(env) => env,
            Err(e) => {
                models.report.push(format!("{e}; compressing without models (run ml/fetch.sh, or set `onnxruntime`)"));
                return models;
            }
        };
        match Embedder::load(env, &settings.models_dir) {
            Ok(embedder) => {
                models.report.push(format!("embeddings: all-MiniLM-L6-v2 from {}", settings.models_dir.display()));
                models.embedder = Some(embedder);
            }
            Err(e) => models.report.push(format!("embeddings off: {e}")),
        }
        match (&settings.classifier_model, &settings.classifier_tokenizer) {
            (Some(model), Some(tokenizer)) => match Classifier::load(env, model, tokenizer) {
                Ok(classifier) => {
                    models.report.push(format!("token classifier: {}", model.display()));
                    models.classifier = Some(classifier);
                }
                Err(e) => models.report.push(format!("token classifier off: {e}")),
            },
            (None, None) => models.report.push("token classifier: not configured (`classifier_model`, `classifier_tokenizer`)".into()),
            _ => models.report.push("token classifier off: set both `classifier_model` and `classifier_tokenizer`".into()),
        }
        models
    }

    /// The models' view for one request about `query`.
    pub fn for_request<'a>(&'a self, query: &'a str) -> RequestModels<'a> {
        RequestModels { models: self, query, left: AtomicUsize::new(self.budget_tokens), query_vector: OnceLock::new() }
    }
}

/// The models for one request: what is left of its token budget, and the query's embedding
/// once it is made.
pub struct RequestModels<'a> {
    models: &'a Models,
    query: &'a str,
    left: AtomicUsize,
    query_vector: OnceLock<Option<Vec<f32>>>,
}

impl std::fmt::Debug for RequestModels<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestModels").field("left", &self.left()).finish_non_exhaustive()
    }
}

impl RequestModels<'_> {
    /// Takes `tokens` from the budget if they fit.
    fn spend(&self, tokens: usize) -> bool {
        self.left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(tokens)).is_ok()
    }

    /// What is left of the budget, in tokens.
    pub fn left(&self) -> usize {
        self.left.load(Ordering::Acquire)
    }

    /// The query's embedding, made on first use; `None` without an embedder or a query, or when
    /// it does not fit in the budget.
    pub fn query_vector(&self) -> Option<&[f32]> {
        let embedder = self.models.embedder.as_ref()?;
        self.query_vector
            .get_or_init(|| {
                if self.query.trim().is_empty() {
                    return None;
                }
                let ids = embedder.token_ids(self.query).ok()?;
                if !self.spend(ids.len()) {
                    return None;
                }
                report(embedder.embed_ids(&[ids]))?.pop()
            })
            .as_deref()
    }

    /// Embeddings of `texts`, or `None` when they do not fit in what is left of the budget (or
    /// there is no embedder, or it is busy).
    pub fn vectors(&self, texts: &[&str]) -> Option<Vec<Vec<f32>>> {
        let embedder = self.models.embedder.as_ref()?;
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| embedder.token_ids(t)).collect::<Result<_, _>>().ok()?;
        if !self.spend(ids.iter().map(Vec::len).sum()) {
            return None;
        }
        report(embedder.embed_ids(&ids))
    }

    /// Cosine similarity of each unit to the query; `None` when the query or the units cannot be
    /// embedded within the budget.
    pub fn similarities(&self, units: &[&str]) -> Option<Vec<f32>> {
        if units.is_empty() {
            return None;
        }
        let query = self.query_vector()?;
        Some(self.vectors(units)?.iter().map(|v| cosine(query, v)).collect())
    }

    /// Keep probabilities for the tokens of `text`; `None` without a classifier, when `text`
    /// does not fit in what is left of the budget, or when the model is busy.
    pub fn keep_scores(&self, text: &str) -> Option<Scored> {
        let classifier = self.models.classifier.as_ref()?;
        let tokens = classifier.count_tokens(text).ok()?;
        if !self.spend(tokens) {
            return None;
        }
        report(classifier.score(text))
    }

    /// Whether a classifier is loaded and `bytes` of text could fit in what is left of the
    /// budget (about four bytes a token), so routing can prefer it.
    pub fn may_classify(&self, bytes: usize) -> bool {
        self.models.classifier.is_some() && bytes / 4 <= self.left()
    }
}

/// The value of a model run, with a failure written to the log (the caller falls back).
fn report<T>(outcome: Result<Option<T>, String>) -> Option<T> {
    outcome.unwrap_or_else(|e| {
        log::warn!("ml: {e}; going on without the model for this block");
        None
    })
}
