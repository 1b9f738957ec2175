//! The daemon's socket server: binds (or refuses to, when another daemon is live), accepts
//! connections from the daemon's own uid, runs one task per connection, and on SIGTERM/SIGINT
//! stops accepting, lets in-flight requests finish, and returns.
//!
//! - [`connection`]: one connection's read loop, pipelining and replies.
//! - [`ops`]: one handler per operation.
//! - [`systemd`]: socket activation and readiness notifications.
//! - [`metrics`]: per-compressor totals, CCR hits, latency percentiles, all-time totals.

pub mod connection;
pub mod large_work;
pub mod metrics;
pub mod ops;
pub mod systemd;

use crate::config::Settings;
use crate::engine::Engine;
use crate::store::{Stores, DEFAULT_MAP_SIZE};
use interprocess::local_socket::tokio::{prelude::*, Listener};
use interprocess::local_socket::{GenericFilePath, ListenerOptions};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often idle CCR originals are swept into tombstones.
const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the service manager's status line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// Counters reported by `Stats`.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub requests: AtomicU64,
    pub compress_requests: AtomicU64,
    pub tokens_before: AtomicU64,
    pub tokens_after: AtomicU64,
}

impl Counters {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What every connection task shares.
pub struct Shared {
    pub engine: Arc<Engine>,
    pub counters: Counters,
    pub metrics: metrics::Metrics,
    pub settings: Settings,
    /// Only peers with this uid are served.
    pub uid: u32,
    /// Where the daemon listens, for logs and status lines.
    pub endpoint: String,
    /// Large compressions: one per core at once, a bounded line behind them (see [`large_work`]).
    pub large_work: large_work::LargeWork,
    pub started: Instant,
}

/// Errors that stop the daemon from starting.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Binds the socket at `path`: the directory is created 0700, the socket is 0600. A socket file
/// left by a dead daemon is replaced (callers check first that no live daemon answers there);
/// anything else at that path is refused, never deleted. A directory another user owns, or that
/// others may write to, is refused: whoever controls it could put their own socket there.
pub fn bind(path: &Path) -> Result<Listener, StartError> {
    let fail = |what: &str, e: io::Error| StartError(format!("{what} {}: {e}", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the directory of", e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| fail("cannot restrict the directory of", e))?;
    }
    check_socket_dir(dir)?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            std::fs::remove_file(path).map_err(|e| fail("cannot remove the stale socket", e))?
        }
        Ok(_) => {
            return Err(StartError(format!(
                "{} exists and is not a socket; headroomd will not replace it (pass another --socket)",
                path.display()
            )))
        }
        Err(_) => {}
    }
    let name = path.to_fs_name::<GenericFilePath>().map_err(|e| fail("bad socket path", e))?;
    ListenerOptions::new().name(name).mode(0o600).create_tokio().map_err(|e| fail("cannot listen on", e))
}

/// Refuses a socket directory owned by another user (root's shared directories aside) or
/// writable by group or others without the sticky bit: such a directory lets someone else
/// replace the socket and read every conversation.
fn check_socket_dir(dir: &Path) -> Result<(), StartError> {
    let meta = std::fs::metadata(dir).map_err(|e| StartError(format!("cannot inspect {}: {e}", dir.display())))?;
    let uid = nix::unistd::getuid().as_raw();
    if meta.uid() != uid && meta.uid() != 0 {
        return Err(StartError(format!(
            "the socket directory {} belongs to uid {}, not to you (uid {uid}); remove it or set XDG_RUNTIME_DIR",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
        return Err(StartError(format!(
            "the socket directory {} is writable by other users (mode {:o}); make it 0700",
            dir.display(),
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// An error when a daemon already answers on `path` (checked before the stores are opened, so
/// a second daemon never touches them).
fn refuse_live_daemon(path: &Path) -> Result<(), StartError> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(StartError(format!("another headroomd is already serving {}; stop it first or pass --socket", path.display())));
    }
    Ok(())
}

/// Opens the stores, loads the engine and takes the socket systemd passed or binds one:
/// everything that can fail at start.
pub fn prepare(settings: Settings) -> Result<(Listener, Arc<Shared>), StartError> {
    prepare_checked(settings, None)
}

/// [`prepare`], with the stores volatile when `damaged` says why the persistent ones must not
/// be mapped (see [`crate::store::check`]).
fn prepare_checked(settings: Settings, damaged: Option<String>) -> Result<(Listener, Arc<Shared>), StartError> {
    let inherited = systemd::inherited_listener().map_err(|e| StartError(format!("cannot use the socket systemd passed: {e}")))?;
    if inherited.is_none() {
        refuse_live_daemon(&settings.socket)?;
    }
    let (stores, volatile) = Stores::open_or_volatile(&settings.state_dir, DEFAULT_MAP_SIZE, damaged).map_err(|e| StartError(e.to_string()))?;
    if let Some(reason) = volatile {
        crate::log_line!("headroomd: {reason}");
    }
    let metrics = metrics::Metrics::load(&stores);
    let engine = Arc::new(Engine::new(stores, settings.ccr_idle_expiry).with_cache_prices(settings.cache_prices));
    // The models load in the background: the socket answers at once, and requests use the
    // models as soon as they are there.
    let (loading, ml) = (engine.clone(), settings.ml.clone());
    std::thread::Builder::new()
        .name("headroomd-models".into())
        .spawn(move || loading.load_models(&ml))
        .map_err(|e| StartError(format!("cannot start the model loader: {e}")))?;
    let (listener, endpoint) = match inherited {
        Some(listener) => (listener, "the socket systemd passed".to_string()),
        None => (bind(&settings.socket)?, settings.socket.display().to_string()),
    };
    let shared = Arc::new(Shared {
        engine,
        counters: Counters::default(),
        metrics,
        settings,
        uid: nix::unistd::getuid().as_raw(),
        endpoint,
        large_work: large_work::LargeWork::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        started: Instant::now(),
    });
    Ok((listener, shared))
}

/// Serves until `shutdown` is cancelled, then drains: in-flight requests finish and their
/// replies are written (bounded by the drain timeout). The socket file is removed on return.
pub async fn serve(listener: Listener, shared: Arc<Shared>, shutdown: CancellationToken) {
    serve_with_http(listener, None, shared, shutdown).await
}

/// [`serve`], plus the HTTP front on `http` under the same shutdown and drain.
pub async fn serve_with_http(
    listener: Listener,
    http: Option<crate::http::HttpListener>,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    if let Some(http) = http {
        connections.spawn(crate::http::serve(http, shared.clone(), shutdown.clone()));
    }
    connections.spawn(sweep_periodically(shared.clone(), shutdown.clone()));
    connections.spawn(report_status(shared.clone(), shutdown.clone()));
    systemd::notify(&format!("READY=1\nSTATUS=serving on {}", shared.endpoint));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    connections.spawn(connection::serve(stream, shared.clone(), shutdown.clone()));
                }
                Err(e) => {
                    crate::log_line!("headroomd: accept failed: {e}");
                    // Out of descriptors and similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    systemd::notify("STOPPING=1\nSTATUS=finishing in-flight requests");
    drop(listener);
    connections.close();
    if tokio::time::timeout(shared.settings.drain_timeout, connections.wait()).await.is_err() {
        crate::log_line!("headroomd: gave up waiting for in-flight requests after {:?}", shared.settings.drain_timeout);
    }
    persist_metrics(shared).await;
}

/// Saves the all-time metrics, off the async threads.
async fn persist_metrics(shared: Arc<Shared>) {
    let saved = tokio::task::spawn_blocking(move || shared.metrics.persist(shared.engine.stores())).await;
    if let Ok(Err(e)) = saved {
        crate::log_line!("headroomd: cannot save metrics: {e}");
    }
}

/// Keeps the service manager's status line current with request counts, the all-time metrics
/// saved, and freed memory returned.
async fn report_status(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(STATUS_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                persist_metrics(shared.clone()).await;
                return_freed_memory();
                let c = &shared.counters;
                systemd::notify(&format!(
                    "STATUS={} requests ({} compress) on {} connections",
                    c.requests.load(Ordering::Relaxed),
                    c.compress_requests.load(Ordering::Relaxed),
                    c.connections.load(Ordering::Relaxed)
                ));
            }
        }
    }
}

/// Hands memory freed since the last tick back to the system, so the resident size falls back
/// after a burst of large requests instead of staying at its peak.
fn return_freed_memory() {
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps.
    #[cfg(target_env = "gnu")]
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

async fn sweep_periodically(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                let engine = shared.engine.clone();
                let swept = tokio::task::spawn_blocking(move || engine.sweep_expired(crate::engine::now_ms())).await;
                if let Ok(Err(e)) = swept {
                    crate::log_line!("headroomd: expiring old originals failed: {}", e.message);
                }
            }
        }
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    // Handlers first: a SIGTERM arriving as soon as the socket answers must drain, not kill.
    let handler = |kind| {
        tokio::signal::unix::signal(kind).map_err(|e| StartError(format!("cannot handle signals: {e}")))
    };
    let mut term = handler(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = handler(tokio::signal::unix::SignalKind::interrupt())?;
    // Only the daemon binary checks the whole store, in a child process of itself.
    let damaged = crate::store::check::walk_in_child(&settings.state_dir).err();
    let (listener, shared) = prepare_checked(settings, damaged)?;
    crate::log_line!("headroomd: listening on {}", shared.endpoint);
    let http = crate::http::bind(&shared.settings.http).await?;
    if let Some(http) = &http {
        crate::log_line!("headroomd: HTTP front on http://{}", http.local_addr());
    }
    let shutdown = CancellationToken::new();
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        signal_token.cancel();
        crate::log_line!("headroomd: shutting down, finishing in-flight requests");
    });
    serve_with_http(listener, http, shared, shutdown).await;
    Ok(())
}
