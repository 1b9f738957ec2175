//! The `headroom_retrieve` tool definition, in each provider's shape (docs/architecture.md §3.5).

use headroom_protocol::ProviderFormat;
use serde_json::{json, Value};

/// The tool's name, as the model calls it.
pub const TOOL_NAME: &str = "headroom_retrieve";

const DESCRIPTION: &str = "Get back content that Headroom left out of a tool result. Each \
omission is marked `[headroom: ...; headroom_retrieve hash=<key>]`. Call this with that key to \
read the exact original; add a query to read only the lines that contain its words.";

fn parameters() -> Value {
    json!({
        "type": "object",
        "properties": {
            "hash": {"type": "string", "description": "The 24-character key after hash= in the marker."},
            "query": {"type": "string", "description": "Optional words, or line numbers (lines 120-180); only those original lines are returned."}
        },
        "required": ["hash"]
    })
}

/// The definition as compact JSON in `format`'s tool shape (`Auto` is treated as OpenAI chat).
pub fn definition(format: ProviderFormat) -> String {
    shaped(format, TOOL_NAME, DESCRIPTION, parameters()).to_string()
}

/// A function tool in `format`'s shape, for every tool Headroom offers the model.
pub fn shaped(format: ProviderFormat, name: &str, description: &str, parameters: Value) -> Value {
    match format {
        ProviderFormat::Anthropic => json!({"name": name, "description": description, "input_schema": parameters}),
        ProviderFormat::OpenAiResponses => {
            json!({"type": "function", "name": name, "description": description, "parameters": parameters})
        }
        ProviderFormat::OpenAiChat | ProviderFormat::Auto => json!({
            "type": "function",
            "function": {"name": name, "description": description, "parameters": parameters}
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_names_the_tool_where_its_provider_looks() {
        let chat: Value = serde_json::from_str(&definition(ProviderFormat::OpenAiChat)).unwrap();
        assert_eq!(chat["function"]["name"], TOOL_NAME);
        let responses: Value = serde_json::from_str(&definition(ProviderFormat::OpenAiResponses)).unwrap();
        assert_eq!(responses["name"], TOOL_NAME);
        assert_eq!(responses["parameters"]["required"][0], "hash");
        let anthropic: Value = serde_json::from_str(&definition(ProviderFormat::Anthropic)).unwrap();
        assert_eq!(anthropic["input_schema"]["properties"]["hash"]["type"], "string");
    }
}
