//! Memory on the request path: the block of remembered facts put in front of the latest user
//! message, chosen once per message and re-inserted byte for byte on every later request, so the
//! provider's prompt cache keeps hitting (docs/memory.md).
//!
//! A block is recorded under the user's tag and a hash of the scope and the conversation up to
//! and including its message. The hash covers the request's own bytes, which applications resend
//! unchanged; a different conversation that happens to repeat a message gets its own block.

use crate::clock::date_of;
use super::{check_scope, Memory};
use crate::request::provider::UserTurn;
use crate::request::spans::{quote, Edit};
use crate::error::EngineError;
use crate::ml::RequestModels;
use crate::store::{StoreError, Stores};
use bincode::{Decode, Encode};
use headroom_protocol::{MemoryOptions, MemorySearchRequest};
use sha2::{Digest, Sha256};
use tiktoken_rs::CoreBPE;

/// How a memory block starts; a user text that starts so already carries one.
pub const BLOCK_START: &str = "<memory>\n";

/// Tokens of facts per block when the request does not say.
pub const DEFAULT_BUDGET_TOKENS: u32 = 256;

/// Facts per block at most.
const MAX_FACTS: u32 = 10;

/// A block as recorded: the facts it shows (so forgetting one removes it) and its text.
#[derive(Debug, PartialEq, Encode, Decode)]
struct Recorded {
    facts: Vec<u64>,
    block: String,
}

impl Recorded {
    fn decode(bytes: &[u8]) -> Option<Recorded> {
        bincode::decode_from_slice(bytes, bincode::config::standard()).ok().map(|(r, _)| r)
    }
}

/// The first 8 bytes of a block's key: whose block it is.
fn user_tag(user: &str) -> [u8; 8] {
    let digest = Sha256::digest(user.as_bytes());
    digest[..8].try_into().expect("8 of 32 bytes")
}

/// The blocks to put in front of user messages, as edits, and how many facts the latest user
/// message got. `prefix_start` is where the first message begins in `src`.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    memory: &Memory,
    stores: &Stores,
    bpe: &CoreBPE,
    src: &str,
    prefix_start: usize,
    turns: &[UserTurn],
    query: &str,
    options: &MemoryOptions,
    ml: Option<&RequestModels>,
    now_ms: u64,
) -> Result<(Vec<Edit>, u32), EngineError> {
    check_scope(&options.scope)?;
    let tag = user_tag(&options.scope.user);
    let mut running = Sha256::new();
    running.update(bincode::encode_to_vec(&options.scope, bincode::config::standard()).expect("encoding into a Vec"));
    let mut at = prefix_start;
    let keys: Vec<[u8; 32]> = turns
        .iter()
        .map(|turn| {
            running.update(&src.as_bytes()[at..turn.end]);
            at = turn.end;
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&tag);
            key[8..].copy_from_slice(&running.clone().finalize()[..24]);
            key
        })
        .collect();
    let recorded = stores.injections_get(&keys)?;

    let mut edits = Vec::new();
    let mut latest_facts = 0;
    for ((turn, key), found) in turns.iter().zip(&keys).zip(recorded) {
        if turn.hands_off || turn.text.starts_with(BLOCK_START) {
            continue;
        }
        let chosen = match found.as_deref().and_then(Recorded::decode) {
            Some(recorded) => recorded,
            None if turn.latest => {
                let chosen = choose(memory, stores, bpe, query, options, ml, now_ms)?;
                stores.injection_put(key, &bincode::encode_to_vec(&chosen, bincode::config::standard()).expect("encoding"))?;
                chosen
            }
            None => continue,
        };
        if turn.latest {
            latest_facts = chosen.facts.len() as u32;
        }
        if !chosen.block.is_empty() {
            // Replaces the string's opening quote with the quote and the escaped block.
            let quoted = quote(&chosen.block);
            edits.push(Edit { span: turn.text_start..turn.text_start + 1, text: quoted[..quoted.len() - 1].to_string() });
        }
    }
    Ok((edits, latest_facts))
}

/// Picks the facts for a new block; an empty block when none is relevant.
#[allow(clippy::too_many_arguments)]
fn choose(
    memory: &Memory,
    stores: &Stores,
    bpe: &CoreBPE,
    query: &str,
    options: &MemoryOptions,
    ml: Option<&RequestModels>,
    now_ms: u64,
) -> Result<Recorded, EngineError> {
    let request = MemorySearchRequest {
        scope: options.scope.clone(),
        query: query.to_string(),
        as_of_ms: None,
        limit: MAX_FACTS,
        budget_tokens: match options.budget_tokens {
            0 => DEFAULT_BUDGET_TOKENS,
            n => n,
        },
    };
    let facts = memory.search(stores, bpe, &request, now_ms, ml)?;
    if facts.is_empty() {
        return Ok(Recorded { facts: vec![], block: String::new() });
    }
    let mut block = String::from(BLOCK_START);
    for fact in &facts {
        let text = fact.text.split_whitespace().collect::<Vec<_>>().join(" ");
        block.push_str(&format!("- {text} (since {})\n", date_of(fact.valid_from_ms)));
    }
    block.push_str("</memory>\n\n");
    let ids = facts.iter().filter_map(|f| super::facts::parse_id(&f.id)).collect();
    Ok(Recorded { facts: ids, block })
}

/// Deletes the recorded blocks of `user` that show any of `facts`; their messages get no block
/// from then on.
pub fn forget_blocks(stores: &Stores, user: &str, facts: &[u64]) -> Result<usize, StoreError> {
    if facts.is_empty() {
        return Ok(0);
    }
    stores.injections_delete(&user_tag(user), |value| Recorded::decode(value).is_some_and(|r| r.facts.iter().any(|f| facts.contains(f))))
}
