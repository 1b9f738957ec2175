//! Load generator: starts the real `headroomd` (the one built beside this example) on a
//! temporary socket, then runs 64 connections × 1,000 mixed requests (pings, stats, small and
//! large compressions, retrieves), pipelined 8 deep, five times. Fails on any error reply or
//! any reply whose id was not outstanding; prints requests/s, p50/p99 per operation, and the
//! daemon's resident memory after each run, failing if it keeps growing: after the first run
//! (warm-up: stores, caches, arenas), every later run above the one before it and the last one
//! more than a quarter above the lowest. A leak grows run after run; a busy machine only moves
//! the figures up and down.
//!
//! `cargo run --release --example loadgen [-- CONNECTIONS REQUESTS]`

use futures_util::{SinkExt, StreamExt};
use headroom_protocol::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::net::UnixStream;
use tokio_util::codec::Framed;

const DEPTH: usize = 8;
/// Runs of the whole load; the first warms up.
const RUNS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Ping,
    Stats,
    SmallCompress,
    LargeCompress,
    Retrieve,
}

fn fixture(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path)).unwrap()
}

fn conversation(output: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([
        {"role": "user", "content": "what failed?"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "read", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c", "content": output}
    ]))
    .unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

async fn connection(socket: PathBuf, worker: u64, requests: u64, large: Vec<u8>, key: String) -> Result<Vec<(Kind, Duration)>, String> {
    let stream = UnixStream::connect(&socket).await.map_err(|e| e.to_string())?;
    let mut framed = Framed::new(stream, FrameCodec::new(DEFAULT_MAX_FRAME));
    let hello = Request { id: 0, op: Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "loadgen".into() }) };
    framed.send(encode_request(&hello)).await.map_err(|e| e.to_string())?;
    framed.next().await.ok_or("closed after hello")?.map_err(|e| e.to_string())?;
    let mut outstanding: HashMap<u64, (Kind, Instant)> = HashMap::new();
    let mut timings = Vec::with_capacity(requests as usize);
    let mut sent = 0u64;
    while sent < requests || !outstanding.is_empty() {
        while sent < requests && outstanding.len() < DEPTH {
            let id = worker * 1_000_000 + sent + 1;
            let (kind, op) = match sent % 20 {
                0..=6 => (Kind::Ping, Op::Ping),
                7..=9 => (Kind::Stats, Op::Stats),
                10..=15 => {
                    let output = format!("{{\"worker\": {worker}, \"rows\": [{}]}}", (0..40).map(|i| format!("{{\"id\": {i}, \"status\": \"ok\"}}")).collect::<Vec<_>>().join(", "));
                    (Kind::SmallCompress, Op::Compress(CompressRequest { messages: conversation(&output), options: CompressOptions::default() }))
                }
                16..=17 => (Kind::LargeCompress, Op::Compress(CompressRequest { messages: large.clone(), options: CompressOptions::default() })),
                _ => (Kind::Retrieve, Op::Retrieve(RetrieveRequest { key: key.clone(), query: Some("ERROR".into()) })),
            };
            framed.send(encode_request(&Request { id, op })).await.map_err(|e| e.to_string())?;
            outstanding.insert(id, (kind, Instant::now()));
            sent += 1;
        }
        let frame = framed.next().await.ok_or("the daemon closed the connection")?.map_err(|e| e.to_string())?;
        let Frame::Body(body) = frame else { return Err(format!("unexpected frame {frame:?}")) };
        let reply = decode_reply(&body)?;
        let (kind, started) = outstanding.remove(&reply.id).ok_or_else(|| format!("reply to id {} that was not outstanding", reply.id))?;
        if let ReplyBody::Error(e) = reply.body {
            return Err(format!("{kind:?} failed: {}: {}", e.code.as_str(), e.message));
        }
        timings.push((kind, started.elapsed()));
    }
    Ok(timings)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (connections, requests) = (args.first().copied().unwrap_or(64), args.get(1).copied().unwrap_or(1_000));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("headroomd.sock");
    let daemon_path = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("headroomd");
    let mut daemon = std::process::Command::new(&daemon_path)
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", daemon_path.display()));
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let large = conversation(&fixture("logs/HDFS_2k.log"));
    let key = {
        let mut client = headroom_daemon::client::Client::connect(&socket).await.unwrap();
        client.compress(large.clone(), CompressOptions::default()).await.unwrap().ccr_keys[0].clone()
    };
    let mut rss = Vec::new();
    let mut failed = false;
    for run in 1..=RUNS {
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|w| tokio::spawn(connection(socket.clone(), w, requests, large.clone(), key.clone())))
            .collect();
        let mut by_kind: HashMap<Kind, Vec<Duration>> = HashMap::new();
        for task in tasks {
            match task.await.unwrap() {
                Ok(timings) => timings.into_iter().for_each(|(k, d)| by_kind.entry(k).or_default().push(d)),
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    failed = true;
                }
            }
        }
        let elapsed = started.elapsed();
        let total: usize = by_kind.values().map(Vec::len).sum();
        rss.push(rss_kib(daemon.id()));
        println!("run {run}: {total} requests in {:.2} s = {:.0} requests/s, daemon RSS {} MiB", elapsed.as_secs_f64(), total as f64 / elapsed.as_secs_f64(), rss[run - 1] / 1024);
        let mut kinds: Vec<_> = by_kind.into_iter().collect();
        kinds.sort_by_key(|(k, _)| *k);
        for (kind, mut times) in kinds {
            times.sort();
            println!("  {:<14} {:>6} × p50 {:>8.3} ms  p99 {:>8.3} ms", format!("{kind:?}"), times.len(), percentile(&times, 0.5).as_secs_f64() * 1e3, percentile(&times, 0.99).as_secs_f64() * 1e3);
        }
        if total as u64 != connections * requests {
            eprintln!("loadgen: {total} replies for {} requests", connections * requests);
            failed = true;
        }
    }
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(daemon.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let status = daemon.wait().unwrap();
    let after_warm_up = &rss[1..];
    let rising = after_warm_up.windows(2).all(|w| w[1] > w[0]);
    let lowest = *after_warm_up.iter().min().expect("runs after the warm-up");
    if rising && rss[RUNS - 1] > lowest + lowest / 4 {
        eprintln!("loadgen: daemon memory keeps growing: {rss:?} KiB");
        failed = true;
    }
    if failed || !status.success() {
        eprintln!("loadgen: FAILED (daemon exit {status})");
        std::process::exit(1);
    }
    println!("loadgen: 0 errors, every reply matched its id, daemon exited 0");
}
