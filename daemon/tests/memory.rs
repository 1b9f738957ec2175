//! Memory (docs/memory.md): supersession and as-of queries, scope isolation, restart
//! persistence, dedup, budgets, forgetting, a corrupt record, and facts on the request path
//! (a fact saved in conversation A shows up in conversation B; earlier turns never change).

mod common;

use common::{call, error_of, Home};
use headroom_daemon::app::App;
use headroom_daemon::config::Settings;
use headroom_daemon::{Engine, Stores};
use headroom_protocol::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const DAY: u64 = 86_400_000;

/// The application core over a store in `dir`: memory operations and compression with memory.
fn engine(dir: &Path) -> App {
    App::new(Engine::new(Stores::open(dir, 64 << 20).unwrap(), Duration::from_secs(7 * 86_400)), Settings::default())
}

fn scope(user: &str, agent: Option<&str>, session: Option<&str>) -> MemoryScope {
    MemoryScope { user: user.into(), agent: agent.map(Into::into), session: session.map(Into::into) }
}

fn add(e: &App, scope: &MemoryScope, text: &str) -> MemoryAddReply {
    e.memory_add(&MemoryAddRequest { scope: scope.clone(), text: text.into(), source: None, key: None, valid_from_ms: None }).unwrap()
}

fn add_at(e: &App, scope: &MemoryScope, text: &str, valid_from_ms: u64) -> MemoryAddReply {
    let request = MemoryAddRequest { scope: scope.clone(), text: text.into(), source: None, key: None, valid_from_ms: Some(valid_from_ms) };
    e.memory_add(&request).unwrap()
}

fn search(e: &App, scope: &MemoryScope, query: &str, as_of_ms: Option<u64>) -> Vec<String> {
    let request = MemorySearchRequest { scope: scope.clone(), query: query.into(), as_of_ms, limit: 0, budget_tokens: 0 };
    e.memory_search(&request).unwrap().into_iter().map(|f| f.text).collect()
}

fn list(e: &App, scope: &MemoryScope, superseded: bool, narrower: bool) -> Vec<MemoryFact> {
    let request = MemoryListRequest { scope: scope.clone(), as_of_ms: None, include_superseded: superseded, include_narrower: narrower };
    e.memory_list(&request).unwrap()
}

#[test]
fn a_new_value_supersedes_the_old_one_and_the_past_stays_answerable() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let team = scope("ada", Some("billing"), None);
    let (march, june) = (1_772_323_200_000, 1_780_272_000_000); // 2026-03-01, 2026-06-01
    let old = add_at(&e, &team, "The deploy target is us-east-1.", march);
    let new = add_at(&e, &team, "The deploy target is eu-west-1.", june);
    assert_eq!(new.superseded, vec![old.fact.id.clone()]);
    assert_eq!(new.fact.key.as_deref(), Some("deploy target"));

    assert_eq!(search(&e, &team, "where is the deploy target?", None), vec!["The deploy target is eu-west-1."]);
    assert_eq!(search(&e, &team, "deploy target", Some(march + 10 * DAY)), vec!["The deploy target is us-east-1."]);
    assert!(search(&e, &team, "deploy target", Some(march - DAY)).is_empty(), "nothing was true before March");

    let history = list(&e, &team, true, false);
    let closed = history.iter().find(|f| f.id == old.fact.id).unwrap();
    assert_eq!((closed.valid_to_ms, closed.superseded_by.as_deref()), (Some(june), Some(new.fact.id.as_str())));
    assert_eq!(list(&e, &team, false, false).len(), 1, "only the current fact is listed by default");

    // Single-word subjects do not exclude each other; both facts stay current.
    add(&e, &team, "Rust is fast");
    let safe = add(&e, &team, "Rust is safe");
    assert!(safe.superseded.is_empty());
    // An explicit key supersedes even without a sentence shape.
    let a = e.memory_add(&MemoryAddRequest { scope: team.clone(), text: "on-call: Grace".into(), source: None, key: Some("on call".into()), valid_from_ms: None }).unwrap();
    let b = e.memory_add(&MemoryAddRequest { scope: team.clone(), text: "Linus carries the pager".into(), source: None, key: Some("On  Call".into()), valid_from_ms: None }).unwrap();
    assert_eq!(b.superseded, vec![a.fact.id]);
}

#[test]
fn forgetting_a_correction_gives_the_old_value_back_its_validity() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let s = scope("ada", None, None);
    add_at(&e, &s, "The staging database host is db-1.", 1_000 * DAY);
    let wrong = add_at(&e, &s, "The staging database host is db-9.", 1_001 * DAY);
    let removed = e.memory_forget(&MemoryForgetRequest { scope: s.clone(), id: Some(wrong.fact.id) }).unwrap();
    assert_eq!(removed, 1);
    assert_eq!(search(&e, &s, "staging database host", None), vec!["The staging database host is db-1."]);
}

#[test]
fn scopes_never_leak_into_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    add(&e, &scope("ada", None, None), "Ada writes tests in pytest quartz");
    add(&e, &scope("ada", Some("billing"), None), "billing invoices use quartz templates");
    add(&e, &scope("ada", Some("billing"), Some("s1")), "session one quartz draft");
    add(&e, &scope("ada", Some("search"), None), "search ranking quartz weights");
    add(&e, &scope("bob", None, None), "Bob quartz secret");

    let mut seen = search(&e, &scope("ada", Some("billing"), Some("s1")), "quartz", None);
    seen.sort();
    assert_eq!(seen, vec!["Ada writes tests in pytest quartz", "billing invoices use quartz templates", "session one quartz draft"]);
    assert_eq!(search(&e, &scope("ada", Some("billing"), Some("s2")), "quartz", None).len(), 2);
    assert_eq!(search(&e, &scope("ada", None, None), "quartz", None), vec!["Ada writes tests in pytest quartz"]);
    assert_eq!(search(&e, &scope("bob", Some("billing"), None), "quartz", None), vec!["Bob quartz secret"]);
    assert_eq!(list(&e, &scope("ada", None, None), false, true).len(), 4, "narrower: everything under ada");

    // Forgetting a scope removes it and what is under it, and nothing else.
    let forgot = e.memory_forget(&MemoryForgetRequest { scope: scope("ada", Some("billing"), None), id: None }).unwrap();
    assert_eq!(forgot, 2);
    assert_eq!(list(&e, &scope("ada", None, None), false, true).len(), 2);
    // A fact of another scope cannot be forgotten through this one.
    let bob = list(&e, &scope("bob", None, None), false, false)[0].id.clone();
    let err = e.memory_forget(&MemoryForgetRequest { scope: scope("ada", None, None), id: Some(bob) }).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[test]
fn near_duplicates_are_stored_once_and_budgets_bound_results() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let s = scope("ada", None, None);
    let first = add(&e, &s, "The user prefers dark mode.");
    let again = add(&e, &s, "user prefers DARK mode");
    assert!(again.duplicate);
    assert_eq!(again.fact.id, first.fact.id);
    assert!(!add(&e, &scope("ada", Some("x"), None), "The user prefers dark mode.").duplicate, "another scope keeps its own copy");
    assert_eq!(list(&e, &s, true, false).len(), 1);

    for i in 0..30 {
        add(&e, &s, &format!("Service number {i} listens on port {} behind the gateway", 8000 + i));
    }
    let request = |limit, budget_tokens| MemorySearchRequest { scope: s.clone(), query: "port gateway".into(), as_of_ms: None, limit, budget_tokens };
    assert_eq!(e.memory_search(&request(0, 0)).unwrap().len(), 10, "default limit");
    assert_eq!(e.memory_search(&request(50, 0)).unwrap().len(), 30);
    let bounded = e.memory_search(&request(50, 40)).unwrap();
    let spent: usize = bounded.iter().map(|f| tiktoken_rs::o200k_base_singleton().encode_ordinary(&f.text).len()).sum();
    assert!(!bounded.is_empty() && spent <= 40, "{} facts, {spent} tokens", bounded.len());
}

#[test]
fn bad_memory_requests_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let bad_request = |r: Result<MemoryAddReply, headroom_daemon::EngineError>| {
        let err = r.unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
        err.message
    };
    let req = |scope: MemoryScope, text: &str| MemoryAddRequest { scope, text: text.into(), source: None, key: None, valid_from_ms: None };
    assert!(bad_request(e.memory_add(&req(scope("", None, None), "x"))).contains("needs a user"));
    assert!(bad_request(e.memory_add(&req(scope("ada", Some(" "), None), "x"))).contains("agent"));
    assert!(bad_request(e.memory_add(&req(scope("ada", None, None), "  "))).contains("needs text"));
    assert!(bad_request(e.memory_add(&req(scope("ada", None, None), &"x".repeat(9000)))).contains("at most"));
    let err = e.memory_forget(&MemoryForgetRequest { scope: scope("ada", None, None), id: Some("nope".into()) }).unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
}

#[test]
fn a_corrupt_record_is_skipped_and_left_in_place() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = engine(dir.path());
        add(&e, &scope("ada", None, None), "The build server is ci-7.");
    }
    {
        let stores = Stores::open(dir.path(), 64 << 20).unwrap();
        stores.memory_write(&[(999, b"\xff\xfenot a fact".to_vec())], &[], None).unwrap();
    }
    let e = engine(dir.path());
    assert_eq!(search(&e, &scope("ada", None, None), "build server", None), vec!["The build server is ci-7."]);
    let next = add(&e, &scope("ada", None, None), "The release branch is main.");
    assert_eq!(next.fact.id, "00000000000003e8", "new ids go past the unreadable record's");
    drop(e);
    let stores = Stores::open(dir.path(), 64 << 20).unwrap();
    assert!(stores.memory_all().unwrap().0.contains(&(999, b"\xff\xfenot a fact".to_vec())), "the unreadable record is kept");
}

/// A chat request: earlier turns, then the latest user question.
fn chat(turns: &[(&str, &str)]) -> Vec<u8> {
    let messages: Vec<Value> = turns.iter().map(|(role, content)| json!({"role": role, "content": content})).collect();
    serde_json::to_vec(&json!({"model": "gpt-5", "messages": messages})).unwrap()
}

fn memory_options(scope: MemoryScope, tools: bool) -> CompressOptions {
    CompressOptions { memory: Some(MemoryOptions { scope, budget_tokens: 0, tools }), ..Default::default() }
}

fn messages_of(reply: &CompressReply) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&reply.messages).unwrap();
    v["messages"].as_array().unwrap().clone()
}

#[test]
fn facts_from_one_conversation_reach_the_next_and_earlier_turns_never_change() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let agent = scope("ada", Some("ops"), None);
    // Conversation A: the model saved a fact (its client answered memory_save with MemoryAdd).
    add(&e, &agent, "The staging cluster runs Kubernetes 1.31 in eu-west-1.");

    // Conversation B, session b, turn 1.
    let in_b = scope("ada", Some("ops"), Some("b"));
    let turn1 = chat(&[("system", "You are an ops assistant."), ("user", "Which Kubernetes version does staging run?")]);
    let r1 = e.compress(&turn1, &memory_options(in_b.clone(), true)).unwrap();
    assert_eq!(r1.memories, 1);
    let m1 = messages_of(&r1);
    let asked = m1[1]["content"].as_str().unwrap();
    assert!(asked.starts_with("<memory>\n- The staging cluster runs Kubernetes 1.31 in eu-west-1. (since "), "{asked}");
    assert!(asked.ends_with("</memory>\n\nWhich Kubernetes version does staging run?"));
    assert_eq!(m1[0], json!({"role": "system", "content": "You are an ops assistant."}), "the cached prefix is untouched");
    let tools: Value = serde_json::from_slice(r1.memory_tools.as_ref().unwrap()).unwrap();
    assert_eq!(tools[0]["function"]["name"], "memory_save");
    let body: Value = serde_json::from_slice(&r1.messages).unwrap();
    assert_eq!(body["tools"][1]["function"]["name"], "memory_search", "a whole request gets the tools appended");

    // A new fact arrives, then turn 2: turn 1's message is re-sent byte for byte.
    add(&e, &agent, "Staging nodes are scaled to 12 on Mondays for load tests.");
    let turn2 = chat(&[
        ("system", "You are an ops assistant."),
        ("user", "Which Kubernetes version does staging run?"),
        ("assistant", "1.31."),
        ("user", "How many staging nodes run on Mondays?"),
    ]);
    let r2 = e.compress(&turn2, &memory_options(in_b.clone(), true)).unwrap();
    let m2 = messages_of(&r2);
    assert_eq!(m2[1], m1[1], "an earlier turn keeps the block it was first sent with");
    let text2 = m2[3]["content"].as_str().unwrap();
    assert!(text2.contains("scaled to 12 on Mondays"), "{text2}");
    let end_of_turn1 = find(&r1.messages, b"run?\"}") + 6;
    assert!(r2.messages.starts_with(&r1.messages[..end_of_turn1]), "what the provider cached is a byte-for-byte prefix of the next request");

    // Without memory options nothing is added; a frozen latest message is left alone.
    assert_eq!(e.compress(&turn2, &CompressOptions::default()).unwrap().messages, turn2);
    let frozen = CompressOptions { frozen: 4, ..memory_options(in_b, false) };
    let r3 = e.compress(&turn2, &frozen).unwrap();
    assert_eq!(r3.memories, 0);
    assert!(r3.memory_tools.is_none());
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn forgetting_a_fact_removes_it_from_recorded_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path());
    let s = scope("ada", None, None);
    let secret = add(&e, &s, "The vault passphrase hint is a blue heron.");
    let turn1 = chat(&[("user", "What is the vault passphrase hint?")]);
    let r1 = e.compress(&turn1, &memory_options(s.clone(), false)).unwrap();
    assert!(String::from_utf8_lossy(&r1.messages).contains("blue heron"));
    e.memory_forget(&MemoryForgetRequest { scope: s.clone(), id: Some(secret.fact.id) }).unwrap();
    let turn2 = chat(&[("user", "What is the vault passphrase hint?"), ("assistant", "A heron."), ("user", "thanks")]);
    let r2 = e.compress(&turn2, &memory_options(s, false)).unwrap();
    assert!(!String::from_utf8_lossy(&r2.messages).contains("blue heron"));
}

#[test]
fn memory_survives_a_daemon_restart_through_the_socket() {
    let home = Home::new();
    let op_add = Op::MemoryAdd(MemoryAddRequest {
        scope: scope("ada", Some("ops"), None),
        text: "The pager rotation changes on Thursdays.".into(),
        source: Some("conversation A".into()),
        key: None,
        valid_from_ms: None,
    });
    let search_op = || {
        Op::MemorySearch(MemorySearchRequest { scope: scope("ada", Some("ops"), Some("z")), query: "pager rotation".into(), as_of_ms: None, limit: 5, budget_tokens: 0 })
    };
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let added = match call(&mut s, 2, op_add).body {
        ReplyBody::MemoryAdded(r) => r,
        other => panic!("{other:?}"),
    };
    drop(s);
    daemon.stop();

    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    match call(&mut s, 3, search_op()).body {
        ReplyBody::MemoryFacts(r) => {
            assert_eq!(r.facts.len(), 1);
            assert_eq!(r.facts[0].id, added.fact.id);
            assert_eq!(r.facts[0].source.as_deref(), Some("conversation A"));
            assert!(r.facts[0].score > 0.0);
        }
        other => panic!("{other:?}"),
    }
    let bad = call(&mut s, 4, Op::MemoryList(MemoryListRequest { scope: scope("", None, None), as_of_ms: None, include_superseded: false, include_narrower: false }));
    assert_eq!(error_of(&bad).0, ErrorCode::BadRequest);
    match call(&mut s, 5, Op::MemoryForget(MemoryForgetRequest { scope: scope("ada", None, None), id: None })).body {
        ReplyBody::MemoryForgotten(r) => assert_eq!(r.removed, 1),
        other => panic!("{other:?}"),
    }
    daemon.stop();
}

#[test]
fn the_memory_command_adds_searches_lists_exports_and_forgets() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let headroom = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
            .arg("--socket")
            .arg(&daemon.socket)
            .arg("memory")
            .args(args)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let ada = ["--user", "ada", "--agent", "ops"];
    let first = headroom(&[&["add", "The primary region is us-east-1.", "--valid-from", "2026-03-01"][..], &ada].concat());
    assert!(first.0 && first.1.starts_with("saved as fact "), "{first:?}");
    let second = headroom(&[&["add", "The primary region is eu-west-1.", "--valid-from", "2026-06-01"][..], &ada].concat());
    assert!(second.1.contains("; it replaces "), "{second:?}");

    let now = headroom(&[&["search", "primary region"][..], &ada].concat());
    assert!(now.1.contains("ada/ops/-  The primary region is eu-west-1.  (since 2026-06-01)"), "{now:?}");
    let then = headroom(&[&["search", "primary region", "--as-of", "2026-04-15", "--json"][..], &ada].concat());
    let fact: Value = serde_json::from_str(then.1.lines().next().unwrap()).unwrap();
    assert_eq!(fact["text"], "The primary region is us-east-1.");
    assert_eq!(fact["valid_to_ms"], 1_780_272_000_000u64);

    assert_eq!(headroom(&[&["list"][..], &ada].concat()).1.lines().count(), 1);
    let export = headroom(&["export", "--user", "ada"]);
    assert_eq!(export.1.lines().filter(|l| serde_json::from_str::<Value>(l).is_ok()).count(), 2, "{export:?}");

    let refused = headroom(&[&["forget"][..], &ada].concat());
    assert!(!refused.0 && refused.2.contains("--id"), "forgetting a whole scope needs --all: {refused:?}");
    let bad_date = headroom(&[&["list", "--as-of", "June"][..], &ada].concat());
    assert!(!bad_date.0 && bad_date.2.contains("is not a date"), "{bad_date:?}");
    assert_eq!(headroom(&[&["forget", "--all"][..], &ada].concat()).1, "forgot 2 fact(s)\n");
    assert_eq!(headroom(&["export", "--user", "ada"]).1, "");
}
