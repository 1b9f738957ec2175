//! Persistent state in one LMDB environment under the state directory: the CCR store of
//! originals ([`ccr`]) and the replay cache of emitted bytes ([`replay`]).
//!
//! All access goes through [`Stores::read`] and [`Stores::write`], which run LMDB transactions
//! and grow the memory map when it fills up instead of failing the request. Call them from
//! blocking threads, never from the async runtime.

pub mod ccr;
pub mod replay;

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvOpenOptions, MdbError, RoTxn, RwTxn, WithoutTls};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// Map size of a new environment; doubled whenever it fills.
pub const DEFAULT_MAP_SIZE: usize = 256 << 20;

const METRICS_KEY: &[u8] = b"metrics";

/// A store failure, with the environment's path for the message.
#[derive(Debug)]
pub struct StoreError {
    pub path: PathBuf,
    pub detail: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store {}: {}", self.path.display(), self.detail)
    }
}

impl std::error::Error for StoreError {}

/// The open environment and its databases.
pub struct Stores {
    env: Env<WithoutTls>,
    ccr: Database<'static, Bytes, Bytes>,
    replay: Database<'static, Bytes, Bytes>,
    /// Small records under fixed keys (the all-time metrics).
    meta: Database<'static, Bytes, Bytes>,
    /// Transactions hold it shared; growing the map holds it exclusively, because LMDB may only
    /// be resized while no transaction of this process is open.
    resize_gate: RwLock<()>,
}

impl Stores {
    /// Opens (creating if needed) the environment in `dir` with an initial map of `map_size`
    /// bytes. A directory holding something that is not an LMDB environment is an error; it is
    /// never overwritten.
    pub fn open(dir: &Path, map_size: usize) -> Result<Self, StoreError> {
        let fail = |detail: String| StoreError { path: dir.to_path_buf(), detail };
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the directory: {e}")))?;
        // SAFETY: the daemon opens each environment once per process, and the files are not
        // modified by anything but LMDB.
        let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().map_size(map_size).max_dbs(8).open(dir) }
            .map_err(|e| fail(format!("cannot open the LMDB environment ({e}); move the directory aside to start afresh")))?;
        let txn = env.write_txn().map_err(|e| fail(e.to_string()))?;
        let (ccr, replay, meta) = env
            .create_databases_and_commit(txn, |opener, txn| {
                let ccr = opener.create_database(txn, Some("ccr"))?;
                let replay = opener.create_database(txn, Some("replay"))?;
                let meta = opener.create_database(txn, Some("meta"))?;
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit((ccr, replay, meta)))
            })
            .map_err(|e| fail(e.to_string()))?
            .unwrap_commit();
        Ok(Stores { env, ccr, replay, meta, resize_gate: RwLock::new(()) })
    }

    fn error(&self, e: heed::Error) -> StoreError {
        StoreError { path: self.env.path().to_path_buf(), detail: e.to_string() }
    }

    /// Runs `f` in a read transaction.
    pub fn read<T>(&self, f: impl FnOnce(&RoTxn<WithoutTls>, &Self) -> heed::Result<T>) -> Result<T, StoreError> {
        let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
        let txn = self.env.read_txn().map_err(|e| self.error(e))?;
        f(&txn, self).map_err(|e| self.error(e))
    }

    /// Runs `f` in a write transaction and commits it. When the map is full the transaction is
    /// dropped, the map doubled and `f` run again.
    pub fn write<T>(&self, f: impl Fn(&mut RwTxn, &Self) -> heed::Result<T>) -> Result<T, StoreError> {
        loop {
            let attempt = {
                let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
                let mut txn = self.env.write_txn().map_err(|e| self.error(e))?;
                f(&mut txn, self).and_then(|value| txn.commit().map(|()| value))
            };
            match attempt {
                Err(heed::Error::Mdb(MdbError::MapFull)) => self.grow()?,
                other => return other.map_err(|e| self.error(e)),
            }
        }
    }

    fn grow(&self) -> Result<(), StoreError> {
        let _gate = self.resize_gate.write().unwrap_or_else(|e| e.into_inner());
        let size = self.env.info().map_size;
        // SAFETY: the exclusive gate guarantees no transaction of this process is open.
        unsafe { self.env.resize(size * 2) }.map_err(|e| self.error(e))
    }

    /// Current map size in bytes.
    pub fn map_size(&self) -> usize {
        self.env.info().map_size
    }

    /// The stored all-time metrics, if any.
    pub fn metrics_get(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn, s| Ok(s.meta.get(txn, METRICS_KEY)?.map(<[u8]>::to_vec)))
    }

    /// Replaces the stored all-time metrics.
    pub fn metrics_put(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(|txn, s| s.meta.put(txn, METRICS_KEY, bytes))
    }

    /// Number of entries in the CCR store and in the replay cache.
    pub fn entry_counts(&self) -> Result<(u64, u64), StoreError> {
        self.read(|txn, s| Ok((s.ccr.len(txn)?, s.replay.len(txn)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_grows_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::open(dir.path(), 1 << 20).unwrap();
        let big = vec![7u8; 300 << 10];
        for i in 0u32..8 {
            stores.write(|txn, s| s.ccr.put(txn, &i.to_be_bytes(), &big)).unwrap();
        }
        assert!(stores.map_size() > 1 << 20);
        assert_eq!(stores.entry_counts().unwrap().0, 8);
    }

    #[test]
    fn a_foreign_file_where_the_environment_should_be_is_a_clear_error_and_stays_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let junk = b"this is not an LMDB file, and it is somebody's data".repeat(200);
        std::fs::write(dir.path().join("data.mdb"), &junk).unwrap();
        let err = Stores::open(dir.path(), DEFAULT_MAP_SIZE).err().expect("a foreign file must not open");
        assert!(err.to_string().contains("cannot open the LMDB environment"), "{err}");
        assert_eq!(std::fs::read(dir.path().join("data.mdb")).unwrap(), junk);
    }
}
