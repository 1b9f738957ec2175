//! The request side: what the engine, memory and the fronts read out of a provider request
//! before any compressor runs — its shape and content blocks ([`provider`]), where each value
//! sits in the bytes ([`spans`]), token counts ([`tokens`]), the query ([`query`]), the marker
//! grammar ([`marker`]), the `headroom_retrieve` tool definition ([`retrieve_tool`]), the
//! file a shell command prints ([`shell`]) and the base64 images ([`images`]).

pub mod images;
pub mod marker;
pub mod provider;
pub mod query;
pub mod retrieve_tool;
pub mod shell;
pub mod spans;
pub mod tokens;
