//! Headroom's daemon: a compression engine with persistent stores, served over a Unix socket.
//!
//! # Layout
//!
//! - [`engine`]: reads provider requests, routes each content block to a compressor, keeps the
//!   invariants (replay, never larger, markers, hot zone) and splices results back.
//! - [`store`]: LMDB — the CCR store of originals, the replay cache of emitted bytes, memory.
//! - [`ml`]: ONNX Runtime, MiniLM embeddings and the optional token classifier.
//! - [`memory`]: scoped, temporal facts: search, supersession, and blocks on the request path.
//! - [`server`]: the socket, peer checks, framing, per-connection tasks, graceful shutdown.
//! - [`http`]: the optional HTTP front on 127.0.0.1: the OpenAI/Anthropic proxy and the
//!   guardrail API LiteLLM and Portkey call.
//! - [`client`]: a Rust client of the protocol, used by the CLI and the tests.
//! - [`cli`]: the `headroom` command's subcommands.
//! - [`log`]: log lines on stderr that can never fail a caller.
//! - [`config`]: settings from defaults, config.toml, the environment and flags.
//! - [`service`]: the systemd user units (`headroom service`).
//! - [`doctor`]: health checks (`headroom doctor`).
//! - [`wrap`]: `headroom wrap <agent>`, an agent run with its base URLs on the HTTP front.
//! - [`mcp`]: the MCP server on stdio (`headroom mcp serve`) and its host configuration
//!   (`headroom mcp install`).
//!
//! The binaries `headroomd` and `headroom` only parse arguments and call into these modules.

pub mod cli;
pub mod client;
pub mod config;
pub mod doctor;
pub mod engine;
pub mod http;
pub mod log;
pub mod mcp;
pub mod memory;
pub mod ml;
pub mod server;
pub mod service;
pub mod store;
pub mod wrap;

pub use engine::{Compressor, Context, Engine, EngineError};
pub use store::Stores;
