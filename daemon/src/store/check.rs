//! Checks an LMDB environment before the daemon maps it. LMDB trusts its file: a truncated
//! `data.mdb` (a full disk, a bad copy) makes the first read past the end a SIGBUS, and garbage
//! pages can send it through wild pointers — a crash on every start, which under systemd is a
//! restart loop and no service. Two checks run before the daemon's own mapping:
//!
//! - [`file_size`]: the newest meta page's last page must lie inside the file (cheap, in process);
//! - [`walk_in_child`]: a child process reads every record of every database; if it dies or
//!   reports corruption, the environment is not opened.
//!
//! A damaged environment is never modified: the daemon serves from a volatile one and says why.

use heed::types::Bytes;
use heed::{Database, EnvFlags, EnvOpenOptions};
use std::io::Read;
use std::path::Path;

/// The variable that turns a `headroomd` process into the checker of the environment it names.
pub const CHECK_ENV: &str = "HEADROOM_CHECK_STORE";

/// LMDB's meta-page magic number.
const MAGIC: u32 = 0xBEEF_C0DE;
/// Offsets in a meta page (64-bit LMDB): page header 16 bytes, then magic, version, address,
/// map size, the two database records (48 bytes each; the first's `md_pad` holds the page size),
/// the last page number and the transaction id.
const MAGIC_AT: usize = 16;
const PAGE_SIZE_AT: usize = 40;
const LAST_PAGE_AT: usize = 136;
const TXNID_AT: usize = 144;
const META_BYTES: usize = 152;

/// Refuses a `data.mdb` shorter than its newest meta page says it is. A missing file, or one
/// that is not LMDB at all, passes: opening it decides (and refuses a foreign file).
pub fn file_size(dir: &Path) -> Result<(), String> {
    let path = dir.join("data.mdb");
    let Ok(mut file) = std::fs::File::open(&path) else { return Ok(()) };
    let len = file.metadata().map_err(|e| format!("cannot inspect {}: {e}", path.display()))?.len();
    let mut first = vec![0u8; META_BYTES];
    if file.read_exact(&mut first).is_err() || u32_at(&first, MAGIC_AT) != MAGIC {
        return Ok(());
    }
    let page = u32_at(&first, PAGE_SIZE_AT) as u64;
    if !page.is_power_of_two() || !(512..=65_536).contains(&page) {
        return Err(format!("{} has an impossible page size ({page})", path.display()));
    }
    let mut second = vec![0u8; META_BYTES];
    let metas = [Some(first), read_at(&mut file, page, &mut second).then_some(second)];
    let newest = metas
        .iter()
        .flatten()
        .filter(|m| u32_at(m, MAGIC_AT) == MAGIC)
        .max_by_key(|m| u64_at(m, TXNID_AT))
        .expect("the first meta page has the magic");
    let needed = (u64_at(newest, LAST_PAGE_AT) + 1).saturating_mul(page);
    if len < needed {
        return Err(format!("{} is truncated: {len} bytes, but its data runs to {needed}", path.display()));
    }
    Ok(())
}

/// Reads every record of the environment in `dir` in a child process (this executable, with
/// [`CHECK_ENV`] set): a crash there costs the child, not the daemon.
pub fn walk_in_child(dir: &Path) -> Result<(), String> {
    if !dir.join("data.mdb").exists() {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find headroomd to check the store: {e}"))?;
    let out = std::process::Command::new(exe)
        .env(CHECK_ENV, dir)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start the store check: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let how = match std::os::unix::process::ExitStatusExt::signal(&out.status) {
        Some(signal) => format!("reading it crashed the checker (signal {signal})"),
        None if said.is_empty() => format!("the checker failed ({})", out.status),
        None => said,
    };
    Err(format!("the store in {} is damaged: {how}", dir.display()))
}

/// The checker's work: opens the environment read-only and reads every key and value of every
/// database. Returns a description of the first problem LMDB reports.
pub fn walk(dir: &Path) -> Result<(), String> {
    file_size(dir)?;
    // SAFETY: read-only; the daemon that will own the environment has not opened it yet.
    let opened = unsafe { EnvOpenOptions::new().read_txn_without_tls().flags(EnvFlags::READ_ONLY).max_dbs(8).open(dir) };
    // A file LMDB will not open at all (not LMDB, another version) is the daemon's own open to
    // refuse, with its own message; only what LMDB would map is walked here.
    let Ok(env) = opened else { return Ok(()) };
    let txn = env.read_txn().map_err(|e| e.to_string())?;
    let walked = env.open_databases_and_commit(txn, |opener, txn| {
        let read_all = |name: Option<&str>| -> Result<Vec<String>, String> {
            let label = name.unwrap_or("main");
            let db: Database<Bytes, Bytes> = match opener.open_database(txn, name) {
                Ok(Some(db)) => db,
                Ok(None) => return Ok(Vec::new()),
                Err(e) => return Err(format!("database {label}: {e}")),
            };
            let mut keys = Vec::new();
            let mut touched = 0u64;
            for item in db.iter(txn).map_err(|e| format!("database {label}: {e}"))? {
                let (key, value) = item.map_err(|e| format!("database {label}: {e}"))?;
                touched += key.iter().chain(value).map(|&b| b as u64).sum::<u64>();
                keys.extend(std::str::from_utf8(key).ok().map(str::to_string));
            }
            std::hint::black_box(touched);
            Ok(keys)
        };
        // The main database's keys are the names of the others.
        let result = read_all(None).and_then(|names| names.iter().try_for_each(|n| read_all(Some(n)).map(drop)));
        Ok::<_, heed::Error>(heed::CommitOrAbort::<(), _>::Abort(result))
    });
    match walked {
        Ok(heed::CommitOrAbort::Abort(result)) => result,
        Ok(heed::CommitOrAbort::Commit(())) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn read_at(file: &mut std::fs::File, offset: u64, buf: &mut [u8]) -> bool {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(offset)).is_ok() && file.read_exact(buf).is_ok()
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Stores;

    fn filled_store() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::open(dir.path(), 64 << 20).unwrap();
        let value = vec![b'x'; 3000];
        for i in 0u32..2000 {
            stores.write(|txn, s| s.ccr.put(txn, &i.to_be_bytes(), &value)).unwrap();
        }
        dir
    }

    #[test]
    fn a_whole_store_passes_both_checks() {
        let dir = filled_store();
        assert_eq!(file_size(dir.path()), Ok(()));
        assert_eq!(walk(dir.path()), Ok(()));
    }

    #[test]
    fn a_truncated_store_is_refused_and_left_as_it_is() {
        let dir = filled_store();
        let data = dir.path().join("data.mdb");
        let len = std::fs::metadata(&data).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&data).unwrap();
        file.set_len(len * 3 / 4).unwrap();
        let err = file_size(dir.path()).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert_eq!(std::fs::metadata(&data).unwrap().len(), len * 3 / 4, "the file is not touched");
    }
}
