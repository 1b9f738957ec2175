//! ONNX Runtime, loaded once per process from the library file the settings name, and one
//! encoder model (an ONNX graph and its `tokenizer.json`) run under a bounded queue.

use ort::environment::Environment;
use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use tokenizers::{Tokenizer, TruncationParams};

/// Runs that may wait for a busy model; a request beyond them goes without ML instead of
/// queueing behind it (the latency guard of docs/architecture.md §4).
const QUEUE: usize = 2;

/// Threads per inference: the machines Headroom targets have two cores.
const THREADS: usize = 2;

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process's ONNX Runtime environment, loading `library` the first time; later calls get the
/// first outcome whatever they pass (a process loads one runtime).
pub fn environment(library: &Path) -> Result<&'static Environment, String> {
    ENVIRONMENT
        .get_or_init(|| {
            if !library.is_file() {
                return Err(format!("ONNX Runtime not found at {}", library.display()));
            }
            let builder = ort::init_from(library).map_err(|e| format!("cannot load ONNX Runtime from {}: {e}", library.display()))?;
            builder.with_name("headroomd").build().map_err(|e| format!("ONNX Runtime did not start: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// An encoder model: a tokenizer and an ONNX session taking `input_ids`, `attention_mask` and,
/// when the graph declares it, `token_type_ids`.
pub struct Model {
    pub tokenizer: Tokenizer,
    session: Mutex<Session>,
    token_types: bool,
    /// Runs in progress or waiting.
    busy: AtomicUsize,
}

/// A batch's first output: its shape and values, row-major.
pub struct Output {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

impl Model {
    /// Loads `model` and `tokenizer`; the tokenizer's own padding is turned off and its
    /// truncation set to `max_tokens` (none for `None`).
    pub fn load(env: &Environment, model: &Path, tokenizer: &Path, max_tokens: Option<usize>) -> Result<Model, String> {
        for file in [model, tokenizer] {
            if !file.is_file() {
                return Err(format!("{} not found", file.display()));
            }
        }
        let mut tok = Tokenizer::from_file(tokenizer).map_err(|e| format!("cannot read {}: {e}", tokenizer.display()))?;
        tok.with_padding(None);
        let truncation = max_tokens.map(|max_length| TruncationParams { max_length, ..TruncationParams::default() });
        tok.with_truncation(truncation).map_err(|e| format!("{}: {e}", tokenizer.display()))?;
        let session = Session::builder(env)
            .and_then(|b| b.with_intra_threads(THREADS).map_err(Into::into))
            .and_then(|mut b| b.commit_from_file(model))
            .map_err(|e| format!("cannot load {}: {e}", model.display()))?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for needed in ["input_ids", "attention_mask"] {
            if !names.contains(&needed) {
                return Err(format!("{} has no `{needed}` input (it has {names:?})", model.display()));
            }
        }
        let token_types = names.contains(&"token_type_ids");
        Ok(Model { tokenizer: tok, session: Mutex::new(session), token_types, busy: AtomicUsize::new(0) })
    }

    /// Runs a batch of token id sequences (padded here with id 0 and a zero mask); `None` when
    /// the model is busy with more runs than may wait.
    pub fn run(&self, batch: &[Vec<u32>]) -> Result<Option<Output>, String> {
        if self.busy.fetch_add(1, Ordering::AcqRel) >= QUEUE {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            return Ok(None);
        }
        let result = self.run_now(batch);
        self.busy.fetch_sub(1, Ordering::AcqRel);
        result.map(Some)
    }

    fn run_now(&self, batch: &[Vec<u32>]) -> Result<Output, String> {
        let rows = batch.len();
        let width = batch.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        for (r, seq) in batch.iter().enumerate() {
            for (c, &id) in seq.iter().enumerate() {
                ids[r * width + c] = i64::from(id);
                mask[r * width + c] = 1;
            }
        }
        let tensor = |values: Vec<i64>| Tensor::from_array(([rows, width], values)).map_err(|e| e.to_string());
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            vec![("input_ids".into(), tensor(ids)?.into()), ("attention_mask".into(), tensor(mask)?.into())];
        if self.token_types {
            inputs.push(("token_type_ids".into(), tensor(vec![0i64; rows * width])?.into()));
        }
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session.run(inputs).map_err(|e| format!("inference failed: {e}"))?;
        let (shape, values) = outputs[0].try_extract_tensor::<f32>().map_err(|e| format!("unexpected model output: {e}"))?;
        Ok(Output { shape: shape.iter().map(|&d| d.max(0) as usize).collect(), values: values.to_vec() })
    }
}
