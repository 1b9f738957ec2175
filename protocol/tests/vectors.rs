//! Every frame in `protocol/vectors/` decodes to the value in its JSON twin and re-encodes to the
//! same bytes. `HEADROOM_WRITE_VECTORS=1 cargo test -p headroom-protocol --test vectors` rewrites
//! the files from the samples below (a change that alters a committed vector is a version bump).

use bytes::BytesMut;
use headroom_protocol::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use tokio_util::codec::{Decoder, Encoder};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

enum Sample {
    Request(Request),
    Reply(Reply),
}

fn samples() -> Vec<(&'static str, Sample)> {
    use Sample::*;
    let messages = br#"[{"role":"user","content":"why did the job fail?"}]"#.to_vec();
    vec![
        ("request_hello", Request(headroom_protocol::Request {
            id: 1,
            op: Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "headroom-py/0.1.0".into() }),
        })),
        ("request_ping", Request(headroom_protocol::Request { id: 250, op: Op::Ping })),
        ("request_ping_id_u16", Request(headroom_protocol::Request { id: 251, op: Op::Ping })),
        ("request_ping_id_u32", Request(headroom_protocol::Request { id: 70_000, op: Op::Ping })),
        ("request_ping_id_u64", Request(headroom_protocol::Request { id: u64::MAX, op: Op::Ping })),
        ("request_compress_defaults", Request(headroom_protocol::Request {
            id: 2,
            op: Op::Compress(CompressRequest { messages: messages.clone(), options: CompressOptions::default() }),
        })),
        ("request_compress_all_options", Request(headroom_protocol::Request {
            id: 3,
            op: Op::Compress(CompressRequest {
                messages,
                options: CompressOptions {
                    model: Some("claude-sonnet-4-5".into()),
                    format: ProviderFormat::Anthropic,
                    query: Some("zoneinfo déjà vu".into()),
                    protect_recent: 2,
                    frozen: 300,
                    target_ratio: Some(0.25),
                    compress_user_messages: true,
                    memory: Some(MemoryOptions {
                        scope: MemoryScope { user: "ada".into(), agent: Some("billing-bot".into()), session: Some("s-42".into()) },
                        budget_tokens: 300,
                        tools: true,
                    }),
                    client: Some("litellm".into()),
                },
            }),
        })),
        ("request_retrieve", Request(headroom_protocol::Request {
            id: 4,
            op: Op::Retrieve(RetrieveRequest { key: "0123456789abcdef01234567".into(), query: None }),
        })),
        ("request_retrieve_query", Request(headroom_protocol::Request {
            id: 5,
            op: Op::Retrieve(RetrieveRequest { key: "0123456789abcdef01234567".into(), query: Some("ERROR".into()) }),
        })),
        ("request_memory_add", Request(headroom_protocol::Request {
            id: 8,
            op: Op::MemoryAdd(MemoryAddRequest {
                scope: MemoryScope { user: "ada".into(), agent: Some("billing-bot".into()), session: None },
                text: "The deploy target is eu-west-1.".into(),
                source: Some("conversation c-7".into()),
                key: Some("deploy target".into()),
                valid_from_ms: Some(1_764_000_000_000),
            }),
        })),
        ("request_memory_search", Request(headroom_protocol::Request {
            id: 9,
            op: Op::MemorySearch(MemorySearchRequest {
                scope: MemoryScope { user: "ada".into(), agent: None, session: Some("s-42".into()) },
                query: "where do we deploy?".into(),
                as_of_ms: Some(1_700_000_000_000),
                limit: 5,
                budget_tokens: 200,
            }),
        })),
        ("request_memory_list", Request(headroom_protocol::Request {
            id: 10,
            op: Op::MemoryList(MemoryListRequest {
                scope: MemoryScope { user: "ada".into(), agent: None, session: None },
                as_of_ms: None,
                include_superseded: true,
                include_narrower: true,
            }),
        })),
        ("request_memory_forget", Request(headroom_protocol::Request {
            id: 11,
            op: Op::MemoryForget(MemoryForgetRequest {
                scope: MemoryScope { user: "ada".into(), agent: None, session: None },
                id: Some("00000000000000ff".into()),
            }),
        })),
        ("request_stats", Request(headroom_protocol::Request { id: 6, op: Op::Stats })),
        ("request_metrics", Request(headroom_protocol::Request { id: 7, op: Op::Metrics })),
        ("reply_hello", Reply(headroom_protocol::Reply {
            id: 1,
            body: ReplyBody::Hello(HelloReply { protocol_version: PROTOCOL_VERSION, server: "headroomd/0.1.0".into() }),
        })),
        ("reply_pong", Reply(headroom_protocol::Reply { id: 250, body: ReplyBody::Pong })),
        ("reply_compressed", Reply(headroom_protocol::Reply {
            id: 2,
            body: ReplyBody::Compressed(CompressReply {
                messages: br#"[{"role":"tool","content":"[1,2]"}]"#.to_vec(),
                tokens_before: 1200,
                tokens_after: 300,
                ccr_keys: vec!["0123456789abcdef01234567".into()],
                compressors: vec![CompressorStats { name: "json".into(), blocks: 1, tokens_before: 1200, tokens_after: 300 }],
                retrieve_tool: Some(br#"{"type":"function"}"#.to_vec()),
                format: ProviderFormat::OpenAiChat,
                memories: 2,
                memory_tools: Some(br#"[{"type":"function"}]"#.to_vec()),
                rewrote_earlier: true,
                added_tokens: 180,
                left_as_is: vec![CompressorStats { name: "no compressor fits".into(), blocks: 1, tokens_before: 2_500, tokens_after: 2_500 }],
            }),
        })),
        ("reply_compressed_nothing", Reply(headroom_protocol::Reply {
            id: 3,
            body: ReplyBody::Compressed(CompressReply {
                messages: b"[]".to_vec(),
                tokens_before: 0,
                tokens_after: 0,
                ccr_keys: vec![],
                compressors: vec![],
                retrieve_tool: None,
                format: ProviderFormat::OpenAiResponses,
                memories: 0,
                memory_tools: None,
                rewrote_earlier: false,
                added_tokens: 0,
                left_as_is: vec![],
            }),
        })),
        ("reply_retrieved", Reply(headroom_protocol::Reply {
            id: 4,
            body: ReplyBody::Retrieved(RetrieveReply {
                key: "0123456789abcdef01234567".into(),
                content: "line one\nline two\n".into(),
                whole: true,
            }),
        })),
        ("reply_stats", Reply(headroom_protocol::Reply {
            id: 6,
            body: ReplyBody::Stats(StatsReply {
                protocol_version: PROTOCOL_VERSION,
                uptime_ms: 123_456,
                connections: 3,
                requests: 1_000_000,
                compress_requests: 42,
                tokens_before: 5_000_000_000,
                tokens_after: 1_000_000_000,
                ccr_entries: 17,
                replay_entries: 99,
            }),
        })),
        ("reply_metrics", Reply(headroom_protocol::Reply {
            id: 7,
            body: ReplyBody::Metrics(MetricsReply {
                compressors: vec![CompressorStats { name: "logs".into(), blocks: 3, tokens_before: 90_000, tokens_after: 6_000 }],
                ccr_hits: 4,
                ccr_misses: 1,
                ccr_expired: 0,
                latency_p50_us: 850,
                latency_p99_us: 21_000,
                all_time_compress_requests: 1_234,
                all_time_tokens_before: 9_000_000,
                all_time_tokens_after: 700_000,
                all_time_latency_p50_us: 900,
                all_time_latency_p99_us: 25_000,
                latency_buckets: vec![LatencyBucket { le_us: 1_000, count: 3 }, LatencyBucket { le_us: 25_000, count: 5 }],
                latency_sum_us: 48_000,
                left_as_is: vec![CompressorStats { name: "code: not smaller".into(), blocks: 2, tokens_before: 7_000, tokens_after: 7_000 }],
            }),
        })),
        ("reply_memory_added", Reply(headroom_protocol::Reply {
            id: 8,
            body: ReplyBody::MemoryAdded(MemoryAddReply {
                fact: MemoryFact {
                    id: "0000000000000100".into(),
                    scope: MemoryScope { user: "ada".into(), agent: Some("billing-bot".into()), session: None },
                    text: "The deploy target is eu-west-1.".into(),
                    source: Some("conversation c-7".into()),
                    key: Some("deploy target".into()),
                    created_ms: 1_764_000_000_500,
                    valid_from_ms: 1_764_000_000_000,
                    valid_to_ms: None,
                    superseded_by: None,
                    score: 0.0,
                },
                duplicate: false,
                superseded: vec!["00000000000000ff".into()],
            }),
        })),
        ("reply_memory_facts", Reply(headroom_protocol::Reply {
            id: 9,
            body: ReplyBody::MemoryFacts(MemoryFactsReply {
                facts: vec![MemoryFact {
                    id: "00000000000000ff".into(),
                    scope: MemoryScope { user: "ada".into(), agent: Some("billing-bot".into()), session: None },
                    text: "The deploy target is us-east-1.".into(),
                    source: None,
                    key: Some("deploy target".into()),
                    created_ms: 1_600_000_000_000,
                    valid_from_ms: 1_600_000_000_000,
                    valid_to_ms: Some(1_764_000_000_000),
                    superseded_by: Some("0000000000000100".into()),
                    score: 1.5,
                }],
            }),
        })),
        ("reply_memory_forgotten", Reply(headroom_protocol::Reply { id: 11, body: ReplyBody::MemoryForgotten(MemoryForgetReply { removed: 3 }) })),
        ("request_info", Request(headroom_protocol::Request { id: 12, op: Op::Info })),
        ("reply_info", Reply(headroom_protocol::Reply {
            id: 12,
            body: ReplyBody::Info(InfoReply { server: "headroomd/0.1.0".into(), http_address: Some("127.0.0.1:8787".into()) }),
        })),
        ("reply_info_no_http", Reply(headroom_protocol::Reply {
            id: 13,
            body: ReplyBody::Info(InfoReply { server: "headroomd/0.1.0".into(), http_address: None }),
        })),
        ("request_savings", Request(headroom_protocol::Request { id: 14, op: Op::Savings(SavingsRequest { since_ms: 1_780_272_000_000 }) })),
        ("reply_savings", Reply(headroom_protocol::Reply {
            id: 14,
            body: ReplyBody::Savings(SavingsReply {
                periods: vec![LedgerPeriod {
                    start_ms: 1_780_272_000_000,
                    span_ms: 3_600_000,
                    requests: 3,
                    tokens_before: 98_449,
                    tokens_after: 5_143,
                    added_tokens: 120,
                    retrieves: 1,
                    retrieved_tokens: 700,
                    memories: 2,
                    rewrites: 0,
                    compressors: vec![CompressorStats { name: "logs".into(), blocks: 2, tokens_before: 90_000, tokens_after: 3_000 }],
                    models: vec![LedgerSlice { name: "gpt-4o".into(), requests: 3, tokens_before: 98_449, tokens_after: 5_143 }],
                    clients: vec![LedgerSlice { name: "litellm".into(), requests: 3, tokens_before: 98_449, tokens_after: 5_143 }],
                }],
                recent: vec![RecentRequest {
                    at_ms: 1_780_272_060_000,
                    model: "gpt-4o".into(),
                    client: "litellm".into(),
                    tokens_before: 40_000,
                    tokens_after: 2_000,
                    compressors: vec!["logs".into()],
                    latency_us: 850,
                }],
            }),
        })),
        ("reply_error_unsupported_version", Reply(headroom_protocol::Reply {
            id: 1,
            body: ReplyBody::error(ErrorCode::UnsupportedVersion, "client speaks protocol 3, daemon speaks 2"),
        })),
        ("reply_error_expired", Reply(headroom_protocol::Reply {
            id: 4,
            body: ReplyBody::error(ErrorCode::Expired, "expired: re-run the tool"),
        })),
        ("reply_error_internal", Reply(headroom_protocol::Reply { id: 0, body: ReplyBody::error(ErrorCode::Internal, "") })),
        ("reply_error_busy", Reply(headroom_protocol::Reply { id: 9, body: ReplyBody::error(ErrorCode::Busy, "busy: 16 large requests are waiting") })),
    ]
}

fn frame(body: Vec<u8>) -> Vec<u8> {
    let mut buf = BytesMut::new();
    FrameCodec::new(DEFAULT_MAX_FRAME).encode(body, &mut buf).unwrap();
    buf.to_vec()
}

fn encoded(sample: &Sample) -> (Vec<u8>, Value) {
    match sample {
        Sample::Request(r) => (frame(encode_request(r)), json!({"kind": "request", "value": r})),
        Sample::Reply(r) => (frame(encode_reply(r)), json!({"kind": "reply", "value": r})),
    }
}

#[test]
fn vectors_decode_and_reencode_byte_for_byte() {
    let dir = vectors_dir();
    if std::env::var_os("HEADROOM_WRITE_VECTORS").is_some() {
        for (name, sample) in samples() {
            let (bin, value) = encoded(&sample);
            std::fs::write(dir.join(format!("{name}.bin")), bin).unwrap();
            std::fs::write(dir.join(format!("{name}.json")), serde_json::to_string_pretty(&value).unwrap() + "\n").unwrap();
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let bin = std::fs::read(&path).unwrap();
        let described: Value = serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap()).unwrap();
        let mut buf = BytesMut::from(&bin[..]);
        let Some(Frame::Body(body)) = FrameCodec::new(DEFAULT_MAX_FRAME).decode(&mut buf).unwrap() else {
            panic!("{} is not one whole frame", path.display())
        };
        assert!(buf.is_empty(), "{}: bytes after the frame", path.display());
        let (reencoded, value) = match described["kind"].as_str() {
            Some("request") => {
                let decoded = decode_request(&body).unwrap();
                let expected: headroom_protocol::Request = serde_json::from_value(described["value"].clone()).unwrap();
                assert_eq!(decoded, expected, "{}", path.display());
                encoded(&Sample::Request(decoded))
            }
            Some("reply") => {
                let decoded = decode_reply(&body).unwrap();
                let expected: headroom_protocol::Reply = serde_json::from_value(described["value"].clone()).unwrap();
                assert_eq!(decoded, expected, "{}", path.display());
                encoded(&Sample::Reply(decoded))
            }
            other => panic!("{}: unknown kind {other:?}", path.display()),
        };
        assert_eq!(reencoded, bin, "{} re-encodes differently", path.display());
        assert_eq!(value, described, "{}", path.display());
        checked += 1;
    }
    assert_eq!(checked, samples().len(), "every sample has a committed vector and nothing else is there");
}
