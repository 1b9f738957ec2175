//! The savings ledger end to end: compressions and a retrieval counted per model and client,
//! kept across a restart, priced with the configured table, and the same counters in the
//! Prometheus format.

mod common;

use common::*;
use headroom_protocol::*;
use serde_json::Value;
use std::process::Command;

/// `headroom ARGS` against the daemon of `home`, with `config` as its config.toml.
fn headroom(home: &Home, config: &str, args: &[&str]) -> String {
    let path = home.dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_headroom"))
        .args(args)
        .env("HEADROOM_SOCKET", home.socket())
        .env("HEADROOM_CONFIG", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_ledger_counts_net_savings_per_model_and_client_across_a_restart() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let messages = conversation("why did the datanode fail?", "read_log", &fixture("logs/HDFS_2k.log"));
    let options = CompressOptions { model: Some("gpt-4o".into()), client: Some("test-app".into()), ..Default::default() };
    let reply = match call(&mut s, 1, Op::Compress(CompressRequest { messages: messages.clone(), options })).body {
        ReplyBody::Compressed(reply) => reply,
        other => panic!("{other:?}"),
    };
    assert!(reply.tokens_after < reply.tokens_before && reply.retrieve_tool.is_some());
    // A second request without a client name is counted under the connection's Hello name.
    call(&mut s, 2, compress_op(&conversation("and the namenode?", "read_log", &fixture("logs/HDFS_2k.log"))));
    let retrieved = match call(&mut s, 3, Op::Retrieve(RetrieveRequest { key: reply.ccr_keys[0].clone(), query: None })).body {
        ReplyBody::Retrieved(r) => r,
        other => panic!("{other:?}"),
    };
    assert!(retrieved.whole);
    drop(s);
    assert!(daemon.stop().success(), "SIGTERM saves the ledger");

    let daemon = home.start(&[]);
    let prices = "prices = \"gpt-4o=10/40/5/12.5\"\n";
    let report: Value = serde_json::from_str(&headroom(&home, prices, &["savings", "--json", "--since", "all"])).unwrap();
    let t = &report["totals"];
    let n = |v: &Value| v.as_i64().unwrap();
    assert_eq!(n(&t["requests"]), 2);
    assert_eq!((n(&t["retrieves"]), t["retrieve_rate"].as_f64()), (1, Some(0.5)));
    assert!(n(&t["retrieved_tokens"]) > 1_000, "the whole log came back: {t}");
    assert!(n(&t["added_tokens"]) > 0, "the retrieve tool's definition is Headroom's own addition");
    assert_eq!(n(&t["net_saved_tokens"]), n(&t["tokens_before"]) - n(&t["tokens_after"]) - n(&t["retrieved_tokens"]));
    assert_eq!(n(&t["removed_tokens"]), n(&t["tokens_before"]) - n(&t["tokens_after"]) + n(&t["added_tokens"]));
    let clients: Vec<&str> = report["by_client"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(clients.contains(&"test-app") && clients.contains(&"test"), "{clients:?}");
    let gpt = report["by_model"].as_array().unwrap().iter().find(|m| m["name"] == "gpt-4o").unwrap();
    assert_eq!(gpt["price"]["source"], "config");
    // Money: gpt-4o's saved tokens at the configured $10 per million, minus the retrieved tokens
    // at the average input price (only gpt-4o is priced: the other request names no model).
    let expected = (n(&gpt["saved_tokens"]) - n(&t["retrieved_tokens"])) as f64 * 10.0 / 1e6;
    assert!((t["money_saved"].as_f64().unwrap() - expected).abs() < 1e-5, "{} vs {expected}", t["money_saved"]);

    let shown = headroom(&home, prices, &["savings", "--since", "7d", "--by", "client"]);
    assert!(shown.contains("2 requests") && shown.lines().any(|l| l.starts_with("test-app ")), "{shown}");
    let csv = headroom(&home, "", &["savings", "--export", "csv", "--since", "all"]);
    assert!(csv.starts_with("date,requests,") && csv.lines().count() == 2, "{csv}");

    let prometheus = headroom(&home, "", &["stats", "--prometheus"]);
    assert!(prometheus.contains("# TYPE headroom_tokens_before_total counter"), "{prometheus}");
    assert!(prometheus.contains("headroom_retrieves_total{result=\"hit\"} 0\n"), "counters since this start: {prometheus}");
    assert!(daemon.stop().success());
}

#[test]
fn stats_list_large_blocks_left_as_is_by_reason() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let options = CompressOptions { protect_recent: 1, ..Default::default() };
    let request = Op::Compress(CompressRequest { messages: conversation("why?", "read_log", &fixture("logs/Spark_2k.log")), options });
    let ReplyBody::Compressed(reply) = call(&mut s, 2, request).body else { panic!("not compressed") };
    assert_eq!(reply.left_as_is.len(), 1);
    let shown = headroom(&home, "", &["stats"]);
    let line = format!("  protected                1 blocks, {} tokens", reply.left_as_is[0].tokens_before);
    assert!(shown.contains("left as is (blocks of 2000+ tokens), by reason:\n") && shown.contains(&line), "{shown}");
    let prometheus = headroom(&home, "", &["stats", "--prometheus"]);
    assert!(prometheus.contains("headroom_left_as_is_blocks_total{reason=\"protected\"} 1\n"), "{prometheus}");
    assert!(daemon.stop().success());
}
