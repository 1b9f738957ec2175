//! The replay cache (docs/architecture.md §3.1): for each content block ever seen, the exact text emitted the
//! first time — compressed or "sent as is" — so every later request re-emits the same bytes and
//! provider prompt caches keep hitting, across restarts and upgrades.
//!
//! Keyed by the SHA-256 of the block's text; the value is a bincode [`ReplayEntry`].

use super::{Lmdb, StoreError, Stores};
use bincode::{Decode, Encode};
use sha2::{Digest, Sha256};

/// What was emitted for a block the first time.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub struct ReplayEntry {
    /// The compressor that produced `emitted`; empty when the block was sent as is.
    pub compressor: String,
    /// The text sent instead of the block; `None` means the block itself was sent.
    pub emitted: Option<String>,
    pub tokens_before: u64,
    pub tokens_after: u64,
}

/// The cache key of a block's text.
pub fn replay_key(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The cache key of a decision that depends on where a block sits, not only on its text: the
/// conversation up to the block (from its first message, which an agent resends unchanged on
/// every call), under a `purpose` that keeps different decisions apart.
pub fn position_key(purpose: &str, conversation: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0]);
    hasher.update(conversation.as_bytes());
    hasher.finalize().into()
}

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

impl Stores {
    /// The entries for `keys`, in order (`None` for blocks never seen).
    pub fn replay_get_all(&self, keys: &[[u8; 32]]) -> Result<Vec<Option<ReplayEntry>>, StoreError> {
        let lookup = |txn: &heed::RoTxn<heed::WithoutTls>, s: &Lmdb| {
            keys.iter()
                .map(|k| Ok(s.replay.get(txn, k)?.and_then(|v| bincode::decode_from_slice(v, config()).ok().map(|(e, _)| e))))
                .collect::<heed::Result<Vec<_>>>()
        };
        let mut found = self.read(lookup)?;
        if let Some(retired) = self.retired().filter(|_| found.iter().any(Option::is_none)) {
            for (entry, old) in found.iter_mut().zip(self.read_in(&retired, lookup)?) {
                if entry.is_none() {
                    *entry = old;
                }
            }
        }
        Ok(found)
    }

    /// Records first emissions and the originals their markers point to in one transaction
    /// (so a crash never leaves a marker without its original); an existing replay entry
    /// is never replaced, so the first emission wins.
    pub fn record_first_sight(
        &self,
        replays: &[([u8; 32], ReplayEntry)],
        originals: &[(String, &str)],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        if replays.is_empty() && originals.is_empty() {
            return Ok(());
        }
        self.write(|txn, s| {
            for (key, original) in originals {
                s.ccr_put(txn, key, original, now_ms)?;
            }
            for (key, entry) in replays {
                if s.replay.get(txn, key)?.is_none() {
                    let value = bincode::encode_to_vec(entry, config()).expect("encoding into a Vec cannot fail");
                    s.replay.put(txn, key, &value)?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DEFAULT_MAP_SIZE;

    #[test]
    fn the_first_emission_wins_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let first = ReplayEntry { compressor: "json".into(), emitted: Some("[1]".into()), tokens_before: 9, tokens_after: 3 };
        let later = ReplayEntry { compressor: String::new(), emitted: None, tokens_before: 9, tokens_after: 9 };
        let key = replay_key("[ 1 ]");
        {
            let stores = Stores::open(dir.path(), DEFAULT_MAP_SIZE).unwrap();
            stores.record_first_sight(&[(key, first.clone())], &[], 0).unwrap();
            stores.record_first_sight(&[(key, later)], &[], 0).unwrap();
        }
        let stores = Stores::open(dir.path(), DEFAULT_MAP_SIZE).unwrap();
        assert_eq!(stores.replay_get_all(&[key, replay_key("other")]).unwrap(), vec![Some(first), None]);
    }
}
