//! The `memory_save` and `memory_search` tools offered to the model when a request asks for
//! memory tools. The daemon only defines them; clients that own the model-call loop answer the
//! calls with `MemoryAdd` and `MemorySearch` (docs/memory.md gives the answers' wording).

use crate::request::retrieve_tool::shaped;
use headroom_protocol::ProviderFormat;
use serde_json::json;

/// The save tool's name, as the model calls it.
pub const SAVE: &str = "memory_save";

/// The search tool's name, as the model calls it.
pub const SEARCH: &str = "memory_search";

const SAVE_DESCRIPTION: &str = "Remember a fact for later conversations: a preference, a decision, \
a name, a setting. State it as one self-contained sentence. Give a short key naming what it is \
about (e.g. 'deploy target') when it replaces an earlier value.";

const SEARCH_DESCRIPTION: &str = "Search the facts remembered from earlier conversations. The most \
relevant ones are already shown at the top of the user's message; search for anything else.";

/// Both definitions, as `(name, compact JSON)` in `format`'s tool shape.
pub fn definitions(format: ProviderFormat) -> Vec<(&'static str, String)> {
    let save = json!({
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "The fact, as one sentence."},
            "key": {"type": "string", "description": "Optional: what the fact is about; a new fact with the same key replaces the old one."}
        },
        "required": ["text"]
    });
    let search = json!({
        "type": "object",
        "properties": {"query": {"type": "string", "description": "Words to look for."}},
        "required": ["query"]
    });
    vec![
        (SAVE, shaped(format, SAVE, SAVE_DESCRIPTION, save).to_string()),
        (SEARCH, shaped(format, SEARCH, SEARCH_DESCRIPTION, search).to_string()),
    ]
}
