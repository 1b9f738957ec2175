//! Persistent state in one LMDB environment under the state directory: the CCR store of
//! originals ([`ccr`]), the replay cache of emitted bytes ([`replay`]) and the memory facts with
//! the blocks injected from them ([`memory`]).
//!
//! [`Stores`] is the one interface the rest of the daemon uses, with two backends: LMDB, always
//! (the default and, for a fleet, the local copy and fallback), and a Redis or Valkey server that
//! replicas share when the `store` setting names one ([`shared`]): lookups that LMDB cannot answer
//! go there, and writes go to both.
//!
//! All access goes through [`Stores::read`] and [`Stores::write`], which run LMDB transactions,
//! grow the memory map when it fills up instead of failing the request, and fall back to a
//! volatile environment when the state directory cannot be written. Call them from blocking
//! threads, never from the async runtime.

pub mod ccr;
pub mod check;
pub mod memory;
pub mod replay;
pub mod shared;

use heed::types::Bytes;
use heed::{CommitOrAbort, Database, Env, EnvFlags, EnvOpenOptions, MdbError, RoTxn, RwTxn, WithoutTls};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Map size of an environment: address space reserved once at open, not memory or disk (the
/// file grows only as pages are written). Large enough that serving never has to grow it, as
/// growing remaps the file under every thread; it still doubles if it ever fills.
pub const DEFAULT_MAP_SIZE: usize = 32 << 30;

const METRICS_KEY: &[u8] = b"metrics";
/// Ledger periods live in `meta` under this prefix and their start (ms, big-endian, so they sort
/// by time).
const LEDGER_PREFIX: &[u8] = b"ledger/";
/// The longest ledger period (a day): how far before `since` a period may start and still count.
const LEDGER_LONGEST_MS: u64 = 86_400_000;

fn ledger_key(start_ms: u64) -> Vec<u8> {
    [LEDGER_PREFIX, &start_ms.to_be_bytes()].concat()
}

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

/// One LMDB environment and its databases.
pub struct Lmdb {
    env: Env<WithoutTls>,
    ccr: Database<'static, Bytes, Bytes>,
    replay: Database<'static, Bytes, Bytes>,
    /// Small records under fixed keys (the all-time metrics).
    meta: Database<'static, Bytes, Bytes>,
    /// Memory facts by big-endian id.
    memory: Database<'static, Bytes, Bytes>,
    /// Memory blocks put into requests, by scope and conversation prefix.
    injections: Database<'static, Bytes, Bytes>,
    /// For a volatile environment, its temporary directory (removed when dropped).
    _volatile_dir: Option<tempfile::TempDir>,
}

impl Lmdb {
    fn open(dir: &Path, map_size: usize, volatile_dir: Option<tempfile::TempDir>) -> Result<Self, StoreError> {
        let fail = |detail: String| StoreError { path: dir.to_path_buf(), detail };
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the directory: {e}")))?;
        // SAFETY: each environment is opened once per process, and its files are modified by
        // nothing but LMDB.
        let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().map_size(map_size).max_dbs(8).open(dir) }
            .map_err(|e| fail(format!("cannot open the LMDB environment ({e}); move the directory aside to start afresh")))?;
        let txn = env.write_txn().map_err(|e| fail(e.to_string()))?;
        let (ccr, replay, meta, memory, injections) = env
            .create_databases_and_commit(txn, |opener, txn| {
                let ccr = opener.create_database(txn, Some("ccr"))?;
                let replay = opener.create_database(txn, Some("replay"))?;
                let meta = opener.create_database(txn, Some("meta"))?;
                let memory = opener.create_database(txn, Some("memory"))?;
                let injections = opener.create_database(txn, Some("memory_injections"))?;
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit((ccr, replay, meta, memory, injections)))
            })
            .map_err(|e| fail(e.to_string()))?
            .unwrap_commit();
        Ok(Lmdb { env, ccr, replay, meta, memory, injections, _volatile_dir: volatile_dir })
    }

    /// The environment in `dir`, read-only (a read-only mount): its databases must all exist.
    fn open_read_only(dir: &Path, map_size: usize) -> Result<Self, StoreError> {
        let fail = |detail: String| StoreError { path: dir.to_path_buf(), detail };
        // SAFETY: as in `open`; nothing writes to it in this process.
        let env = unsafe { EnvOpenOptions::new().read_txn_without_tls().flags(EnvFlags::READ_ONLY).map_size(map_size).max_dbs(8).open(dir) }
            .map_err(|e| fail(e.to_string()))?;
        let txn = env.read_txn().map_err(|e| fail(e.to_string()))?;
        let opened = env
            .open_databases_and_commit(txn, |opener, txn| {
                let open = |name| opener.open_database::<Bytes, Bytes>(txn, Some(name));
                let all = (open("ccr")?, open("replay")?, open("meta")?, open("memory")?, open("memory_injections")?);
                Ok::<_, heed::Error>(CommitOrAbort::<_, ()>::Commit(all))
            })
            .map_err(|e| fail(e.to_string()))?
            .unwrap_commit();
        let (Some(ccr), Some(replay), Some(meta), Some(memory), Some(injections)) = opened else {
            return Err(fail("a database is missing".into()));
        };
        Ok(Lmdb { env, ccr, replay, meta, memory, injections, _volatile_dir: None })
    }

    /// An environment in a fresh temporary directory (in memory where `/dev/shm` exists),
    /// gone when the process ends. Directories that crashed daemons left behind are removed
    /// first (their names carry the pid that made them).
    fn volatile(map_size: usize) -> Result<Self, StoreError> {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        remove_stale_volatile(&base);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{VOLATILE_PREFIX}{}-", std::process::id()))
            .tempdir_in(&base)
            .map_err(|e| StoreError { path: base.clone(), detail: format!("cannot create a temporary store: {e}") })?;
        let path = dir.path().to_path_buf();
        Lmdb::open(&path, map_size, Some(dir))
    }
}

/// How volatile environments' directories begin; the creating daemon's pid follows.
const VOLATILE_PREFIX: &str = "headroom-volatile-";

/// Removes volatile environments in `base` that belong to this user and whose daemon is gone.
fn remove_stale_volatile(base: &Path) {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::getuid().as_raw();
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(VOLATILE_PREFIX)).and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        let Ok(pid) = pid.parse::<i32>() else { continue };
        let ours = entry.metadata().is_ok_and(|m| m.is_dir() && m.uid() == uid);
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(nix::errno::Errno::ESRCH);
        if ours && gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The stores: normally the persistent environment in the state directory. When it cannot be
/// opened or written (corrupt or foreign files, a read-only directory, a full disk), the stores
/// switch to a volatile environment, say so once, and go on serving; originals and replay
/// entries already on disk stay readable.
pub struct Stores {
    active: RwLock<Arc<Lmdb>>,
    /// The persistent environment after writing to it failed: still read, never written.
    retired: RwLock<Option<Arc<Lmdb>>>,
    /// Why persistence was lost, once it was.
    volatile_reason: Mutex<Option<String>>,
    /// Transactions hold it shared; growing the map holds it exclusively, because LMDB may only
    /// be resized while no transaction of this process is open.
    resize_gate: RwLock<()>,
    /// The state directory, for messages.
    path: PathBuf,
    /// The store a fleet shares, when the settings name one.
    shared: Option<shared::Shared>,
}

impl Stores {
    fn new(lmdb: Lmdb, path: &Path, volatile_reason: Option<String>) -> Self {
        Stores {
            active: RwLock::new(Arc::new(lmdb)),
            retired: RwLock::new(None),
            volatile_reason: Mutex::new(volatile_reason),
            resize_gate: RwLock::new(()),
            path: path.to_path_buf(),
            shared: None,
        }
    }

    /// These stores, sharing replay entries, originals and memory through `shared` as well.
    pub fn with_shared(self, shared: shared::Shared) -> Self {
        Stores { shared: Some(shared), ..self }
    }

    /// The shared store, when there is one.
    pub fn shared(&self) -> Option<&shared::Shared> {
        self.shared.as_ref()
    }

    /// For the keys LMDB did not answer (`None` in `found`), what `fetch` finds in the shared
    /// store, as index into `keys` and stored bytes; nothing without a shared store or an answer.
    fn missing_from_shared<T>(
        &self,
        found: &[Option<T>],
        keys: &[[u8; 32]],
        fetch: impl FnOnce(&shared::Shared, &[[u8; 32]]) -> Option<Vec<Option<Vec<u8>>>>,
    ) -> Vec<(usize, Vec<u8>)> {
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        let Some(shared) = self.shared().filter(|_| !missing.is_empty()) else { return Vec::new() };
        let Some(values) = fetch(shared, &missing.iter().map(|&i| keys[i]).collect::<Vec<_>>()) else { return Vec::new() };
        missing.into_iter().zip(values).filter_map(|(i, value)| Some((i, value?))).collect()
    }

    /// Opens (creating if needed) the environment in `dir` with an initial map of `map_size`
    /// bytes. A directory holding something that is not an LMDB environment is an error; it is
    /// never overwritten.
    pub fn open(dir: &Path, map_size: usize) -> Result<Self, StoreError> {
        Ok(Stores::new(Lmdb::open(dir, map_size, None)?, dir, None))
    }

    /// [`Stores::open`], or volatile stores when the state directory cannot be used (or
    /// `damaged` says why it must not be); the second value says why persistence is off (to be
    /// reported once). A store whose file is shorter than its own records say is never mapped.
    pub fn open_or_volatile(dir: &Path, map_size: usize, damaged: Option<String>) -> Result<(Self, Option<String>), StoreError> {
        let error = match damaged.map_or_else(|| check::file_size(dir), Err) {
            Err(detail) => StoreError { path: dir.to_path_buf(), detail },
            Ok(()) => match Lmdb::open(dir, map_size, None) {
                Ok(lmdb) => return Ok((Stores::new(lmdb, dir, None), None)),
                Err(error) => {
                    // A store that cannot be written (a read-only mount) is still read: what it
                    // holds keeps being retrieved and re-emitted; only what is new lives in memory.
                    if let Ok(readable) = Lmdb::open_read_only(dir, map_size) {
                        let reason = format!(
                            "store {}: cannot be written (a read-only file system or directory); serving what it holds read-only, new originals and replay entries in memory until restart",
                            dir.display()
                        );
                        let stores = Stores::new(Lmdb::volatile(map_size)?, dir, Some(reason.clone()));
                        *stores.retired.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(readable));
                        return Ok((stores, Some(reason)));
                    }
                    error
                }
            },
        };
        let reason = format!("{error}; serving without persistence until restart (originals and replay entries kept in memory)");
        Ok((Stores::new(Lmdb::volatile(map_size)?, dir, Some(reason.clone())), Some(reason)))
    }

    /// Why the stores are volatile, if they are.
    pub fn volatile_reason(&self) -> Option<String> {
        self.volatile_reason.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn active(&self) -> Arc<Lmdb> {
        self.active.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The environment retired after a write failure, if any.
    fn retired(&self) -> Option<Arc<Lmdb>> {
        self.retired.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn error(&self, e: heed::Error) -> StoreError {
        StoreError { path: self.path.clone(), detail: e.to_string() }
    }

    /// Runs `f` in a read transaction of `lmdb`.
    fn read_in<T>(&self, lmdb: &Lmdb, f: impl FnOnce(&RoTxn<WithoutTls>, &Lmdb) -> heed::Result<T>) -> Result<T, StoreError> {
        let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
        let txn = lmdb.env.read_txn().map_err(|e| self.error(e))?;
        f(&txn, lmdb).map_err(|e| self.error(e))
    }

    /// Runs `f` in a read transaction of the active environment.
    pub fn read<T>(&self, f: impl FnOnce(&RoTxn<WithoutTls>, &Lmdb) -> heed::Result<T>) -> Result<T, StoreError> {
        self.read_in(&self.active(), f)
    }

    /// Runs `f` in a write transaction and commits it. When the map is full the transaction is
    /// dropped, the map doubled and `f` run again; when the persistent environment cannot be
    /// written at all, the stores turn volatile (said once) and `f` runs there.
    pub fn write<T>(&self, f: impl Fn(&mut RwTxn, &Lmdb) -> heed::Result<T>) -> Result<T, StoreError> {
        loop {
            let lmdb = self.active();
            let (attempt, size) = {
                let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
                let attempt = lmdb.env.write_txn().and_then(|mut txn| f(&mut txn, &lmdb).and_then(|value| txn.commit().map(|()| value)));
                (attempt, lmdb.env.info().map_size)
            };
            match attempt {
                Ok(value) => return Ok(value),
                Err(heed::Error::Mdb(MdbError::MapFull)) => self.grow(&lmdb, size)?,
                Err(e) if lmdb._volatile_dir.is_none() => self.turn_volatile(&lmdb, &e)?,
                Err(e) => return Err(self.error(e)),
            }
        }
    }

    fn turn_volatile(&self, failed: &Arc<Lmdb>, cause: &heed::Error) -> Result<(), StoreError> {
        let size = {
            let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
            failed.env.info().map_size
        };
        let volatile = Lmdb::volatile(size)?;
        let mut active = self.active.write().unwrap_or_else(|e| e.into_inner());
        if Arc::ptr_eq(&active, failed) {
            *self.retired.write().unwrap_or_else(|e| e.into_inner()) = Some(active.clone());
            *active = Arc::new(volatile);
            let reason = format!(
                "store {}: writing failed ({cause}); serving without persistence until restart (what is on disk stays readable)",
                self.path.display()
            );
            log::warn!("{reason}");
            *self.volatile_reason.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
        }
        Ok(())
    }

    /// Doubles the map of `lmdb`, unless another writer already grew it past `full_at`.
    fn grow(&self, lmdb: &Lmdb, full_at: usize) -> Result<(), StoreError> {
        let _gate = self.resize_gate.write().unwrap_or_else(|e| e.into_inner());
        let size = lmdb.env.info().map_size;
        if size > full_at {
            return Ok(());
        }
        // SAFETY: the exclusive gate guarantees no transaction of this process is open, and
        // every access to the map (info included) takes the gate.
        unsafe { lmdb.env.resize(size * 2) }.map_err(|e| self.error(e))
    }

    /// Current map size in bytes.
    pub fn map_size(&self) -> usize {
        let _gate = self.resize_gate.read().unwrap_or_else(|e| e.into_inner());
        self.active().env.info().map_size
    }

    /// The stored all-time metrics, if any.
    pub fn metrics_get(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn, s| Ok(s.meta.get(txn, METRICS_KEY)?.map(<[u8]>::to_vec)))
    }

    /// Replaces the stored all-time metrics.
    pub fn metrics_put(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(|txn, s| s.meta.put(txn, METRICS_KEY, bytes))
    }

    /// The savings ledger's stored periods that end after `since_ms`, oldest first, as
    /// `(start_ms, encoded period)`.
    pub fn ledger_since(&self, since_ms: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.read(|txn, s| {
            let mut periods = Vec::new();
            for entry in s.meta.prefix_iter(txn, LEDGER_PREFIX)? {
                let (key, value) = entry?;
                let Some(start) = key.strip_prefix(LEDGER_PREFIX).and_then(|k| <[u8; 8]>::try_from(k).ok()) else { continue };
                periods.push((u64::from_be_bytes(start), value.to_vec()));
            }
            // A day-long period may start before `since_ms` and still reach past it.
            periods.retain(|(start, _)| start.saturating_add(LEDGER_LONGEST_MS) > since_ms);
            Ok(periods)
        })
    }

    /// The stored ledger period starting at `start_ms`, if any.
    pub fn ledger_get(&self, start_ms: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn, s| Ok(s.meta.get(txn, &ledger_key(start_ms))?.map(<[u8]>::to_vec)))
    }

    /// Writes ledger periods by start, and deletes the periods starting at `remove` (merged into
    /// a longer one), in one transaction.
    pub fn ledger_write(&self, put: &[(u64, Vec<u8>)], remove: &[u64]) -> Result<(), StoreError> {
        self.write(|txn, s| {
            for start in remove {
                s.meta.delete(txn, &ledger_key(*start))?;
            }
            for (start, bytes) in put {
                s.meta.put(txn, &ledger_key(*start), bytes)?;
            }
            Ok(())
        })
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
