//! Hardening: what a hostile request, a damaged store, concurrent growth of the store's map, a
//! closed stderr or another local user could do to the daemon, each reproduced and held.

mod common;

use common::*;
use headroom_daemon::engine::Engine;
use headroom_daemon::store::Stores;
use headroom_protocol::*;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn deep_nesting_over_the_socket_is_a_bad_request_and_the_daemon_lives() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let reply = call(&mut s, 2, compress_op(deep.as_bytes()));
    let (code, message) = error_of(&reply);
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(message.contains("nest deeper"), "{message}");
    // Deep JSON inside a tool output is text, not structure: compressed or passed, never a crash.
    let nested_output = format!("{{\"a\":{}}}", "[".repeat(5_000) + &"]".repeat(5_000));
    let reply = call(&mut s, 3, compress_op(&conversation("why?", "api", &nested_output)));
    assert!(matches!(reply.body, ReplyBody::Compressed(_)), "{reply:?}");
    assert!(matches!(call(&mut s, 4, Op::Ping).body, ReplyBody::Pong), "still serving");
}

/// Fills a state directory through a daemon, then stops it.
fn filled_state(home: &Home) {
    let daemon = home.start(&[]);
    let mut s = daemon.greeted();
    for (i, name) in ["HDFS", "Apache", "OpenSSH", "Zookeeper", "Spark", "Hadoop"].iter().enumerate() {
        let reply = call(&mut s, 10 + i as u64, compress_op(&conversation("why?", "read_log", &fixture(&format!("logs/{name}_2k.log")))));
        assert!(matches!(reply.body, ReplyBody::Compressed(_)));
    }
    assert!(daemon.stop().success());
}

/// `headroomd` on `home`'s socket and state directory.
fn headroomd(home: &Home) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_headroomd"));
    command.arg("--socket").arg(home.socket()).arg("--state-dir").arg(home.state());
    command
}

/// Starts headroomd on `home`, stderr to a file; returns it once it answers, with the log path.
fn start_logged(home: &Home) -> (Daemon, std::path::PathBuf) {
    let log = home.dir.path().join("daemon.log");
    let child = headroomd(&home)
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    (Daemon::adopt(child, home), log)
}

fn serves_compression(daemon: &Daemon) {
    let mut s = daemon.greeted();
    let reply = call(&mut s, 2, compress_op(&conversation("why?", "read_log", &fixture("logs/HDFS_2k.log"))));
    let ReplyBody::Compressed(done) = reply.body else { panic!("{reply:?}") };
    assert!(done.tokens_after < done.tokens_before);
}

#[test]
fn a_truncated_store_starts_without_persistence_and_is_left_untouched() {
    let home = Home::new();
    filled_state(&home);
    let data = home.state().join("data.mdb");
    let len = std::fs::metadata(&data).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&data).unwrap().set_len(len * 3 / 4).unwrap();
    let kept = std::fs::read(&data).unwrap();
    for _ in 0..2 {
        let (daemon, log) = start_logged(&home);
        serves_compression(&daemon);
        assert!(daemon.stop().success(), "no crash, a clean stop");
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(said.contains("truncated") && said.contains("without persistence"), "{said}");
    }
    assert_eq!(std::fs::read(&data).unwrap(), kept, "the damaged file is never modified");
}

#[test]
fn garbage_pages_in_the_store_cost_the_checker_not_the_daemon() {
    let home = Home::new();
    filled_state(&home);
    let data = home.state().join("data.mdb");
    let mut bytes = std::fs::read(&data).unwrap();
    // 20 pages of garbage after the two meta pages (where the trees' pages live).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in bytes[2 * 4096..22 * 4096].iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&data, &bytes).unwrap();
    let (daemon, log) = start_logged(&home);
    serves_compression(&daemon);
    assert!(daemon.stop().success());
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("damaged") && said.contains("without persistence"), "{said}");
    assert_eq!(std::fs::read(&data).unwrap(), bytes, "the damaged file is never modified");
}

/// The load that crashed the daemon when the LMDB map grew under it: many threads compressing
/// unique logs while the map fills, and the map size read meanwhile. Run several times from a
/// small map so it grows many times in each run.
#[test]
fn the_store_grows_under_concurrent_writers_without_crashing() {
    let log: Vec<&str> = include_str!("../../tests/fixtures/logs/HDFS_2k.log").lines().take(400).collect();
    for run in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let engine = std::sync::Arc::new(Engine::new(Stores::open(dir.path(), 1 << 20).unwrap(), Duration::from_secs(3600)));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let (engine, log) = (engine.clone(), log.clone());
                std::thread::spawn(move || {
                    for i in 0..12 {
                        let output = format!("run {run} thread {t} request {i}\n{}", log.join("\n"));
                        let reply = engine.compress(&conversation("why?", "read_log", &output), &CompressOptions::default()).unwrap();
                        assert!(reply.tokens_after < reply.tokens_before);
                        assert!(engine.stores().map_size() >= 1 << 20);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no writer panicked");
        }
        assert!(engine.stores().map_size() > 1 << 20, "the map grew");
        assert_eq!(engine.store_counts().unwrap().0, 16 * 12, "every original stored");
    }
}

#[test]
fn sigterm_stops_the_daemon_even_when_stderr_is_a_closed_pipe() {
    let home = Home::new();
    let mut child = headroomd(&home)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the reader is gone: every log line now meets EPIPE
    let daemon = Daemon::adopt(child, &home);
    serves_compression(&daemon);
    assert!(daemon.stop().success(), "the shutdown line could not be written, and the daemon still stopped");
}

#[test]
fn a_regular_file_at_the_socket_path_is_refused_and_kept() {
    let home = Home::new();
    std::fs::create_dir_all(home.socket().parent().unwrap()).unwrap();
    std::fs::set_permissions(home.socket().parent().unwrap(), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(home.socket(), "notes\n").unwrap();
    let out = headroomd(&home)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a socket"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(home.socket()).unwrap(), "notes\n");
}

#[test]
fn a_socket_directory_others_own_or_can_write_is_refused() {
    let refused = |prepare: &dyn Fn(&std::path::Path)| {
        let home = Home::new();
        let dir = home.socket().parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        prepare(&dir);
        let out = headroomd(&home).output().unwrap();
        assert!(!out.status.success());
        assert!(!home.socket().exists(), "nothing was bound there");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let world_writable = refused(&|dir| std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap());
    assert!(world_writable.contains("writable by other users"), "{world_writable}");
    // A squatter's directory (another uid owns it).
    let squatted = refused(&|dir| nix::unistd::chown(dir, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap());
    assert!(squatted.contains("belongs to uid 65534"), "{squatted}");
}

#[test]
fn a_peer_stalled_inside_an_oversized_frame_is_closed_after_the_frame_timeout() {
    use std::io::{Read, Write};
    let home = Home::new();
    let daemon = home.start(&["--frame-timeout-secs", "1", "--max-frame", "1024"]);
    let mut s = daemon.greeted();
    // A 1 GiB length prefix and a few bytes of body, then nothing.
    s.write_all(&[0x40, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    let (code, _) = error_of(&read_reply(&mut s));
    assert_eq!(code, ErrorCode::TooLarge, "told at once that the frame is too large");
    let reply = read_reply(&mut s);
    let (code, message) = error_of(&reply);
    assert_eq!(code, ErrorCode::BadFrame);
    assert!(message.contains("not finished within 1 s"), "{message}");
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "closed after the error");
}

#[test]
fn volatile_stores_left_by_crashed_daemons_are_removed_at_start() {
    let base = if std::path::Path::new("/dev/shm").is_dir() { std::path::PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
    // A pid that is not running: one past the highest the kernel hands out.
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap().trim().parse().unwrap();
    let stale = base.join(format!("headroom-volatile-{}-test", max + 1));
    let live = base.join(format!("headroom-volatile-{}-test", std::process::id()));
    for dir in [&stale, &live] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("data.mdb"), b"left behind").unwrap();
    }
    // A foreign file in the state directory makes the daemon open a volatile store.
    let home = Home::new();
    std::fs::create_dir_all(home.state()).unwrap();
    std::fs::write(home.state().join("data.mdb"), b"not lmdb ".repeat(1000)).unwrap();
    let (daemon, _log) = start_logged(&home);
    serves_compression(&daemon);
    assert!(!stale.exists(), "the dead daemon's store is gone");
    assert!(live.exists(), "a live process's store is kept");
    assert!(daemon.stop().success());
    std::fs::remove_dir_all(&live).unwrap();
}

#[test]
fn a_store_remounted_read_only_keeps_serving_what_it_holds() {
    let home = Home::new();
    let log = fixture("logs/HDFS_2k.log");
    let (before, key) = {
        let daemon = home.start(&[]);
        let mut s = daemon.greeted();
        let ReplyBody::Compressed(done) = call(&mut s, 2, compress_op(&conversation("why?", "read_log", &log))).body else { panic!() };
        assert!(daemon.stop().success());
        (done.messages, done.ccr_keys[0].clone())
    };
    // The state directory bind-mounted read-only, in a mount namespace of the daemon's own.
    let state = home.state().display().to_string();
    let remount = "mount --bind \"$0\" \"$0\" && mount -o remount,ro,bind \"$0\" \"$0\" && exec \"$@\"";
    let stderr = home.dir.path().join("daemon.log");
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", remount, &state, env!("CARGO_BIN_EXE_headroomd")])
        .arg("--socket")
        .arg(home.socket())
        .arg("--state-dir")
        .arg(home.state())
        .stderr(Stdio::from(std::fs::File::create(&stderr).unwrap()))
        .spawn()
        .unwrap();
    let daemon = Daemon::adopt(child, &home);
    let mut s = daemon.greeted();
    let ReplyBody::Retrieved(found) = call(&mut s, 2, Op::Retrieve(RetrieveRequest { key: key.clone(), query: None })).body else {
        panic!("an original stored before the remount is found")
    };
    assert_eq!(found.content, log);
    let ReplyBody::Compressed(again) = call(&mut s, 3, compress_op(&conversation("why?", "read_log", &log))).body else { panic!() };
    assert_eq!(again.messages, before, "replay entries on the read-only store still re-emit");
    assert!(daemon.stop().success());
    let said = std::fs::read_to_string(&stderr).unwrap();
    assert!(said.contains("read-only") && !said.contains("move the directory aside"), "{said}");
}

#[test]
fn idle_http_connections_cannot_starve_the_socket_of_descriptors() {
    use std::io::BufRead;
    let home = Home::new();
    // 64 descriptors in all: without a cap, 60 idle HTTP connections would leave none.
    let mut child = Command::new("prlimit")
        .args(["--nofile=64", env!("CARGO_BIN_EXE_headroomd"), "--http", "--http-port", "0", "--frame-timeout-secs", "3600"])
        .arg("--socket")
        .arg(home.socket())
        .arg("--state-dir")
        .arg(home.state())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.split("HTTP front on http://").nth(1).map(str::to_string))
        .expect("the HTTP front's address");
    std::thread::spawn(move || lines.for_each(drop));
    let daemon = Daemon::adopt(child, &home);
    let idle: Vec<std::net::TcpStream> = (0..60).map(|_| std::net::TcpStream::connect(&address).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    serves_compression(&daemon);
    drop(idle);
    assert!(daemon.stop().success());
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap()
}

#[test]
fn a_peer_that_pipelines_without_reading_is_held_back_not_buffered() {
    use std::io::Write;
    let home = Home::new();
    let daemon = home.start(&[]);
    serves_compression(&daemon);
    let before = rss_kib(daemon.child.id());
    let mut flood = daemon.greeted();
    flood.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    let ping = frame(&encode_request(&Request { id: 7, op: Op::Ping }));
    let batch: Vec<u8> = ping.iter().copied().cycle().take(ping.len() * 1000).collect();
    // 300,000 pings, never reading a reply: the writes block once the daemon stops reading.
    let mut sent = 0;
    while sent < 300 && flood.write_all(&batch).is_ok() {
        sent += 1;
    }
    assert!(sent < 300, "the daemon kept reading a peer that never read its replies");
    let grown = rss_kib(daemon.child.id()).saturating_sub(before);
    assert!(grown < 64 * 1024, "the daemon grew by {grown} KiB for a peer it should hold back");
    serves_compression(&daemon);
    drop(flood);
    assert!(daemon.stop().success());
}

/// A JSON array of about `bytes` bytes of API objects, numbered from `first`: slow to compress
/// (a table is built) and quick to read, so a burst of them queues.
fn large_json(bytes: usize, first: usize) -> String {
    let items: Vec<serde_json::Value> = serde_json::from_str(&fixture("github/paginate-issues.json")).unwrap();
    let mut out = Vec::new();
    let mut size = 0;
    while size < bytes {
        let mut item = items[out.len() % items.len()].clone();
        item["number"] = serde_json::json!(first + out.len());
        size += item.to_string().len();
        out.push(item);
    }
    serde_json::to_string(&out).unwrap()
}

#[test]
fn a_burst_of_large_requests_past_the_line_is_answered_busy_and_the_rest_are_compressed() {
    use std::io::Write;
    let home = Home::new();
    let daemon = home.start(&[]);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // More than the slots and their line can take (a slot per core, four waiting per slot),
    // pipelined on four connections so they arrive faster than they compress.
    let per_connection = (6 * cores + 12) / 4;
    let burst: Vec<std::thread::JoinHandle<Vec<Reply>>> = (0..4)
        .map(|c| {
            let mut s = daemon.greeted();
            std::thread::spawn(move || {
                for i in 0..per_connection {
                    let output = large_json(1_500_000, (c * per_connection + i) * 1_000);
                    let request = encode_request(&Request { id: i as u64 + 1, op: compress_op(&conversation("which are open?", "gh", &output)) });
                    s.write_all(&frame(&request)).unwrap();
                }
                (0..per_connection).map(|_| read_reply(&mut s)).collect()
            })
        })
        .collect();
    let replies: Vec<Reply> = burst.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let busy = replies.iter().filter(|r| matches!(&r.body, ReplyBody::Error(e) if e.code == ErrorCode::Busy)).count();
    let compressed = replies.iter().filter(|r| matches!(&r.body, ReplyBody::Compressed(c) if c.tokens_after < c.tokens_before)).count();
    assert_eq!(busy + compressed, replies.len(), "every reply is a compression or busy: {:?}", replies.iter().map(|r| &r.body).find(|b| !matches!(b, ReplyBody::Compressed(_))));
    assert!(busy > 0, "{} large requests at once and none was turned away", replies.len());
    assert!(compressed >= cores, "only {compressed} compressed");
    // The line drains: the daemon serves again, large and small.
    let mut s = daemon.greeted();
    let reply = call(&mut s, 1, compress_op(&conversation("which are open?", "gh", &large_json(1_500_000, 0))));
    assert!(matches!(reply.body, ReplyBody::Compressed(_)), "{:?}", reply.body);
    serves_compression(&daemon);
    assert!(daemon.stop().success());
}
