//! The HTTP front against a fake provider on 127.0.0.1 that records the exact bytes it gets:
//! pass-through, compression, streaming, headers, the retrieve loop, errors, the guardrail API,
//! shaping, and the real `headroomd --http` with `headroom wrap`.

mod common;
#[path = "common/upstream.rs"]
mod upstream;

use futures_util::StreamExt;
use headroom_daemon::config::{HttpSettings, Settings};
use headroom_daemon::request::{marker, retrieve_tool};
use headroom_daemon::http::shaping::TERSE;
use headroom_daemon::daemon;
use headroom_protocol::ProviderFormat;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use upstream::{Reply, Upstream};

/// A daemon (stores, engine, HTTP front) in this process, pointed at a fake upstream.
struct Front {
    url: String,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Front {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn front(upstream: &Upstream, tweak: impl FnOnce(&mut HttpSettings)) -> Front {
    let dir = tempfile::tempdir().unwrap();
    let mut http = HttpSettings {
        enabled: true,
        port: 0,
        openai_upstream: format!("{}/v1", upstream.url()),
        anthropic_upstream: upstream.url(),
        upstream_timeout: Duration::from_secs(10),
        ..HttpSettings::default()
    };
    tweak(&mut http);
    let settings = Settings {
        socket: dir.path().join("run/headroomd.sock"),
        state_dir: dir.path().join("state"),
        drain_timeout: Duration::from_secs(5),
        frame_timeout: Duration::from_secs(2),
        http,
        ..Settings::default()
    };
    let started = daemon::start(settings).await.unwrap();
    let url = format!("http://{}", started.http_addr().expect("the front is on"));
    let shutdown = CancellationToken::new();
    tokio::spawn(started.serve(shutdown.clone()));
    Front { url, shutdown, _dir: dir }
}

fn log() -> String {
    common::fixture("logs/HDFS_2k.log")
}

fn chat_completion(text: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    ], "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}})
}

/// A chat request that already has a tool, with a real log as its newest tool result, written
/// with odd spacing so any re-serialisation would show.
fn chat_request(output: &str) -> String {
    let value = json!({
        "model": "gpt-4o",
        "tools": [{"type": "function", "function": {"name": "read_log", "parameters": {"type": "object", "properties": {}}}}],
        "messages": [
            {"role": "system", "content": "You are a helpful agent."},
            {"role": "user", "content": "why did the datanode fail?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": output}
        ],
        "temperature": 0.20000000000000001
    });
    serde_json::to_string_pretty(&value).unwrap().replace("\"model\": ", "\"model\" :  ")
}

fn anthropic_request(output: &str, stream: bool) -> String {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": stream,
        "system": "You are a helpful agent.",
        "messages": [
            {"role": "user", "content": "why did the datanode fail?"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read_log", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": output}]}
        ]
    })
    .to_string()
}

async fn post(url: &str, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(url).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// The body as JSON (reqwest is built without its `json` feature).
trait JsonBody {
    async fn json_value(self) -> Value;
}

impl JsonBody for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).expect("a JSON body")
    }
}

const OPENAI_AUTH: [(&str, &str); 3] =
    [("authorization", "Bearer sk-test-secret"), ("openai-organization", "org-42"), ("content-type", "application/json")];

#[tokio::test(flavor = "multi_thread")]
async fn with_compression_off_the_upstream_gets_the_exact_bytes_and_headers() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |h| h.compress = false).await;
    let body = chat_request(&log());
    let response = post(&format!("{}/v1/chat/completions?api-version=1", front.url), body.clone(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-headroom-tokens-before").is_none(), "nothing was compressed");
    let answer = response.bytes().await.unwrap();
    assert_eq!(answer, chat_completion("fine").to_string().as_bytes(), "the answer comes back byte for byte");

    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/chat/completions?api-version=1");
    assert_eq!(seen[0].body, body.as_bytes(), "byte-identical body");
    assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test-secret"));
    assert_eq!(seen[0].header("openai-organization"), Some("org-42"));
    assert_eq!(seen[0].header("host"), Some(upstream.addr.to_string().as_str()), "the upstream's own host");

    // With compression on, the bypass header also forwards the exact bytes.
    let front_on = self::front(&upstream, |_| {}).await;
    let mut headers = OPENAI_AUTH.to_vec();
    headers.push(("x-headroom-bypass", "true"));
    post(&format!("{}/v1/chat/completions", front_on.url), body.clone(), &headers).await;
    let seen = upstream.seen();
    assert_eq!(seen[1].body, body.as_bytes());
    assert!(seen[1].headers.get("x-headroom-bypass").is_none(), "Headroom's own header stays here");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_compression_on_only_the_tool_output_changes() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let log = log();
    let body = chat_request(&log);
    let response = post(&format!("{}/v1/chat/completions", front.url), body.clone(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 200);
    let before: u64 = response.headers()["x-headroom-tokens-before"].to_str().unwrap().parse().unwrap();
    let after: u64 = response.headers()["x-headroom-tokens-after"].to_str().unwrap().parse().unwrap();
    assert!(after * 3 < before, "{before} -> {after}");

    let seen = &upstream.seen()[0];
    let sent = String::from_utf8(seen.body.to_vec()).unwrap();
    let compressed = seen.json()["messages"][3]["content"].as_str().unwrap().to_string();
    let key = marker::key_for(&log);
    assert!(compressed.contains(&format!("headroom_retrieve hash={key}]")), "a marker LiteLLM's regex finds");
    assert!(compressed.len() * 3 < log.len());
    // Undo exactly two edits — the tool output and the added retrieve tool — and get the
    // client's bytes back: nothing else moved.
    let tool = format!(",{}", retrieve_tool::definition(ProviderFormat::OpenAiChat));
    assert_eq!(sent.matches(&tool).count(), 1, "the retrieve tool is added once, after the request's own");
    let undone = sent.replacen(&tool, "", 1).replacen(&serde_json::to_string(&compressed).unwrap(), &serde_json::to_string(&log).unwrap(), 1);
    assert_eq!(undone, body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_arrives_chunk_for_chunk_as_the_upstream_sends_it() {
    let events = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"role\":\"assistant\",\"content\":[]}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"The disk \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"was full.\"}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];
    let gap = Duration::from_millis(300);
    let chunks = events.iter().map(|e| (gap, e.to_string())).collect();
    let upstream = Upstream::start(Reply::Sse { chunks }).await;
    let front = front(&upstream, |_| {}).await;
    let headers = [("x-api-key", "sk-ant-secret"), ("anthropic-version", "2023-06-01"), ("anthropic-beta", "tools-2024-04-04")];
    let response = post(&format!("{}/v1/messages", front.url), anthropic_request(&log(), true), &headers).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut received = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        received.push((Instant::now(), chunk.unwrap()));
    }
    let sent = upstream.sent.lock().unwrap().clone();
    let texts: Vec<&[u8]> = received.iter().map(|(_, b)| b.as_ref()).collect();
    let expected: Vec<&[u8]> = events.iter().map(|e| e.as_bytes()).collect();
    assert_eq!(texts, expected, "the same chunks, the same boundaries");
    for ((got, _), (left, _)) in received.iter().zip(&sent) {
        let lag = got.duration_since(*left);
        assert!(lag < gap / 2, "each chunk is passed on as it arrives (lag {lag:?})");
    }
    assert!(received[0].0 < sent[3].0, "the first chunk reached the client before the last was sent");

    let seen = &upstream.seen()[0];
    assert_eq!(seen.header("x-api-key"), Some("sk-ant-secret"));
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("anthropic-beta"), Some("tools-2024-04-04"));
    let content = seen.json()["messages"][2]["content"][0]["content"].as_str().unwrap().to_string();
    assert!(content.contains("headroom_retrieve hash="), "streaming requests are compressed too");
    // The proxy cannot answer a call inside a stream it passes on as it arrives, so it offers
    // none: the request declared no tools and goes upstream without any.
    let members: Vec<String> = seen.json().as_object().unwrap().keys().cloned().collect();
    assert_eq!(members, ["model", "max_tokens", "stream", "system", "messages"], "no tools member added");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_proxy_answers_headroom_retrieve_and_the_client_sees_only_the_final_answer() {
    let log = log();
    let key = marker::key_for(&log);
    let call = json!({"id": "chatcmpl-0", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null, "tool_calls": [
            {"id": "call_r", "type": "function", "function": {"name": "headroom_retrieve", "arguments": json!({"hash": key, "query": "PacketResponder 1 for block"}).to_string()}},
            {"id": "call_x", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}
        ]}}]});
    let upstream = Upstream::start(Reply::json(200, chat_completion("unused"))).await;
    upstream.script([Reply::json(200, call), Reply::json(200, chat_completion("Block blk_1 was lost."))]);
    let front = front(&upstream, |_| {}).await;
    let response = post(&format!("{}/v1/chat/completions", front.url), chat_request(&log), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-headroom-retrieve-rounds"], "1");
    assert_eq!(response.bytes().await.unwrap(), chat_completion("Block blk_1 was lost.").to_string().as_bytes());

    let seen = upstream.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("authorization"), Some("Bearer sk-test-secret"), "the follow-up carries the client's auth");
    let follow_up = seen[1].json();
    let messages = follow_up["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 6);
    assert_eq!(messages[4]["tool_calls"].as_array().unwrap().len(), 1, "only the retrieve call is echoed");
    assert_eq!(messages[5]["tool_call_id"], "call_r");
    let retrieved = messages[5]["content"].as_str().unwrap();
    assert!(retrieved.lines().count() > 1 && retrieved.lines().all(|l| l.starts_with('L')), "{retrieved}");
    assert!(retrieved.contains("PacketResponder 1 for block"), "the query picks the lines");
    assert!(seen[1].body.starts_with(&seen[0].body[..seen[0].body.len() / 2]), "the follow-up extends the same bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_retrieve_loop_speaks_anthropic_and_responses_too() {
    let log = log();
    let key = marker::key_for(&log);
    let tool_use = json!({"id": "msg_0", "type": "message", "role": "assistant", "stop_reason": "tool_use", "content": [
        {"type": "text", "text": "Reading the full log."},
        {"type": "tool_use", "id": "toolu_r", "name": "headroom_retrieve", "input": {"hash": key}}
    ]});
    let done = json!({"id": "msg_1", "type": "message", "role": "assistant", "content": [{"type": "text", "text": "Disk full."}]});
    let upstream = Upstream::start(Reply::json(200, done.clone())).await;
    upstream.script([Reply::json(200, tool_use)]);
    let front = front(&upstream, |_| {}).await;
    let response =
        post(&format!("{}/v1/messages", front.url), anthropic_request(&log, false), &[("x-api-key", "k"), ("anthropic-version", "2023-06-01")]).await;
    assert_eq!(response.bytes().await.unwrap(), done.to_string().as_bytes());
    let follow_up = upstream.seen()[1].json();
    let messages = follow_up["messages"].as_array().unwrap();
    assert_eq!(messages[3]["content"][0]["text"], "Reading the full log.");
    assert_eq!(messages[4]["content"][0]["tool_use_id"], "toolu_r");
    assert_eq!(messages[4]["content"][0]["content"], log.as_str(), "without a query, the whole original");

    let call = json!({"id": "resp_0", "object": "response", "output": [
        {"type": "function_call", "id": "fc_1", "call_id": "call_r", "name": "headroom_retrieve", "arguments": json!({"hash": key}).to_string()}
    ]});
    let done = json!({"id": "resp_1", "object": "response", "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Disk full."}]}]});
    upstream.script([Reply::json(200, call), Reply::json(200, done.clone())]);
    let request = json!({"model": "gpt-5", "input": [
        {"role": "user", "content": "why did the datanode fail?"},
        {"type": "function_call", "call_id": "c1", "name": "read_log", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": log}
    ]});
    let response = post(&format!("{}/v1/responses", front.url), request.to_string(), &OPENAI_AUTH).await;
    assert_eq!(response.bytes().await.unwrap(), done.to_string().as_bytes());
    let seen = upstream.seen();
    assert_eq!(seen[2].path, "/v1/responses");
    let input = seen[3].json()["input"].as_array().unwrap().clone();
    assert_eq!(input[3]["type"], "function_call");
    assert_eq!(input[4], json!({"type": "function_call_output", "call_id": "call_r", "output": log}));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_errors_and_timeouts_reach_the_client_in_the_providers_shape() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |h| h.upstream_timeout = Duration::from_millis(700)).await;
    let chat = format!("{}/v1/chat/completions", front.url);
    let messages = format!("{}/v1/messages", front.url);
    let small = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).to_string();

    let limited = json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}});
    upstream.script([Reply::json(429, limited.clone())]);
    let response = post(&chat, small.clone(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.json_value().await, limited, "a JSON error passes through as it came");

    upstream.script([Reply::Body { status: 502, content_type: "text/html", body: "<html>Bad Gateway</html>".into() }]);
    let response = post(&chat, small.clone(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 502);
    let error: Value = response.json_value().await;
    assert!(error["error"]["message"].as_str().unwrap().contains("<html>Bad Gateway</html>"), "{error}");

    upstream.script([Reply::After(Duration::from_secs(3), Box::new(Reply::json(200, chat_completion("late"))))]);
    let response = post(&chat, small.clone(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 504);
    assert_eq!(response.json_value().await["error"]["code"], "upstream_timeout");

    upstream.script([Reply::After(Duration::from_secs(3), Box::new(Reply::json(200, json!({}))))]);
    let response = post(&messages, anthropic_request("short", false), &[("x-api-key", "k")]).await;
    assert_eq!(response.status(), 504);
    let error: Value = response.json_value().await;
    assert_eq!((error["type"].as_str(), error["error"]["type"].as_str()), (Some("error"), Some("timeout_error")));

    // A stream that stalls ends with Anthropic's error event, after what did arrive.
    let first = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
    upstream.script([Reply::Sse { chunks: vec![(Duration::ZERO, first.into()), (Duration::from_secs(3), "never".into())] }]);
    let text = post(&messages, anthropic_request("short", true), &[("x-api-key", "k")]).await.text().await.unwrap();
    assert!(text.starts_with(first) && text.contains("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"timeout_error\""), "{text}");

    // Nobody listening upstream: a 502 in the provider's shape.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let front = self::front(&upstream, |h| h.anthropic_upstream = format!("http://127.0.0.1:{port}")).await;
    let response = post(&format!("{}/v1/messages", front.url), anthropic_request("short", false), &[("x-api-key", "k")]).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.json_value().await["error"]["type"], "api_error");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_json_from_the_client_gets_a_400_in_its_providers_shape_and_never_goes_upstream() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let response = post(&format!("{}/v1/chat/completions", front.url), "{\"model\": ", &OPENAI_AUTH).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json_value().await;
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(error["error"]["message"].as_str().unwrap().contains("not valid JSON"));

    let response = post(&format!("{}/v1/messages", front.url), "[1, 2]", &[("x-api-key", "k")]).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json_value().await;
    assert_eq!((error["type"].as_str(), error["error"]["type"].as_str()), (Some("error"), Some("invalid_request_error")));
    assert!(upstream.seen().is_empty());

    // Other paths are forwarded as they are, auth included.
    upstream.script([Reply::json(200, json!({"data": []}))]);
    let models = reqwest::Client::new().get(format!("{}/v1/models", front.url)).bearer_auth("sk-x").send().await.unwrap();
    assert_eq!(models.status(), 200);
    let seen = upstream.seen();
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str(), seen[0].header("authorization")), ("GET", "/v1/models", Some("Bearer sk-x")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guardrail_api_compresses_and_retrieves_like_litellm_expects() {
    let upstream = Upstream::start(Reply::json(200, json!({}))).await;
    let front = front(&upstream, |_| {}).await;
    let log = log();
    let messages = json!([
        {"role": "user", "content": "why did the datanode fail?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": log}
    ]);
    let response = post(&format!("{}/v1/compress", front.url), json!({"messages": messages, "model": "gpt-4o"}).to_string(), &[]).await;
    assert_eq!(response.status(), 200);
    let reply: Value = response.json_value().await;
    let out = reply["messages"].as_array().unwrap();
    assert_eq!(out.len(), 3, "as many messages as were sent");
    assert_eq!(out[0], messages[0]);
    let key = marker::key_for(&log);
    assert_eq!(reply["ccr_hashes"], json!([key]));
    assert!(out[2]["content"].as_str().unwrap().contains(&format!("hash={key}]")));
    let (before, after) = (reply["tokens_before"].as_u64().unwrap(), reply["tokens_after"].as_u64().unwrap());
    assert_eq!(reply["tokens_saved"].as_u64().unwrap(), before - after);
    assert!(reply["compression_ratio"].as_f64().unwrap() < 0.5);
    assert_eq!(reply["transforms_applied"], json!(["logs"]));
    assert_eq!(reply["retrieve_tool"]["function"]["name"], "headroom_retrieve");

    let client = reqwest::Client::new();
    let whole: Value = client.get(format!("{}/v1/retrieve/{key}", front.url)).send().await.unwrap().json_value().await;
    assert_eq!(whole["original_content"], log.as_str());
    let some: Value = client.get(format!("{}/v1/retrieve/{key}?query=PacketResponder%20terminating", front.url)).send().await.unwrap().json_value().await;
    assert_eq!(some["whole"], false);
    assert!(some["original_content"].as_str().unwrap().lines().all(|l| l.to_lowercase().contains("packetresponder") || l.to_lowercase().contains("terminating")));
    let missing = client.get(format!("{}/v1/retrieve/{}", front.url, "0".repeat(24))).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json_value().await["error"]["code"], "not_found");
    assert_eq!(client.get(format!("{}/v1/retrieve/xyz", front.url)).send().await.unwrap().status(), 400);
    let bad = post(&format!("{}/v1/compress", front.url), "{\"model\":\"x\"}", &[]).await;
    assert_eq!(bad.status(), 400);
    let health: Value = client.get(format!("{}/health", front.url)).send().await.unwrap().json_value().await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn shaping_makes_the_prefix_byte_stable_across_turns() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("ok"))).await;
    let front = front(&upstream, |h| h.shaping = true).await;
    let tool = |name: &str| json!({"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "integer"}}}}});
    let turn = |tools: Vec<Value>, question: &str| {
        json!({"model": "gpt-4o", "tools": tools, "messages": [{"role": "system", "content": "You help."}, {"role": "user", "content": question}]}).to_string()
    };
    post(&format!("{}/v1/chat/completions", front.url), turn(vec![tool("zeta"), tool("alpha")], "first"), &OPENAI_AUTH).await;
    post(&format!("{}/v1/chat/completions", front.url), turn(vec![tool("alpha"), tool("zeta")], "second"), &OPENAI_AUTH).await;
    let seen = upstream.seen();
    let (a, b) = (seen[0].json(), seen[1].json());
    assert_eq!(a["tools"][0]["function"]["name"], "alpha");
    assert_eq!(a["messages"][0]["content"], format!("You help.\n\n{TERSE}"));
    let prefix = |body: &[u8]| String::from_utf8(body.to_vec()).unwrap().split("\"first\"").next().unwrap().split("\"second\"").next().unwrap().to_string();
    assert_eq!(prefix(&seen[0].body), prefix(&seen[1].body), "tools and system prompt: the same bytes on both turns");
    assert_ne!(a["messages"][1], b["messages"][1]);
}

#[test]
fn headroomd_serves_http_only_when_asked_and_wrap_points_agents_at_it() {
    let home = common::Home::new();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    // The CLI finds the daemon by its socket and asks it where the front is: nothing in its own
    // configuration names the port the daemon was started with.
    let headroom = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"));
        command.env("HEADROOM_CONFIG", home.dir.path().join("none.toml")).env("HEADROOM_SOCKET", home.socket());
        command
    };
    let daemon = home.start(&["--http-port", &port.to_string()]);
    assert!(headroom_daemon::wrap::front_answers(port).is_err(), "off by default");
    daemon.greeted(); // serving, so its SIGTERM handler is in place
    let out = headroom().args(["wrap", "env"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("the running daemon has it off"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(daemon.stop().success());

    let daemon = home.start(&["--http", "--http-port", &port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while headroom_daemon::wrap::front_answers(port).is_err() {
        assert!(Instant::now() < deadline, "the HTTP front answers");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = headroom().args(["wrap", "env"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let env = String::from_utf8_lossy(&out.stdout);
    assert!(env.contains(&format!("OPENAI_BASE_URL=http://127.0.0.1:{port}/v1\n")), "{env}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("headroom: OPENAI_BASE_URL=http://127.0.0.1:{port}/v1")));
    let out = headroom().args(["wrap", "claude", "--", "--version"]).env("PATH", home.dir.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("ANTHROPIC_BASE_URL=http://127.0.0.1:{port}")));
    assert!(!out.status.success(), "no claude here: the exec fails and says so");

    assert!(daemon.stop().success(), "SIGTERM drains the HTTP front too");
    let out = headroom().args(["wrap", "env"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("http = true"), "says how to turn the front on");
    let out = headroom().arg("unwrap").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Nothing to undo"));
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_nesting_is_a_400_on_every_route_and_the_daemon_keeps_serving() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    // What a web page can send with a no-cors POST: text/plain, a deep value under an ignored key.
    let guardrail = format!("{{\"x\":{},\"messages\":[]}}", deep(12_000));
    let response = post(&format!("{}/v1/compress", front.url), guardrail, &[("content-type", "text/plain")]).await;
    assert_eq!(response.status(), 400);
    assert!(response.json_value().await["error"]["message"].as_str().unwrap().contains("nests deeper"));
    let chat = format!("{{\"model\":\"gpt-4o\",\"metadata\":{},\"messages\":[]}}", deep(12_000));
    let response = post(&format!("{}/v1/chat/completions", front.url), chat, &OPENAI_AUTH).await;
    assert_eq!(response.status(), 400);
    assert!(upstream.seen().is_empty(), "nothing went upstream");
    // Still alive, and a request of ordinary depth is served.
    let response = post(&format!("{}/v1/chat/completions", front.url), chat_request(&log()), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_loopback_hosts_and_origins_are_served() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let body = r#"{"messages":[{"role":"user","content":"hi"}]}"#;
    let url = format!("{}/v1/compress", front.url);
    // DNS rebinding: the page's own name in Host.
    let rebound = post(&url, body, &[("host", "evil.example")]).await;
    assert_eq!(rebound.status(), 403);
    let from_page = post(&url, body, &[("origin", "https://evil.example"), ("content-type", "text/plain")]).await;
    assert_eq!(from_page.status(), 403);
    let retrieve = reqwest::Client::new()
        .get(format!("{}/v1/retrieve/{}", front.url, "0".repeat(24)))
        .header("host", "evil.example:8787")
        .send()
        .await
        .unwrap();
    assert_eq!(retrieve.status(), 403);
    // The front's own address, a loopback origin, or no origin at all (SDKs) are served.
    assert_eq!(post(&url, body, &[]).await.status(), 200);
    assert_eq!(post(&url, body, &[("origin", "http://localhost:3000")]).await.status(), 200);
    let port = front.url.rsplit(':').next().unwrap().to_string();
    assert_eq!(post(&url, body, &[("host", &format!("localhost:{port}"))]).await.status(), 200);
}

/// Reads from `stream` until the server closes it; the text it sent before closing. Panics if
/// the connection is still open after `bound` (a hang, not a slow machine: the server's own
/// timeout is a small fraction of it).
async fn until_closed(stream: &mut tokio::net::TcpStream, bound: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the front closed the connection");
    String::from_utf8_lossy(&got).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_slow_bodies_and_idle_connections_are_closed() {
    use tokio::io::AsyncWriteExt;
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let addr = front.url.trim_start_matches("http://").to_string();
    // Headers that never finish.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"POST /v1/compress HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:").await.unwrap();
    until_closed(&mut slow, Duration::from_secs(60)).await;
    // A body announced as 100 GB that never comes.
    let mut liar = tokio::net::TcpStream::connect(&addr).await.unwrap();
    liar.write_all(b"POST /v1/compress HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000000\r\n\r\n{").await.unwrap();
    let answer = until_closed(&mut liar, Duration::from_secs(60)).await;
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("did not arrive within 2 s"), "{answer}");
    // A keep-alive connection left idle after a request.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let answer = until_closed(&mut idle, Duration::from_secs(60)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // And the front still serves.
    assert_eq!(post(&format!("{}/v1/compress", front.url), r#"{"messages":[]}"#, &[]).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_answers_in_the_prometheus_format_with_what_the_front_compressed() {
    let upstream = Upstream::start(Reply::json(200, chat_completion("fine"))).await;
    let front = front(&upstream, |_| {}).await;
    let body = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "why did the datanode fail?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": log()}
    ]});
    let response = post(&format!("{}/v1/chat/completions", front.url), body.to_string(), &OPENAI_AUTH).await;
    assert_eq!(response.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", front.url)).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("# TYPE headroom_compress_requests_total counter\nheadroom_compress_requests_total 1\n"), "{text}");
    assert!(text.contains("headroom_compressor_tokens_before_total{compressor=\"logs\"}"), "{text}");
    assert!(text.contains("headroom_compress_duration_seconds_count 1\n"), "{text}");
}
