//! The one error a request can end in below the fronts: the engine, memory and the application
//! core return it, and each front turns its wire code into its own answer (a protocol `Error`
//! reply, an HTTP problem, an MCP error).

use crate::store::StoreError;
use headroom_protocol::ErrorCode;

/// A request that could not be served, with the wire error code to answer with.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineError {
    pub code: ErrorCode,
    pub message: String,
}

impl EngineError {
    /// An error with its wire code.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        EngineError { code, message: message.into() }
    }

    /// A request that is well-formed but unacceptable (`bad_request`).
    pub fn bad_request(message: impl Into<String>) -> Self {
        EngineError::new(ErrorCode::BadRequest, message)
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        EngineError::new(ErrorCode::Internal, e.to_string())
    }
}
