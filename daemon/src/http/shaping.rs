//! Opt-in (`shaping = true`) cache-friendly shaping of proxied requests. Providers cache a
//! prompt by its prefix, and agents often rebuild their tool list in a different order, or with
//! schema keys in a different order, from one turn to the next: every such turn misses the
//! cache. Shaping makes that prefix a function of its meaning only:
//!
//! - `tools` sorted by name, every object inside a tool (JSON Schema included) with its keys
//!   sorted, written compactly;
//! - [`TERSE`] appended at the very end of the system prompt (OpenAI chat: the last leading
//!   `system`/`developer` message, added when there is none; Responses: `instructions`;
//!   Anthropic: `system`), to cut output tokens.
//!
//! Both are byte-stable across turns: the same tools and system prompt give the same bytes
//! whatever order they came in. Everything else is spliced through untouched. This rewrites
//! the tool definitions, which Headroom otherwise never touches (docs/architecture.md §3.6); that is why it is
//! off by default.

use headroom_protocol::ProviderFormat;
use crate::request::spans::{self, Edit, Node, Value};
use serde_json::Value as Json;

/// The instruction appended to the system prompt, the same bytes on every request.
pub const TERSE: &str = "Be concise: answer in as few words as the task allows, with no preamble, no restating of the question and no closing summary.";

/// The shaped request, or `None` when nothing would change (or the body is not an object).
pub fn shape(body: &str, format: ProviderFormat) -> Option<String> {
    let root = spans::parse(body)?;
    let Value::Object(members) = &root.value else { return None };
    let mut edits = Vec::new();
    if let Some(tools) = root.get("tools").filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        let sorted = sorted_tools(&body[tools.span.clone()])?;
        if sorted != body[tools.span.clone()] {
            edits.push(Edit { span: tools.span.clone(), text: sorted });
        }
    }
    let comma = if members.is_empty() { "" } else { "," };
    edits.extend(match format {
        ProviderFormat::OpenAiChat => chat_instruction(&root),
        ProviderFormat::OpenAiResponses => member_instruction(&root, "instructions", comma),
        ProviderFormat::Anthropic => member_instruction(&root, "system", comma),
        // The proxy always knows the route's format.
        ProviderFormat::Auto => None,
    });
    (!edits.is_empty()).then(|| spans::splice(body, edits))
}

/// The tools array with each tool canonical and the tools ordered by name (then by their
/// canonical text, for nameless built-in tools).
fn sorted_tools(tools_json: &str) -> Option<String> {
    let tools: Vec<Json> = serde_json::from_str(tools_json).ok()?;
    let mut keyed: Vec<(String, String)> = tools
        .iter()
        .map(|tool| {
            let name = tool
                .get("name")
                .or_else(|| tool.get("function").and_then(|f| f.get("name")))
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            let mut text = String::new();
            canonical(tool, &mut text);
            (name, text)
        })
        .collect();
    keyed.sort();
    Some(format!("[{}]", keyed.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join(",")))
}

/// Compact JSON with every object's keys in byte order; arrays keep their order (it can mean
/// something, as in `required` or `enum`).
fn canonical(value: &Json, out: &mut String) {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&spans::quote(key));
                out.push(':');
                canonical(item, out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The edit that ends the string at `node` with [`TERSE`] (unless it already does), or appends
/// a text part to an array of parts.
fn append_to(node: &Node, part: &str) -> Option<Edit> {
    match &node.value {
        Value::String(text) if text.ends_with(TERSE) => None,
        Value::String(text) if text.is_empty() => Some(Edit { span: node.span.clone(), text: spans::quote(TERSE) }),
        Value::String(text) => Some(Edit { span: node.span.clone(), text: spans::quote(&format!("{text}\n\n{TERSE}")) }),
        Value::Array(parts) => {
            if parts.last().and_then(|p| p.str_at("text")).is_some_and(|t| t.ends_with(TERSE)) {
                return None;
            }
            Some(match parts.last() {
                Some(last) => Edit { span: last.span.end..last.span.end, text: format!(",{part}") },
                None => Edit { span: node.span.clone(), text: format!("[{part}]") },
            })
        }
        _ => None,
    }
}

/// A text part (`{"type":"text","text":TERSE}`), the shape both chat and Anthropic use.
fn text_part() -> String {
    format!("{{\"type\":\"text\",\"text\":{}}}", spans::quote(TERSE))
}

/// OpenAI chat: the end of the last leading system/developer message, or a new system message
/// in front.
fn chat_instruction(root: &Node) -> Option<Edit> {
    let messages = root.get("messages")?.as_array()?;
    let is_system = |m: &&Node| matches!(m.str_at("role"), Some("system" | "developer"));
    match messages.iter().take_while(is_system).last() {
        Some(system) => append_to(system.get("content")?, &text_part()),
        None => {
            let first = messages.first()?;
            let message = format!("{{\"role\":\"system\",\"content\":{}}},", spans::quote(TERSE));
            Some(Edit { span: first.span.start..first.span.start, text: message })
        }
    }
}

/// Responses `instructions` or Anthropic `system`: appended to, set when null, or added as the
/// object's first member (followed by `comma` when other members follow).
fn member_instruction(root: &Node, key: &str, comma: &str) -> Option<Edit> {
    match root.get(key) {
        Some(node) if !matches!(node.value, Value::Scalar) => append_to(node, &text_part()),
        Some(null) => Some(Edit { span: null.span.clone(), text: spans::quote(TERSE) }),
        None => {
            let at = root.span.start + 1;
            Some(Edit { span: at..at, text: format!("{}:{}{comma}", spans::quote(key), spans::quote(TERSE)) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_in_any_order_give_the_same_bytes() {
        let a = r#"{"model":"m","tools":[{"type":"function","function":{"name":"zeta","parameters":{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}},"required":["b","a"]}}},{"function":{"parameters":{},"name":"alpha"},"type":"function"}],"messages":[{"role":"user","content":"hi"}]}"#;
        let b = r#"{"model":"m","tools":[{"type":"function","function":{"name":"alpha","parameters":{}}},{"function":{"parameters":{"required":["b","a"],"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"},"name":"zeta"},"type":"function"}],"messages":[{"role":"user","content":"hi"}]}"#;
        let (sa, sb) = (shape(a, ProviderFormat::OpenAiChat).unwrap(), shape(b, ProviderFormat::OpenAiChat).unwrap());
        assert_eq!(sa, sb);
        assert!(sa.contains(r#"[{"function":{"name":"alpha","parameters":{}},"type":"function"},{"function":{"name":"zeta","parameters":{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b","a"],"type":"object"}},"type":"function"}]"#), "{sa}");
        assert_eq!(shape(&sa, ProviderFormat::OpenAiChat), None, "shaping is idempotent");
    }

    #[test]
    fn the_instruction_ends_each_providers_system_prompt() {
        let chat = shape(r#"{"messages":[{"role":"system","content":"You help."},{"role":"user","content":"hi"}]}"#, ProviderFormat::OpenAiChat).unwrap();
        let v: Json = serde_json::from_str(&chat).unwrap();
        assert_eq!(v["messages"][0]["content"], format!("You help.\n\n{TERSE}"));
        let chat = shape(r#"{"messages":[{"role":"user","content":"hi"}]}"#, ProviderFormat::OpenAiChat).unwrap();
        assert_eq!(chat, format!(r#"{{"messages":[{{"role":"system","content":"{TERSE}"}},{{"role":"user","content":"hi"}}]}}"#));

        let anthropic = shape(r#"{"model":"c","system":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}],"messages":[]}"#, ProviderFormat::Anthropic).unwrap();
        assert_eq!(anthropic, format!(r#"{{"model":"c","system":[{{"type":"text","text":"S","cache_control":{{"type":"ephemeral"}}}},{{"type":"text","text":"{TERSE}"}}],"messages":[]}}"#));
        let anthropic = shape(r#"{"model":"c","messages":[]}"#, ProviderFormat::Anthropic).unwrap();
        assert_eq!(anthropic, format!(r#"{{"system":"{TERSE}","model":"c","messages":[]}}"#));

        let responses = shape(r#"{"model":"g","instructions":null,"input":"hi"}"#, ProviderFormat::OpenAiResponses).unwrap();
        assert_eq!(responses, format!(r#"{{"model":"g","instructions":"{TERSE}","input":"hi"}}"#));
        assert_eq!(shape(&responses, ProviderFormat::OpenAiResponses), None, "never appended twice");
    }
}
