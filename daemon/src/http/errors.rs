//! Errors in the shape the client's SDK expects: OpenAI's
//! `{"error": {"message", "type", "param", "code"}}` or Anthropic's
//! `{"type": "error", "error": {"type", "message"}}`, with the status the provider would use. An
//! SDK pointed at the proxy then raises its usual exception (bad request, timeout, server error)
//! instead of failing to parse a Headroom-specific body.

use super::{full, Body};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::json;

/// Whose API a route speaks, for error shapes and upstream URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

/// What went wrong, in the terms both providers have an error type for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The client sent something unusable (bad JSON, a body that is not an object).
    InvalidRequest,
    /// The client's body is over the daemon's limit.
    TooLarge,
    /// The request came from somewhere the front does not serve (a web page, another host name).
    Forbidden,
    /// No such route or key.
    NotFound,
    /// The upstream could not be reached, or sent something unusable.
    Upstream,
    /// The upstream did not answer (or stalled mid-stream) within `upstream_timeout_secs`.
    Timeout,
    /// A fault inside the daemon.
    Internal,
    /// Too much large work is waiting; the request was not run (try again later).
    Busy,
}

impl Problem {
    /// The HTTP status the provider would answer with.
    pub fn status(self) -> StatusCode {
        match self {
            Problem::InvalidRequest => StatusCode::BAD_REQUEST,
            Problem::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::Forbidden => StatusCode::FORBIDDEN,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::Upstream => StatusCode::BAD_GATEWAY,
            Problem::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Problem::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Problem::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The provider's `type` string for this problem.
    fn kind(self, provider: Provider) -> &'static str {
        match (provider, self) {
            (_, Problem::InvalidRequest) => "invalid_request_error",
            (Provider::OpenAi, Problem::TooLarge | Problem::NotFound) => "invalid_request_error",
            (Provider::Anthropic, Problem::TooLarge) => "request_too_large",
            (_, Problem::Forbidden) => "permission_error",
            (Provider::Anthropic, Problem::NotFound) => "not_found_error",
            (Provider::Anthropic, Problem::Timeout) => "timeout_error",
            (Provider::Anthropic, Problem::Busy) => "overloaded_error",
            (Provider::OpenAi, Problem::Busy) => "api_error",
            (_, Problem::Upstream | Problem::Timeout | Problem::Internal) => "api_error",
        }
    }

    /// OpenAI's machine-readable `code`, naming Headroom's part in the failure.
    fn code(self) -> Option<&'static str> {
        match self {
            Problem::Upstream => Some("upstream_unreachable"),
            Problem::Timeout => Some("upstream_timeout"),
            Problem::TooLarge => Some("request_too_large"),
            Problem::Busy => Some("headroom_busy"),
            _ => None,
        }
    }
}

/// The error body as JSON text.
pub fn body(provider: Provider, problem: Problem, message: &str) -> String {
    let value = match provider {
        Provider::OpenAi => {
            json!({"error": {"message": message, "type": problem.kind(provider), "param": null, "code": problem.code()}})
        }
        Provider::Anthropic => json!({"type": "error", "error": {"type": problem.kind(provider), "message": message}}),
    };
    value.to_string()
}

/// A complete error response.
pub fn response(provider: Provider, problem: Problem, message: &str) -> Response<Body> {
    let mut response = Response::new(full(body(provider, problem, message)));
    *response.status_mut() = problem.status();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The error as a server-sent event, for a stream that fails after its status line was sent:
/// Anthropic's `event: error`, or OpenAI's `data: {"error": …}`.
pub fn sse_event(provider: Provider, problem: Problem, message: &str) -> String {
    match provider {
        Provider::OpenAi => format!("data: {}\n\n", body(provider, problem, message)),
        Provider::Anthropic => format!("event: error\ndata: {}\n\n", body(provider, problem, message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_gets_its_own_shape() {
        let openai: serde_json::Value = serde_json::from_str(&body(Provider::OpenAi, Problem::Timeout, "slow")).unwrap();
        assert_eq!(openai["error"]["message"], "slow");
        assert_eq!(openai["error"]["code"], "upstream_timeout");
        let anthropic: serde_json::Value = serde_json::from_str(&body(Provider::Anthropic, Problem::Timeout, "slow")).unwrap();
        assert_eq!(anthropic["type"], "error");
        assert_eq!(anthropic["error"]["type"], "timeout_error");
        assert_eq!(Problem::Timeout.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(sse_event(Provider::Anthropic, Problem::Upstream, "x").starts_with("event: error\ndata: {"));
    }
}
