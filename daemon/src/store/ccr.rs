//! The CCR store: originals of compressed blocks by marker key, so a model (or a person) can
//! get back exactly what was left out (docs/architecture.md §3.5).
//!
//! A record is `created_ms` (u64 LE), `last_read_ms` (u64 LE), a state byte (0 live,
//! 1 expired) and the original's UTF-8 bytes. An entry idle for longer than the expiry becomes
//! a tombstone, so its key answers "expired, re-run the tool" instead of "not found".

use super::{Lmdb, StoreError, Stores};
use heed::RwTxn;

const HEADER: usize = 17;
const LIVE: u8 = 0;
const EXPIRED: u8 = 1;
/// Reads refresh `last_read_ms` at most this often, to keep retrieves from writing every time.
const TOUCH_EVERY_MS: u64 = 60 * 60 * 1000;

/// The outcome of a lookup.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    Found(String),
    Expired,
    NotFound,
}

fn record(created_ms: u64, last_read_ms: u64, state: u8, original: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(HEADER + original.len());
    value.extend_from_slice(&created_ms.to_le_bytes());
    value.extend_from_slice(&last_read_ms.to_le_bytes());
    value.push(state);
    value.extend_from_slice(original);
    value
}

fn header(value: &[u8]) -> Option<(u64, u64, u8)> {
    let created = u64::from_le_bytes(value.get(0..8)?.try_into().ok()?);
    let read = u64::from_le_bytes(value.get(8..16)?.try_into().ok()?);
    Some((created, read, *value.get(16)?))
}

impl Lmdb {
    /// Puts `original` under `key` inside `txn`, unless a live entry is already there; whether
    /// it put it.
    pub(super) fn ccr_put(&self, txn: &mut RwTxn, key: &str, original: &str, now_ms: u64) -> heed::Result<bool> {
        let live = self.ccr.get(txn, key.as_bytes())?.and_then(header).is_some_and(|(_, _, st)| st == LIVE);
        if !live {
            self.ccr.put(txn, key.as_bytes(), &record(now_ms, now_ms, LIVE, original.as_bytes()))?;
        }
        Ok(!live)
    }
}

impl Stores {
    /// Looks up `key`. An entry idle longer than `idle_expiry_ms` is expired (and turned into a
    /// tombstone); a found entry has its last-read time refreshed. With a shared store, an
    /// original this replica does not hold (or let expire) is fetched from there and kept, and
    /// one it does hold has its expiry there restarted too.
    pub fn ccr_get(&self, key: &str, now_ms: u64, idle_expiry_ms: u64) -> Result<Lookup, StoreError> {
        let local = self.ccr_get_local(key, now_ms, idle_expiry_ms)?;
        let Some(shared) = self.shared() else { return Ok(local) };
        if matches!(local, Lookup::Found(_)) {
            shared.ccr_touch(key);
            return Ok(local);
        }
        let Some(Some(bytes)) = shared.ccr_get(key) else { return Ok(local) };
        let Ok(original) = String::from_utf8(bytes) else {
            return Err(StoreError { path: self.path.clone(), detail: format!("the shared store's original {key} is not UTF-8") });
        };
        self.write(|txn, s| s.ccr_put(txn, key, &original, now_ms))?;
        Ok(Lookup::Found(original))
    }

    /// [`Stores::ccr_get`] in LMDB only.
    fn ccr_get_local(&self, key: &str, now_ms: u64, idle_expiry_ms: u64) -> Result<Lookup, StoreError> {
        let lookup = |txn: &heed::RoTxn<heed::WithoutTls>, s: &Lmdb| Ok(s.ccr.get(txn, key.as_bytes())?.map(<[u8]>::to_vec));
        let mut found = self.read(lookup)?;
        if found.is_none() {
            if let Some(retired) = self.retired() {
                found = self.read_in(&retired, lookup)?;
            }
        }
        let Some(value) = found else { return Ok(Lookup::NotFound) };
        let Some((created, last_read, state)) = header(&value) else {
            return Err(StoreError { path: self.path.clone(), detail: format!("CCR record {key} is damaged") });
        };
        if state == EXPIRED {
            return Ok(Lookup::Expired);
        }
        if now_ms.saturating_sub(last_read) > idle_expiry_ms {
            self.write(|txn, s| s.ccr.put(txn, key.as_bytes(), &record(created, last_read, EXPIRED, &[])))?;
            return Ok(Lookup::Expired);
        }
        if now_ms.saturating_sub(last_read) > TOUCH_EVERY_MS {
            self.write(|txn, s| s.ccr.put(txn, key.as_bytes(), &record(created, now_ms, LIVE, &value[HEADER..])))?;
        }
        let original = String::from_utf8(value[HEADER..].to_vec())
            .map_err(|_| StoreError { path: self.path.clone(), detail: format!("CCR record {key} is not UTF-8") })?;
        Ok(Lookup::Found(original))
    }

    /// Turns every entry idle longer than `idle_expiry_ms` into a tombstone; returns how many.
    pub fn ccr_sweep(&self, now_ms: u64, idle_expiry_ms: u64) -> Result<usize, StoreError> {
        let stale: Vec<(Vec<u8>, u64, u64)> = self.read(|txn, s| {
            let mut stale = Vec::new();
            for item in s.ccr.iter(txn)? {
                let (key, value) = item?;
                if let Some((created, last_read, LIVE)) = header(value) {
                    if now_ms.saturating_sub(last_read) > idle_expiry_ms {
                        stale.push((key.to_vec(), created, last_read));
                    }
                }
            }
            Ok(stale)
        })?;
        self.write(|txn, s| {
            for (key, created, last_read) in &stale {
                s.ccr.put(txn, key, &record(*created, *last_read, EXPIRED, &[]))?;
            }
            Ok(())
        })?;
        Ok(stale.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DEFAULT_MAP_SIZE;

    const DAY: u64 = 24 * 60 * 60 * 1000;

    #[test]
    fn originals_survive_reopening_and_expire_when_idle() {
        let dir = tempfile::tempdir().unwrap();
        {
            let stores = Stores::open(dir.path(), DEFAULT_MAP_SIZE).unwrap();
            stores.record_first_sight(&[], &[("k1".into(), "orig ✓"), ("k2".into(), "two")], 0).unwrap();
        }
        let stores = Stores::open(dir.path(), DEFAULT_MAP_SIZE).unwrap();
        assert_eq!(stores.ccr_get("k1", DAY, 7 * DAY).unwrap(), Lookup::Found("orig ✓".into()));
        assert_eq!(stores.ccr_get("nope", DAY, 7 * DAY).unwrap(), Lookup::NotFound);
        // k1 was read on day 1, k2 never: on day 7.5 only k2 is idle past a week.
        assert_eq!(stores.ccr_sweep(15 * DAY / 2, 7 * DAY).unwrap(), 1);
        assert_eq!(stores.ccr_get("k2", 15 * DAY / 2, 7 * DAY).unwrap(), Lookup::Expired);
        assert_eq!(stores.ccr_get("k1", 15 * DAY / 2, 7 * DAY).unwrap(), Lookup::Found("orig ✓".into()));
        assert_eq!(stores.ccr_get("k1", 30 * DAY, 7 * DAY).unwrap(), Lookup::Expired);
        // Putting the same original again brings an expired key back.
        stores.record_first_sight(&[], &[("k2".into(), "two")], 31 * DAY).unwrap();
        assert_eq!(stores.ccr_get("k2", 31 * DAY, 7 * DAY).unwrap(), Lookup::Found("two".into()));
    }
}
