//! `headroom mcp serve`: the MCP server on stdio and its tools: compress, retrieve, stats, and
//! the memory tools (facts kept per user and project, docs/memory.md).
//!
//! The transport is rmcp's: one JSON-RPC message per line on stdin and stdout. A line that is
//! not JSON is dropped (there is no id to answer; the official SDKs do the same); JSON that is
//! not a JSON-RPC message gets `Invalid Request` (-32600), an unknown method `Method not found`
//! (-32601), an unknown tool `Invalid params` (-32602); none of them stops the server.
//! Everything a tool can fail at — no daemon, an unknown key, arguments that do not fit its
//! schema — is a tool result with `isError` and a sentence the model can act on.

use super::gate;
use crate::client::{Client, ClientError};
use crate::request::marker::thousands;
use crate::clock::date_of;
use headroom_protocol::{
    CompressOptions, CompressReply, MemoryAddRequest, MemoryScope, MemorySearchRequest, Op, ProviderFormat, RetrieveReply,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::PathBuf;

/// Serves the tools on stdin/stdout until the host closes stdin. Returns an error only when
/// the session could not start (the host hung up before `initialize`) or broke.
pub fn serve(socket: PathBuf) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        log::info!("mcp: serving on stdio; the daemon's socket is {}", socket.display());
        // The session speaks through an in-memory pipe; the gate between it and stdio answers
        // the lines the SDK would drop without a word (see gate).
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (from_session, to_session) = tokio::io::split(ours);
        let (refusals, refused) = tokio::sync::mpsc::channel(16);
        tokio::spawn(gate::pump(tokio::io::stdin(), to_session, refusals));
        let output = tokio::spawn(gate::drain(from_session, refused, tokio::io::stdout()));
        let session = Headroom::new(socket)
            .serve(tokio::io::split(theirs))
            .await
            .map_err(|e| format!("the MCP session did not start: {e}"))?;
        let reason = session.waiting().await.map_err(|e| format!("the MCP session failed: {e}"))?;
        let _ = output.await;
        log::info!("mcp: session ended ({reason:?})");
        Ok(())
    })
}

/// The server: where the daemon listens. Each tool call opens its own connection, so a daemon
/// started (or restarted) after the host started this server is found on the next call.
#[derive(Clone)]
pub struct Headroom {
    socket: PathBuf,
    /// The memory scope of this project: the user, with the project directory as the agent.
    project: MemoryScope,
}

const INSTRUCTIONS: &str = "Headroom shrinks large tool outputs (logs, JSON, search results, diffs, \
source files, long text) and whole conversations so they cost fewer tokens, and gives back the exact \
original on demand. Compressed content carries markers `[headroom: <what was omitted>; \
headroom_retrieve hash=<key>]`; whenever you need what a marker left out, call headroom_retrieve \
with its key instead of re-running the tool. Use headroom_compress before keeping a large output \
around (for example before handing it to another agent), with a query saying what you look for.";

const COMPRESS: &str = "Compress a large tool output or a conversation so it costs far fewer tokens, \
keeping what matters: errors, warnings, anomalies, and whatever matches `query`. Repetitive parts \
(log lines of one template, similar JSON rows, unchanged diff context, function bodies) become \
one-line summaries, each ending in a marker `[headroom: <what was omitted>; headroom_retrieve \
hash=<key>]`. Nothing is lost: headroom_retrieve with the key returns the exact original or just \
the lines you need.\n\nGive exactly one of `text` (one tool output: a log, JSON, grep/rg output, a \
diff, a source file, prose) or `messages` (an OpenAI Chat, OpenAI Responses or Anthropic Messages \
array; its tool results are compressed, the system prompt and the latest user message are kept \
as they are). Always pass `query` when you know what you are looking for.\n\nReturns the \
compressed text (or the messages as JSON), then a line with the token counts before and after and \
the keys of the markers. Small or already dense input comes back unchanged.";

const RETRIEVE: &str = "Read back what Headroom left out. Compressed content carries markers like \
`[headroom: 1,850 of 2,000 log lines omitted (12 templates): …; headroom_retrieve \
hash=3f2a9c01d4e5b6a7c8d9e0f1]`, from headroom_compress or from an application that compresses \
through Headroom. Pass the 24 hex digits after `hash=`.\n\nWith only `hash`, returns the exact \
original. With `query`, only the original's lines containing its words; with `lines` (such as \
\"120-180\"), only that range; with both, the matching lines within the range. Selected lines \
come prefixed `L<n>: ` with their line number in the original. Prefer `query` or `lines` when the \
original is large and you need one part of it.";

const STATS: &str = "Show how much Headroom has saved: tokens before and after compression since \
the daemon started and all time, per compressor, how many originals were retrieved, and latency. \
Use it when asked about Headroom's savings or health; compressing and retrieving do not need it.";

const MEMORY_SAVE: &str = "Remember a fact for later sessions: a preference, a decision, a name, a \
setting, a convention of this project. State it as one self-contained sentence. Facts are kept \
for this project unless `everywhere` is true; a new fact with the `key` of an earlier one (or \
\"X is Y\" about the same X) replaces it, and the old value stays in the history.";

const MEMORY_SEARCH: &str = "Search the facts remembered in earlier sessions, for this project and \
for the user everywhere. Returns one fact per line with the date it became true, most relevant \
first. Search before asking the user something they may have told you before.";

/// `memory_save` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(transform = no_null_defaults)]
pub struct SaveArgs {
    /// The fact, as one self-contained sentence.
    pub text: String,
    /// Optional: what the fact is about, e.g. "test command"; a new fact with the same key replaces the old one.
    #[serde(default)]
    #[schemars(with = "String")]
    pub key: Option<String>,
    /// True for a fact about the user that holds in every project; false (the default) keeps it for this project.
    #[serde(default)]
    pub everywhere: bool,
}

/// `memory_search` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Words to look for.
    pub query: String,
}

/// `headroom_compress` arguments. Optional fields are plain, non-required types in the schema
/// (not nullable ones), which every host's model reads the same way. Doc comments are the
/// descriptions the model reads, so each is one line.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(transform = no_null_defaults)]
pub struct CompressArgs {
    /// One tool output to compress, as plain text: a log, JSON, grep/rg output, a diff, a source file or prose. Give this or `messages`, not both.
    #[serde(default)]
    #[schemars(with = "String")]
    pub text: Option<String>,
    /// A conversation to compress: a messages array in OpenAI Chat, OpenAI Responses or Anthropic Messages shape. Give this or `text`, not both.
    #[serde(default)]
    #[schemars(with = "Vec<serde_json::Map<String, Value>>")]
    pub messages: Option<Value>,
    /// What you are looking for or will be asked, e.g. "why did block blk_38865049064139660 fail". Lines, rows and functions that match it are kept first. With `messages` the default is the latest user message.
    #[serde(default)]
    #[schemars(with = "String")]
    pub query: Option<String>,
    /// Wanted size as a share of the original, from 0.01 to 1 (0.1 keeps about a tenth). Leave it out to let each compressor choose.
    #[serde(default)]
    #[schemars(with = "f32", range(min = 0.01, max = 1.0))]
    pub target_ratio: Option<f32>,
    /// With `text`: the path of the file it was read from, if any; its extension tells the code compressor the language.
    #[serde(default)]
    #[schemars(with = "String")]
    pub file_path: Option<String>,
}

/// `headroom_retrieve` arguments. `key` is accepted for `hash`, the name markers and the
/// in-request `headroom_retrieve` tool use.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(transform = no_null_defaults)]
pub struct RetrieveArgs {
    /// The key: the 24 hex digits after `hash=` in a marker.
    #[serde(alias = "key")]
    pub hash: String,
    /// Only the original's lines containing any of these words.
    #[serde(default)]
    #[schemars(with = "String")]
    pub query: Option<String>,
    /// Only these lines of the original, 1-based and inclusive: "120-180", "120-" or "120".
    #[serde(default)]
    #[schemars(with = "String")]
    pub lines: Option<String>,
}

/// Drops the `"default": null` that schemars writes for a `#[serde(default)]` optional field:
/// a property of type string whose default is null would contradict itself.
fn no_null_defaults(schema: &mut schemars::Schema) {
    let properties = schema.get_mut("properties").and_then(Value::as_object_mut);
    for property in properties.into_iter().flat_map(|p| p.values_mut()).filter_map(Value::as_object_mut) {
        if property.get("default") == Some(&Value::Null) {
            property.remove("default");
        }
    }
}

#[tool_router]
impl Headroom {
    /// A server that talks to the daemon at `socket`; memory is kept for the login user and the
    /// project the host started it in (its working directory).
    pub fn new(socket: PathBuf) -> Self {
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| nix::unistd::getuid().to_string());
        let project = std::env::current_dir().map(|d| d.display().to_string()).ok();
        Headroom { socket, project: MemoryScope { user, agent: project, session: None } }
    }

    /// A greeted connection, or the sentence a model needs when there is none.
    async fn daemon(&self) -> Result<Client, String> {
        Client::connect(&self.socket).await.map_err(|e| match e {
            ClientError::Io(io) => format!(
                "Headroom's daemon is not running: nothing answers at {} ({io}). Start it with \
                 `headroomd &` in a shell, or once with `headroom service install` to have systemd \
                 start it on demand; then call this tool again.",
                self.socket.display()
            ),
            other => other.to_string(),
        })
    }

    #[tool(
        name = "headroom_compress",
        description = COMPRESS,
        annotations(title = "Compress with Headroom", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn compress(&self, Parameters(args): Parameters<CompressArgs>) -> Result<CallToolResult, String> {
        if let Some(r) = args.target_ratio {
            if !(0.01..=1.0).contains(&r) {
                return Err(format!("target_ratio must be between 0.01 and 1, not {r}"));
            }
        }
        let (input, format) = match (&args.text, &args.messages) {
            (Some(text), None) => {
                (tool_output_conversation(text, args.query.as_deref(), args.file_path.as_deref()), ProviderFormat::OpenAiChat)
            }
            (None, Some(messages)) => (messages_json(messages)?, ProviderFormat::Auto),
            (Some(_), Some(_)) => return Err("give either `text` or `messages`, not both".into()),
            (None, None) => return Err("give `text` (one tool output) or `messages` (a messages array) to compress".into()),
        };
        let options = CompressOptions { format, query: args.query.clone(), target_ratio: args.target_ratio, client: Some("mcp".into()), ..CompressOptions::default() };
        let reply = self.daemon().await?.compress(input, options).await.map_err(|e| e.to_string())?;
        let body = match args.text {
            Some(_) => compressed_tool_output(&reply.messages)?,
            None => String::from_utf8(reply.messages.clone()).map_err(|e| format!("the daemon returned invalid UTF-8: {e}"))?,
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(body), ContentBlock::text(summary(&reply))]))
    }

    #[tool(
        name = "headroom_retrieve",
        description = RETRIEVE,
        annotations(title = "Retrieve an original from Headroom", read_only_hint = true, open_world_hint = false)
    )]
    async fn retrieve(&self, Parameters(args): Parameters<RetrieveArgs>) -> Result<CallToolResult, String> {
        let key = normalise_key(&args.hash);
        let range = args.lines.as_deref().map(parse_lines).transpose()?;
        let reply = self.daemon().await?.retrieve(&key, args.query.as_deref()).await.map_err(|e| e.to_string())?;
        let text = match range {
            None => reply.content,
            Some(range) => select_lines(&reply, range)?,
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }

    #[tool(
        name = "memory_save",
        description = MEMORY_SAVE,
        annotations(title = "Remember a fact", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn memory_save(&self, Parameters(args): Parameters<SaveArgs>) -> Result<CallToolResult, String> {
        let scope = if args.everywhere { MemoryScope { agent: None, ..self.project.clone() } } else { self.project.clone() };
        let request = MemoryAddRequest { scope, text: args.text, source: Some("mcp".into()), key: args.key, valid_from_ms: None };
        let reply = self.daemon().await?.memory_add(request).await.map_err(|e| e.to_string())?;
        let mut text = if reply.duplicate {
            format!("already remembered as fact {}", reply.fact.id)
        } else {
            format!("saved as fact {}", reply.fact.id)
        };
        if !reply.superseded.is_empty() {
            text += &format!("; it replaces {} earlier fact(s)", reply.superseded.len());
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }

    #[tool(
        name = "memory_search",
        description = MEMORY_SEARCH,
        annotations(title = "Search remembered facts", read_only_hint = true, open_world_hint = false)
    )]
    async fn memory_search(&self, Parameters(args): Parameters<SearchArgs>) -> Result<CallToolResult, String> {
        let op = Op::MemorySearch(MemorySearchRequest { scope: self.project.clone(), query: args.query, as_of_ms: None, limit: 10, budget_tokens: 0 });
        let facts = self.daemon().await?.memory_facts(op).await.map_err(|e| e.to_string())?;
        let text = if facts.is_empty() {
            "no remembered fact matches".to_string()
        } else {
            facts.iter().map(|f| format!("- {} (since {})", f.text, date_of(f.valid_from_ms))).collect::<Vec<_>>().join("\n")
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
    }

    #[tool(
        name = "headroom_stats",
        description = STATS,
        annotations(title = "Headroom's savings", read_only_hint = true, open_world_hint = false)
    )]
    async fn stats(&self) -> Result<CallToolResult, String> {
        let mut client = self.daemon().await?;
        let s = client.stats().await.map_err(|e| e.to_string())?;
        let m = client.metrics().await.map_err(|e| e.to_string())?;
        let mut out = format!(
            "headroomd (protocol {}), up {:.1} s: {} connections, {} requests, {} compress requests\n",
            s.protocol_version,
            s.uptime_ms as f64 / 1000.0,
            s.connections,
            s.requests,
            s.compress_requests
        );
        out += &format!("since start: {}\n", tokens(s.tokens_before, s.tokens_after));
        for c in &m.compressors {
            out += &format!("  {}: {} blocks, {}\n", c.name, c.blocks, tokens(c.tokens_before, c.tokens_after));
        }
        out += &format!("compress latency: p50 {} µs, p99 {} µs\n", m.latency_p50_us, m.latency_p99_us);
        out += &format!("retrieves: {} found, {} not found, {} expired\n", m.ccr_hits, m.ccr_misses, m.ccr_expired);
        out += &format!("stored originals: {}, replay entries: {}\n", s.ccr_entries, s.replay_entries);
        out += &format!(
            "all time: {} compress requests, {}, latency p50 {} µs, p99 {} µs\n",
            m.all_time_compress_requests,
            tokens(m.all_time_tokens_before, m.all_time_tokens_after),
            m.all_time_latency_p50_us,
            m.all_time_latency_p99_us
        );
        Ok(CallToolResult::success(vec![ContentBlock::text(out)]))
    }
}

#[tool_handler]
impl ServerHandler for Headroom {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("headroom", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS.to_string())
    }
}

/// The call id tying the synthetic tool call to its result.
const CALL_ID: &str = "call_headroom";

/// `text` as the result of one tool call in an OpenAI chat conversation, after `query` as the
/// user's message when there is one: the shape in which the daemon compresses a tool output at
/// first sight. `file_path` becomes the call's `path` argument, which routes source code.
fn tool_output_conversation(text: &str, query: Option<&str>, file_path: Option<&str>) -> Vec<u8> {
    let arguments = file_path.map_or_else(|| "{}".to_string(), |path| json!({ "path": path }).to_string());
    let mut messages = Vec::new();
    if let Some(query) = query {
        messages.push(json!({"role": "user", "content": query}));
    }
    messages.push(json!({
        "role": "assistant",
        "content": null,
        "tool_calls": [{"id": CALL_ID, "type": "function", "function": {"name": "tool_output", "arguments": arguments}}]
    }));
    messages.push(json!({"role": "tool", "tool_call_id": CALL_ID, "content": text}));
    serde_json::to_vec(&Value::Array(messages)).expect("JSON values serialise")
}

/// `messages` as the daemon takes them: an array, or a string holding one (models sometimes
/// pass JSON as a string).
fn messages_json(messages: &Value) -> Result<Vec<u8>, String> {
    let holds_array = |s: &str| serde_json::from_str::<Value>(s).is_ok_and(|v| v.is_array());
    match messages {
        Value::Array(_) => Ok(serde_json::to_vec(messages).expect("JSON values serialise")),
        Value::String(s) if holds_array(s) => Ok(s.clone().into_bytes()),
        _ => Err("`messages` must be a JSON array of messages".into()),
    }
}

/// The tool message's content in the daemon's answer to [`tool_output_conversation`].
fn compressed_tool_output(messages: &[u8]) -> Result<String, String> {
    let messages: Value = serde_json::from_slice(messages).map_err(|e| format!("the daemon returned invalid JSON: {e}"))?;
    messages
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "the daemon's answer has no tool message at the end".to_string())
}

/// `27,034 -> 1,412 tokens (94.8 % saved)`.
fn tokens(before: u64, after: u64) -> String {
    let saved = if before == 0 {
        "nothing to compress".to_string()
    } else {
        format!("{:.1} % saved", 100.0 * before.saturating_sub(after) as f64 / before as f64)
    };
    format!("{} -> {} tokens ({saved})", thousands(before as usize), thousands(after as usize))
}

/// One line: token counts, the compressors that worked, and the keys to retrieve with.
fn summary(reply: &CompressReply) -> String {
    let by: Vec<String> = reply.compressors.iter().map(|c| format!("{} ×{}", c.name, c.blocks)).collect();
    let by = if by.is_empty() { String::new() } else { format!(" by {}", by.join(", ")) };
    let keys = match reply.ccr_keys.as_slice() {
        [] => "nothing omitted, no marker".to_string(),
        [key] => format!("1 marker, key {key}: pass it to headroom_retrieve for the original"),
        keys => format!("{} markers, keys {}: pass one to headroom_retrieve for its original", keys.len(), keys.join(", ")),
    };
    format!("headroom: {}{by}; {keys}", tokens(reply.tokens_before, reply.tokens_after))
}

/// A key as a model may pass it (`hash=3F2A…`, with spaces) in the daemon's form.
fn normalise_key(key: &str) -> String {
    let key = key.trim();
    key.strip_prefix("hash=").unwrap_or(key).trim().to_ascii_lowercase()
}

/// `"120-180"` (or with an en dash, as markers print ranges), `"120-"` or `"120"`: a 1-based,
/// inclusive line range.
fn parse_lines(spec: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`lines` must look like \"120-180\", \"120-\" or \"120\", not {spec:?}");
    let (first, last) = match spec.trim().split_once(['-', '–']) {
        Some((first, last)) => (first.trim(), last.trim()),
        None => (spec.trim(), spec.trim()),
    };
    let first: usize = first.parse().map_err(|_| bad())?;
    let last: usize = if last.is_empty() { usize::MAX } else { last.parse().map_err(|_| bad())? };
    if first == 0 || last < first {
        return Err(bad());
    }
    Ok((first, last))
}

/// The lines of `reply` within `first..=last`, each prefixed `L<n>: `. A whole original is cut
/// here; a query's matches (already prefixed by the daemon) are filtered by their numbers.
fn select_lines(reply: &RetrieveReply, (first, last): (usize, usize)) -> Result<String, String> {
    let range = if last == usize::MAX { format!("{first}-") } else { format!("{first}-{last}") };
    let mut out = String::new();
    if reply.whole {
        let total = reply.content.lines().count();
        if first > total {
            return Err(format!("the original has {} lines; lines {range} are past its end", thousands(total)));
        }
        for (i, line) in reply.content.lines().enumerate().skip(first - 1).take(last - first + 1) {
            out.push_str(&format!("L{}: {line}\n", i + 1));
        }
    } else {
        for line in reply.content.lines() {
            let number = line.strip_prefix('L').and_then(|l| l.split_once(": ")).and_then(|(n, _)| n.parse::<usize>().ok());
            if number.is_some_and(|n| (first..=last).contains(&n)) {
                out.push_str(line);
                out.push('\n');
            }
        }
        if out.is_empty() {
            out = format!("no line in {range} matches the query; retrieve without `query` to read the whole range\n");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ranges_parse_in_every_accepted_form() {
        assert_eq!(parse_lines("120-180"), Ok((120, 180)));
        assert_eq!(parse_lines(" 120 – 180 "), Ok((120, 180)));
        assert_eq!(parse_lines("7"), Ok((7, 7)));
        assert_eq!(parse_lines("7-"), Ok((7, usize::MAX)));
        for bad in ["0-3", "9-3", "a-b", "", "-5"] {
            assert!(parse_lines(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn ranges_cut_whole_originals_and_filter_query_matches() {
        let whole = RetrieveReply { key: String::new(), content: "a\nb\nc\nd\n".into(), whole: true };
        assert_eq!(select_lines(&whole, (2, 3)).unwrap(), "L2: b\nL3: c\n");
        assert_eq!(select_lines(&whole, (4, usize::MAX)).unwrap(), "L4: d\n");
        assert!(select_lines(&whole, (5, 9)).unwrap_err().contains("has 4 lines"));
        let matches = RetrieveReply { key: String::new(), content: "L2: b x\nL9: i x\nL12: l x\n".into(), whole: false };
        assert_eq!(select_lines(&matches, (5, 12)).unwrap(), "L9: i x\nL12: l x\n");
        assert!(select_lines(&matches, (3, 8)).unwrap().starts_with("no line in 3-8 matches"));
    }

    #[test]
    fn keys_are_taken_as_models_copy_them() {
        assert_eq!(normalise_key(" hash=3F2A9C01D4E5B6A7C8D9E0F1 "), "3f2a9c01d4e5b6a7c8d9e0f1");
    }

    #[test]
    fn a_tool_output_becomes_the_last_message_after_the_query() {
        let messages: Value = serde_json::from_slice(&tool_output_conversation("out", Some("why?"), Some("src/a.rs"))).unwrap();
        assert_eq!(messages[0], json!({"role": "user", "content": "why?"}));
        assert_eq!(messages[1]["tool_calls"][0]["function"]["arguments"], "{\"path\":\"src/a.rs\"}");
        assert_eq!(messages[2]["content"], "out");
        assert_eq!(compressed_tool_output(&serde_json::to_vec(&messages).unwrap()).unwrap(), "out");
    }
}
