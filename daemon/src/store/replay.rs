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
    /// The compressor that produced `emitted`; for a block sent as is, why (empty in entries
    /// recorded before reasons were kept, and for blocks no reason is reported for).
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

fn encode(entry: &ReplayEntry) -> Vec<u8> {
    bincode::encode_to_vec(entry, config()).expect("encoding into a Vec cannot fail")
}

/// A stored entry; `None` for bytes that are not one (left alone, treated as never seen).
fn decode(bytes: &[u8]) -> Option<ReplayEntry> {
    bincode::decode_from_slice(bytes, config()).ok().map(|(entry, _)| entry)
}

impl Stores {
    /// The entries for `keys`, in order (`None` for blocks never seen). What only the shared store
    /// knows is copied into LMDB, so this replica can replay it while the shared store is away.
    pub fn replay_get_all(&self, keys: &[[u8; 32]]) -> Result<Vec<Option<ReplayEntry>>, StoreError> {
        let lookup = |txn: &heed::RoTxn<heed::WithoutTls>, s: &Lmdb| {
            keys.iter().map(|k| Ok(s.replay.get(txn, k)?.and_then(decode))).collect::<heed::Result<Vec<_>>>()
        };
        let mut found = self.read(lookup)?;
        if let Some(retired) = self.retired().filter(|_| found.iter().any(Option::is_none)) {
            for (entry, old) in found.iter_mut().zip(self.read_in(&retired, lookup)?) {
                if entry.is_none() {
                    *entry = old;
                }
            }
        }
        let mut learned = Vec::new();
        for (i, bytes) in self.missing_from_shared(&found, keys, |shared, missing| shared.replay_get(missing)) {
            if let Some(entry) = decode(&bytes) {
                learned.push((keys[i], entry.clone()));
                found[i] = Some(entry);
            }
        }
        self.record_locally(&learned, &[], 0)?;
        Ok(found)
    }

    /// Records first emissions and the originals their markers point to in one transaction
    /// (so a crash never leaves a marker without its original), then in the shared store in one
    /// round trip; an existing replay entry is never replaced, so the first emission wins.
    pub fn record_first_sight(
        &self,
        replays: &[([u8; 32], ReplayEntry)],
        originals: &[(String, &str)],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let new_originals = self.record_locally(replays, originals, now_ms)?;
        if let Some(shared) = self.shared().filter(|_| !(replays.is_empty() && new_originals.is_empty())) {
            let replays = replays.iter().map(|(key, entry)| (*key, encode(entry))).collect();
            // Originals this replica already held were sent when it first put them.
            let originals = new_originals.into_iter().map(|i| (originals[i].0.clone(), originals[i].1.as_bytes().to_vec())).collect();
            shared.record(replays, originals);
        }
        Ok(())
    }

    /// [`Stores::record_first_sight`] in LMDB only; which of `originals` were not held yet.
    fn record_locally(&self, replays: &[([u8; 32], ReplayEntry)], originals: &[(String, &str)], now_ms: u64) -> Result<Vec<usize>, StoreError> {
        if replays.is_empty() && originals.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|txn, s| {
            let mut new_originals = Vec::new();
            for (i, (key, original)) in originals.iter().enumerate() {
                if s.ccr_put(txn, key, original, now_ms)? {
                    new_originals.push(i);
                }
            }
            for (key, entry) in replays {
                if s.replay.get(txn, key)?.is_none() {
                    s.replay.put(txn, key, &encode(entry))?;
                }
            }
            Ok(new_originals)
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
