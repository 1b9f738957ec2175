//! The shared store of a fleet: one Redis or Valkey server that every replica's daemon points at
//! (`store = "redis://…"`), holding replay entries, CCR originals (with Redis's own expiry) and
//! memory facts, so a marker emitted on one replica is retrievable on another and a conversation
//! that moves to another replica gets the same bytes.
//!
//! [`Stores`](super::Stores) keeps writing its LMDB environment as well: it is the local copy and
//! the fallback. Every call here waits at most the configured timeout. When Redis fails or is
//! slow the call gives `None`, the stores serve from LMDB alone, and Redis is left alone for
//! [`RETRY_AFTER`] before it is tried again; the outage is logged once when it starts and once
//! when Redis answers again. Nothing written locally in between is copied to Redis afterwards.
//!
//! Keys, all under `headroom:`: `replay:<hex>` (bincode entries, set once), `ccr:<key>` (the
//! original's bytes, expiring when idle), `memory` (a hash of fact id → record),
//! `memory:generation` (bumped by every change, so replicas know to reload their index) and
//! `inject:<hex user>` (a hash of recorded memory blocks per user).

use crate::config::redacted_url;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisResult};
use std::future::Future;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long Redis is skipped after it failed, before a request tries it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Writes memory changes only if no other replica changed memory since `expected` (the
/// generation the writer's index was built at), then bumps the generation and returns it; -1
/// when memory moved on. KEYS: generation, facts hash. ARGV: expected, number of puts, the puts
/// as id/record pairs, then the ids to delete.
const MEMORY_WRITE: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current ~= tonumber(ARGV[1]) then return -1 end
local puts = tonumber(ARGV[2])
for i = 0, puts - 1 do redis.call('HSET', KEYS[2], ARGV[3 + 2 * i], ARGV[4 + 2 * i]) end
for i = 3 + 2 * puts, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
return redis.call('INCR', KEYS[1])
";

const MEMORY_FACTS: &str = "headroom:memory";
const MEMORY_GENERATION: &str = "headroom:memory:generation";

fn replay_key(key: &[u8; 32]) -> String {
    format!("headroom:replay:{}", hex(key))
}

fn ccr_key(key: &str) -> String {
    format!("headroom:ccr:{key}")
}

fn injections_key(user: &[u8]) -> String {
    format!("headroom:inject:{}", hex(user))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The connection in `slot`, connecting first when there is none.
async fn connected(client: &redis::Client, slot: &Mutex<Option<MultiplexedConnection>>, timeout: Duration) -> RedisResult<MultiplexedConnection> {
    if let Some(connection) = slot.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return Ok(connection);
    }
    let config = AsyncConnectionConfig::new().set_connection_timeout(Some(timeout)).set_response_timeout(Some(timeout));
    let fresh = client.get_multiplexed_async_connection_with_config(&config).await?;
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
    Ok(fresh)
}

/// Stored facts as id and encoded record.
pub type FactRows = Vec<(u64, Vec<u8>)>;

/// Where a memory write went.
#[derive(Debug, PartialEq)]
pub enum MemoryWrite {
    /// Written to the shared store (and the local one); memory is now at this generation.
    Written(u64),
    /// Written to the local store only: there is no shared store, or it did not answer.
    Local,
    /// Another replica changed memory first (or the shared store came back after the writer's
    /// index was loaded from the local one); nothing was written. Reload and try again.
    Stale,
}

/// The connection to the shared Redis or Valkey server.
pub struct Shared {
    client: redis::Client,
    /// The URL without its password, for messages.
    shown: String,
    /// Drives the connection; its worker is the only thread that talks to Redis.
    runtime: Option<tokio::runtime::Runtime>,
    connection: Arc<Mutex<Option<MultiplexedConnection>>>,
    timeout: Duration,
    /// How long an original nobody reads stays in Redis.
    ccr_expiry: Duration,
    /// When Redis last failed, while it has not answered since.
    down_since: Mutex<Option<Instant>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping a runtime may block, which is refused inside another runtime's task.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Why a call failed when Redis did not answer in time.
fn no_answer(timeout: Duration) -> String {
    format!("no answer within {} ms", timeout.as_millis())
}

impl Shared {
    /// A shared store at `url` (checked, and connecting in the background: a daemon starts and
    /// serves from LMDB even while Redis is down). Requests wait at most `timeout` on it;
    /// originals left unread for `ccr_expiry` expire there.
    pub fn new(url: &str, timeout: Duration, ccr_expiry: Duration) -> Result<Self, String> {
        let shown = redacted_url(url);
        let client = redis::Client::open(url).map_err(|e| format!("store {shown}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("headroomd-store")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("store {shown}: cannot start its I/O thread: {e}"))?;
        let connection = Arc::new(Mutex::new(None));
        // Connected ahead of the first request, which would otherwise wait for the handshake;
        // a failure here is left for that request to meet and report.
        runtime.spawn({
            let (client, slot) = (client.clone(), connection.clone());
            async move { tokio::time::timeout(timeout, connected(&client, &slot, timeout)).await }
        });
        Ok(Shared { client, shown, runtime: Some(runtime), connection, timeout, ccr_expiry, down_since: Mutex::new(None) })
    }

    /// The server, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `op` on the connection (connecting first if needed) and waits at most the timeout
    /// for its result; `None` when Redis failed, was slow, or is being left alone after failing.
    fn run<T, F, Fut>(&self, op: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(MultiplexedConnection) -> Fut + Send + 'static,
        Fut: Future<Output = RedisResult<T>> + Send,
    {
        if self.down_since.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() < RETRY_AFTER) {
            return None;
        }
        let (done, outcome) = mpsc::sync_channel(1);
        let (client, slot, timeout) = (self.client.clone(), self.connection.clone(), self.timeout);
        self.runtime.as_ref()?.spawn(async move {
            let work = async { op(connected(&client, &slot, timeout).await?).await };
            // The crate's own response timeout is the same bound: one message for both.
            let result = match tokio::time::timeout(timeout, work).await {
                Ok(result) => result.map_err(|e| if e.is_timeout() { no_answer(timeout) } else { e.to_string() }),
                Err(_) => Err(no_answer(timeout)),
            };
            if result.is_err() {
                // The next attempt connects afresh rather than reuse a connection that failed.
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            let _ = done.send(result);
        });
        let result = outcome.recv_timeout(self.timeout).unwrap_or_else(|_| Err(no_answer(self.timeout)));
        let mut down = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(value) => {
                if down.take().is_some() {
                    log::info!("store {}: answering again; what was written locally meanwhile stays local", self.shown);
                }
                Some(value)
            }
            Err(why) => {
                if down.is_none() {
                    log::warn!(
                        "store {}: {why}; serving from the local store, trying again every {} s (what is written meanwhile stays local)",
                        self.shown,
                        RETRY_AFTER.as_secs()
                    );
                }
                *down = Some(Instant::now());
                None
            }
        }
    }

    /// The replay entries under `keys`, in order (`None` for keys not set).
    pub fn replay_get(&self, keys: &[[u8; 32]]) -> Option<Vec<Option<Vec<u8>>>> {
        let names: Vec<String> = keys.iter().map(replay_key).collect();
        self.run(move |mut c| async move { redis::cmd("MGET").arg(&names).query_async(&mut c).await })
    }

    /// Sets replay entries that are not set yet (the first emission wins across the fleet) and
    /// originals with their idle expiry, in one round trip.
    pub fn record(&self, replays: Vec<([u8; 32], Vec<u8>)>, originals: Vec<(String, Vec<u8>)>) {
        let expiry_ms = self.ccr_expiry.as_millis() as u64;
        self.run(move |mut c| async move {
            let mut pipe = redis::pipe();
            for (key, value) in &replays {
                pipe.cmd("SET").arg(replay_key(key)).arg(value).arg("NX").ignore();
            }
            for (key, original) in &originals {
                pipe.cmd("SET").arg(ccr_key(key)).arg(original).arg("PX").arg(expiry_ms).ignore();
            }
            pipe.query_async::<()>(&mut c).await
        });
    }

    /// The original under `key`, its idle expiry restarted; `Some(None)` when Redis has none.
    pub fn ccr_get(&self, key: &str) -> Option<Option<Vec<u8>>> {
        let (name, expiry_ms) = (ccr_key(key), self.ccr_expiry.as_millis() as u64);
        self.run(move |mut c| async move {
            let (found, _): (Option<Vec<u8>>, i64) =
                redis::pipe().cmd("GET").arg(&name).cmd("PEXPIRE").arg(&name).arg(expiry_ms).query_async(&mut c).await?;
            Ok(found)
        })
    }

    /// Restarts the idle expiry of the original under `key`.
    pub fn ccr_touch(&self, key: &str) {
        let (name, expiry_ms) = (ccr_key(key), self.ccr_expiry.as_millis() as u64);
        self.run(move |mut c| async move { redis::cmd("PEXPIRE").arg(name).arg(expiry_ms).query_async::<()>(&mut c).await });
    }

    /// Every fact as id and record, with the generation they are at, read atomically.
    pub fn memory_all(&self) -> Option<(u64, FactRows)> {
        self.run(|mut c| async move {
            let (generation, facts): (Option<u64>, Vec<(String, Vec<u8>)>) =
                redis::pipe().atomic().cmd("GET").arg(MEMORY_GENERATION).cmd("HGETALL").arg(MEMORY_FACTS).query_async(&mut c).await?;
            // A field that is not a decimal id was not written by Headroom; it is left alone.
            let facts = facts.into_iter().filter_map(|(id, record)| Some((id.parse().ok()?, record))).collect();
            Ok((generation.unwrap_or(0), facts))
        })
    }

    /// The generation memory is at: it changes whenever any replica changes a fact.
    pub fn memory_generation(&self) -> Option<u64> {
        self.run(|mut c| async move {
            let generation: Option<u64> = redis::cmd("GET").arg(MEMORY_GENERATION).query_async(&mut c).await?;
            Ok(generation.unwrap_or(0))
        })
    }

    /// Writes `puts` and deletes `deletes` if memory is still at `expected`.
    pub fn memory_write(&self, expected: u64, puts: FactRows, deletes: Vec<u64>) -> Option<MemoryWrite> {
        self.run(move |mut c| async move {
            let mut eval = redis::cmd("EVAL");
            eval.arg(MEMORY_WRITE).arg(2).arg(MEMORY_GENERATION).arg(MEMORY_FACTS).arg(expected).arg(puts.len());
            for (id, record) in &puts {
                eval.arg(id).arg(record);
            }
            for id in &deletes {
                eval.arg(id);
            }
            let generation: i64 = eval.query_async(&mut c).await?;
            Ok(u64::try_from(generation).map_or(MemoryWrite::Stale, MemoryWrite::Written))
        })
    }

    /// The recorded memory blocks under `keys` (whose first 8 bytes name the user), in order.
    pub fn injections_get(&self, keys: &[[u8; 32]]) -> Option<Vec<Option<Vec<u8>>>> {
        let names: Vec<(String, String)> = keys.iter().map(|k| (injections_key(&k[..8]), hex(k))).collect();
        self.run(move |mut c| async move {
            let mut pipe = redis::pipe();
            for (hash, field) in &names {
                pipe.cmd("HGET").arg(hash).arg(field);
            }
            pipe.query_async(&mut c).await
        })
    }

    /// Records a memory block unless one is recorded (the fleet keeps the first choice).
    pub fn injection_put(&self, key: &[u8; 32], value: Vec<u8>) {
        let (hash, field) = (injections_key(&key[..8]), hex(key));
        self.run(move |mut c| async move { redis::cmd("HSETNX").arg(hash).arg(field).arg(value).query_async::<()>(&mut c).await });
    }

    /// Deletes the blocks of `user` whose value `doomed` selects; how many, when Redis answered.
    pub fn injections_delete(&self, user: &[u8; 8], doomed: impl Fn(&[u8]) -> bool) -> Option<usize> {
        let hash = injections_key(user);
        let all: Vec<(String, Vec<u8>)> = self.run({
            let hash = hash.clone();
            move |mut c| async move { redis::cmd("HGETALL").arg(hash).query_async(&mut c).await }
        })?;
        let fields: Vec<String> = all.into_iter().filter(|(_, value)| doomed(value)).map(|(field, _)| field).collect();
        if fields.is_empty() {
            return Some(0);
        }
        let count = fields.len();
        self.run(move |mut c| async move { redis::cmd("HDEL").arg(hash).arg(fields).query_async::<()>(&mut c).await })?;
        Some(count)
    }
}
