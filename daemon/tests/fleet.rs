//! A fleet: two daemons sharing one real `redis-server`, a client alternating between them over
//! a 20-turn agent session. Every earlier message must come back byte for byte from whichever
//! daemon serves the next turn, every marker must be retrievable from either, memory facts are
//! shared, and when Redis is killed mid-session the calls keep succeeding.

mod common;
#[path = "common/redis_server.rs"]
mod redis_server;

use common::*;
use headroom_protocol::*;
use redis_server::RedisServer;
use serde_json::{json, Value};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};

/// A daemon of the fleet, its stderr kept in `home`'s `daemon.log`. The timeout is generous so
/// that a loaded machine never makes a live Redis look down; the hung-Redis test sets its own.
fn member(home: &Home, store: &str) -> Daemon {
    member_waiting(home, store, 5_000)
}

fn member_waiting(home: &Home, store: &str, timeout_ms: u32) -> Daemon {
    let child = Command::new(env!("CARGO_BIN_EXE_headroomd"))
        .arg("--socket")
        .arg(home.socket())
        .arg("--state-dir")
        .arg(home.state())
        .args(["--store", store, "--store-timeout-ms", &timeout_ms.to_string()])
        .stderr(Stdio::from(std::fs::File::create(home.dir.path().join("daemon.log")).unwrap()))
        .spawn()
        .unwrap();
    Daemon::adopt(child, home)
}

fn log_of(home: &Home) -> String {
    std::fs::read_to_string(home.dir.path().join("daemon.log")).unwrap()
}

/// Tool outputs of the session: slices of real logs and GitHub API responses, each large enough
/// to be compressed behind a marker.
fn tool_output(turn: usize) -> String {
    const LOGS: [&str; 7] = ["HDFS", "Apache", "OpenSSH", "Zookeeper", "Spark", "Hadoop", "OpenStack"];
    if turn % 5 == 4 {
        return fixture(["github/search-issues.json", "github/paginate-issues.json", "github/labels.json", "github/git-refs.json"][turn / 5 % 4]);
    }
    let log = fixture(&format!("logs/{}_2k.log", LOGS[turn % LOGS.len()]));
    let start = turn * 37 % 1_000;
    log.lines().skip(start).take(500).collect::<Vec<_>>().join("\n")
}

/// The session's request at `turn` (0-based): every earlier turn's call and output, then this one's.
fn request_at(turn: usize) -> Vec<u8> {
    let mut messages = vec![
        json!({"role": "system", "content": "You are an operations agent. Read the logs the user points at."}),
        json!({"role": "user", "content": "Find out why the jobs failed last night."}),
    ];
    for t in 0..=turn {
        let id = format!("call_{t}");
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": "read_output", "arguments": format!("{{\"part\": {t}}}")}}
        ]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": tool_output(t)}));
    }
    serde_json::to_vec(&json!({"model": "gpt-4o", "messages": messages})).unwrap()
}

fn compressed(s: &mut UnixStream, id: u64, body: &[u8]) -> CompressReply {
    match call(s, id, compress_op(body)).body {
        ReplyBody::Compressed(reply) => reply,
        other => panic!("request {id}: {other:?}"),
    }
}

/// Each message of a reply as the exact text sent for it.
fn sent_messages(reply: &CompressReply) -> Vec<String> {
    let body: Value = serde_json::from_slice(&reply.messages).unwrap();
    body["messages"].as_array().unwrap().iter().map(|m| serde_json::to_string(m).unwrap()).collect()
}

fn retrieve(s: &mut UnixStream, id: u64, key: &str) -> Result<String, ErrorCode> {
    match call(s, id, Op::Retrieve(RetrieveRequest { key: key.into(), query: None })).body {
        ReplyBody::Retrieved(reply) => Ok(reply.content),
        ReplyBody::Error(e) => Err(e.code),
        other => panic!("{other:?}"),
    }
}

/// Runs turns `turns` of the session, turn `t` on `daemons[t % 2]`; checks that every earlier
/// message comes back exactly as the previous turn sent it, and returns every marker key seen.
fn alternate(daemons: [&mut UnixStream; 2], turns: std::ops::Range<usize>, previous: &mut Vec<String>) -> Vec<String> {
    let [a, b] = daemons;
    let mut keys = Vec::new();
    for turn in turns {
        let s = if turn % 2 == 0 { &mut *a } else { &mut *b };
        let reply = compressed(s, 100 + turn as u64, &request_at(turn));
        assert!(reply.tokens_after < reply.tokens_before, "turn {turn} compressed");
        let sent = sent_messages(&reply);
        for (i, earlier) in previous.iter().enumerate() {
            assert_eq!(&sent[i], earlier, "turn {turn}: message {i} changed from the previous turn (served by the other daemon)");
        }
        *previous = sent;
        keys.extend(reply.ccr_keys);
    }
    keys
}

#[test]
fn two_daemons_on_one_redis_replay_each_others_bytes_and_answer_each_others_markers() {
    let redis = RedisServer::start();
    let (home_a, home_b) = (Home::new(), Home::new());
    let (daemon_a, daemon_b) = (member(&home_a, &redis.url()), member(&home_b, &redis.url()));
    let (mut a, mut b) = (daemon_a.greeted(), daemon_b.greeted());

    let mut previous = Vec::new();
    let keys = alternate([&mut a, &mut b], 0..20, &mut previous);
    assert!(keys.len() >= 20, "every turn left markers: {}", keys.len());
    for (i, key) in keys.iter().enumerate() {
        let from_a = retrieve(&mut a, 1_000 + i as u64, key).unwrap_or_else(|e| panic!("{key} on A: {e:?}"));
        let from_b = retrieve(&mut b, 2_000 + i as u64, key).unwrap_or_else(|e| panic!("{key} on B: {e:?}"));
        assert!(!from_a.is_empty() && from_a == from_b, "{key}: the same original from either daemon");
    }

    // Memory is shared too: a fact saved through A is found through B, and forgetting it
    // through B removes it for A.
    let scope = MemoryScope { user: "ops".into(), agent: None, session: None };
    let added = call(&mut a, 3_000, Op::MemoryAdd(MemoryAddRequest {
        scope: scope.clone(), text: "The nightly jobs run on the spark-batch cluster".into(), source: None, key: None, valid_from_ms: None,
    }));
    let ReplyBody::MemoryAdded(added) = added.body else { panic!("{added:?}") };
    let search = |s: &mut UnixStream, id| match call(s, id, Op::MemorySearch(MemorySearchRequest {
        scope: scope.clone(), query: "which cluster runs the nightly jobs".into(), as_of_ms: None, limit: 5, budget_tokens: 0,
    })).body {
        ReplyBody::MemoryFacts(found) => found.facts.into_iter().map(|f| f.id).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(search(&mut b, 3_001), vec![added.fact.id.clone()], "B finds what A saved");
    let second = call(&mut b, 3_002, Op::MemoryAdd(MemoryAddRequest {
        scope: scope.clone(), text: "Failed jobs are retried once at 04:00".into(), source: None, key: None, valid_from_ms: None,
    }));
    let ReplyBody::MemoryAdded(second) = second.body else { panic!("{second:?}") };
    assert_ne!(second.fact.id, added.fact.id, "replicas never hand out the same fact id");
    let forgot = call(&mut b, 3_003, Op::MemoryForget(MemoryForgetRequest { scope: scope.clone(), id: Some(added.fact.id.clone()) }));
    assert!(matches!(forgot.body, ReplyBody::MemoryForgotten(MemoryForgetReply { removed: 1 })), "{forgot:?}");
    assert!(!search(&mut a, 3_004).contains(&added.fact.id), "A no longer finds the fact B forgot");

    // The same session on two daemons that share nothing: a marker emitted by one is unknown
    // to the other, which is what the shared store is for.
    let (home_c, home_d) = (Home::new(), Home::new());
    let (daemon_c, daemon_d) = (home_c.start(&[]), home_d.start(&[]));
    let (mut c, mut d) = (daemon_c.greeted(), daemon_d.greeted());
    let first = compressed(&mut c, 1, &request_at(0));
    assert!(!first.ccr_keys.is_empty());
    assert_eq!(retrieve(&mut d, 2, &first.ccr_keys[0]), Err(ErrorCode::NotFound));
}

#[test]
fn when_redis_dies_mid_session_calls_keep_succeeding_from_the_local_store() {
    let mut redis = RedisServer::start();
    let (home_a, home_b) = (Home::new(), Home::new());
    let (daemon_a, daemon_b) = (member(&home_a, &redis.url()), member(&home_b, &redis.url()));
    let (mut a, mut b) = (daemon_a.greeted(), daemon_b.greeted());

    let mut previous = Vec::new();
    let before = alternate([&mut a, &mut b], 0..8, &mut previous);
    redis.kill();
    // Both daemons had served or read turns 0-6 while Redis was up, and keep a copy of what they
    // read: those messages stay byte for byte. Turn 7's output was compressed by B only; A
    // decides it afresh (the provider's cache misses from there once).
    let kept = 2 + 2 * 7;
    let mut after = Vec::new();
    for turn in 8..16 {
        let s = if turn % 2 == 0 { &mut a } else { &mut b };
        let reply = compressed(s, 100 + turn as u64, &request_at(turn));
        assert!(reply.tokens_after < reply.tokens_before, "turn {turn} compressed without Redis");
        assert_eq!(sent_messages(&reply)[..kept], previous[..kept], "turn {turn}: what both daemons had read changed");
        after.extend(reply.ccr_keys);
    }
    assert!(!after.is_empty());
    // Without Redis a marker is answered by the daemon that made it (the other one never read it).
    for (i, key) in before.iter().chain(&after).enumerate() {
        assert!(retrieve(&mut a, 5_000 + i as u64, key).is_ok() || retrieve(&mut b, 6_000 + i as u64, key).is_ok(), "{key}");
    }
    assert!(matches!(call(&mut b, 9_002, Op::Ping).body, ReplyBody::Pong));
    drop((a, b));
    drop((daemon_a, daemon_b));
    for home in [&home_a, &home_b] {
        let log = log_of(home);
        assert_eq!(log.matches("serving from the local store").count(), 1, "the outage is said once:\n{log}");
    }
}

#[test]
fn a_hung_redis_holds_no_request_and_is_used_again_once_it_answers() {
    let redis = RedisServer::start();
    let home = Home::new();
    let daemon = member_waiting(&home, &redis.url(), 200);
    let mut s = daemon.greeted();
    compressed(&mut s, 1, &request_at(0));
    redis.pause();
    // Redis can never answer now: a daemon that waited on it would never reply.
    let reply = compressed(&mut s, 2, &request_at(1));
    let key = reply.ccr_keys.last().unwrap().clone();
    assert_eq!(retrieve(&mut s, 3, &key).map(|o| o.is_empty()), Ok(false), "served from the local store");
    redis.resume();
    std::thread::sleep(headroom_daemon::store::shared::RETRY_AFTER);
    compressed(&mut s, 4, &request_at(2));
    drop(s);
    drop(daemon);
    let log = log_of(&home);
    assert!(log.contains("no answer within 200 ms; serving from the local store"), "{log}");
    assert!(log.contains("answering again"), "{log}");
}
