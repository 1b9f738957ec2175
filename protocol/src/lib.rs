//! The Headroom wire protocol: what travels between `headroomd` and its clients.
//!
//! # Layout
//!
//! - [`message`]: the values on the wire — [`Request`], [`Reply`], their operations, options and
//!   the stable [`ErrorCode`]s.
//! - [`codec`]: the frame (a 4-byte big-endian length, then a bincode 2 `standard()` body), the
//!   frame codec that keeps a connection usable after an oversized or truncated frame, and the
//!   body encoders/decoders.
//!
//! `protocol/README.md` describes every byte for implementers in other languages, and
//! `protocol/vectors/` holds frames that every implementation must decode and re-encode exactly.

pub mod codec;
pub mod message;

pub use codec::{
    decode_reply, decode_request, encode_reply, encode_request, BodyError, Frame, FrameCodec,
    DEFAULT_MAX_FRAME,
};
pub use message::*;

/// The protocol version this crate speaks. A change that breaks a vector in `protocol/vectors/`
/// bumps it; `Hello` refuses a peer whose version differs.
pub const PROTOCOL_VERSION: u32 = 4;
