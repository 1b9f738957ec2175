//! Reads provider requests: which shape they are, where the messages are, what the query is,
//! and which string values are content blocks Headroom may compress — each with its place in
//! the hot zone of docs/architecture.md §3.6.
//!
//! Shapes: OpenAI Chat Completions (`role: tool` messages), OpenAI Responses
//! (`function_call_output` items) and Anthropic Messages (`tool_result` blocks). Input is a bare
//! messages array or a whole request object holding `messages` or `input`.

use super::shell;
use super::spans::{Node, Value};
use headroom_protocol::{CompressOptions, ProviderFormat};
use std::collections::HashMap;
use std::ops::Range;

/// User-pasted text shorter than this is never a candidate, even when asked for.
const LONG_USER_TEXT: usize = 2000;

/// How a candidate may be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// May be compressed (or re-emitted from the replay cache).
    Open,
    /// The latest user message or the protected recent tail: re-emitted if seen before, else
    /// sent as is and remembered as such.
    Protected,
    /// Frozen by the caller or under `cache_control`: passed through, never recorded.
    HandsOff,
}

/// A string value in the request that holds compressible content.
#[derive(Debug)]
pub struct Candidate<'n> {
    /// The JSON string literal's span in the request, quotes included.
    pub span: Range<usize>,
    /// The decoded text.
    pub text: &'n str,
    /// The tool that produced it, when the request says.
    pub tool_name: Option<String>,
    /// The file the tool read, when its arguments name one.
    pub file_path: Option<String>,
    /// The shell command that produced it, when the call's arguments hold one.
    pub command: Option<String>,
    /// Where the call that produced it begins in the request.
    pub call_at: Option<usize>,
    pub zone: Zone,
    /// It comes before the latest user message (an earlier question's material).
    pub older: bool,
}

/// What the engine needs to know about one request.
#[derive(Debug)]
pub struct Conversation<'n> {
    pub format: ProviderFormat,
    /// The messages (or Responses items), in order.
    pub messages: &'n [Node<'n>],
    /// The latest user message's text (or the caller's override).
    pub query: String,
    pub candidates: Vec<Candidate<'n>>,
    /// Paths named by edit/write tool calls: the user is changing these files.
    pub edited_paths: Vec<String>,
    /// Every tool call, in request order: what later calls supersede.
    pub calls: Vec<ToolCall>,
    /// Assistant messages (model calls so far) and where the latest one begins.
    pub assistant_turns: usize,
    pub latest_assistant_at: Option<usize>,
    /// Where the first message begins in the request.
    pub prefix_start: usize,
    /// The user messages that carry text, in order: where memory blocks go.
    pub user_turns: Vec<UserTurn<'n>>,
}

/// A user message with text, as memory injection needs it.
#[derive(Debug)]
pub struct UserTurn<'n> {
    /// Where the message ends in the request.
    pub end: usize,
    /// Where its first text's string literal begins (the opening quote).
    pub text_start: usize,
    pub text: &'n str,
    /// Frozen or under `cache_control`: must pass through byte for byte.
    pub hands_off: bool,
    /// The latest user message.
    pub latest: bool,
}

/// Why a request cannot be read.
#[derive(Debug, PartialEq)]
pub struct ShapeError(pub String);

/// Finds the messages of a request, detects its format and lists its candidates.
pub fn read<'n>(root: &'n Node<'n>, options: &CompressOptions) -> Result<Conversation<'n>, ShapeError> {
    let (messages, has_input) = match &root.value {
        Value::Array(items) => (items.as_slice(), false),
        Value::Object(_) => match (root.get("messages"), root.get("input")) {
            (Some(m), _) => (m.as_array().ok_or_else(|| ShapeError("`messages` is not an array".into()))?, false),
            (None, Some(i)) => (i.as_array().unwrap_or(&[]), true),
            (None, None) => return Err(ShapeError("the object has neither `messages` nor `input`".into())),
        },
        _ => return Err(ShapeError("expected a messages array or a request object".into())),
    };
    if messages.iter().any(|m| !matches!(m.value, Value::Object(_))) {
        return Err(ShapeError("every message must be a JSON object".into()));
    }
    let format = match options.format {
        ProviderFormat::Auto => detect(root, messages, has_input),
        chosen => chosen,
    };
    let calls = tool_calls(messages);
    let mut in_order: Vec<ToolCall> = calls.values().cloned().collect();
    in_order.sort_by_key(|c| c.at);
    let query_at = latest_user_text(messages);
    let query = match &options.query {
        Some(q) => q.clone(),
        None => {
            let mut query = query_at.map(|i| user_text(&messages[i])).unwrap_or_default();
            // In an agent loop the user's words are the task from many calls ago; the agent's
            // latest reasoning and call arguments say what the newest outputs are for.
            if let Some(latest) = messages.iter().rposition(|m| m.str_at("role") == Some("assistant")).filter(|&a| query_at.is_none_or(|q| a > q)) {
                query.push('\n');
                query.push_str(&agent_intent(&messages[latest], &in_order));
            }
            query
        }
    };
    let n = messages.len();
    let mut candidates = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let zone = if i < options.frozen as usize {
            Zone::HandsOff
        } else if Some(i) == query_at || i + (options.protect_recent as usize) >= n {
            Zone::Protected
        } else {
            Zone::Open
        };
        let first_new = candidates.len();
        collect(message, zone, &calls, options.compress_user_messages, &mut candidates);
        for candidate in &mut candidates[first_new..] {
            candidate.older = query_at.is_some_and(|q| i < q);
        }
    }
    let edited_paths = calls.values().filter(|c| c.edits).flat_map(|c| c.path.iter().chain(&c.patched).cloned()).collect();
    let assistants: Vec<&Node> = messages.iter().filter(|m| m.str_at("role") == Some("assistant") || m.str_at("type") == Some("function_call")).collect();
    let user_turns = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.str_at("role") == Some("user"))
        .filter_map(|(i, m)| {
            let content = m.get("content")?;
            let first = *text_parts(content).first()?;
            let cached = has_cache_control(m) || content.as_array().is_some_and(|bs| bs.iter().any(has_cache_control));
            Some(UserTurn {
                end: m.span.end,
                text_start: first.span.start,
                text: first.as_str()?,
                hands_off: i < options.frozen as usize || cached,
                latest: Some(i) == query_at,
            })
        })
        .collect();
    let prefix_start = messages.first().map_or(0, |m| m.span.start);
    Ok(Conversation {
        format,
        messages,
        query,
        candidates,
        edited_paths,
        calls: in_order,
        assistant_turns: assistants.len(),
        latest_assistant_at: assistants.last().map(|m| m.span.start),
        prefix_start,
        user_turns,
    })
}

fn detect(root: &Node, messages: &[Node], has_input: bool) -> ProviderFormat {
    if has_input
        || messages.iter().any(|m| {
            matches!(m.str_at("type"), Some("function_call" | "function_call_output" | "reasoning"))
        })
    {
        return ProviderFormat::OpenAiResponses;
    }
    let anthropic_block = |b: &Node| {
        matches!(b.str_at("type"), Some("tool_result" | "tool_use" | "thinking" | "redacted_thinking"))
            || (matches!(b.str_at("type"), Some("image" | "document")) && b.get("source").is_some())
    };
    if root.get("system").is_some()
        || messages.iter().any(|m| m.get("content").and_then(Node::as_array).is_some_and(|bs| bs.iter().any(anthropic_block)))
    {
        return ProviderFormat::Anthropic;
    }
    ProviderFormat::OpenAiChat
}

/// A tool call seen in the request: what it targets and where it stands, for naming the outputs
/// it produced and telling which earlier outputs it supersedes.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub name: Option<String>,
    /// The file it reads or writes, when its arguments name one.
    pub path: Option<String>,
    /// The shell command it runs, when its arguments hold one.
    pub command: Option<String>,
    /// Where the call begins in the request.
    pub at: usize,
    /// Whether it changes the file at `path`.
    pub edits: bool,
    /// The text an edit replaces, when its arguments give it (`old_str`, `old_string`).
    pub replaces: Option<String>,
    /// The files a patch in its arguments changes (Codex's `apply_patch`: `*** Update File: …`).
    pub patched: Vec<String>,
    /// Its argument values other than paths: what the agent is looking for with it.
    pub intent: String,
}

/// Argument names under which tools commonly take a file path.
const PATH_ARGUMENTS: [&str; 5] = ["path", "file_path", "filePath", "filename", "file"];

fn tool_call(name: Option<&str>, arguments: Option<serde_json::Value>, at: usize) -> ToolCall {
    let text_arg = |keys: &[&str]| {
        arguments.as_ref().and_then(|args| keys.iter().find_map(|k| args.get(k).and_then(|v| v.as_str()).map(str::to_string)))
    };
    let command = text_arg(&["command", "cmd"]).or_else(|| arguments.as_ref().and_then(|args| argv_command(args.get("command")?)));
    // A shell command that prints one file names it as a reader's `path` would.
    let path = text_arg(&PATH_ARGUMENTS).or_else(|| command.as_deref().and_then(shell::file_read));
    // An editor tool takes its action as a one-word `command` (`view`, `str_replace`); a shell
    // tool takes a command line, and its name says what it does.
    let action = command.as_deref().filter(|c| !c.is_empty() && !c.contains(char::is_whitespace)).or(name);
    let edits = action.is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        ["edit", "write", "patch", "replace", "create", "insert"].iter().any(|w| n.contains(w))
    });
    let command = command.filter(|c| c.contains(char::is_whitespace) || path.is_none());
    let replaces = text_arg(&["old_str", "old_string"]);
    let intent = arguments
        .as_ref()
        .and_then(serde_json::Value::as_object)
        .map(|members| {
            let values = members.iter().filter(|(key, _)| !PATH_ARGUMENTS.contains(&key.as_str()));
            values.map(|(_, v)| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect::<Vec<_>>().join("\n")
        })
        .unwrap_or_default();
    let patched = patched_files(&intent);
    let edits = edits || !patched.is_empty();
    ToolCall { name: name.map(str::to_string), path, command, at, edits, replaces, intent, patched }
}

/// A command given as its argument vector (Codex's `shell` tool: `["bash", "-lc", "cat a.py"]`):
/// the script a shell is handed, else the words joined.
fn argv_command(argv: &serde_json::Value) -> Option<String> {
    let words: Vec<&str> = argv.as_array()?.iter().map(serde_json::Value::as_str).collect::<Option<_>>()?;
    match words.as_slice() {
        [shell, flag, script] if ["bash", "sh", "zsh"].contains(&shell.rsplit('/').next().unwrap_or(shell)) && flag.ends_with('c') && flag.starts_with('-') => {
            Some(script.to_string())
        }
        [] => None,
        _ => Some(words.join(" ")),
    }
}

/// The files a patch in Codex's format changes: the paths after `*** Update File: `, `*** Add
/// File: ` and `*** Delete File: ` at the start of its lines.
fn patched_files(text: &str) -> Vec<String> {
    let headers = ["*** Update File: ", "*** Add File: ", "*** Delete File: "];
    text.lines().filter_map(|line| headers.iter().find_map(|h| line.strip_prefix(h))).map(|path| path.trim().to_string()).collect()
}

/// Maps call ids to the calls in all three shapes.
fn tool_calls(messages: &[Node]) -> HashMap<String, ToolCall> {
    let parse_args = |node: Option<&Node>| node.and_then(Node::as_str).and_then(|s| serde_json::from_str(s).ok());
    let mut calls = HashMap::new();
    for m in messages {
        // OpenAI chat: assistant `tool_calls`.
        for call in m.get("tool_calls").and_then(Node::as_array).unwrap_or(&[]) {
            let function = call.get("function");
            if let Some(id) = call.str_at("id") {
                let name = function.and_then(|f| f.str_at("name"));
                calls.insert(id.to_string(), tool_call(name, parse_args(function.and_then(|f| f.get("arguments"))), call.span.start));
            }
        }
        // OpenAI Responses: `function_call` items.
        if m.str_at("type") == Some("function_call") {
            if let Some(id) = m.str_at("call_id") {
                calls.insert(id.to_string(), tool_call(m.str_at("name"), parse_args(m.get("arguments")), m.span.start));
            }
        }
        // Anthropic: `tool_use` blocks.
        for block in m.get("content").and_then(Node::as_array).unwrap_or(&[]) {
            if block.str_at("type") == Some("tool_use") {
                if let Some(id) = block.str_at("id") {
                    let input = block.get("input").map(|n| to_json(n));
                    calls.insert(id.to_string(), tool_call(block.str_at("name"), input, block.span.start));
                }
            }
        }
    }
    calls
}

/// Converts a small spanned node (tool arguments) into a `serde_json` value.
fn to_json(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Object(members) => members.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect(),
        Value::Array(items) => items.iter().map(to_json).collect(),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Scalar => serde_json::Value::Null,
    }
}

/// Text parts of a message's `content`: the string itself, or `text` of text blocks.
fn text_parts<'n>(content: &'n Node<'n>) -> Vec<&'n Node<'n>> {
    match &content.value {
        Value::String(_) => vec![content],
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| matches!(b.str_at("type"), Some("text" | "input_text" | "output_text")))
            .filter_map(|b| b.get("text"))
            .filter(|t| t.as_str().is_some())
            .collect(),
        _ => Vec::new(),
    }
}

/// The index of the latest user message that carries text (not only tool results).
fn latest_user_text(messages: &[Node]) -> Option<usize> {
    messages.iter().rposition(|m| {
        m.str_at("role") == Some("user") && m.get("content").is_some_and(|c| !text_parts(c).is_empty())
    })
}

/// What an assistant message says and asks for: its text and the intent of the tool calls in
/// it (their arguments, except file paths: a path names the file an output came from, and
/// every line of it is "about" it).
fn agent_intent(message: &Node, calls: &[ToolCall]) -> String {
    let mut parts: Vec<&str> = message.get("content").map(text_parts).unwrap_or_default().iter().filter_map(|p| p.as_str()).collect();
    parts.extend(calls.iter().filter(|c| message.span.contains(&c.at) && !c.intent.is_empty()).map(|c| c.intent.as_str()));
    parts.join("\n")
}

fn user_text(message: &Node) -> String {
    let parts = message.get("content").map(text_parts).unwrap_or_default();
    parts.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join("\n")
}

fn has_cache_control(node: &Node) -> bool {
    node.get("cache_control").is_some()
}

fn collect<'n>(
    message: &'n Node<'n>,
    zone: Zone,
    calls: &HashMap<String, ToolCall>,
    user_content: bool,
    out: &mut Vec<Candidate<'n>>,
) {
    let mut push = |node: &'n Node<'n>, call_id: Option<&str>, zone: Zone| {
        let Some(text) = node.as_str() else { return };
        let call = call_id.and_then(|id| calls.get(id));
        // A retrieve result is the original a marker stood for: compressing it again would put
        // the marker back in front of the model that just asked to see past it.
        let retrieved = call.and_then(|c| c.name.as_deref()) == Some(super::retrieve_tool::TOOL_NAME);
        let zone = if retrieved { Zone::HandsOff } else { zone };
        out.push(Candidate {
            span: node.span.clone(),
            text,
            tool_name: call.and_then(|c| c.name.clone()),
            file_path: call.and_then(|c| c.path.clone()),
            command: call.and_then(|c| c.command.clone()),
            call_at: call.map(|c| c.at),
            zone,
            older: false,
        });
    };
    let zone_of = |node: &Node| if has_cache_control(node) { Zone::HandsOff } else { zone };
    let message_zone = zone_of(message);
    match (message.str_at("role"), message.str_at("type")) {
        // OpenAI chat tool output.
        (Some("tool" | "function"), _) => {
            if let Some(content) = message.get("content") {
                let id = message.str_at("tool_call_id");
                for part in text_parts(content) {
                    push(part, id, message_zone);
                }
            }
        }
        // OpenAI Responses tool output.
        (_, Some("function_call_output")) => {
            if let Some(output) = message.get("output") {
                let id = message.str_at("call_id");
                for part in text_parts(output) {
                    push(part, id, message_zone);
                }
            }
        }
        (Some("user"), _) => {
            let Some(content) = message.get("content") else { return };
            // Anthropic tool results live in user messages.
            for block in content.as_array().unwrap_or(&[]) {
                if block.str_at("type") == Some("tool_result") {
                    if let Some(inner) = block.get("content") {
                        let block_zone = if has_cache_control(block) { Zone::HandsOff } else { message_zone };
                        for part in text_parts(inner) {
                            push(part, block.str_at("tool_use_id"), block_zone);
                        }
                    }
                }
            }
            if user_content && zone != Zone::Protected {
                let blocks_with_cache = content.as_array().is_some_and(|bs| bs.iter().any(has_cache_control));
                for part in text_parts(content) {
                    if part.as_str().is_some_and(|t| t.len() >= LONG_USER_TEXT) {
                        push(part, None, if blocks_with_cache { Zone::HandsOff } else { message_zone });
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::spans::parse;

    fn read_str(src: &str, options: &CompressOptions) -> Vec<(String, Zone, Option<String>)> {
        let root = parse(src).unwrap();
        let conv = read(&root, options).unwrap();
        conv.candidates.iter().map(|c| (c.text.to_string(), c.zone, c.tool_name.clone())).collect()
    }

    #[test]
    fn openai_chat_tool_messages_are_candidates_and_the_query_is_protected() {
        let src = r#"[
          {"role":"system","content":"sys"},
          {"role":"user","content":"first question"},
          {"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a.py\"}"}}]},
          {"role":"tool","tool_call_id":"c1","content":"file body"},
          {"role":"user","content":"second question"}
        ]"#;
        let root = parse(src).unwrap();
        let conv = read(&root, &CompressOptions::default()).unwrap();
        assert_eq!(conv.format, ProviderFormat::OpenAiChat);
        assert_eq!(conv.query, "second question");
        assert_eq!(conv.candidates.len(), 1);
        assert_eq!(conv.candidates[0].text, "file body");
        assert_eq!(conv.candidates[0].file_path.as_deref(), Some("a.py"));
        assert_eq!(conv.candidates[0].zone, Zone::Open);
    }

    #[test]
    fn anthropic_tool_results_frozen_and_cache_control_are_hands_off() {
        let src = r#"{"system":"s","messages":[
          {"role":"user","content":"look"},
          {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"grep","input":{"pattern":"x"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"hits"}]},
          {"role":"assistant","content":[{"type":"tool_use","id":"t2","name":"cat","input":{}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"cached"}],"cache_control":{"type":"ephemeral"}}]}
        ]}"#;
        let got = read_str(src, &CompressOptions::default());
        assert_eq!(got, vec![
            ("hits".into(), Zone::Open, Some("grep".into())),
            ("cached".into(), Zone::HandsOff, Some("cat".into())),
        ]);
        let frozen = read_str(src, &CompressOptions { frozen: 3, ..Default::default() });
        assert_eq!(frozen[0].1, Zone::HandsOff);
    }

    #[test]
    fn responses_items_and_the_recent_tail() {
        let src = r#"{"model":"gpt-5","input":[
          {"role":"user","content":[{"type":"input_text","text":"q"}]},
          {"type":"function_call","call_id":"f1","name":"run","arguments":"{}"},
          {"type":"function_call_output","call_id":"f1","output":"out one"},
          {"type":"function_call","call_id":"f2","name":"run","arguments":"{}"},
          {"type":"function_call_output","call_id":"f2","output":"out two"}
        ]}"#;
        let root = parse(src).unwrap();
        let conv = read(&root, &CompressOptions { protect_recent: 1, ..Default::default() }).unwrap();
        assert_eq!(conv.format, ProviderFormat::OpenAiResponses);
        assert_eq!(conv.query, "q");
        let zones: Vec<_> = conv.candidates.iter().map(|c| (c.text, c.zone)).collect();
        assert_eq!(zones, vec![("out one", Zone::Open), ("out two", Zone::Protected)]);
    }

    #[test]
    fn long_user_text_only_when_asked_and_never_the_latest() {
        let long = "word ".repeat(500);
        let src = format!(r#"[{{"role":"user","content":"{long}"}},{{"role":"assistant","content":"ok"}},{{"role":"user","content":"{long}!"}}]"#);
        assert!(read_str(&src, &CompressOptions::default()).is_empty());
        let asked = read_str(&src, &CompressOptions { compress_user_messages: true, ..Default::default() });
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].0, long);
    }

    #[test]
    fn edit_calls_name_the_files_being_edited() {
        let src = r#"[{"role":"assistant","tool_calls":[{"id":"e","type":"function","function":{"name":"edit_file","arguments":"{\"file_path\":\"src/x.rs\"}"}}]}]"#;
        let root = parse(src).unwrap();
        assert_eq!(read(&root, &CompressOptions::default()).unwrap().edited_paths, vec!["src/x.rs".to_string()]);
    }

    #[test]
    fn a_command_given_as_an_argument_vector_is_read_as_the_script_a_shell_runs() {
        let call = |argv: serde_json::Value| tool_call(Some("shell"), Some(serde_json::json!({"command": argv})), 0);
        let read = call(serde_json::json!(["bash", "-lc", "sed -n '1,80p' src/app.py"]));
        assert_eq!((read.command.as_deref(), read.path.as_deref()), (Some("sed -n '1,80p' src/app.py"), Some("src/app.py")));
        assert_eq!(call(serde_json::json!(["ls", "-la"])).command.as_deref(), Some("ls -la"));
        assert_eq!(call(serde_json::json!([])).command, None);
    }

    #[test]
    fn a_codex_patch_names_every_file_it_changes() {
        let patch = "*** Begin Patch\n*** Update File: src/a.ts\n@@\n-old\n+new\n*** Add File: src/b.ts\n+x\n*** End Patch";
        let arguments = serde_json::json!({"input": patch}).to_string();
        let src = serde_json::json!([{"role": "assistant", "tool_calls": [{"id": "p", "type": "function", "function": {"name": "apply_patch", "arguments": arguments}}]}]).to_string();
        let root = parse(&src).unwrap();
        let mut edited = read(&root, &CompressOptions::default()).unwrap().edited_paths;
        edited.sort();
        assert_eq!(edited, ["src/a.ts", "src/b.ts"]);
    }

    #[test]
    fn in_an_agent_loop_the_latest_reasoning_and_arguments_join_the_query() {
        let src = r#"[
          {"role":"user","content":"fix the separability bug"},
          {"role":"assistant","content":"Let me look at the modeling package.","tool_calls":[{"id":"c1","type":"function","function":{"name":"bash","arguments":"{\"command\": \"ls -R astropy/modeling\"}"}}]},
          {"role":"tool","tool_call_id":"c1","content":"listing"}
        ]"#;
        let read_query = |root: &Node| read(root, &CompressOptions::default()).unwrap().query;
        let root = parse(src).unwrap();
        let query = read_query(&root);
        assert!(query.starts_with("fix the separability bug\n"), "{query}");
        assert!(query.contains("modeling package") && query.contains("ls -R astropy/modeling"), "{query}");
        let read = src.replace(r#"{\"command\": \"ls -R astropy/modeling\"}"#, r#"{\"path\": \"json/decoder.py\"}"#);
        let root = parse(&read).unwrap();
        assert!(!read_query(&root).contains("decoder"), "a path is not what the agent looks for");
    }

    #[test]
    fn shapes_that_are_not_requests_are_refused() {
        for bad in [r#"{"x":1}"#, r#""text""#, r#"[1,2]"#, r#"{"messages":{}}"#] {
            assert!(read(&parse(bad).unwrap(), &CompressOptions::default()).is_err(), "{bad}");
        }
    }

    #[test]
    fn results_of_headroom_retrieve_are_hands_off() {
        let src = r#"[
          {"role":"user","content":"why?"},
          {"role":"assistant","tool_calls":[{"id":"r1","type":"function","function":{"name":"headroom_retrieve","arguments":"{\"hash\":\"k\"}"}}]},
          {"role":"tool","tool_call_id":"r1","content":"the original"}
        ]"#;
        assert_eq!(read_str(src, &CompressOptions::default()), vec![("the original".into(), Zone::HandsOff, Some("headroom_retrieve".into()))]);
    }
}
