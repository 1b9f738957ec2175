//! The guardrail API that LiteLLM's built-in `guardrail: headroom` and Portkey's Headroom
//! guardrail call, served by this engine:
//!
//! - `POST /v1/compress` with `{"messages": [...], "model"?: "...", "config"?: {...}}` answers
//!   `{"messages", "tokens_before", "tokens_after", "tokens_saved", "compression_ratio",
//!   "transforms_applied", "ccr_hashes", "retrieve_tool"}`. `messages` has as many items as were
//!   sent (LiteLLM refuses a reshaped list) and is the engine's spliced output: bytes of untouched
//!   messages are the caller's own. `compression_ratio` is after / before (0.25: 75 % saved).
//!   `ccr_hashes` are the marker keys, which LiteLLM only honours when this request issued them.
//!   `config` may hold `protect_recent`, `frozen_message_count`, `target_ratio`,
//!   `compress_user_messages` and `query`.
//! - `GET /v1/retrieve/{hash}?query=…` answers `{"hash", "original_content", "whole"}`; an
//!   unknown or expired key is a 404 whose message LiteLLM passes on to the model.
//!
//! A request with `x-headroom-bypass: true` gets its messages back untouched.

use super::errors::{self, Problem, Provider};
use super::{json_response, read_body, Body, Front};
use crate::request::spans;
use crate::app::ops;
use headroom_protocol::{CompressOptions, CompressReply, CompressRequest, ErrorCode, Op, ReplyBody, RetrieveRequest};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

/// Header that skips compression (the name LiteLLM and the incumbent use).
pub const BYPASS_HEADER: &str = "x-headroom-bypass";

/// Whether the request asks to be passed through untouched.
pub fn bypassed(headers: &HeaderMap) -> bool {
    headers.get(BYPASS_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The optional knobs of a compress request.
#[derive(Deserialize, Default)]
struct Config {
    protect_recent: Option<u32>,
    frozen_message_count: Option<u32>,
    target_ratio: Option<f32>,
    compress_user_messages: Option<bool>,
    query: Option<String>,
}

#[derive(Deserialize)]
struct Fields {
    model: Option<String>,
    #[serde(default)]
    config: Option<Config>,
}

fn bad(message: &str) -> Response<Body> {
    errors::response(Provider::OpenAi, Problem::InvalidRequest, message)
}

/// `POST /v1/compress`.
pub async fn compress(front: &Front, request: Request<Incoming>) -> Response<Body> {
    let bypass = bypassed(request.headers());
    let bytes = match read_body(front, request.into_body(), Provider::OpenAi).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Ok(src) = std::str::from_utf8(&bytes) else { return bad("the request body is not UTF-8") };
    if spans::nesting_depth(&bytes) > spans::MAX_DEPTH {
        return bad(&format!("the request body nests deeper than {} arrays and objects", spans::MAX_DEPTH));
    }
    let fields: Fields = match serde_json::from_str(src) {
        Ok(fields) => fields,
        Err(e) => return bad(&format!("the request body is not a JSON object with `messages`: {e}")),
    };
    let Some(root) = spans::parse(src) else { return bad("the request body is not valid JSON") };
    let Some(messages) = root.get("messages").filter(|m| m.as_array().is_some()) else {
        return bad("missing required field: messages (an array)");
    };
    let messages_json = &src[messages.span.clone()];
    if bypass {
        return json_response(StatusCode::OK, answer(messages_json, None));
    }
    let config = fields.config.unwrap_or_default();
    let options = CompressOptions {
        model: fields.model,
        query: config.query,
        protect_recent: config.protect_recent.unwrap_or(0),
        frozen: config.frozen_message_count.unwrap_or(0),
        target_ratio: config.target_ratio,
        compress_user_messages: config.compress_user_messages.unwrap_or(false),
        memory: None,
        client: Some("guardrail".into()),
        ..CompressOptions::default()
    };
    let op = Op::Compress(CompressRequest { messages: messages_json.as_bytes().to_vec(), options });
    match ops::handle(op, &front.app, "http").await {
        ReplyBody::Compressed(reply) => {
            let text = String::from_utf8_lossy(&reply.messages).into_owned();
            json_response(StatusCode::OK, answer(&text, Some(&reply)))
        }
        ReplyBody::Error(e) if e.code == ErrorCode::BadRequest => bad(&e.message),
        ReplyBody::Error(e) if e.code == ErrorCode::Busy => errors::response(Provider::OpenAi, Problem::Busy, &e.message),
        ReplyBody::Error(e) => errors::response(Provider::OpenAi, Problem::Internal, &e.message),
        other => errors::response(Provider::OpenAi, Problem::Internal, &format!("unexpected engine reply {other:?}")),
    }
}

/// The compress answer, with `messages` inserted as the engine wrote them (never re-serialised);
/// `None` reports nothing done (a bypassed request).
fn answer(messages_json: &str, reply: Option<&CompressReply>) -> String {
    let (before, after) = reply.map_or((0, 0), |r| (r.tokens_before, r.tokens_after));
    let ratio = if before == 0 { 1.0 } else { after as f64 / before as f64 };
    let transforms: Vec<&str> = reply.map_or(vec![], |r| r.compressors.iter().map(|c| c.name.as_str()).collect());
    let keys: &[String] = reply.map_or(&[], |r| &r.ccr_keys);
    let tool: serde_json::Value = reply
        .and_then(|r| r.retrieve_tool.as_deref())
        .and_then(|t| serde_json::from_slice(t).ok())
        .unwrap_or(serde_json::Value::Null);
    let rest = json!({
        "tokens_before": before,
        "tokens_after": after,
        "tokens_saved": before.saturating_sub(after),
        "compression_ratio": (ratio * 10_000.0).round() / 10_000.0,
        "transforms_applied": transforms,
        "ccr_hashes": keys,
        "retrieve_tool": tool,
    })
    .to_string();
    // `rest` is `{...}`: put the messages first and keep its members after them.
    format!("{{\"messages\":{messages_json},{}", &rest[1..])
}

/// `GET /v1/retrieve/{hash}?query=…`.
pub async fn retrieve(front: &Front, request: Request<Incoming>) -> Response<Body> {
    let uri = request.uri();
    let key = uri.path().trim_start_matches("/v1/retrieve/").trim_end_matches('/').to_ascii_lowercase();
    let query = uri.query().and_then(|q| {
        reqwest::Url::parse(&format!("http://localhost/?{q}"))
            .ok()?
            .query_pairs()
            .find(|(k, _)| k == "query")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.trim().is_empty())
    });
    let op = Op::Retrieve(RetrieveRequest { key: key.clone(), query });
    match ops::handle(op, &front.app, "http").await {
        ReplyBody::Retrieved(reply) => json_response(
            StatusCode::OK,
            json!({"hash": reply.key, "original_content": reply.content, "whole": reply.whole}).to_string(),
        ),
        ReplyBody::Error(e) => {
            let problem = match e.code {
                ErrorCode::BadRequest => Problem::InvalidRequest,
                ErrorCode::NotFound | ErrorCode::Expired => Problem::NotFound,
                _ => Problem::Internal,
            };
            let mut body: serde_json::Value = serde_json::from_str(&errors::body(Provider::OpenAi, problem, &e.message))
                .expect("error bodies are JSON");
            body["error"]["code"] = json!(e.code.as_str());
            json_response(problem.status(), body.to_string())
        }
        other => errors::response(Provider::OpenAi, Problem::Internal, &format!("unexpected engine reply {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use headroom_protocol::{CompressorStats, ProviderFormat};

    #[test]
    fn the_answer_keeps_the_engine_bytes_and_reports_like_the_incumbent() {
        let reply = CompressReply {
            messages: vec![],
            tokens_before: 400,
            tokens_after: 100,
            ccr_keys: vec!["0123456789abcdef01234567".into()],
            compressors: vec![CompressorStats { name: "logs".into(), blocks: 1, tokens_before: 400, tokens_after: 100 }],
            retrieve_tool: None,
            format: ProviderFormat::OpenAiChat,
            memories: 0,
            memory_tools: None,
            rewrote_earlier: false,
            added_tokens: 0,
            left_as_is: vec![],
        };
        let text = answer("[ {\"role\" : \"user\",\"content\":\"hi\"} ]", Some(&reply));
        assert!(text.starts_with("{\"messages\":[ {\"role\" : \"user\",\"content\":\"hi\"} ],\"tokens_before\":400"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["tokens_saved"], 300);
        assert_eq!(v["compression_ratio"], 0.25);
        assert_eq!(v["transforms_applied"][0], "logs");
        assert_eq!(v["ccr_hashes"][0], "0123456789abcdef01234567");
        assert!(v["retrieve_tool"].is_null());
        let untouched: serde_json::Value = serde_json::from_str(&answer("[]", None)).unwrap();
        assert_eq!((untouched["compression_ratio"].as_f64(), untouched["tokens_saved"].as_u64()), (Some(1.0), Some(0)));
    }
}
