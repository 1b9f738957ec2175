//! Latency the HTTP front adds to one proxied chat completion, against a fake upstream on
//! 127.0.0.1: each case is timed straight to the upstream and through the proxy, for a small
//! request and a 1 MiB one (a tool output of real logs) — seen before (the replay cache answers,
//! the steady state of an agent session that re-sends its history) and unseen (compressed
//! there and then). After criterion's runs, p50/p99 of both paths are printed per case.

#[path = "../tests/common/upstream.rs"]
mod upstream;

use criterion::{criterion_group, criterion_main, Criterion};
use headroom_daemon::config::{HttpSettings, Settings};
use headroom_daemon::daemon;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use upstream::{Reply, Upstream};

/// About 1 MiB of real log lines, from the fixtures.
fn logs_1mib() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/logs");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.retain(|p| p.extension().is_some_and(|x| x == "log"));
    names.sort();
    let mut out = String::new();
    'fill: loop {
        for name in &names {
            for line in std::fs::read_to_string(name).unwrap().lines() {
                out.push_str(line);
                out.push('\n');
                if out.len() >= 1 << 20 {
                    break 'fill;
                }
            }
        }
    }
    out
}

fn request(question: &str, output: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful agent."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "read_log", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": output}
        ]
    }))
    .unwrap()
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let answer = serde_json::json!({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ]});
    let upstream = runtime.block_on(Upstream::start(Reply::json(200, answer)));

    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        socket: dir.path().join("s/headroomd.sock"),
        state_dir: dir.path().join("state"),
        http: HttpSettings { enabled: true, port: 0, openai_upstream: format!("{}/v1", upstream.url()), ..HttpSettings::default() },
        ..Settings::default()
    };
    let (proxy, shutdown) = runtime.block_on(async {
        let started = daemon::start(settings).await.unwrap();
        let addr = started.http_addr().expect("the front is on");
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(started.serve(shutdown.clone()));
        (format!("http://{addr}/v1/chat/completions"), shutdown)
    });
    let direct = format!("{}/v1/chat/completions", upstream.url());
    let client = reqwest::Client::new();
    let post = |url: &str, body: Vec<u8>| {
        runtime.block_on(async {
            let response = client.post(url).header("authorization", "Bearer sk-bench").body(body).send().await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap()
        })
    };

    let small = request("what failed?", "three lines of output\nok\nok");
    let big = request("why did the datanode fail?", logs_1mib_cached());
    let salt = AtomicU64::new(0);
    let unseen = || {
        let n = salt.fetch_add(1, Ordering::Relaxed);
        let mut body = request("why did the datanode fail?", &format!("run {n}\n{}", logs_1mib_cached()));
        body.shrink_to_fit();
        body
    };

    let mut group = c.benchmark_group("http");
    group.sample_size(30);
    for (name, body) in [("small", &small), ("1mib_seen", &big)] {
        group.bench_function(format!("{name}/direct"), |b| b.iter(|| post(&direct, body.clone())));
        group.bench_function(format!("{name}/proxied"), |b| b.iter(|| post(&proxy, body.clone())));
    }
    group.sample_size(10);
    group.bench_function("1mib_unseen/proxied", |b| b.iter_with_setup(unseen, |body| post(&proxy, body)));
    group.finish();

    eprintln!("\nadded latency per proxied request (p50 / p99 over 200 requests each):");
    let cases: [(&str, Box<dyn Fn() -> Vec<u8>>); 3] =
        [("small", Box::new(|| small.clone())), ("1mib_seen", Box::new(|| big.clone())), ("1mib_unseen", Box::new(&unseen))];
    for (name, make) in cases {
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..200 {
            for (path, url) in [(0, &direct), (1, &proxy)] {
                let body = make();
                let started = Instant::now();
                post(url, body);
                times[path].push(started.elapsed());
            }
        }
        for t in &mut times {
            t.sort();
        }
        let (d50, d99, p50, p99) =
            (percentile(&times[0], 0.5), percentile(&times[0], 0.99), percentile(&times[1], 0.5), percentile(&times[1], 0.99));
        eprintln!(
            "  {name:<12} direct p50 {d50:>10.2?} p99 {d99:>10.2?} | proxied p50 {p50:>10.2?} p99 {p99:>10.2?} | added p50 {:>10.2?} p99 {:>10.2?}",
            p50.saturating_sub(d50),
            p99.saturating_sub(d99)
        );
    }
    shutdown.cancel();
}

/// [`logs_1mib`] read once.
fn logs_1mib_cached() -> &'static str {
    static LOGS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LOGS.get_or_init(logs_1mib)
}

criterion_group!(http_benches, benches);
criterion_main!(http_benches);
