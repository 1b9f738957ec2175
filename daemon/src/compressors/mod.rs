//! The compressors, one module per kind of content, each behind [`Compressor`]: a pure function
//! of a block's text and its [`Context`]. The engine's router picks one per block
//! (`crate::engine::router`); the request side (`crate::request`) supplies the query, markers and
//! token counts they use. A new compressor is a module here plus one line in the router.

pub mod code;
pub mod delimited;
pub mod diff;
pub mod harness;
pub mod doc_blocks;
pub mod html;
pub mod image;
pub mod json;
pub mod kompress;
pub mod lang;
pub mod listing;
pub mod logs;
pub mod markdown;
pub mod media_types;
pub mod numbered;
pub mod progress;
pub mod repeated_runs;
pub mod report;
pub mod runs;
pub mod search;
pub mod skeleton;
pub mod terminal;
pub mod test_runs;
pub mod text;
pub mod transcript;

use crate::ml::RequestModels;

/// What a compressor knows about the block in front of it.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The latest user message (or the caller's override): what to keep first.
    pub query: &'a str,
    /// The tool that produced the block, when known.
    pub tool_name: Option<&'a str>,
    /// The file the block came from, when known.
    pub file_path: Option<&'a str>,
    /// The shell command that printed the block, when known: its output is lines, never prose.
    pub command: Option<&'a str>,
    /// The CCR key of the block; markers must carry it.
    pub key: &'a str,
    /// The caller's wanted size as a share of the original.
    pub target_ratio: Option<f32>,
    /// The block came before the latest user message: it answered an earlier question and may
    /// be compressed harder (it is still compressed only once, at first sight).
    pub older: bool,
    /// The models, when the daemon has any, with what is left of this request's budget.
    pub ml: Option<&'a RequestModels<'a>>,
}

/// One kind of content compression (docs/architecture.md §4). Implementations are pure functions of their
/// input and context: same input, same output.
pub trait Compressor: Send + Sync {
    /// Short name used in statistics (`json`, `logs`, ...).
    fn name(&self) -> &'static str;
    /// The compressed text, or `None` when there is nothing to gain. Any omission must be
    /// described with a [`crate::request::marker::marker`] carrying `ctx.key`.
    fn compress(&self, text: &str, ctx: &Context) -> Option<String>;
}

/// Adds `value` to `key`'s group in `groups`, which keeps the groups in order of first
/// appearance: how a marker gathers what it lists under one heading (files by directory, hosts
/// by the cells that matched, skipped tests by reason).
pub(crate) fn add_to_group<K: PartialEq, V>(groups: &mut Vec<(K, Vec<V>)>, key: K, value: V) {
    match groups.iter_mut().find(|(k, _)| *k == key) {
        Some((_, values)) => values.push(value),
        None => groups.push((key, vec![value])),
    }
}
