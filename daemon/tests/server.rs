//! The real daemon over its real socket: the request path end to end, restarts, and every kind
//! of bad input, each answered with a clear error while other connections keep being served.

mod common;

use common::*;
use headroom_daemon::client::Client;
use headroom_protocol::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn compress_retrieve_restart_and_get_the_same_bytes_again() {
    let home = Home::new();
    let request = conversation("why did the datanode fail?", "read_log", &fixture("logs/HDFS_2k.log"));
    let original_log = fixture("logs/HDFS_2k.log");

    let daemon = home.start(&[]);
    let (first, retrieved) = runtime().block_on(async {
        let mut client = Client::connect(&daemon.socket).await.unwrap();
        let reply = client.compress(request.clone(), CompressOptions::default()).await.unwrap();
        let key = reply.ccr_keys.first().expect("the log output carries a marker").clone();
        let retrieved = client.retrieve(&key, None).await.unwrap();
        (reply, retrieved)
    });
    assert!(first.tokens_after * 2 < first.tokens_before, "{} -> {}", first.tokens_before, first.tokens_after);
    assert!(retrieved.whole);
    assert_eq!(retrieved.content, original_log, "the key gives back the exact original");
    let tool: serde_json::Value = serde_json::from_slice(first.retrieve_tool.as_ref().unwrap()).unwrap();
    assert_eq!(tool["function"]["name"], "headroom_retrieve");
    let out: serde_json::Value = serde_json::from_slice(&first.messages).unwrap();
    assert_eq!(out["tools"][0]["function"]["name"], "headroom_retrieve", "the tool is added to a whole request");
    assert!(daemon.stop().success(), "SIGTERM exits 0");

    let daemon = home.start(&[]);
    runtime().block_on(async {
        let mut client = Client::connect(&daemon.socket).await.unwrap();
        let again = client.compress(request.clone(), CompressOptions::default()).await.unwrap();
        assert_eq!(again.messages, first.messages, "same compressed bytes after a restart");
        assert_eq!(again.ccr_keys, first.ccr_keys);
        let retrieved = client.retrieve(&first.ccr_keys[0], None).await.unwrap();
        assert_eq!(retrieved.content, original_log, "same original after a restart");
        let some = client.retrieve(&first.ccr_keys[0], Some("PacketResponder terminating")).await.unwrap();
        assert!(!some.whole);
        assert!(some.content.lines().all(|l| l.starts_with('L') && l.to_lowercase().contains("terminating") || l.to_lowercase().contains("packetresponder")));
        let stats = client.stats().await.unwrap();
        assert!(stats.ccr_entries >= 1 && stats.replay_entries >= 1, "{stats:?}");
        let metrics = client.metrics().await.unwrap();
        assert_eq!((metrics.ccr_hits, metrics.ccr_misses), (2, 0), "{metrics:?}");
        assert_eq!(metrics.all_time_compress_requests, 2, "the first run's totals were saved at shutdown");
        assert!(metrics.all_time_tokens_before > 2 * metrics.all_time_tokens_after);
        assert_eq!(metrics.compressors.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["logs"]);
        assert!(metrics.latency_p50_us > 0 && metrics.latency_p99_us >= metrics.latency_p50_us);
    });
}

#[test]
fn the_socket_is_private_and_a_second_daemon_is_refused_while_a_stale_file_is_replaced() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home.socket()), 0o600);
    assert_eq!(mode(home.socket().parent().unwrap()), 0o700);

    let second = std::process::Command::new(env!("CARGO_BIN_EXE_headroomd"))
        .arg("--socket").arg(home.socket())
        .arg("--state-dir").arg(home.dir.path().join("other-state"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another headroomd is already serving"));
    let mut s = daemon.greeted();
    assert_eq!(call(&mut s, 2, Op::Ping).body, ReplyBody::Pong, "the first daemon is unharmed");

    // A daemon killed without cleanup leaves its socket file behind; the next one replaces it.
    let mut killed = daemon;
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    assert!(home.socket().exists());
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    assert_eq!(call(&mut s, 3, Op::Ping).body, ReplyBody::Pong);
}

#[test]
fn pipelined_requests_are_answered_by_id() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let big = conversation("labels?", "gh", &fixture("github/paginate-issues.json"));
    let mut batch = Vec::new();
    for (id, op) in [(10, compress_op(&big)), (11, Op::Ping), (12, Op::Stats), (13, Op::Ping)] {
        batch.extend(frame(&encode_request(&Request { id, op })));
    }
    s.write_all(&batch).unwrap();
    let mut ids: Vec<u64> = (0..4).map(|_| read_reply(&mut s)).map(|r| {
        match (r.id, &r.body) {
            (10, ReplyBody::Compressed(_)) | (11 | 13, ReplyBody::Pong) | (12, ReplyBody::Stats(_)) => r.id,
            other => panic!("mismatched reply {other:?}"),
        }
    }).collect();
    ids.sort();
    assert_eq!(ids, vec![10, 11, 12, 13]);
}

#[test]
fn bad_input_gets_clear_errors_and_other_connections_keep_working() {
    let home = Home::new();
    let daemon = home.start(&["--max-frame", "4096"]);
    let mut bystander = daemon.greeted();

    // A request before Hello.
    let mut s = connect(&daemon.socket);
    let reply = call(&mut s, 5, Op::Ping);
    let (code, message) = error_of(&reply);
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(message.contains("must be Hello"), "{message}");

    // A wrong protocol version: an error naming both, and the connection stays open.
    let reply = call(&mut s, 6, Op::Hello(Hello { protocol_version: 99, client: "future".into() }));
    let (code, message) = error_of(&reply);
    assert_eq!((reply.id, code), (6, ErrorCode::UnsupportedVersion));
    assert!(message.contains("99") && message.contains(&PROTOCOL_VERSION.to_string()), "{message}");

    let mut s = daemon.greeted();
    // An unknown operation keeps its id.
    s.write_all(&frame(&[77, 42])).unwrap();
    let reply = read_reply(&mut s);
    assert_eq!((reply.id, error_of(&reply).0), (77, ErrorCode::BadRequest));
    assert!(error_of(&reply).1.contains("unknown operation 42"));

    // Garbage inside a well-formed frame.
    s.write_all(&frame(&[0xfd, 0xff, 0xff])).unwrap();
    assert_eq!(error_of(&read_reply(&mut s)).0, ErrorCode::BadFrame);

    // Invalid JSON messages, and JSON that is not a conversation.
    for bad in [&b"[{\"role\": \"user\", "[..], b"{\"x\": 1}", b"\xff\xfe"] {
        let reply = call(&mut s, 8, compress_op(bad));
        assert_eq!(error_of(&reply).0, ErrorCode::BadRequest, "{bad:?}");
    }

    // An unknown key, and a string that is not a key at all.
    let retrieve = |key: &str| Op::Retrieve(RetrieveRequest { key: key.into(), query: None });
    assert_eq!(error_of(&call(&mut s, 9, retrieve("0123456789abcdef01234567"))).0, ErrorCode::NotFound);
    assert_eq!(error_of(&call(&mut s, 9, retrieve("../../etc/passwd"))).0, ErrorCode::BadRequest);

    // An oversized frame is refused with its id, skipped, and the connection goes on.
    let huge = conversation("q", "t", &"x".repeat(10_000));
    let reply = call(&mut s, 300, compress_op(&huge));
    let (code, message) = error_of(&reply);
    assert_eq!((reply.id, code), (300, ErrorCode::TooLarge));
    assert!(message.contains("4096"), "{message}");
    assert_eq!(call(&mut s, 301, Op::Ping), Reply { id: 301, body: ReplyBody::Pong });

    // Raw garbage: the length prefix reads as a huge frame, refused as too large.
    let mut g = connect(&daemon.socket);
    g.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(error_of(&read_reply(&mut g)).0, ErrorCode::TooLarge);

    // A truncated frame: the peer stops sending mid-frame.
    let mut t = connect(&daemon.socket);
    let whole = frame(&encode_request(&Request { id: 1, op: Op::Ping }));
    t.write_all(&whole[..whole.len() - 1]).unwrap();
    t.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(error_of(&read_reply(&mut t)).0, ErrorCode::BadFrame);
    let mut rest = Vec::new();
    t.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "the daemon closes after a truncated frame");

    assert_eq!(call(&mut bystander, 2, Op::Ping).body, ReplyBody::Pong, "the bystander was never disturbed");
    assert!(daemon.stop().success());
}

#[test]
fn a_connection_from_another_uid_is_refused() {
    assert!(nix::unistd::getuid().is_root(), "this test switches uid and must run as root (as CI does)");
    let home = Home::new();
    let daemon = home.start(&[]);
    // Let the other user reach the socket, so the refusal tested is the daemon's own peer check.
    for p in [home.dir.path(), home.socket().parent().unwrap(), home.socket().as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let hello = frame(&encode_request(&Request {
        id: 1,
        op: Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "intruder".into() }),
    }));
    let script = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\ns.sendall(bytes.fromhex(sys.argv[2]))\n\
                  d=b''\nwhile True:\n  c=s.recv(65536)\n  if not c: break\n  d+=c\nsys.stdout.write(d.hex())";
    use std::os::unix::process::CommandExt;
    let hex: String = hello.iter().map(|b| format!("{b:02x}")).collect();
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(home.socket())
        .arg(hex)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes: Vec<u8> = (0..out.stdout.len() / 2)
        .map(|i| u8::from_str_radix(std::str::from_utf8(&out.stdout[2 * i..2 * i + 2]).unwrap(), 16).unwrap())
        .collect();
    let reply = decode_reply(&bytes[4..]).unwrap();
    let (code, message) = error_of(&reply);
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(message.contains("uid 65534"), "{message}");

    let mut s = daemon.greeted();
    assert_eq!(call(&mut s, 2, Op::Ping).body, ReplyBody::Pong);
}

#[test]
fn shutdown_finishes_requests_already_received() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let big = conversation("errors?", "read_log", &fixture("logs/OpenStack_2k.log"));
    send(&mut s, 40, compress_op(&big));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let pid = nix::unistd::Pid::from_raw(daemon.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let reply = read_reply(&mut s);
    assert_eq!(reply.id, 40);
    assert!(matches!(reply.body, ReplyBody::Compressed(_)), "{reply:?}");
    assert!(daemon.stop().success());
    assert!(!home.socket().exists(), "the socket file is removed on exit");
}
