//! Throughput with the shared store: requests per second through one daemon on LMDB alone, one
//! daemon sharing through a real `redis-server`, and two daemons sharing one Redis, on the same
//! machine, with the ratios to the first. Two workloads: agent sessions (each request resends
//! the conversation so far and adds one new tool output: replay lookups plus one compression)
//! and resends (the same request again: replay lookups only, where the store's cost shows most).
//! Each configuration runs on fresh daemons and a fresh Redis, three times; the median counts.
//!
//! `cargo bench --bench fleet`

#[path = "../tests/common/redis_server.rs"]
mod redis_server;

use headroom_daemon::client::Client;
use headroom_protocol::CompressOptions;
use redis_server::RedisServer;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 8;
const TURNS: usize = 12;
const RESENDS: usize = 40;
const RUNS: usize = 3;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path)).unwrap()
}

/// Connection `c`'s request at `turn`: its own slices of real logs, one more per turn.
fn request(logs: &[String], c: usize, turn: usize) -> Vec<u8> {
    let mut messages = vec![json!({"role": "user", "content": "Why did the jobs fail?"})];
    for t in 0..=turn {
        let log = &logs[(c + t) % logs.len()];
        let output: Vec<&str> = log.lines().skip((c * 131 + t * 53) % 1_500).take(300).collect();
        let id = format!("call_{t}");
        messages.push(json!({"role": "assistant", "tool_calls": [{"id": id, "type": "function", "function": {"name": "read", "arguments": "{}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": output.join("\n")}));
    }
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages})).unwrap()
}

struct Member {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Member {
    fn start(store: Option<&str>) -> Member {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("headroomd.sock");
        let mut command = Command::new(env!("CARGO_BIN_EXE_headroomd"));
        command.arg("--socket").arg(&socket).arg("--state-dir").arg(dir.path().join("state")).args(["--ml-budget-tokens", "0"]);
        if let Some(url) = store {
            command.args(["--store", url]);
        }
        let child = command.spawn().unwrap();
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            std::thread::sleep(Duration::from_millis(10));
        }
        Member { child, socket, _dir: dir }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// Requests per second of the sessions and of the resends, connection `c` on daemon `c % n`.
async fn measure(sockets: &[PathBuf], logs: &[String]) -> (f64, f64) {
    let mut clients = Vec::new();
    for c in 0..CONNECTIONS {
        clients.push(Client::connect(&sockets[c % sockets.len()]).await.unwrap());
    }
    let started = Instant::now();
    let sessions = clients.into_iter().enumerate().map(|(c, mut client)| {
        let requests: Vec<Vec<u8>> = (0..TURNS).map(|t| request(logs, c, t)).collect();
        tokio::spawn(async move {
            for body in requests {
                client.compress(body, CompressOptions::default()).await.unwrap();
            }
            client
        })
    });
    let mut clients = Vec::new();
    for task in sessions.collect::<Vec<_>>() {
        clients.push(task.await.unwrap());
    }
    let session_rate = (CONNECTIONS * TURNS) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let resends: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(c, mut client)| {
            let body = request(logs, c, TURNS - 1);
            tokio::spawn(async move {
                for _ in 0..RESENDS {
                    client.compress(body.clone(), CompressOptions::default()).await.unwrap();
                }
            })
        })
        .collect();
    for task in resends {
        task.await.unwrap();
    }
    (session_rate, (CONNECTIONS * RESENDS) as f64 / started.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let logs: Vec<String> = ["HDFS", "Apache", "OpenSSH", "Zookeeper", "Spark", "Hadoop", "OpenStack"]
        .iter()
        .map(|name| fixture(&format!("logs/{name}_2k.log")))
        .collect();
    let configurations: [(&str, bool, usize); 3] =
        [("one daemon, LMDB", false, 1), ("one daemon, Redis", true, 1), ("two daemons, one Redis", true, 2)];
    let mut results = Vec::new();
    for (name, redis, daemons) in configurations {
        let (mut sessions, mut resends) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let server = redis.then(RedisServer::start);
            let url = server.as_ref().map(RedisServer::url);
            let members: Vec<Member> = (0..daemons).map(|_| Member::start(url.as_deref())).collect();
            let sockets: Vec<PathBuf> = members.iter().map(|m| m.socket.clone()).collect();
            let (s, r) = measure(&sockets, &logs).await;
            sessions.push(s);
            resends.push(r);
        }
        results.push((name, median(sessions), median(resends)));
    }
    let (base_sessions, base_resends) = (results[0].1, results[0].2);
    println!("{CONNECTIONS} connections; sessions of {TURNS} turns, then {RESENDS} resends each; median of {RUNS} runs");
    println!("{:<24} {:>14} {:>8} {:>14} {:>8}", "configuration", "sessions req/s", "ratio", "resends req/s", "ratio");
    for (name, sessions, resends) in results {
        println!("{name:<24} {sessions:>14.1} {:>8.2} {resends:>14.1} {:>8.2}", sessions / base_sessions, resends / base_resends);
    }
}
