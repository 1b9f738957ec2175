//! Round trips through the real socket: an empty `Ping`, and `Compress` of a 1 MiB JSON tool
//! output seen for the first time (docs/architecture.md §5: p50 ≤ 50 µs for the empty request).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use headroom_daemon::config::Settings;
use headroom_daemon::daemon;
use headroom_protocol::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

fn call(s: &mut UnixStream, request: &Request) -> Reply {
    let body = encode_request(request);
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    s.write_all(&frame).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut reply = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut reply).unwrap();
    decode_reply(&reply).unwrap()
}

/// A JSON array of API-like objects of about `bytes` bytes; `salt` makes it unseen.
fn json_output(bytes: usize, salt: u64) -> String {
    let mut rows = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < bytes {
        let row = serde_json::json!({
            "id": i, "url": format!("https://api.example.com/items/{i}"), "name": format!("item {i} of run {salt}"),
            "status": if i % 97 == 0 { "failed" } else { "ok" }, "latency_ms": (i * 7919) % 250, "owner": {"login": "someone", "id": 42},
        });
        size += row.to_string().len() + 4;
        rows.push(row);
        i += 1;
    }
    serde_json::to_string_pretty(&rows).unwrap()
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { socket: dir.path().join("s/headroomd.sock"), state_dir: dir.path().join("state"), ..Settings::default() };
    let socket = settings.socket.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let started = runtime.block_on(daemon::start(settings)).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    runtime.spawn(started.serve(shutdown.clone()));

    let mut s = UnixStream::connect(&socket).unwrap();
    let hello = Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "bench".into() });
    assert!(matches!(call(&mut s, &Request { id: 0, op: hello }).body, ReplyBody::Hello(_)));

    let ping = Request { id: 1, op: Op::Ping };
    c.bench_function("socket/ping_round_trip", |b| b.iter(|| call(&mut s, &ping)));

    let salt = AtomicU64::new(0);
    let mut group = c.benchmark_group("socket");
    group.sample_size(20);
    group.bench_function("compress_1mib_json_first_sight", |b| {
        b.iter_batched(
            || {
                let output = json_output(1 << 20, salt.fetch_add(1, Ordering::Relaxed));
                let messages = serde_json::to_vec(&serde_json::json!([
                    {"role": "user", "content": "which items failed?"},
                    {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "list", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "c", "content": output}
                ]))
                .unwrap();
                Request { id: 2, op: Op::Compress(CompressRequest { messages, options: CompressOptions::default() }) }
            },
            |request| {
                let reply = call(&mut s, &request);
                assert!(matches!(reply.body, ReplyBody::Compressed(_)));
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    shutdown.cancel();
}

criterion_group!(socket, benches);
criterion_main!(socket);
