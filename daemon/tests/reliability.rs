//! Reliability (docs/reliability.md): store faults turn the daemon volatile instead of stopping it, a crash
//! under load loses no original whose reply was received, and hostile peers cannot exhaust it.

mod common;

use common::*;
use headroom_daemon::client::Client;
use headroom_protocol::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Starts headroomd with extra arguments and a command prefix (such as `prlimit`), capturing
/// stderr to a file, and waits for it to answer.
fn start_logged(home: &Home, prefix: &[&str], state: &std::path::Path) -> (std::process::Child, std::path::PathBuf) {
    let log = home.dir.path().join("daemon.log");
    let mut argv: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
    argv.push(env!("CARGO_BIN_EXE_headroomd").to_string());
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .arg("--socket")
        .arg(home.socket())
        .arg("--state-dir")
        .arg(state)
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    for _ in 0..2000 {
        if std::os::unix::net::UnixStream::connect(home.socket()).is_ok() {
            return (child, log);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("headroomd did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// Compresses `output` as a tool result and retrieves every key it produced.
fn compress_and_retrieve(socket: &std::path::Path, output: &str) -> CompressReply {
    runtime().block_on(async {
        let mut client = Client::connect(socket).await.unwrap();
        let reply = client.compress(conversation("what failed?", "read_log", output), CompressOptions::default()).await.unwrap();
        assert!(!reply.ccr_keys.is_empty(), "a marker was emitted");
        for key in &reply.ccr_keys {
            assert_eq!(client.retrieve(key, None).await.unwrap().content, output);
        }
        reply
    })
}

#[test]
fn a_foreign_file_in_the_state_directory_leaves_it_untouched_and_serves_without_persistence() {
    let home = Home::new();
    std::fs::create_dir_all(home.state()).unwrap();
    let junk = b"not lmdb ".repeat(1000);
    std::fs::write(home.state().join("data.mdb"), &junk).unwrap();
    let (mut child, log) = start_logged(&home, &[], &home.state());
    compress_and_retrieve(&home.socket(), &fixture("logs/HDFS_2k.log"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
    let stderr = std::fs::read_to_string(log).unwrap();
    assert_eq!(stderr.matches("without persistence").count(), 1, "said exactly once:\n{stderr}");
    assert!(stderr.contains("cannot open the LMDB environment"), "{stderr}");
    assert_eq!(std::fs::read(home.state().join("data.mdb")).unwrap(), junk, "the foreign file is untouched");
}

#[test]
fn a_state_directory_that_cannot_be_created_serves_without_persistence() {
    let home = Home::new();
    // /proc refuses new directories even to root: a read-only place for the stores.
    let unwritable = std::path::Path::new("/proc/headroom-state-test");
    let (mut child, log) = start_logged(&home, &[], unwritable);
    compress_and_retrieve(&home.socket(), &fixture("logs/Zookeeper_2k.log"));
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(log).unwrap();
    assert!(stderr.contains("cannot create the directory") && stderr.contains("without persistence"), "{stderr}");
}

#[test]
fn a_full_disk_turns_the_stores_volatile_and_keeps_earlier_originals_readable() {
    let home = Home::new();
    // A 640 KiB tmpfs as the state directory, mounted in a mount namespace of the daemon's own
    // (so nothing outside sees it): a disk that fills up.
    std::fs::create_dir_all(home.state()).unwrap();
    let state = home.state().display().to_string();
    let mount = ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=640k tmpfs \"$0\" && exec \"$@\"", &state];
    let (mut child, log) = start_logged(&home, &mount, &home.state());
    let small = fixture("logs/Apache_2k.log")[..40_000].to_string();
    let before = compress_and_retrieve(&home.socket(), &small);
    let mut big = String::new();
    for name in ["HDFS", "OpenStack", "Hadoop"] {
        big.push_str(&fixture(&format!("logs/{name}_2k.log")));
    }
    compress_and_retrieve(&home.socket(), &big);
    runtime().block_on(async {
        let mut client = Client::connect(&home.socket()).await.unwrap();
        assert_eq!(client.retrieve(&before.ccr_keys[0], None).await.unwrap().content, small, "written before the disk filled");
        let again = client.compress(conversation("what failed?", "read_log", &small), CompressOptions::default()).await.unwrap();
        assert_eq!(again.messages, before.messages, "replay entries on disk still re-emit");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(log).unwrap();
    assert_eq!(stderr.matches("without persistence").count(), 1, "{stderr}");
    assert!(stderr.contains("writing failed"), "{stderr}");
}

#[test]
fn kill_9_under_load_loses_no_original_whose_reply_arrived() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let received: Arc<Mutex<Vec<(Vec<u8>, CompressReply, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let base = fixture("logs/Hadoop_2k.log");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (received, base, socket) = (received.clone(), base.clone(), daemon.socket.clone());
            std::thread::spawn(move || {
                runtime().block_on(async {
                    let Ok(mut client) = Client::connect(&socket).await else { return };
                    for i in 0.. {
                        let output = format!("{base}2015-10-18 18:10:00,000 ERROR [worker {w}] request {i} failed\n");
                        let request = conversation("which errors?", "read_log", &output);
                        match client.compress(request.clone(), CompressOptions::default()).await {
                            Ok(reply) => received.lock().unwrap().push((request, reply, output)),
                            Err(_) => return,
                        }
                    }
                })
            })
        })
        .collect();
    while received.lock().unwrap().len() < 40 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut daemon = daemon;
    daemon.child.kill().unwrap(); // SIGKILL: no drain, no cleanup
    daemon.child.wait().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    let received = received.lock().unwrap();
    let restarted = home.start(&[]);
    runtime().block_on(async {
        let mut client = Client::connect(&restarted.socket).await.unwrap();
        for (request, reply, output) in received.iter() {
            for key in &reply.ccr_keys {
                assert_eq!(&client.retrieve(key, None).await.unwrap().content, output, "original of {key} lost");
            }
            let again = client.compress(request.clone(), CompressOptions::default()).await.unwrap();
            assert_eq!(again.messages, reply.messages, "replay changed after the crash");
        }
    });
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

#[test]
fn ten_thousand_dropped_connections_leak_nothing_and_half_frames_hold_up_no_one() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut bystander = daemon.greeted();
    assert_eq!(call(&mut bystander, 2, Op::Ping).body, ReplyBody::Pong);
    let pid = daemon.child.id();
    let before = open_fds(pid);

    // A peer that sends half a frame and stalls.
    let mut staller = connect(&daemon.socket);
    staller.write_all(&[0, 0, 0, 100, 1, 2, 3]).unwrap();

    for i in 0..10_000 {
        let mut s = connect(&daemon.socket);
        if i % 2 == 0 {
            let _ = s.write_all(&frame(&encode_request(&Request { id: 1, op: Op::Ping })));
        }
    }
    assert_eq!(call(&mut bystander, 3, Op::Ping).body, ReplyBody::Pong, "the stalled peer holds up no one");
    let mut settled = 0;
    for _ in 0..200 {
        settled = open_fds(pid);
        if settled <= before + 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(settled <= before + 1, "descriptors leaked: {before} before, {settled} after (one is the staller)");
    let stats = match call(&mut bystander, 4, Op::Stats).body {
        ReplyBody::Stats(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(stats.connections >= 10_002, "{stats:?}");
}

#[test]
fn a_stalled_half_frame_is_closed_after_the_frame_timeout() {
    let home = Home::new();
    let daemon = home.start(&["--frame-timeout-secs", "1"]);
    let mut idle = daemon.greeted();
    let mut staller = connect(&daemon.socket);
    staller.write_all(&[0, 0, 0, 100, 1, 2, 3]).unwrap();
    let started = std::time::Instant::now();
    let reply = read_reply(&mut staller);
    let (code, message) = error_of(&reply);
    assert_eq!(code, ErrorCode::BadFrame);
    assert!(message.contains("not finished within 1 s"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let mut rest = Vec::new();
    use std::io::Read;
    staller.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "closed after the error");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(call(&mut idle, 2, Op::Ping).body, ReplyBody::Pong, "an idle connection between frames stays open");
}
