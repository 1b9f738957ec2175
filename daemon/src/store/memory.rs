//! The memory databases: facts by id (`memory`, values encoded by [`crate::memory`]) and the
//! memory blocks put into requests (`memory_injections`), whose keys begin with 8 bytes naming
//! the user so a user's blocks can be found when facts are forgotten.

use super::{StoreError, Stores};
use heed::types::Bytes;

impl Stores {
    /// Every stored fact as its id and raw value, in id order.
    pub fn memory_all(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
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

    /// Stores `puts` and deletes `deletes` in one transaction.
    pub fn memory_write(&self, puts: &[(u64, Vec<u8>)], deletes: &[u64]) -> Result<(), StoreError> {
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

    /// The recorded blocks for `keys`, in order.
    pub fn injections_get(&self, keys: &[[u8; 32]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.read(|txn, s| keys.iter().map(|k| Ok(s.injections.get(txn, k)?.map(<[u8]>::to_vec))).collect())
    }

    /// Records a block unless one is recorded already (the first choice is kept for good).
    pub fn injection_put(&self, key: &[u8; 32], value: &[u8]) -> Result<(), StoreError> {
        self.write(|txn, s| {
            if s.injections.get(txn, key)?.is_none() {
                s.injections.put(txn, key, value)?;
            }
            Ok(())
        })
    }

    /// Deletes the blocks under the 8-byte `user` prefix whose value `doomed` selects; returns
    /// how many.
    pub fn injections_delete(&self, user: &[u8; 8], doomed: impl Fn(&[u8]) -> bool) -> Result<usize, StoreError> {
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
