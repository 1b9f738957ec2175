//! The drop-in proxy: `POST /v1/chat/completions`, `/v1/responses` (OpenAI) and `/v1/messages`
//! (Anthropic) are shaped (when `shaping = true`), compressed by the engine and forwarded to the
//! configured upstream; any other `/v1/…` request (models, embeddings, token counting) is
//! forwarded as it came.
//!
//! - **Headers** go upstream as they came (authentication included: `authorization`,
//!   `x-api-key`, `anthropic-version`, organisation headers), minus hop-by-hop ones and
//!   `x-headroom-bypass`. They are never logged.
//! - **Upstream URLs**: OpenAI paths are joined to `openai_upstream` after their `/v1`
//!   (`OPENAI_BASE_URL` convention, default `https://api.openai.com/v1`), Anthropic paths to
//!   `anthropic_upstream` whole (`ANTHROPIC_BASE_URL` convention, default
//!   `https://api.anthropic.com`).
//! - **Streams** (`"stream": true`, or any upstream body) are passed through chunk by chunk as
//!   they arrive, never buffered. If the upstream stalls past `upstream_timeout_secs` or fails
//!   mid-stream, the stream ends with the provider's own SSE error event.
//! - **The retrieve loop**: when compression left a marker and the request does not stream, the
//!   proxy reads the answer; if the model called `headroom_retrieve`, the proxy answers the call
//!   from the store, appends the call and its result to the conversation and calls upstream
//!   again, up to [`MAX_RETRIEVE_ROUNDS`] times, so the client only sees the final answer (its
//!   `usage` is that last call's). Other tool calls made in the same turn are dropped from the
//!   echo and the model re-plans them with the original in view. A streaming response is never
//!   held back, so the proxy cannot answer a call inside it: a streaming request goes upstream
//!   without the `headroom_retrieve` tool (a chat app that declared no tools must never receive a
//!   call to one), and the marker's text still says what was omitted and under which key
//!   (`GET /v1/retrieve/{hash}` or `headroom retrieve` fetch it).
//! - **Errors**: bad JSON from the client is a 400 in the provider's shape; upstream 4xx/5xx
//!   are passed through as they came (wrapped in the provider's shape when their body is not
//!   JSON); an unreachable upstream is a 502 and a silent one a 504, both in the provider's
//!   shape. A Headroom failure never fails the call: the request goes upstream uncompressed.

use super::errors::{self, Problem, Provider};
use super::guardrail::{self, BYPASS_HEADER};
use super::{full, read_body, shaping, Body, Front};
use crate::config::HttpSettings;
use crate::request::retrieve_tool::TOOL_NAME;
use crate::request::spans::{self, Edit};
use crate::app::ops;
use bytes::Bytes;
use futures_util::StreamExt;
use headroom_protocol::{CompressOptions, CompressReply, CompressRequest, ErrorCode, Op, ProviderFormat, ReplyBody, RetrieveRequest};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode, Uri};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::time::Duration;

/// Follow-up calls the proxy makes at most to answer `headroom_retrieve` for one request.
pub const MAX_RETRIEVE_ROUNDS: usize = 3;

/// Headers that describe one hop, not the request, plus Headroom's own.
const NOT_FORWARDED: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "expect",
    BYPASS_HEADER,
];

/// The routes whose bodies Headroom reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    OpenAiChat,
    OpenAiResponses,
    Anthropic,
}

impl Route {
    pub fn provider(self) -> Provider {
        match self {
            Route::OpenAiChat | Route::OpenAiResponses => Provider::OpenAi,
            Route::Anthropic => Provider::Anthropic,
        }
    }

    fn format(self) -> ProviderFormat {
        match self {
            Route::OpenAiChat => ProviderFormat::OpenAiChat,
            Route::OpenAiResponses => ProviderFormat::OpenAiResponses,
            Route::Anthropic => ProviderFormat::Anthropic,
        }
    }

    /// The member of the request that holds the conversation.
    fn conversation_key(self) -> &'static str {
        match self {
            Route::OpenAiResponses => "input",
            Route::OpenAiChat | Route::Anthropic => "messages",
        }
    }
}

/// The two members the proxy needs before deciding anything.
#[derive(Deserialize)]
struct Peek {
    stream: Option<Json>,
    model: Option<Json>,
    tools: Option<Json>,
}

/// What compression did, for the `x-headroom-*` response headers.
struct Note {
    tokens_before: u64,
    tokens_after: u64,
    rounds: usize,
}

/// Proxies one request; `route` is `None` for a path forwarded as is.
pub async fn handle(front: &Front, route: Option<Route>, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let provider = route.map_or_else(|| guess_provider(&parts), Route::provider);
    let http = &front.app.settings.http;
    let body = match read_body(front, body, provider).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let url = upstream_url(http, provider, &parts.uri);
    let Some(route) = route else {
        return match send(front, provider, &parts, &url, body, false).await {
            Ok(upstream) => pass_through(upstream, provider, http.upstream_timeout, None).await,
            Err(response) => response,
        };
    };

    if spans::nesting_depth(&body) > spans::MAX_DEPTH {
        let message = format!("the request body nests deeper than {} arrays and objects", spans::MAX_DEPTH);
        return errors::response(provider, Problem::InvalidRequest, &message);
    }
    let peek: Peek = match serde_json::from_slice(&body) {
        Ok(peek) if body.trim_ascii_start().starts_with(b"{") => peek,
        Ok(_) => return errors::response(provider, Problem::InvalidRequest, "the request body must be a JSON object"),
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return errors::response(provider, Problem::InvalidRequest, "the request body must be a JSON object")
        }
        Err(e) => return errors::response(provider, Problem::InvalidRequest, &format!("the request body is not valid JSON: {e}")),
    };
    let streaming = matches!(peek.stream, Some(Json::Bool(true)));
    let model = peek.model.as_ref().and_then(Json::as_str).map(str::to_string);
    let bypass = guardrail::bypassed(&parts.headers);

    let mut outgoing = body;
    let mut note = None;
    if !bypass && http.shaping {
        if let Some(shaped) = std::str::from_utf8(&outgoing).ok().and_then(|s| shaping::shape(s, route.format())) {
            outgoing = Bytes::from(shaped);
        }
    }
    if !bypass && http.compress {
        match compress(front, route, &outgoing, model).await {
            Ok(reply) => {
                let done = Note { tokens_before: reply.tokens_before, tokens_after: reply.tokens_after, rounds: 0 };
                outgoing = Bytes::from(reply.messages);
                match &reply.retrieve_tool {
                    Some(_) if !streaming => return retrieve_loop(front, route, &parts, &url, outgoing, done).await,
                    Some(tool) => {
                        let declared = peek.tools.as_ref().and_then(Json::as_array).map(Vec::len);
                        outgoing = withdraw_tool(&outgoing, tool, declared).map_or(outgoing, Bytes::from);
                    }
                    None => {}
                }
                note = Some(done);
            }
            // A shape the engine does not know is the provider's to judge; anything else is
            // Headroom's fault and must not fail the call (fail-open).
            Err(e) if e.code == ErrorCode::BadRequest => {}
            Err(e) => log::warn!("forwarding a request uncompressed: {}: {}", e.code.as_str(), e.message),
        }
    }
    match send(front, provider, &parts, &url, outgoing, false).await {
        Ok(upstream) => pass_through(upstream, provider, http.upstream_timeout, note).await,
        Err(response) => response,
    }
}

/// The compressed request without the tool definition `tool` the engine added to it, undoing
/// the engine's edit for what the request declared: `declared` tools (`None`: no `tools`
/// member, so the engine appended one; `Some(0)`: an empty list it filled; else it appended).
fn withdraw_tool(body: &[u8], tool: &[u8], declared: Option<usize>) -> Option<Vec<u8>> {
    let (added, kept): (Vec<u8>, &[u8]) = match declared {
        None => ([b",\"tools\":[".as_slice(), tool, b"]"].concat(), b""),
        Some(0) => ([b"[".as_slice(), tool, b"]"].concat(), b"[]"),
        Some(_) => ([b",".as_slice(), tool].concat(), b""),
    };
    let at = body.windows(added.len()).rposition(|w| w == added.as_slice())?;
    Some([&body[..at], kept, &body[at + added.len()..]].concat())
}

/// Anthropic for its paths or headers, else OpenAI.
fn guess_provider(parts: &Parts) -> Provider {
    let path = parts.uri.path();
    if path.starts_with("/v1/messages") || path == "/v1/complete" || parts.headers.contains_key("anthropic-version") {
        Provider::Anthropic
    } else {
        Provider::OpenAi
    }
}

/// The upstream URL for a request path (query string kept).
pub fn upstream_url(http: &HttpSettings, provider: Provider, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match provider {
        Provider::OpenAi => format!("{}{}", http.openai_upstream, path.strip_prefix("/v1").unwrap_or(path)),
        Provider::Anthropic => format!("{}{path}", http.anthropic_upstream),
    }
}

async fn compress(
    front: &Front,
    route: Route,
    body: &Bytes,
    model: Option<String>,
) -> Result<CompressReply, headroom_protocol::ErrorReply> {
    let options = CompressOptions { model, format: route.format(), ..CompressOptions::default() };
    match ops::handle(Op::Compress(CompressRequest { messages: body.to_vec(), options }), &front.app, "http").await {
        ReplyBody::Compressed(reply) => Ok(reply),
        ReplyBody::Error(e) => Err(e),
        other => Err(headroom_protocol::ErrorReply { code: ErrorCode::Internal, message: format!("unexpected engine reply {other:?}") }),
    }
}

/// The client's headers as they go upstream. `identity` asks for an uncompressed answer, for
/// the bodies the proxy must read.
fn upstream_headers(incoming: &HeaderMap, identity: bool) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(incoming.len());
    for (name, value) in incoming {
        if name != CONTENT_LENGTH && !NOT_FORWARDED.contains(&name.as_str()) {
            out.append(name.clone(), value.clone());
        }
    }
    if identity {
        out.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    }
    out
}

/// Sends the request upstream and waits (bounded) for the status line and headers.
async fn send(
    front: &Front,
    provider: Provider,
    parts: &Parts,
    url: &str,
    body: Bytes,
    identity: bool,
) -> Result<reqwest::Response, Response<Body>> {
    let timeout = front.app.settings.http.upstream_timeout;
    let request = front.client.request(parts.method.clone(), url).headers(upstream_headers(&parts.headers, identity)).body(body);
    match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(errors::response(provider, Problem::Upstream, &format!("headroomd cannot reach the upstream {url}: {e}"))),
        Err(_) => Err(timed_out(provider, url, timeout)),
    }
}

fn timed_out(provider: Provider, url: &str, timeout: Duration) -> Response<Body> {
    errors::response(provider, Problem::Timeout, &format!("the upstream {url} did not answer within {} s", timeout.as_secs()))
}

/// The upstream's status and headers for the client, minus hop-by-hop ones and the length
/// (hyper sets it again, or streams with chunked encoding).
fn client_response(upstream: &reqwest::Response, note: Option<&Note>, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = upstream.status();
    let headers = response.headers_mut();
    for (name, value) in upstream.headers() {
        if name != CONTENT_LENGTH && !NOT_FORWARDED.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Some(note) = note {
        let mut put = |name: &'static str, value: String| {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        put("x-headroom-tokens-before", note.tokens_before.to_string());
        put("x-headroom-tokens-after", note.tokens_after.to_string());
        if note.rounds > 0 {
            put("x-headroom-retrieve-rounds", note.rounds.to_string());
        }
    }
    response
}

/// Passes the upstream's answer to the client. Error answers (small) are read so a non-JSON
/// one can be put in the provider's shape; everything else streams chunk by chunk.
async fn pass_through(upstream: reqwest::Response, provider: Provider, idle: Duration, note: Option<Note>) -> Response<Body> {
    if upstream.status().is_client_error() || upstream.status().is_server_error() {
        let url = upstream.url().to_string();
        let status = upstream.status();
        let head = client_response(&upstream, note.as_ref(), full(Bytes::new()));
        let bytes = match tokio::time::timeout(idle, upstream.bytes()).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return errors::response(provider, Problem::Upstream, &format!("the upstream {url} failed mid-answer: {e}")),
            Err(_) => return timed_out(provider, &url, idle),
        };
        let (mut parts, _) = head.into_parts();
        if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() {
            return Response::from_parts(parts, full(bytes));
        }
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).trim().to_string();
        let wrapped = errors::response(provider, problem_for(status), &format!("the upstream answered HTTP {status}: {text}"));
        parts.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        parts.headers.remove(hyper::header::CONTENT_ENCODING);
        return Response::from_parts(parts, wrapped.into_body());
    }
    let sse = upstream
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let url = upstream.url().to_string();
    let head = client_response(&upstream, note.as_ref(), full(Bytes::new()));
    let chunks = Box::pin(upstream.bytes_stream());
    let frames = futures_util::stream::unfold(Some(chunks), move |state| {
        let url = url.clone();
        async move {
            let mut chunks = state?;
            let failure = match tokio::time::timeout(idle, chunks.next()).await {
                Ok(Some(Ok(bytes))) => return Some((Ok(Frame::data(bytes)), Some(chunks))),
                Ok(None) => return None,
                Ok(Some(Err(e))) => (Problem::Upstream, format!("the upstream {url} failed mid-stream: {e}")),
                Err(_) => (Problem::Timeout, format!("the upstream {url} sent nothing for {} s", idle.as_secs())),
            };
            // An event stream ends with the provider's error event; any other body is cut off
            // so the client sees a broken transfer, never a silently truncated one.
            let end = if sse {
                Ok(Frame::data(Bytes::from(errors::sse_event(provider, failure.0, &failure.1))))
            } else {
                Err(std::io::Error::other(failure.1))
            };
            Some((end, None))
        }
    });
    let (parts, _) = head.into_parts();
    Response::from_parts(parts, StreamBody::new(frames).boxed_unsync())
}

fn problem_for(status: StatusCode) -> Problem {
    match status.as_u16() {
        404 => Problem::NotFound,
        413 => Problem::TooLarge,
        504 => Problem::Timeout,
        400..=499 => Problem::InvalidRequest,
        _ => Problem::Upstream,
    }
}

/// Calls upstream, answers `headroom_retrieve` calls and calls again until the model answers
/// without one (or the rounds run out); the client gets that last answer.
async fn retrieve_loop(front: &Front, route: Route, parts: &Parts, url: &str, first: Bytes, mut note: Note) -> Response<Body> {
    let provider = route.provider();
    let timeout = front.app.settings.http.upstream_timeout;
    let mut outgoing = first;
    loop {
        let upstream = match send(front, provider, parts, url, outgoing.clone(), true).await {
            Ok(upstream) => upstream,
            Err(response) => return response,
        };
        if !upstream.status().is_success() {
            return pass_through(upstream, provider, timeout, Some(note)).await;
        }
        let head = client_response(&upstream, None, full(Bytes::new()));
        let bytes = match tokio::time::timeout(timeout, upstream.bytes()).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => return errors::response(provider, Problem::Upstream, &format!("the upstream {url} failed mid-answer: {e}")),
            Err(_) => return timed_out(provider, url, timeout),
        };
        let answer = serde_json::from_slice::<Json>(&bytes).ok();
        let calls = answer.as_ref().map(|a| retrieve_calls(route, a)).unwrap_or_default();
        if calls.is_empty() || note.rounds == MAX_RETRIEVE_ROUNDS {
            if !calls.is_empty() {
                log::warn!("the model still calls {TOOL_NAME} after {MAX_RETRIEVE_ROUNDS} rounds; passing the call to the client");
            }
            let (mut parts, _) = head.into_parts();
            for (name, value) in [("x-headroom-tokens-before", note.tokens_before), ("x-headroom-tokens-after", note.tokens_after)] {
                parts.headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
            }
            if note.rounds > 0 {
                parts.headers.insert(HeaderName::from_static("x-headroom-retrieve-rounds"), HeaderValue::from(note.rounds));
            }
            return Response::from_parts(parts, full(bytes));
        }
        let mut results = Vec::with_capacity(calls.len());
        for call in &calls {
            results.push(answer_call(front, call).await);
        }
        let turn = follow_up(route, answer.as_ref().expect("calls come from a parsed answer"), &calls, &results);
        let Some(next) = std::str::from_utf8(&outgoing).ok().and_then(|body| append(body, route.conversation_key(), &turn)) else {
            let (parts, _) = head.into_parts();
            return Response::from_parts(parts, full(bytes));
        };
        outgoing = Bytes::from(next);
        note.rounds += 1;
    }
}

/// One `headroom_retrieve` call the model made.
#[derive(Debug, PartialEq)]
struct Call {
    /// The call id the result must name.
    id: String,
    hash: String,
    query: Option<String>,
}

fn call_from(id: Option<&Json>, arguments: Option<Json>) -> Option<Call> {
    let arguments = arguments.unwrap_or(Json::Null);
    Some(Call {
        id: id?.as_str()?.to_string(),
        hash: arguments.get("hash").and_then(Json::as_str).unwrap_or_default().trim().to_ascii_lowercase(),
        query: arguments.get("query").and_then(Json::as_str).filter(|q| !q.trim().is_empty()).map(str::to_string),
    })
}

/// Arguments sent as a JSON string (OpenAI) parsed to a value.
fn parse_arguments(arguments: Option<&Json>) -> Option<Json> {
    arguments.and_then(Json::as_str).and_then(|s| serde_json::from_str(s).ok())
}

/// The `headroom_retrieve` calls in a non-streaming answer.
fn retrieve_calls(route: Route, answer: &Json) -> Vec<Call> {
    let empty = Vec::new();
    match route {
        Route::OpenAiChat => answer["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|c| c["function"]["name"] == TOOL_NAME)
            .filter_map(|c| call_from(c.get("id"), parse_arguments(c["function"].get("arguments"))))
            .collect(),
        Route::OpenAiResponses => answer["output"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|item| item["type"] == "function_call" && item["name"] == TOOL_NAME)
            .filter_map(|item| call_from(item.get("call_id"), parse_arguments(item.get("arguments"))))
            .collect(),
        Route::Anthropic => answer["content"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .filter(|block| block["type"] == "tool_use" && block["name"] == TOOL_NAME)
            .filter_map(|block| call_from(block.get("id"), block.get("input").cloned()))
            .collect(),
    }
}

/// The original (or the engine's terminal message for an unknown or expired key).
async fn answer_call(front: &Front, call: &Call) -> String {
    let op = Op::Retrieve(RetrieveRequest { key: call.hash.clone(), query: call.query.clone() });
    match ops::handle(op, &front.app, "http").await {
        ReplyBody::Retrieved(reply) => reply.content,
        ReplyBody::Error(e) => format!("[headroom: {}]", e.message),
        other => format!("[headroom: unexpected reply {other:?}]"),
    }
}

/// The items to append to the conversation: the model's turn (its retrieve calls only, with
/// any text and thinking) and one result per call, in the route's shape.
fn follow_up(route: Route, answer: &Json, calls: &[Call], results: &[String]) -> Vec<Json> {
    let is_other_call = |item: &Json, kind: &str| item["type"] == kind && item["name"] != TOOL_NAME;
    match route {
        Route::OpenAiChat => {
            let message = &answer["choices"][0]["message"];
            let tool_calls: Vec<Json> = message["tool_calls"]
                .as_array()
                .map(|all| all.iter().filter(|c| c["function"]["name"] == TOOL_NAME).cloned().collect())
                .unwrap_or_default();
            let mut items = vec![json!({"role": "assistant", "content": message.get("content").cloned().unwrap_or(Json::Null), "tool_calls": tool_calls})];
            items.extend(calls.iter().zip(results).map(|(c, r)| json!({"role": "tool", "tool_call_id": c.id, "content": r})));
            items
        }
        Route::OpenAiResponses => {
            let mut items: Vec<Json> = answer["output"]
                .as_array()
                .map(|all| all.iter().filter(|item| !is_other_call(item, "function_call")).cloned().collect())
                .unwrap_or_default();
            items.extend(calls.iter().zip(results).map(|(c, r)| json!({"type": "function_call_output", "call_id": c.id, "output": r})));
            items
        }
        Route::Anthropic => {
            let content: Vec<Json> = answer["content"]
                .as_array()
                .map(|all| all.iter().filter(|block| !is_other_call(block, "tool_use")).cloned().collect())
                .unwrap_or_default();
            let results: Vec<Json> =
                calls.iter().zip(results).map(|(c, r)| json!({"type": "tool_result", "tool_use_id": c.id, "content": r})).collect();
            vec![json!({"role": "assistant", "content": content}), json!({"role": "user", "content": results})]
        }
    }
}

/// `body` with `items` appended to its `key` array; every other byte unchanged.
fn append(body: &str, key: &str, items: &[Json]) -> Option<String> {
    let root = spans::parse(body)?;
    let array = root.get(key)?;
    let existing = array.as_array()?;
    let text: Vec<String> = items.iter().map(Json::to_string).collect();
    let edit = match existing.last() {
        Some(last) => Edit { span: last.span.end..last.span.end, text: format!(",{}", text.join(",")) },
        None => Edit { span: array.span.clone(), text: format!("[{}]", text.join(",")) },
    };
    Some(spans::splice(body, vec![edit]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_added_tool_is_withdrawn_exactly_as_it_was_added() {
        let tool = br#"{"name":"headroom_retrieve"}"#;
        let cases: [(&[u8], Option<usize>, &[u8]); 3] = [
            (br#"{"model":"m","tools":[{"name":"a"},{"name":"headroom_retrieve"}]}"#, Some(1), br#"{"model":"m","tools":[{"name":"a"}]}"#),
            (br#"{"model":"m","tools":[{"name":"headroom_retrieve"}]}"#, Some(0), br#"{"model":"m","tools":[]}"#),
            (br#"{"model":"m","tools":[{"name":"headroom_retrieve"}]}"#, None, br#"{"model":"m"}"#),
        ];
        for (compressed, declared, sent) in cases {
            assert_eq!(withdraw_tool(compressed, tool, declared).as_deref(), Some(sent), "{declared:?}");
        }
        assert_eq!(withdraw_tool(br#"{"model":"m"}"#, tool, None), None);
    }

    #[test]
    fn upstream_urls_follow_each_providers_base_url_convention() {
        let http = HttpSettings::default();
        let uri: Uri = "/v1/chat/completions?x=1".parse().unwrap();
        assert_eq!(upstream_url(&http, Provider::OpenAi, &uri), "https://api.openai.com/v1/chat/completions?x=1");
        let uri: Uri = "/v1/messages".parse().unwrap();
        assert_eq!(upstream_url(&http, Provider::Anthropic, &uri), "https://api.anthropic.com/v1/messages");
    }

    #[test]
    fn retrieve_calls_are_found_in_every_shape() {
        let chat = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": TOOL_NAME, "arguments": "{\"hash\":\"ABCDEF0123456789abcdef01\",\"query\":\"ERROR\"}"}},
            {"id": "c2", "type": "function", "function": {"name": "other", "arguments": "{}"}}
        ]}}]});
        let calls = retrieve_calls(Route::OpenAiChat, &chat);
        assert_eq!(calls, vec![Call { id: "c1".into(), hash: "abcdef0123456789abcdef01".into(), query: Some("ERROR".into()) }]);
        let turn = follow_up(Route::OpenAiChat, &chat, &calls, &["orig".into()]);
        assert_eq!(turn[0]["tool_calls"].as_array().unwrap().len(), 1, "other calls are dropped");
        assert_eq!(turn[1], json!({"role": "tool", "tool_call_id": "c1", "content": "orig"}));

        let responses = json!({"output": [{"type": "function_call", "call_id": "r1", "name": TOOL_NAME, "arguments": "{\"hash\":\"x\"}"}]});
        assert_eq!(retrieve_calls(Route::OpenAiResponses, &responses)[0].id, "r1");
        let anthropic = json!({"content": [{"type": "text", "text": "let me look"}, {"type": "tool_use", "id": "t1", "name": TOOL_NAME, "input": {"hash": "k"}}]});
        let calls = retrieve_calls(Route::Anthropic, &anthropic);
        assert_eq!(calls[0].hash, "k");
        let turn = follow_up(Route::Anthropic, &anthropic, &calls, &["orig".into()]);
        assert_eq!(turn[0]["content"].as_array().unwrap().len(), 2);
        assert_eq!(turn[1]["content"][0]["tool_use_id"], "t1");
    }

    #[test]
    fn appending_keeps_every_other_byte() {
        let body = "{ \"model\" : \"m\", \"messages\" : [ {\"role\":\"user\",\"content\":\"q\"} ] , \"x\": 1 }";
        let out = append(body, "messages", &[json!({"role": "assistant", "content": "a"})]).unwrap();
        assert_eq!(out, "{ \"model\" : \"m\", \"messages\" : [ {\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"} ] , \"x\": 1 }");
    }
}
