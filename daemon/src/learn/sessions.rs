//! Reading the sessions coding agents log, as one shape: the tool calls of a session in order,
//! each with what it asked, what came back and whether it failed. The logs are only read.
//!
//! - Claude Code: `~/.claude/projects/<project path, `/` as `-`>/*.jsonl` (and `<session>/
//!   subagents/*.jsonl`): `assistant` lines carry `tool_use {id, name, input}`, `user` lines
//!   `tool_result {tool_use_id, content, is_error}`.
//! - Codex CLI: `~/.codex/sessions/**/rollout-*.jsonl`: `response_item` lines with
//!   `function_call` / `custom_tool_call` and their `*_output`, matched by `call_id`.
//! - Gemini CLI: `~/.gemini/tmp/*/chats/session-*.json[l]`: messages whose `parts` carry
//!   `functionCall {name, args}` and `functionResponse {name, response}`, or (the chat
//!   recorder's form) whose `toolCalls` carry `{name, args, status, result}`.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which agent wrote a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
}

impl Agent {
    /// The name people call it by.
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "Claude Code",
            Agent::Codex => "Codex",
            Agent::Gemini => "Gemini CLI",
        }
    }
}

/// One tool call and its result.
#[derive(Debug, Clone)]
pub struct Call {
    /// The line of the log the call is on (1-based; for a whole-file JSON log, the call's order).
    pub line: usize,
    pub tool: String,
    /// What the call asked, in a form people read: the shell command, else the path, else the
    /// arguments as JSON.
    pub asked: String,
    /// The call's arguments as logged, to tell what a fix changed besides the command.
    pub args: Value,
    /// What came back (empty while no result was logged).
    pub output: String,
    /// The agent marked the result an error, or the output says the command failed.
    pub failed: bool,
    /// The user refused the call: not the agent's mistake to learn from.
    pub refused: bool,
}

/// One session's calls, in order.
#[derive(Debug)]
pub struct Session {
    pub agent: Agent,
    pub path: PathBuf,
    pub calls: Vec<Call>,
    /// Lines that were not JSON (a log cut short by a crash, say): skipped, and counted.
    pub unreadable_lines: usize,
}

/// The readable form of a call's arguments.
fn asked(input: &Value) -> String {
    let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_string);
    text("command")
        .or_else(|| text("cmd"))
        .or_else(|| input.get("command").and_then(Value::as_array).map(|parts| {
            parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")
        }))
        .or_else(|| text("file_path"))
        .or_else(|| text("pattern").map(|pattern| match text("path") {
            Some(path) => format!("{pattern} in {path}"),
            None => pattern,
        }))
        .or_else(|| text("path"))
        .unwrap_or_else(|| input.to_string())
}

/// Text a tool result holds: a string, or the text parts of a list.
fn output_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether an output says its command failed: a non-zero exit, or a shell's error line.
pub fn says_failed(output: &str) -> bool {
    let head: String = output.chars().take(2_000).collect();
    let exit_code = |marker: &str| {
        head.find(marker).and_then(|at| head[at + marker.len()..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<i64>().ok())
    };
    let code = exit_code("Process exited with code ").or_else(|| exit_code("exited with code: ")).or_else(|| exit_code("Exit code "));
    if let Some(code) = code {
        return code != 0;
    }
    const ERRORS: [&str; 8] = [
        "no matches found:",
        "command not found",
        "No such file or directory",
        "Permission denied",
        "operation not permitted",
        "Traceback (most recent call last)",
        "error: ",
        "fatal: ",
    ];
    head.lines().take(5).any(|line| ERRORS.iter().any(|e| line.contains(e)))
}

/// What a user refusing a tool call looks like in the result.
fn refused(output: &str) -> bool {
    output.contains("The user doesn't want to proceed with this tool use") || output.starts_with("[Request interrupted by user")
}

fn lines_of(text: &str) -> (Vec<(usize, Value)>, usize) {
    let mut values = Vec::new();
    let mut unreadable = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str(line) {
            Ok(v) => values.push((i + 1, v)),
            Err(_) => unreadable += 1,
        }
    }
    (values, unreadable)
}

/// A Claude Code transcript.
pub fn claude(path: &Path, text: &str) -> Session {
    let (lines, unreadable_lines) = lines_of(text);
    let mut calls: Vec<Call> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (line, value) in &lines {
        let Some(blocks) = value.pointer("/message/content").and_then(Value::as_array) else { continue };
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("tool_use") => {
                    let id = block.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                    by_id.insert(id, calls.len());
                    calls.push(Call {
                        line: *line,
                        tool: block.get("name").and_then(Value::as_str).unwrap_or("?").to_string(),
                        asked: asked(block.get("input").unwrap_or(&Value::Null)),
                        args: block.get("input").cloned().unwrap_or(Value::Null),
                        output: String::new(),
                        failed: false,
                        refused: false,
                    });
                }
                Some("tool_result") => {
                    let id = block.get("tool_use_id").and_then(Value::as_str).unwrap_or_default();
                    if let Some(call) = by_id.get(id).map(|&i| &mut calls[i]) {
                        call.output = output_text(block.get("content").unwrap_or(&Value::Null));
                        call.refused = refused(&call.output);
                        let marked = block.get("is_error").and_then(Value::as_bool).unwrap_or(false);
                        call.failed = !call.refused && (marked || says_failed(&call.output));
                    }
                }
                _ => {}
            }
        }
    }
    Session { agent: Agent::Claude, path: path.to_path_buf(), calls, unreadable_lines }
}

/// A Codex CLI rollout.
pub fn codex(path: &Path, text: &str) -> Session {
    let (lines, unreadable_lines) = lines_of(text);
    let mut calls: Vec<Call> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (line, value) in &lines {
        if value.get("type").and_then(Value::as_str) != Some("response_item") {
            continue;
        }
        let Some(item) = value.get("payload") else { continue };
        let id = item.get("call_id").and_then(Value::as_str).unwrap_or_default().to_string();
        match item.get("type").and_then(Value::as_str) {
            Some("function_call" | "custom_tool_call") => {
                let raw = item.get("arguments").or_else(|| item.get("input")).cloned().unwrap_or(Value::Null);
                // Arguments arrive as a JSON string; a custom tool's input is plain text.
                let input = raw.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(raw);
                by_id.insert(id, calls.len());
                calls.push(Call {
                    line: *line,
                    tool: item.get("name").and_then(Value::as_str).unwrap_or("?").to_string(),
                    asked: match &input {
                        Value::String(s) => s.clone(),
                        other => asked(other),
                    },
                    args: input,
                    output: String::new(),
                    failed: false,
                    refused: false,
                });
            }
            Some("function_call_output" | "custom_tool_call_output") => {
                if let Some(call) = by_id.get(&id).map(|&i| &mut calls[i]) {
                    let output = item.get("output").cloned().unwrap_or(Value::Null);
                    // Some outputs are `{"output": "...", "metadata": {"exit_code": N}}` as text.
                    let parsed = output.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok());
                    let exit = parsed.as_ref().and_then(|p| p.pointer("/metadata/exit_code")).and_then(Value::as_i64);
                    call.output = parsed.as_ref().and_then(|p| p.get("output")).map_or_else(|| output_text(&output), output_text);
                    call.refused = refused(&call.output);
                    call.failed = !call.refused && exit.map_or_else(|| says_failed(&call.output), |code| code != 0);
                }
            }
            _ => {}
        }
    }
    Session { agent: Agent::Codex, path: path.to_path_buf(), calls, unreadable_lines }
}

/// A Gemini CLI chat: one JSON document with `messages`, or one message a line.
pub fn gemini(path: &Path, text: &str) -> Session {
    let (messages, unreadable_lines): (Vec<(usize, Value)>, usize) = match serde_json::from_str::<Value>(text) {
        Ok(doc) => {
            let list = doc.get("messages").and_then(Value::as_array).cloned().or_else(|| doc.as_array().cloned()).unwrap_or_default();
            (list.into_iter().enumerate().map(|(i, m)| (i + 1, m)).collect(), 0)
        }
        Err(_) => lines_of(text),
    };
    let mut calls: Vec<Call> = Vec::new();
    for (line, message) in &messages {
        // The chat recorder's form: `toolCalls` with their `status` and `result` parts.
        for recorded in message.get("toolCalls").and_then(Value::as_array).into_iter().flatten() {
            let result = recorded.get("result").and_then(Value::as_array).into_iter().flatten();
            let output = result
                .filter_map(|part| part.pointer("/functionResponse/response"))
                .map(|r| output_text(r.get("output").or_else(|| r.get("error")).unwrap_or(r)))
                .collect::<Vec<_>>()
                .join("\n");
            let is_refused = refused(&output) || recorded.get("status").and_then(Value::as_str) == Some("cancelled");
            calls.push(Call {
                line: *line,
                tool: recorded.get("name").and_then(Value::as_str).unwrap_or("?").to_string(),
                asked: asked(recorded.get("args").unwrap_or(&Value::Null)),
                args: recorded.get("args").cloned().unwrap_or(Value::Null),
                failed: !is_refused && (recorded.get("status").and_then(Value::as_str) == Some("error") || says_failed(&output)),
                refused: is_refused,
                output,
            });
        }
        let parts = message.get("parts").or_else(|| message.get("content")).and_then(Value::as_array);
        for part in parts.into_iter().flatten() {
            if let Some(call) = part.get("functionCall") {
                calls.push(Call {
                    line: *line,
                    tool: call.get("name").and_then(Value::as_str).unwrap_or("?").to_string(),
                    asked: asked(call.get("args").unwrap_or(&Value::Null)),
                    args: call.get("args").cloned().unwrap_or(Value::Null),
                    output: String::new(),
                    failed: false,
                    refused: false,
                });
            } else if let Some(response) = part.get("functionResponse") {
                let name = response.get("name").and_then(Value::as_str).unwrap_or_default();
                let body = response.get("response").cloned().unwrap_or(Value::Null);
                let error = body.get("error").filter(|e| !e.is_null());
                let output = error.map_or_else(|| output_text(body.get("output").unwrap_or(&body)), output_text);
                if let Some(call) = calls.iter_mut().rev().find(|c| c.tool == name && c.output.is_empty()) {
                    call.refused = refused(&output);
                    call.failed = !call.refused && (error.is_some() || says_failed(&output));
                    call.output = output;
                }
            }
        }
    }
    Session { agent: Agent::Gemini, path: path.to_path_buf(), calls, unreadable_lines }
}

/// Reads one log file as the agent that writes files of its name and place.
pub fn read(path: &Path) -> Result<Session, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let session = if name.starts_with("rollout-") {
        codex(path, &text)
    } else if name.starts_with("session-") && path.components().any(|c| c.as_os_str() == "chats") {
        gemini(path, &text)
    } else {
        claude(path, &text)
    };
    Ok(session)
}

/// The log files under `dir` that `agent` writes, recursively, in name order.
pub fn find(dir: &Path, agent: Agent, main_only: bool) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !(main_only && name == "subagents") {
                    stack.push(path);
                }
                continue;
            }
            let wanted = match agent {
                Agent::Claude => name.ends_with(".jsonl"),
                Agent::Codex => name.starts_with("rollout-") && name.ends_with(".jsonl"),
                Agent::Gemini => name.starts_with("session-") && (name.ends_with(".json") || name.ends_with(".jsonl")),
            };
            if wanted {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}
