//! The memory databases: facts by id (`memory`, values encoded by [`crate::memory`]) and the
//! memory blocks put into requests (`memory_injections`), whose keys begin with 8 bytes naming
//! the user so a user's blocks can be found when facts are forgotten.

use super::shared::{FactRows, MemoryWrite};
use super::{StoreError, Stores};
use heed::types::Bytes;

impl Stores {
    /// Every stored fact as its id and raw value, in id order, and the shared store's generation
    /// they were read at: from the shared store when it answers (it holds the fleet's facts),
    /// else from LMDB with no generation.
    pub fn memory_all(&self) -> Result<(FactRows, Option<u64>), StoreError> {
        if let Some((generation, mut rows)) = self.shared().and_then(|shared| shared.memory_all()) {
            rows.sort_by_key(|(id, _)| *id);
            return Ok((rows, Some(generation)));
        }
        Ok((self.memory_all_local()?, None))
    }

    /// The shared store's memory generation, when there is a shared store and it answers.
    pub fn memory_generation(&self) -> Option<u64> {
        self.shared()?.memory_generation()
    }

    fn memory_all_local(&self) -> Result<FactRows, StoreError> {
        self.read(|txn, s| {
            let mut rows = Vec::new();
            for row in s.memory.iter(txn)? {
                let (key, value) = row?;
                // A key of another length was not written by Headroom; it is left alone.
                if let Ok(id) = <[u8; 8]>::try_from(key) {
                    rows.push((u64::from_be_bytes(id), value.to_vec()));
                }
            }
            Ok(rows)
        })
    }

    /// Stores `puts` and deletes `deletes`: in the shared store if memory there is still at
    /// `loaded_at` (the generation the caller's facts were read at), then in one LMDB
    /// transaction. A caller whose facts are out of date gets [`MemoryWrite::Stale`] and nothing
    /// is written.
    pub fn memory_write(&self, puts: &[(u64, Vec<u8>)], deletes: &[u64], loaded_at: Option<u64>) -> Result<MemoryWrite, StoreError> {
        let outcome = match (self.shared(), loaded_at) {
            (None, _) => MemoryWrite::Local,
            (Some(shared), Some(generation)) => shared.memory_write(generation, puts.to_vec(), deletes.to_vec()).unwrap_or(MemoryWrite::Local),
            // Loaded from LMDB while the shared store was away: if it is back, reload from it first.
            (Some(shared), None) => match shared.memory_generation() {
                Some(_) => MemoryWrite::Stale,
                None => MemoryWrite::Local,
            },
        };
        if outcome != MemoryWrite::Stale {
            self.memory_write_local(puts, deletes)?;
        }
        Ok(outcome)
    }

    fn memory_write_local(&self, puts: &[(u64, Vec<u8>)], deletes: &[u64]) -> Result<(), StoreError> {
        self.write(|txn, s| {
            for (id, value) in puts {
                s.memory.put(txn, &id.to_be_bytes(), value)?;
            }
            for id in deletes {
                s.memory.delete(txn, &id.to_be_bytes())?;
            }
            Ok(())
        })
    }

    /// The recorded blocks for `keys`, in order: from LMDB, and from the shared store for what
    /// LMDB does not hold.
    pub fn injections_get(&self, keys: &[[u8; 32]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut found: Vec<Option<Vec<u8>>> = self.read(|txn, s| keys.iter().map(|k| Ok(s.injections.get(txn, k)?.map(<[u8]>::to_vec))).collect())?;
        for (i, bytes) in self.missing_from_shared(&found, keys, |shared, missing| shared.injections_get(missing)) {
            found[i] = Some(bytes);
        }
        Ok(found)
    }

    /// Records a block unless one is recorded already (the first choice is kept for good).
    pub fn injection_put(&self, key: &[u8; 32], value: &[u8]) -> Result<(), StoreError> {
        self.write(|txn, s| {
            if s.injections.get(txn, key)?.is_none() {
                s.injections.put(txn, key, value)?;
            }
            Ok(())
        })?;
        if let Some(shared) = self.shared() {
            shared.injection_put(key, value.to_vec());
        }
        Ok(())
    }

    /// Deletes the blocks under the 8-byte `user` prefix whose value `doomed` selects; returns
    /// how many.
    pub fn injections_delete(&self, user: &[u8; 8], doomed: impl Fn(&[u8]) -> bool) -> Result<usize, StoreError> {
        let local = self.injections_delete_local(user, &doomed)?;
        let shared = self.shared().and_then(|shared| shared.injections_delete(user, &doomed)).unwrap_or(0);
        Ok(local.max(shared))
    }

    fn injections_delete_local(&self, user: &[u8; 8], doomed: &impl Fn(&[u8]) -> bool) -> Result<usize, StoreError> {
        self.write(|txn, s| {
            let keys: Vec<Vec<u8>> = s
                .injections
                .remap_types::<Bytes, Bytes>()
                .prefix_iter(txn, user)?
                .filter_map(|row| row.ok())
                .filter(|(_, value)| doomed(value))
                .map(|(key, _)| key.to_vec())
                .collect();
            for key in &keys {
                s.injections.delete(txn, key)?;
            }
            Ok(keys.len())
        })
    }
}
