//! Tool-call arguments that repeat what the conversation already shows. An agent's edit call
//! carries the text it replaces (`old_str`, shown by the view it read) and the text it puts in
//! (`new_str`, shown again by the editor's result), and both stay in every later request. A long
//! string argument whose every line the request already shows — in the call's own result or in
//! an earlier output — is replaced by a marker saying where; the arguments stay valid JSON, and
//! the exact value is retrievable by key.
//!
//! Decided the first time a call is seen and recorded under the conversation up to it, so the
//! same bytes are sent on every later request.

use crate::request::marker::{self, thousands};
use crate::compressors::numbered;
use crate::request::provider::Conversation;
use crate::request::spans::{self, Edit, Node, Value};
use std::collections::HashSet;
use std::ops::Range;

/// Values shorter than this stay as they are: a marker would save little.
pub const MIN_VALUE_BYTES: usize = 400;

/// One tool call's arguments as they sit in the request.
pub struct Site<'n> {
    /// The bytes a decision replaces: the `arguments` string literal (OpenAI, where arguments
    /// are JSON inside a string) or the `input` object (Anthropic).
    pub span: Range<usize>,
    /// The arguments as JSON text: the decoded string, or the object's own bytes.
    arguments: std::borrow::Cow<'n, str>,
    /// Whether `span` holds the arguments encoded as a JSON string.
    encoded: bool,
    /// Where the call begins in the request (its result names it).
    pub call_at: usize,
}

/// Every tool call's arguments in the assistant messages of the request.
pub fn sites<'n>(conv: &Conversation<'n>, src: &'n str) -> Vec<Site<'n>> {
    let mut out = Vec::new();
    for message in conv.messages {
        // OpenAI chat: `tool_calls[].function.arguments`; Responses: a `function_call` item.
        let calls = message.get("tool_calls").and_then(Node::as_array).unwrap_or(&[]);
        let encoded = calls
            .iter()
            .filter_map(|c| Some((c.span.start, c.get("function")?.get("arguments")?)))
            .chain((message.str_at("type") == Some("function_call")).then(|| message.get("arguments").map(|a| (message.span.start, a))).flatten());
        for (call_at, literal) in encoded {
            if let Some(text) = literal.as_str() {
                out.push(Site { span: literal.span.clone(), arguments: text.to_string().into(), encoded: true, call_at });
            }
        }
        // Anthropic: `tool_use` blocks with an `input` object.
        for block in message.get("content").and_then(Node::as_array).unwrap_or(&[]) {
            if block.str_at("type") == Some("tool_use") {
                if let Some(input) = block.get("input").filter(|i| matches!(i.value, Value::Object(_))) {
                    out.push(Site { span: input.span.clone(), arguments: src[input.span.clone()].into(), encoded: false, call_at: block.span.start });
                }
            }
        }
    }
    out
}

/// The lines a request shows before a call and in the call's result, as [`visible_line`] has
/// them: tool outputs, and the string arguments of earlier calls (a file the agent created is
/// shown by its own `file_text`).
pub fn shown_lines(conv: &Conversation, site: &Site, sites: &[Site]) -> HashSet<String> {
    let outputs = conv.candidates.iter().filter(|c| c.span.end <= site.call_at || c.call_at == Some(site.call_at)).map(|c| c.text.to_string());
    let arguments = sites.iter().filter(|s| s.span.end <= site.call_at).flat_map(Site::values);
    outputs
        .chain(arguments)
        .flat_map(|text| text.lines().map(visible_line).filter(|l| !l.is_empty()).map(str::to_string).collect::<Vec<_>>())
        .collect()
}

impl Site<'_> {
    /// The top-level string values of the arguments, decoded.
    fn values(&self) -> Vec<String> {
        let Some(root) = spans::parse(&self.arguments) else { return Vec::new() };
        let Value::Object(members) = &root.value else { return Vec::new() };
        members.iter().filter_map(|(_, v)| v.as_str()).map(str::to_string).collect()
    }
}

/// A line as a reader compares it: without a view's line number and without the indentation
/// and trailing spaces around it.
fn visible_line(line: &str) -> &str {
    numbered::code_of(line.trim_end_matches('\r')).trim()
}

/// The text to put at `site.span`: the arguments with each long string value whose every line
/// is in `shown` replaced by a marker; `None` when there is no such value.
pub fn elide(site: &Site, shown: &HashSet<String>) -> Option<String> {
    let root = spans::parse(&site.arguments)?;
    let Value::Object(members) = &root.value else { return None };
    let mut edits = Vec::new();
    for (name, value) in members {
        let Some(text) = value.as_str().filter(|t| t.len() >= MIN_VALUE_BYTES) else { continue };
        let lines: Vec<&str> = text.lines().map(visible_line).filter(|l| !l.is_empty()).collect();
        if lines.is_empty() || !lines.iter().all(|l| shown.contains(*l)) {
            continue;
        }
        let note = format!("the {} lines of `{name}` are shown in this conversation's tool output", thousands(text.lines().count()));
        edits.push(Edit { span: value.span.clone(), text: spans::quote(&marker::marker(&marker::key_for(text), &note)) });
    }
    if edits.is_empty() {
        return None;
    }
    let arguments = spans::splice(&site.arguments, edits);
    Some(if site.encoded { spans::quote(&arguments) } else { arguments })
}

/// The string values of `site` whose keys are among `keys`: the originals a replayed decision
/// put markers in for, so the CCR store keeps them.
pub fn values_behind(site: &Site, keys: &[String]) -> Vec<(String, String)> {
    site.values().into_iter().map(|text| (marker::key_for(&text), text)).filter(|(key, _)| keys.contains(key)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::provider;
    use headroom_protocol::CompressOptions;

    #[test]
    fn a_new_str_the_result_shows_is_elided_and_one_it_does_not_stays() {
        let new_lines: Vec<String> = (0..30).map(|i| format!("    total += values[{i}]  # step {i}")).collect();
        let new_str = new_lines.join("\n");
        let snippet: String = new_lines.iter().enumerate().map(|(i, l)| format!("{:6}\t{l}\n", i + 40)).collect();
        let args = serde_json::json!({"command": "str_replace", "path": "/w/a.py", "old_str": "x", "new_str": new_str}).to_string();
        let other = serde_json::json!({"command": "create", "path": "/w/b.py", "file_text": "y = 2\n".repeat(100) + "z"}).to_string();
        let src = serde_json::json!([
            {"role": "user", "content": "fix it"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "edit", "arguments": args}}]},
            {"role": "tool", "tool_call_id": "c1", "content": format!("The file /w/a.py has been edited:\n{snippet}")},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "edit", "arguments": other}}]},
            {"role": "tool", "tool_call_id": "c2", "content": "File created successfully at: /w/b.py"}
        ])
        .to_string();
        let root = spans::parse(&src).unwrap();
        let conv = provider::read(&root, &CompressOptions::default()).unwrap();
        let sites = sites(&conv, &src);
        assert_eq!(sites.len(), 2);
        let elided = elide(&sites[0], &shown_lines(&conv, &sites[0], &sites)).expect("new_str is in the result");
        let decoded: String = serde_json::from_str(&elided).unwrap();
        let arguments: serde_json::Value = serde_json::from_str(&decoded).expect("still valid JSON");
        assert_eq!(arguments["old_str"], "x");
        assert!(arguments["new_str"].as_str().unwrap().contains(&marker::key_for(&new_str)));
        let key = marker::key_for(&new_str);
        assert_eq!(values_behind(&sites[0], std::slice::from_ref(&key)), vec![(key, new_str)]);
        assert!(elide(&sites[1], &shown_lines(&conv, &sites[1], &sites)).is_none(), "a file_text nothing shows stays");
    }
}
