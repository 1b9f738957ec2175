//! `headroom mcp`: the real `headroom mcp serve` driven over its stdin and stdout the way an MCP
//! host drives it (initialize, tools/list, tools/call, malformed input), against a real daemon,
//! with keys crossing between the socket and MCP; and `headroom mcp install|uninstall` on a
//! temporary home directory.

mod common;

use common::*;
use headroom_daemon::client::Client;
use headroom_daemon::request::marker::{key_for, keys_in};
use headroom_protocol::{CompressOptions, PROTOCOL_VERSION};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The protocol version today's hosts (Claude Code, Cursor) ask for.
const PROTOCOL: &str = "2025-06-18";

/// A running `headroom mcp serve`, spoken to line by line. Killed on drop.
struct Mcp {
    child: Child,
    stdin: ChildStdin,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

impl Mcp {
    /// Starts the server with `socket` as the daemon's socket (which may have no daemon).
    fn start(socket: &Path, home: &Path) -> Mcp {
        Mcp::start_in(socket, home, home)
    }

    /// [`Mcp::start`] as a host does in the project directory `project`.
    fn start_in(socket: &Path, home: &Path, project: &Path) -> Mcp {
        let mut child = Command::new(env!("CARGO_BIN_EXE_headroom"))
            .args(["mcp", "serve"])
            .current_dir(project)
            .env("HEADROOM_SOCKET", socket)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env_remove("HEADROOM_CONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("headroom mcp serve starts");
        let stdin = child.stdin.take().unwrap();
        let (lines, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (log, err) = (stderr.clone(), BufReader::new(child.stderr.take().unwrap()));
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                log.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Mcp { child, stdin, stdout, stderr, next_id: 1 }
    }

    /// Starts the server and performs the handshake a host performs.
    fn initialized(socket: &Path, home: &Path) -> Mcp {
        let mut mcp = Mcp::start(socket, home);
        let init = mcp.request(
            "initialize",
            json!({"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "test-host", "version": "1.0"}}),
        );
        assert_eq!(init["result"]["protocolVersion"], PROTOCOL, "{init}");
        mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    }

    fn send_line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.send_line(&message.to_string());
    }

    /// The next line on stdout, which must be one JSON-RPC 2.0 message.
    fn receive(&mut self) -> Value {
        let line = self.stdout.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| {
            panic!("no message on stdout ({e}); stderr:\n{}", self.stderr.lock().unwrap())
        });
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
        message
    }

    /// Sends a request and returns the response, checking that it answers this request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.receive();
        assert_eq!(response["id"], id, "{response}");
        response
    }

    /// `tools/call`; returns the tool result (which must not be a JSON-RPC error).
    fn call(&mut self, tool: &str, arguments: Value) -> ToolResult {
        let response = self.request("tools/call", json!({"name": tool, "arguments": arguments}));
        let result = response.get("result").unwrap_or_else(|| panic!("{tool}: not a result: {response}"));
        let texts = result["content"]
            .as_array()
            .unwrap_or_else(|| panic!("{result}"))
            .iter()
            .map(|c| {
                assert_eq!(c["type"], "text", "{c}");
                c["text"].as_str().unwrap().to_string()
            })
            .collect();
        ToolResult { is_error: result["isError"] == true, texts }
    }

    fn still_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct ToolResult {
    is_error: bool,
    texts: Vec<String>,
}

impl ToolResult {
    fn ok(self) -> Vec<String> {
        assert!(!self.is_error, "tool error: {:?}", self.texts);
        self.texts
    }

    fn error(self) -> String {
        assert!(self.is_error, "expected a tool error, got {:?}", self.texts);
        self.texts.concat()
    }
}

/// `(before, after)` from a summary line `headroom: 98,449 -> 5,143 tokens …`.
fn token_counts(summary: &str) -> (u64, u64) {
    let counts = summary.strip_prefix("headroom: ").and_then(|s| s.split_once(" tokens")).map(|(c, _)| c);
    let (before, after) = counts.and_then(|c| c.split_once(" -> ")).unwrap_or_else(|| panic!("{summary}"));
    let number = |s: &str| s.replace(',', "").parse::<u64>().unwrap();
    (number(before), number(after))
}

#[test]
fn a_host_lists_the_tools_compresses_a_log_retrieves_it_and_reads_the_stats() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut mcp = Mcp::start(&daemon.socket, home.dir.path());

    let init = mcp.request(
        "initialize",
        json!({"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "test-host", "version": "1.0"}}),
    );
    let info = &init["result"];
    assert_eq!(info["protocolVersion"], PROTOCOL);
    assert_eq!(info["serverInfo"]["name"], "headroom");
    assert!(info["capabilities"]["tools"].is_object(), "{init}");
    assert!(info["instructions"].as_str().unwrap().contains("headroom_retrieve"), "{init}");
    mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));

    let list = mcp.request("tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let tool = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name} in {list}"));
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["headroom_compress", "headroom_retrieve", "headroom_stats", "memory_save", "memory_search"]);
    assert_eq!(tool("memory_save")["inputSchema"]["required"], json!(["text"]));
    let compress = tool("headroom_compress");
    assert!(compress["description"].as_str().unwrap().contains("headroom_retrieve hash=<key>"));
    let schema = &compress["inputSchema"];
    assert_eq!(schema["type"], "object");
    for (field, kind) in [("text", "string"), ("messages", "array"), ("query", "string"), ("target_ratio", "number")] {
        assert_eq!(schema["properties"][field]["type"], kind, "{field}: {schema}");
        assert!(schema["properties"][field]["description"].as_str().is_some_and(|d| d.len() > 20), "{field}");
    }
    assert!(schema.get("required").is_none_or(|r| r.as_array().unwrap().is_empty()), "{schema}");
    let retrieve = &tool("headroom_retrieve")["inputSchema"];
    assert_eq!(retrieve["required"], json!(["hash"]));
    for field in ["hash", "query", "lines"] {
        assert_eq!(retrieve["properties"][field]["type"], "string", "{field}: {retrieve}");
    }
    assert_eq!(tool("headroom_stats")["inputSchema"]["type"], "object");
    assert_eq!(tool("headroom_retrieve")["annotations"]["readOnlyHint"], true);

    // A 2,000-line HDFS log, with what the model is looking for.
    let log = fixture("logs/HDFS_2k.log");
    let texts = mcp.call("headroom_compress", json!({"text": log, "query": "exception while serving blk"})).ok();
    let [compressed, summary] = texts.as_slice() else { panic!("{texts:?}") };
    let (before, after) = token_counts(summary);
    assert!(after * 5 < before, "{summary}");
    assert!(compressed.len() * 5 < log.len(), "{} of {} bytes", compressed.len(), log.len());
    assert!(compressed.contains("Got exception while serving blk_"), "query matches are kept");
    let keys = keys_in(compressed);
    assert_eq!(keys, [key_for(&log)], "one marker, keyed by the whole original");
    assert!(summary.contains(&keys[0]), "{summary}");

    // The exact original, a range of it, the query's lines, and the query's lines in a range.
    let whole = mcp.call("headroom_retrieve", json!({"hash": keys[0]})).ok();
    assert!(whole.len() == 1 && whole[0] == log, "the exact original comes back");
    let lines: Vec<&str> = log.lines().collect();
    let range = mcp.call("headroom_retrieve", json!({"hash": keys[0], "lines": "120–122"})).ok().concat();
    assert_eq!(range, format!("L120: {}\nL121: {}\nL122: {}\n", lines[119], lines[120], lines[121]));
    let matches = mcp.call("headroom_retrieve", json!({"hash": format!("hash={}", keys[0]), "query": "PacketResponder"})).ok().concat();
    let expected = lines.iter().filter(|l| l.contains("PacketResponder")).count();
    assert_eq!(matches.lines().count(), expected);
    assert!(matches.lines().all(|l| l.starts_with('L') && l.contains("PacketResponder")), "{matches}");
    let in_range = mcp.call("headroom_retrieve", json!({"key": keys[0], "query": "PacketResponder", "lines": "1-100"})).ok().concat();
    let expected = lines[..100].iter().filter(|l| l.contains("PacketResponder")).count();
    assert!(expected > 0);
    assert_eq!(in_range.lines().count(), expected, "{in_range}");
    assert!(mcp.call("headroom_retrieve", json!({"hash": keys[0], "lines": "9000-9001"})).error().contains("has 2,000 lines"));
    let unknown = mcp.call("headroom_retrieve", json!({"hash": "000000000000000000000000"})).error();
    assert!(unknown.contains("not_found"), "{unknown}");

    // A conversation in, the same conversation out, its tool result compressed.
    let apache = fixture("logs/Apache_2k.log");
    let conversation: Value = serde_json::from_slice(&conversation("which clients got errors?", "read_log", &apache)).unwrap();
    let texts = mcp.call("headroom_compress", json!({"messages": conversation["messages"]})).ok();
    let out: Value = serde_json::from_str(&texts[0]).unwrap_or_else(|e| panic!("{e}: {}", texts[0]));
    let out = out.as_array().unwrap();
    assert_eq!(out.len(), 4);
    assert_eq!(out[1], conversation["messages"][1], "the user message is untouched");
    let tool_output = out[3]["content"].as_str().unwrap();
    assert_eq!(keys_in(tool_output), [key_for(&apache)]);
    let (before, after) = token_counts(&texts[1]);
    assert!(after < before, "{}", texts[1]);

    // Bad input is a tool error the model can act on.
    assert!(mcp.call("headroom_compress", json!({"text": "a", "messages": []})).error().contains("not both"));
    assert!(mcp.call("headroom_compress", json!({"query": "x"})).error().contains("give `text`"));
    assert!(mcp.call("headroom_compress", json!({"text": "a", "target_ratio": 3.0})).error().contains("target_ratio"));

    let stats = mcp.call("headroom_stats", json!({})).ok().concat();
    assert!(stats.contains("2 compress requests"), "{stats}");
    assert!(stats.contains("logs: 2 blocks"), "{stats}");
    assert!(stats.contains("retrieves: 5 found, 1 not found"), "{stats}");
    assert!(mcp.stderr.lock().unwrap().contains("headroom: mcp: serving on stdio"), "the log line goes to stderr");
    drop(daemon);
}

#[test]
fn malformed_messages_get_json_rpc_errors_and_the_server_keeps_serving() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut mcp = Mcp::initialized(&daemon.socket, home.dir.path());

    // A line that is not JSON has no id to answer: it is dropped (as every official SDK does),
    // and the next answer on stdout is the one to the next message.
    mcp.send_line("{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": ");
    // JSON that is not a JSON-RPC message: Invalid Request, with no id to echo.
    mcp.send(&json!({"jsonrpc": "2.0", "id": 5, "method": 42}));
    let invalid = mcp.receive();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    assert!(invalid["id"].is_null(), "{invalid}");
    // An unknown method: Method not found, for that id.
    let unknown = mcp.request("headroom/nothing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // An unknown tool: Invalid params.
    let no_tool = mcp.request("tools/call", json!({"name": "headroom_nothing", "arguments": {}}));
    assert_eq!(no_tool["error"]["code"], -32602, "{no_tool}");
    // Arguments of the wrong type: a tool error naming the field.
    let wrong = mcp.call("headroom_retrieve", json!({"hash": 5})).error();
    assert!(wrong.contains("invalid type"), "{wrong}");
    let missing = mcp.call("headroom_retrieve", json!({})).error();
    assert!(missing.contains("hash"), "{missing}");

    assert!(mcp.still_running());
    let stats = mcp.call("headroom_stats", json!({})).ok().concat();
    assert!(stats.contains(&format!("headroomd (protocol {PROTOCOL_VERSION})")), "{stats}");
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn a_message_too_large_or_too_deep_gets_an_error_for_its_id_and_the_server_keeps_serving() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut mcp = Mcp::initialized(&daemon.socket, home.dir.path());
    let huge = format!(r#"{{"jsonrpc": "2.0", "id": 41, "method": "tools/call", "params": {{"name": "headroom_compress", "arguments": {{"text": "{}"}}}}}}"#, "x".repeat(17 << 20));
    mcp.send_line(&huge);
    let answer = mcp.receive();
    assert_eq!((answer["id"].clone(), answer["error"]["code"].clone()), (json!(41), json!(-32600)), "{answer}");
    assert!(answer["error"]["message"].as_str().unwrap().contains("the most this server reads is 16777216"), "{answer}");
    let deep = format!(r#"{{"jsonrpc": "2.0", "id": "deep-1", "method": "ping", "params": {{"x": {}{}}}}}"#, "[".repeat(5_000), "]".repeat(5_000));
    mcp.send_line(&deep);
    let answer = mcp.receive();
    assert_eq!((answer["id"].clone(), answer["error"]["code"].clone()), (json!("deep-1"), json!(-32600)), "{answer}");
    assert!(mcp.still_running());
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));
}

#[test]
fn without_a_daemon_each_tool_says_how_to_start_one_and_the_next_call_finds_it() {
    let home = Home::new();
    let mut mcp = Mcp::initialized(&home.socket(), home.dir.path());
    let calls = [
        ("headroom_compress", json!({"text": "x"})),
        ("headroom_retrieve", json!({"hash": key_for("x")})),
        ("headroom_stats", json!({})),
    ];
    for (tool, arguments) in &calls {
        let message = mcp.call(tool, arguments.clone()).error();
        assert!(message.contains("daemon is not running"), "{tool}: {message}");
        assert!(message.contains("headroomd &") && message.contains("headroom service install"), "{tool}: {message}");
        assert!(message.contains(&home.socket().display().to_string()), "{tool}: {message}");
    }
    assert!(mcp.still_running());

    let daemon = home.start(&[]);
    assert!(mcp.call("headroom_stats", json!({})).ok().concat().contains("up "));
    assert!(daemon.stop().success());
    let message = mcp.call("headroom_stats", json!({})).error();
    assert!(message.contains("daemon is not running"), "{message}");
    assert!(mcp.still_running());
}

#[test]
fn keys_made_through_the_socket_are_retrieved_through_mcp_and_the_other_way_round() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let mut mcp = Mcp::initialized(&daemon.socket, home.dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut client = runtime.block_on(Client::connect(&daemon.socket)).unwrap();

    // The Rust client compresses a conversation; MCP retrieves the original.
    let hadoop = fixture("logs/Hadoop_2k.log");
    let reply = runtime
        .block_on(client.compress(conversation("why did the job fail?", "read_log", &hadoop), CompressOptions::default()))
        .unwrap();
    assert_eq!(reply.ccr_keys, [key_for(&hadoop)]);
    assert_eq!(mcp.call("headroom_retrieve", json!({"hash": reply.ccr_keys[0]})).ok(), [hadoop]);

    // MCP compresses a tool output; the Rust client retrieves the original.
    let zookeeper = fixture("logs/Zookeeper_2k.log");
    let texts = mcp.call("headroom_compress", json!({"text": zookeeper})).ok();
    let keys = keys_in(&texts[0]);
    assert_eq!(keys, [key_for(&zookeeper)]);
    let original = runtime.block_on(client.retrieve(&keys[0], None)).unwrap();
    assert!(original.whole);
    assert_eq!(original.content, zookeeper);

    // The same tool output through the socket is re-emitted byte for byte (one key, one text).
    let again = runtime.block_on(client.compress(conversation("q", "read_log", &zookeeper), CompressOptions::default())).unwrap();
    let again: Value = serde_json::from_slice(&again.messages).unwrap();
    assert_eq!(again["messages"][3]["content"], texts[0]);
}

#[test]
fn facts_saved_in_one_session_are_found_in_the_next_per_project_and_everywhere() {
    let home = Home::new();
    let daemon = home.start(&[]);
    let (alpha, beta) = (home.dir.path().join("alpha"), home.dir.path().join("beta"));
    std::fs::create_dir_all(&alpha).unwrap();
    std::fs::create_dir_all(&beta).unwrap();
    let session = |project: &Path| {
        let mut mcp = Mcp::start_in(&daemon.socket, home.dir.path(), project);
        mcp.request("initialize", json!({"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}));
        mcp.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        mcp
    };
    let mut first = session(&alpha);
    assert!(first.call("memory_save", json!({"text": "The test command is cargo nextest run."})).ok()[0].starts_with("saved as fact "));
    assert!(first.call("memory_save", json!({"text": "Ada prefers British spelling.", "everywhere": true})).ok()[0].starts_with("saved as fact "));
    assert!(first.call("memory_save", json!({"text": "the test command is cargo nextest run"})).ok()[0].starts_with("already remembered"));
    drop(first);

    let mut again = session(&alpha);
    let found = again.call("memory_search", json!({"query": "which test command?"})).ok();
    assert!(found[0].starts_with("- The test command is cargo nextest run. (since "), "{found:?}");
    let replaced = again.call("memory_save", json!({"text": "The test command is ./test.sh."})).ok();
    assert!(replaced[0].ends_with("; it replaces 1 earlier fact(s)"), "{replaced:?}");

    let mut elsewhere = session(&beta);
    assert_eq!(elsewhere.call("memory_search", json!({"query": "test command"})).ok(), ["no remembered fact matches"]);
    assert!(elsewhere.call("memory_search", json!({"query": "spelling"})).ok()[0].contains("British spelling"));
}

/// `headroom mcp …` with a temporary home directory.
fn headroom_at(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("mcp")
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("HEADROOM_CONFIG")
        .output()
        .unwrap()
}

fn stdout_of(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn this_headroom() -> PathBuf {
    std::fs::canonicalize(env!("CARGO_BIN_EXE_headroom")).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn install_merges_into_claude_code_config_once_and_uninstall_restores_it() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".claude.json");
    let original = json!({
        "numStartups": 34,
        "theme": "dark",
        "tokenBudget": 123456789012345678901234567890u128,
        "mcpServers": {"other": {"type": "stdio", "command": "npx", "args": ["-y", "other-mcp"], "env": {"KEY": "value"}}},
        "projects": {"/work/app": {"allowedTools": [], "mcpServers": {"local": {"command": "x"}}}}
    });
    let original_text = serde_json::to_string_pretty(&original).unwrap() + "\n";
    std::fs::write(&config, &original_text).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();

    let said = stdout_of(&headroom_at(home.path(), &["install"]));
    assert!(said.starts_with(&format!("added mcpServers.headroom in {}", config.display())), "{said}");
    let installed_text = std::fs::read_to_string(&config).unwrap();
    let installed: Value = serde_json::from_str(&installed_text).unwrap();
    let program = this_headroom();
    assert_eq!(
        installed["mcpServers"]["headroom"],
        json!({"type": "stdio", "command": program.to_str().unwrap(), "args": ["mcp", "serve"], "env": {}})
    );
    let servers: Vec<&String> = installed["mcpServers"].as_object().unwrap().keys().collect();
    assert_eq!(servers, ["other", "headroom"]);
    let top: Vec<&String> = installed.as_object().unwrap().keys().collect();
    assert_eq!(top, ["numStartups", "theme", "tokenBudget", "mcpServers", "projects"]);
    assert!(installed_text.contains("123456789012345678901234567890"), "big numbers are kept as written");
    for key in ["numStartups", "theme", "projects"] {
        assert_eq!(installed[key], original[key], "{key}");
    }
    assert_eq!(installed["mcpServers"]["other"], original["mcpServers"]["other"]);
    assert_eq!(std::fs::metadata(&config).unwrap().permissions().mode() & 0o777, 0o600);

    // The entry written is a command a host can start: it answers initialize.
    let entry = &installed["mcpServers"]["headroom"];
    let mut served = Command::new(entry["command"].as_str().unwrap())
        .args(entry["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .env("HEADROOM_SOCKET", home.path().join("none.sock"))
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    writeln!(served.stdin.take().unwrap(), "{init}").unwrap();
    let answer = served.wait_with_output().unwrap();
    let answer: Value = serde_json::from_slice(answer.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(answer["result"]["serverInfo"]["name"], "headroom");

    let said = stdout_of(&headroom_at(home.path(), &["install", "--host", "claude"]));
    assert!(said.starts_with(&format!("unchanged {}", config.display())), "{said}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), installed_text, "a second install writes nothing");

    let said = stdout_of(&headroom_at(home.path(), &["uninstall"]));
    assert!(said.starts_with(&format!("removed mcpServers.headroom from {}", config.display())), "{said}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original_text, "only our entry went");
    let said = stdout_of(&headroom_at(home.path(), &["uninstall"]));
    assert!(said.contains("was not installed"), "{said}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original_text);
}

#[test]
fn install_creates_cursor_and_claude_desktop_configs_and_updates_a_stale_entry() {
    let home = tempfile::tempdir().unwrap();
    let program = this_headroom();
    let program = program.to_str().unwrap();

    let cursor = home.path().join(".cursor/mcp.json");
    let said = stdout_of(&headroom_at(home.path(), &["install", "--host", "cursor"]));
    assert!(said.contains(&cursor.display().to_string()) && said.contains("Cursor"), "{said}");
    assert_eq!(read_json(&cursor), json!({"mcpServers": {"headroom": {"command": program, "args": ["mcp", "serve"]}}}));
    assert_eq!(std::fs::metadata(&cursor).unwrap().permissions().mode() & 0o777, 0o600);

    let desktop = home.path().join(".config/Claude/claude_desktop_config.json");
    std::fs::create_dir_all(desktop.parent().unwrap()).unwrap();
    std::fs::write(&desktop, "{\"globalShortcut\": \"Ctrl+Space\"}").unwrap();
    let said = stdout_of(&headroom_at(home.path(), &["install", "--host", "claude-desktop"]));
    assert!(said.contains(&desktop.display().to_string()), "{said}");
    assert_eq!(
        read_json(&desktop),
        json!({"globalShortcut": "Ctrl+Space", "mcpServers": {"headroom": {"command": program, "args": ["mcp", "serve"]}}})
    );

    // An entry from an older install (another path) is updated; what the user added stays.
    std::fs::write(
        &cursor,
        serde_json::to_string(&json!({"mcpServers": {"headroom": {"command": "/old/headroom", "args": ["mcp", "serve"], "env": {"HEADROOM_SOCKET": "/run/h.sock"}}}}))
            .unwrap(),
    )
    .unwrap();
    let said = stdout_of(&headroom_at(home.path(), &["install", "--host", "cursor"]));
    assert!(said.starts_with("updated"), "{said}");
    assert_eq!(
        read_json(&cursor)["mcpServers"]["headroom"],
        json!({"command": program, "args": ["mcp", "serve"], "env": {"HEADROOM_SOCKET": "/run/h.sock"}})
    );
    stdout_of(&headroom_at(home.path(), &["uninstall", "--host", "cursor"]));
    assert_eq!(read_json(&cursor), json!({"mcpServers": {}}));
    assert_eq!(read_json(&desktop)["mcpServers"]["headroom"]["command"], program, "other hosts are untouched");
}

#[test]
fn install_leaves_a_broken_config_alone_and_writes_through_a_symbolic_link() {
    let home = tempfile::tempdir().unwrap();
    let cursor = home.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(cursor.parent().unwrap()).unwrap();
    std::fs::write(&cursor, "{\"mcpServers\": {,}").unwrap();
    let out = headroom_at(home.path(), &["install", "--host", "cursor"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&cursor.display().to_string()) && err.contains("nothing was changed"), "{err}");
    assert_eq!(std::fs::read_to_string(&cursor).unwrap(), "{\"mcpServers\": {,}");

    let gemini = home.path().join(".gemini/settings.json");
    std::fs::create_dir_all(gemini.parent().unwrap()).unwrap();
    std::fs::write(&gemini, "{\"mcpServers\": []}").unwrap();
    let out = headroom_at(home.path(), &["install", "--host", "gemini"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not an object"));

    // ~/.claude.json kept in a dotfiles repository and linked.
    let dotfiles = home.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::write(dotfiles.join("claude.json"), "{\"theme\": \"light\"}").unwrap();
    let link = home.path().join(".claude.json");
    std::os::unix::fs::symlink(dotfiles.join("claude.json"), &link).unwrap();
    stdout_of(&headroom_at(home.path(), &["install"]));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    let target = read_json(&dotfiles.join("claude.json"));
    assert_eq!(target["theme"], "light");
    assert_eq!(target["mcpServers"]["headroom"]["args"], json!(["mcp", "serve"]));
}
