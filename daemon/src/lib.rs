//! Headroom's daemon: a compression engine with persistent stores, served over a Unix socket.
//!
//! # Layout
//!
//! From the fronts down (docs/architecture.md §1 draws it; `tests/module_graph.rs` holds it):
//!
//! - [`daemon`]: the daemon's life — start the core, bind the fronts, serve, drain.
//! - [`server`]: the socket front — peer checks, framing, per-connection tasks.
//! - [`http`]: the optional HTTP front on 127.0.0.1 — the OpenAI/Anthropic proxy and the
//!   guardrail API LiteLLM and Portkey call.
//! - [`mcp`]: the MCP server on stdio (`headroom mcp serve`) and its host configuration.
//! - [`app`]: the application core both fronts call — shared state, one handler per operation,
//!   the metrics.
//! - [`engine`]: one request — every content block decided once (routed to a compressor,
//!   replayed, compacted), the invariants kept, the results spliced back.
//! - [`compressors`]: one module per kind of content behind [`Compressor`].
//! - [`memory`]: scoped, temporal facts: search, supersession, and blocks on the request path.
//! - [`request`]: what is read out of a provider request — shapes, spans, tokens, the query,
//!   markers.
//! - [`store`]: LMDB — the CCR store of originals, the replay cache of emitted bytes, memory.
//! - [`ml`]: ONNX Runtime, MiniLM embeddings and the optional token classifier.
//! - [`error`], [`clock`], [`log`], [`config`], [`systemd`]: the request error, wall-clock time,
//!   the one logger, settings, socket activation and notifications.
//! - [`client`], [`cli`], [`service`], [`doctor`], [`wrap`], [`savings`], [`dashboard`], [`learn`]: the Rust
//!   client of the protocol and the `headroom` command's subcommands (the savings report and its
//!   page among them).
//!
//! The binaries `headroomd` and `headroom` only parse arguments and call into these modules.

pub mod app;
pub mod cli;
pub mod clock;
pub mod client;
pub mod compressors;
pub mod config;
pub mod daemon;
pub mod dashboard;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod http;
pub mod learn;
pub mod log;
pub mod mcp;
pub mod memory;
pub mod ml;
pub mod request;
pub mod savings;
pub mod server;
pub mod service;
pub mod store;
pub mod systemd;
pub mod wrap;

pub use compressors::{Compressor, Context};
pub use engine::Engine;
pub use error::EngineError;
pub use store::Stores;
