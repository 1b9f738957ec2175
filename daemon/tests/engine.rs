//! The engine's invariants (docs/architecture.md §3) on real fixtures: never larger, deterministic, every
//! marker retrievable, untouched bytes identical, hot zone left alone, and a multi-turn session
//! whose earlier messages never change — across a restart too.

mod common;

use common::{conversation, fixture};
use headroom_daemon::request::marker;
use headroom_daemon::request::spans::{parse, Node};
use headroom_daemon::{Compressor, Engine, Stores};
use headroom_protocol::{CompressOptions, ErrorCode};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

fn engine(dir: &Path) -> Engine {
    Engine::new(Stores::open(dir, 64 << 20).unwrap(), Duration::from_secs(7 * 86_400))
}

/// Tool outputs from every fixture kind, as a tool would return them.
fn tool_outputs() -> Vec<(&'static str, String)> {
    let issues: Vec<Value> = serde_json::from_str::<Vec<Value>>(&fixture("github/paginate-issues.json"))
        .unwrap()
        .into_iter()
        .filter_map(|r| r["response"].as_array().cloned())
        .flatten()
        .collect();
    vec![
        ("hdfs", fixture("logs/HDFS_2k.log")),
        ("openssh", fixture("logs/OpenSSH_2k.log")),
        ("apache", fixture("logs/Apache_2k.log")),
        ("issues", serde_json::to_string_pretty(&issues).unwrap()),
        ("git-refs", fixture("github/git-refs.json")),
        ("diff", fixture("diffs/octokit-fixtures-5946840.diff")),
    ]
}

fn tokens(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len()
}

fn last_tool_content(messages: &[u8]) -> String {
    let v: Value = serde_json::from_slice(messages).unwrap();
    v["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().to_string()
}

#[test]
fn never_larger_deterministic_and_every_marker_gives_back_the_original() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (engine(a.path()), engine(b.path()));
    for (name, output) in tool_outputs() {
        let request = conversation("Which errors happened, and where?", "tool", &output);
        let reply = first.compress(&request, &CompressOptions::default()).unwrap();
        let again = second.compress(&request, &CompressOptions::default()).unwrap();
        assert_eq!(reply.messages, again.messages, "{name}: same input, same bytes");
        let compressed = last_tool_content(&reply.messages);
        assert!(tokens(&compressed) <= tokens(&output), "{name}: larger than the original");
        assert!(reply.tokens_after <= reply.tokens_before, "{name}");
        for key in marker::keys_in(&compressed) {
            let got = first.retrieve(&key, None, headroom_daemon::clock::now_ms()).unwrap();
            assert_eq!(got.content, output, "{name}: key {key} does not give back the original");
        }
        assert_eq!(reply.ccr_keys, marker::keys_in(&compressed), "{name}");
    }
}

#[test]
fn bytes_outside_compressed_blocks_leave_exactly_as_they_came() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let log = fixture("logs/HDFS_2k.log");
    // Odd spacing, escapes and key order that a re-serialiser would change.
    let request = format!(
        "{{ \"model\" : \"gpt-4o\",\n \"messages\":[ {{\"role\":\"system\", \"content\":\"caf\\u00e9 \\/ rules\"}},\n\
         {{\"content\": \"Why did HDFS fail?\" , \"role\":\"user\"}},\n\
         {{\"role\":\"assistant\",\"tool_calls\":[{{\"id\":\"c1\",\"type\":\"function\",\"function\":{{\"name\":\"read_log\",\"arguments\":\"{{}}\"}}}}]}},\n\
         {{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":{}}} ],\n  \"temperature\" : 0.0 ,\"tools\" : [ ] }}\n",
        serde_json::to_string(&log).unwrap()
    );
    let reply = engine.compress(request.as_bytes(), &CompressOptions::default()).unwrap();
    let out = String::from_utf8(reply.messages).unwrap();
    let compressed: Value = serde_json::from_str(&out).unwrap();
    let new_content = compressed["messages"][3]["content"].as_str().unwrap();
    assert!(new_content.len() < log.len() / 5);
    let tool = serde_json::to_string(&reply.retrieve_tool.map(|t| String::from_utf8(t).unwrap()).unwrap()).unwrap();
    let tool: String = serde_json::from_str(&tool).unwrap();
    let expected = request
        .replace(&serde_json::to_string(&log).unwrap(), &serde_json::to_string(new_content).unwrap())
        .replace("\"tools\" : [ ]", &format!("\"tools\" : [{tool}]"));
    assert_eq!(out, expected);
}

#[test]
fn the_hot_zone_is_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let log = fixture("logs/Zookeeper_2k.log");
    let request = json!({"system": "s", "messages": [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": log, "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": log.clone(), "signature": "sig"},
                                          {"type": "tool_use", "id": "b", "name": "read", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "b", "content": log}]},
        {"role": "user", "content": log.clone()}
    ]});
    let bytes = serde_json::to_vec(&request).unwrap();
    let reply = engine.compress(&bytes, &CompressOptions::default()).unwrap();
    let out: Value = serde_json::from_slice(&reply.messages).unwrap();
    let m = &out["messages"];
    assert_eq!(m[2]["content"][0]["content"], log, "cache_control block untouched");
    assert_eq!(m[3]["content"][0]["thinking"], log, "thinking untouched");
    assert_ne!(m[4]["content"][0]["content"], log, "an ordinary tool result is compressed");
    assert_eq!(m[5]["content"], log, "the latest user message untouched");

    // Frozen messages are untouched; the protected tail is sent as is and stays so.
    let options = CompressOptions { frozen: 5, ..Default::default() };
    let fresh = tempfile::tempdir().unwrap();
    let reply = self::engine(fresh.path()).compress(&bytes, &options).unwrap();
    assert_eq!(reply.messages, bytes);
}

#[test]
fn a_block_first_seen_protected_stays_as_it_was_sent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let log = fixture("logs/Spark_2k.log");
    let request = conversation("what happened?", "read_log", &log);
    let protected = engine.compress(&request, &CompressOptions { protect_recent: 1, ..Default::default() }).unwrap();
    assert_eq!(last_tool_content(&protected.messages), log);
    let later = engine.compress(&request, &CompressOptions::default()).unwrap();
    assert_eq!(last_tool_content(&later.messages), log, "first seen protected, sent as is forever");
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    for bad in [&b"not json"[..], b"{\"messages\": 3}", b"[1,2,3]", b"\"just text\"", b"[{\"role\":\"user\",\"content\":\"\xff\"}]"] {
        let err = engine.compress(bad, &CompressOptions::default()).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest, "{bad:?}");
    }
    for ratio in [f32::NAN, 0.0, -1.0, 1.5, f32::INFINITY] {
        let options = CompressOptions { target_ratio: Some(ratio), ..Default::default() };
        let err = engine.compress(&conversation("q", "t", "x"), &options).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest, "{ratio}");
        assert!(err.message.contains("target_ratio"), "{}", err.message);
    }
    let now = headroom_daemon::clock::now_ms();
    assert_eq!(engine.retrieve("0123456789abcdef01234567", None, now).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(engine.retrieve("nope", None, now).unwrap_err().code, ErrorCode::BadRequest);
}

#[test]
fn an_expired_original_answers_expired_with_a_terminal_message() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::new(Stores::open(dir.path(), 64 << 20).unwrap(), Duration::from_secs(60));
    let reply = engine.compress(&conversation("q", "t", &fixture("logs/HDFS_2k.log")), &CompressOptions::default()).unwrap();
    let key = &reply.ccr_keys[0];
    let later = headroom_daemon::clock::now_ms() + 3_600_000;
    let err = engine.retrieve(key, None, later).unwrap_err();
    assert_eq!(err.code, ErrorCode::Expired);
    assert!(err.message.contains("re-run the tool"), "{}", err.message);
}

/// Raw bytes of each message of a compressed request.
fn message_bytes(out: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(out).unwrap();
    let root = parse(text).unwrap();
    let messages: &[Node] = root.get("messages").unwrap().as_array().unwrap();
    messages.iter().map(|m| text[m.span.clone()].to_string()).collect()
}

#[test]
fn a_thirty_turn_session_never_changes_what_it_already_sent_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let outputs = tool_outputs();
    let mut history: Vec<Value> = vec![json!({"role": "system", "content": "You are an agent."})];
    let mut sent_before: Vec<String> = Vec::new();
    let mut engine = engine(dir.path());
    for turn in 0..30 {
        if turn == 15 {
            // The daemon restarts mid-session: the old one closes its stores before the new opens.
            drop(engine);
            engine = self::engine(dir.path());
        }
        let (name, output) = &outputs[turn % outputs.len()];
        // Each turn's output differs a little, as real tool output does.
        let output = format!("{output}\n# turn {turn}\n");
        history.push(json!({"role": "user", "content": format!("Turn {turn}: look at {name}")}));
        history.push(json!({"role": "assistant", "tool_calls": [{"id": format!("c{turn}"), "type": "function",
            "function": {"name": "read", "arguments": format!("{{\"path\": \"{name}\"}}")}}]}));
        history.push(json!({"role": "tool", "tool_call_id": format!("c{turn}"), "content": output}));
        let request = serde_json::to_vec(&json!({"model": "gpt-4o", "messages": history})).unwrap();
        let reply = engine.compress(&request, &CompressOptions::default()).unwrap();
        let sent = message_bytes(&reply.messages);
        assert_eq!(&sent[..sent_before.len()], &sent_before[..], "turn {turn} changed what was sent before");
        assert!(reply.tokens_after < reply.tokens_before, "turn {turn} saved nothing");
        sent_before = sent;
    }
}

#[test]
fn output_sent_back_is_not_compressed_again_and_its_markers_still_bring_the_tool() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let request = conversation("what failed?", "read_log", &fixture("logs/HDFS_2k.log"));
    let first = engine.compress(&request, &CompressOptions::default()).unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let elsewhere = self::engine(fresh.path());
    let again = elsewhere.compress(&first.messages, &CompressOptions::default()).unwrap();
    assert_eq!(again.messages, first.messages, "compressed output is left as it is");
    assert_eq!(again.ccr_keys, first.ccr_keys, "its markers are reported");
    assert!(again.retrieve_tool.is_some());
}

#[test]
fn a_request_whose_savings_do_not_pay_for_the_retrieve_tool_goes_out_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    // A small listing: shortening its run of data files saves fewer tokens than the
    // headroom_retrieve definition its marker would need.
    let mut listing = String::from("/p:\nsrc  data\n\n/p/src:\nmain.py\n\n/p/data:\n");
    listing.push_str(&(0..16).map(|i| format!("s{i:02}.fits")).collect::<Vec<_>>().join("  "));
    listing.push_str("\n\n/p/docs:\nindex.md\n");
    let ctx = headroom_daemon::Context { key: "0123456789abcdef01234567", ..Default::default() };
    let shorter = headroom_daemon::compressors::listing::Listing.compress(&listing, &ctx).expect("the listing compresses");
    assert!(tokens(&shorter) < tokens(&listing) && shorter.contains("hash="));
    let request = conversation("what is in the data folder?", "ls", &listing);
    let reply = engine.compress(&request, &CompressOptions::default()).unwrap();
    assert_eq!(reply.messages, request, "untouched");
    assert!(reply.retrieve_tool.is_none() && reply.ccr_keys.is_empty());
    assert_eq!(reply.tokens_after, reply.tokens_before);
    // A large output pays for the tool, and the tool's tokens are counted.
    let big = conversation("what failed?", "read_log", &fixture("logs/HDFS_2k.log"));
    let reply = engine.compress(&big, &CompressOptions::default()).unwrap();
    let definition = String::from_utf8(reply.retrieve_tool.clone().unwrap()).unwrap();
    assert!(reply.tokens_after as usize > tokens(&last_tool_content(&reply.messages)) + tokens(&definition) - 10);
}

#[test]
fn large_blocks_sent_unchanged_are_reported_with_their_reason_and_small_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let log = fixture("logs/Spark_2k.log");
    let request = conversation("what happened?", "read_log", &log);
    let protected = engine.compress(&request, &CompressOptions { protect_recent: 1, ..Default::default() }).unwrap();
    let reasons: Vec<(&str, u32)> = protected.left_as_is.iter().map(|c| (c.name.as_str(), c.blocks)).collect();
    assert_eq!(reasons, vec![("protected", 1)]);
    assert_eq!(protected.left_as_is[0].tokens_before, protected.tokens_before);
    assert!(protected.tokens_before >= 2_000);
    // The decision is replayed, and so is its reason.
    let again = engine.compress(&request, &CompressOptions::default()).unwrap();
    assert_eq!(again.left_as_is, protected.left_as_is);

    // One long line of unrelated words: no lines, no structure, nothing repeated.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let noise: String = (0..3_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            format!("{:x} ", state % 0xff_ffff)
        })
        .collect();
    let reply = engine.compress(&conversation("what is this?", "read_blob", &noise), &CompressOptions::default()).unwrap();
    let reasons: Vec<(&str, u32)> = reply.left_as_is.iter().map(|c| (c.name.as_str(), c.blocks)).collect();
    assert_eq!(reasons, vec![("no compressor fits", 1)], "compressors: {:?}", reply.compressors);
    let small = engine.compress(&conversation("and this?", "read_blob", &noise[..2_000]), &CompressOptions::default()).unwrap();
    assert!(small.left_as_is.is_empty(), "blocks under 2,000 tokens are not listed: {:?}", small.left_as_is);
}

/// The reports Claude Code's `Task` sub-agents returned in a real session
/// (tests/fixtures/agent-logs/claude-code, Apache-2.0): long Markdown written for the agent.
fn sub_agent_reports() -> Vec<String> {
    common::jsonl_fixture("agent-logs/claude-code/session-9eda1058.jsonl")
        .into_iter()
        .flat_map(|entry| entry["message"]["content"].as_array().cloned().unwrap_or_default())
        .filter(|block| block["type"] == "tool_result" && block["content"].is_array())
        .map(|block| block["content"].as_array().unwrap().iter().filter_map(|part| part["text"].as_str()).collect::<Vec<_>>().join("\n"))
        .collect()
}

#[test]
fn a_sub_agents_report_goes_to_the_agent_whole_and_says_why() {
    let reports = sub_agent_reports();
    assert_eq!(reports.len(), 2);
    // Decisions are replayed by content, so each tool gets an engine of its own.
    let fresh = |tool: &str, report: &str| {
        let dir = tempfile::tempdir().unwrap();
        engine(dir.path()).compress(&conversation("what else?", tool, report), &CompressOptions::default()).unwrap()
    };
    for report in &reports {
        assert!(tokens(report) >= 2_000);
        // The same Markdown read from a file is shortened: what the rule keeps is not nothing.
        let read = fresh("read_file", report);
        assert!(read.tokens_after < read.tokens_before, "a file read of the report compresses");
        for tool in ["Task", "Agent", "run_subagent"] {
            let reply = fresh(tool, report);
            assert_eq!(last_tool_content(&reply.messages), *report, "{tool}");
            let reasons: Vec<&str> = reply.left_as_is.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(reasons, vec!["a sub-agent's report"], "{tool}");
        }
    }
}
