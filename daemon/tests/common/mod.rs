//! Starts the real `headroomd` binary on a temporary socket and state directory, and speaks raw
//! frames to it.

#![allow(dead_code)] // each test file uses a different part of this harness

use headroom_protocol::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A running daemon; SIGTERM on drop.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub state: PathBuf,
}

/// A temporary place for a daemon's socket and state, kept across restarts.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Home { dir: tempfile::tempdir().unwrap() }
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/headroomd.sock")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Starts a daemon here and waits until it answers.
    pub fn start(&self, extra: &[&str]) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_headroomd"))
            .arg("--socket")
            .arg(self.socket())
            .arg("--state-dir")
            .arg(self.state())
            .args(extra)
            .spawn()
            .expect("headroomd starts");
        let daemon = Daemon { child, socket: self.socket(), state: self.state() };
        daemon.wait_ready();
        daemon
    }
}

impl Daemon {
    /// A daemon the test started itself (with its own flags or output), once it answers.
    pub fn adopt(child: Child, home: &Home) -> Daemon {
        let daemon = Daemon { child, socket: home.socket(), state: home.state() };
        daemon.wait_ready();
        daemon
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if UnixStream::connect(&self.socket).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("headroomd did not listen on {} within 20 s", self.socket.display());
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate();
        self.child.wait().unwrap()
    }

    fn terminate(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }

    /// A raw connection with the handshake done.
    pub fn greeted(&self) -> UnixStream {
        let mut s = connect(&self.socket);
        let reply = call(&mut s, 1, Op::Hello(Hello { protocol_version: PROTOCOL_VERSION, client: "test".into() }));
        assert!(matches!(reply.body, ReplyBody::Hello(_)), "{reply:?}");
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
            let _ = self.child.wait();
        }
    }
}

pub fn connect(socket: &Path) -> UnixStream {
    let s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

pub fn send(s: &mut UnixStream, id: u64, op: Op) {
    s.write_all(&frame(&encode_request(&Request { id, op }))).unwrap();
}

pub fn read_reply(s: &mut UnixStream) -> Reply {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("a reply frame");
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    decode_reply(&body).unwrap()
}

pub fn call(s: &mut UnixStream, id: u64, op: Op) -> Reply {
    send(s, id, op);
    read_reply(s)
}

pub fn error_of(reply: &Reply) -> (ErrorCode, &str) {
    match &reply.body {
        ReplyBody::Error(e) => (e.code, e.message.as_str()),
        other => panic!("expected an error, got {other:?}"),
    }
}

pub fn compress_op(messages: &[u8]) -> Op {
    Op::Compress(CompressRequest { messages: messages.to_vec(), options: CompressOptions::default() })
}

/// A fixture file under `tests/fixtures`.
pub fn fixture(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path);
    std::fs::read_to_string(&root).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
}

/// A JSON Lines fixture (an agent's session log) under `tests/fixtures`, one value a line.
pub fn jsonl_fixture(path: &str) -> Vec<serde_json::Value> {
    fixture(path).lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}: {e}"))).collect()
}

/// An OpenAI chat conversation whose last tool result is `output`.
pub fn conversation(question: &str, tool: &str, output: &str) -> Vec<u8> {
    serde_json::to_vec_pretty(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful agent."},
            {"role": "user", "content": question},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": output}
        ]
    }))
    .unwrap()
}
