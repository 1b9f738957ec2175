//! The daemon's life: starts the application core, binds its fronts (the Unix socket, and the
//! HTTP front when it is on), serves until SIGTERM or SIGINT, then stops accepting, lets
//! in-flight requests finish within the drain timeout, and saves the metrics.

use crate::app::{App, StartError};
use crate::config::Settings;
use crate::{http, server, systemd};
use interprocess::local_socket::tokio::Listener;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often the metrics are saved and the service manager's status line is refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(10);

/// A started daemon whose fronts are bound but not yet serving.
pub struct Daemon {
    app: Arc<App>,
    socket: Listener,
    /// Where the socket front listens, for the log and the status line.
    endpoint: String,
    http: Option<http::HttpListener>,
}

/// Starts the daemon on `settings` without checking the store first (tests and benchmarks).
pub async fn start(settings: Settings) -> Result<Daemon, StartError> {
    start_checked(settings, None).await
}

/// Starts the daemon: a live daemon on the same socket is refused before the stores are opened
/// (so a second daemon never touches them); `damaged` says why the state directory must not be
/// used, if the store check found it so.
async fn start_checked(settings: Settings, damaged: Option<String>) -> Result<Daemon, StartError> {
    let inherited =
        systemd::inherited_listener().map_err(|e| StartError(format!("cannot use the socket systemd passed: {e}")))?;
    if inherited.is_none() {
        server::refuse_live_daemon(&settings.socket)?;
    }
    let app = App::start(settings, damaged)?;
    let (socket, endpoint) = match inherited {
        Some(listener) => (listener, "the socket systemd passed".to_string()),
        None => (server::bind(&app.settings.socket)?, app.settings.socket.display().to_string()),
    };
    let http = http::bind(&app.settings.http).await?;
    if let Some(front) = &http {
        let _ = app.http_address.set(front.local_addr());
    }
    Ok(Daemon { app, socket, endpoint, http })
}

impl Daemon {
    /// The application core both fronts serve.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Where the HTTP front listens, when it is on.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(http::HttpListener::local_addr)
    }

    /// Serves both fronts until `shutdown`, then drains them and saves the metrics.
    pub async fn serve(self, shutdown: CancellationToken) {
        let Daemon { app, socket, endpoint, http } = self;
        let connections = TaskTracker::new();
        if let Some(http) = http {
            connections.spawn(http::serve(http, app.clone(), shutdown.clone()));
        }
        connections.spawn(app.clone().sweep_periodically(shutdown.clone()));
        connections.spawn(report_status(app.clone(), shutdown.clone()));
        systemd::notify(&format!("READY=1\nSTATUS=serving on {endpoint}"));
        server::serve(socket, app.clone(), shutdown, connections.clone()).await;
        systemd::notify("STOPPING=1\nSTATUS=finishing in-flight requests");
        connections.close();
        if tokio::time::timeout(app.settings.drain_timeout, connections.wait()).await.is_err() {
            log::warn!("gave up waiting for in-flight requests after {:?}", app.settings.drain_timeout);
        }
        app.persist_metrics().await;
    }
}

/// Saves the metrics, returns freed memory to the system, and refreshes the service manager's
/// status line, every [`STATUS_EVERY`] until `shutdown`.
async fn report_status(app: Arc<App>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(STATUS_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {
                app.persist_metrics().await;
                return_freed_memory();
                let m = &app.metrics;
                systemd::notify(&format!(
                    "STATUS={} requests ({} compress) on {} connections",
                    m.requests.load(Ordering::Relaxed),
                    m.compressed_since_start().0,
                    m.connections.load(Ordering::Relaxed)
                ));
            }
        }
    }
}

/// Gives the allocator's free pages back to the system, so the resident size falls after a
/// burst of large requests.
fn return_freed_memory() {
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps.
    #[cfg(target_env = "gnu")]
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    // Handlers first: a SIGTERM arriving as soon as the socket answers must drain, not kill.
    let handler =
        |kind| tokio::signal::unix::signal(kind).map_err(|e| StartError(format!("cannot handle signals: {e}")));
    let mut term = handler(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = handler(tokio::signal::unix::SignalKind::interrupt())?;
    // Only the daemon binary checks the whole store, in a child process of itself.
    let damaged = crate::store::check::walk_in_child(&settings.state_dir).err();
    let daemon = start_checked(settings, damaged).await?;
    log::info!("listening on {}", daemon.endpoint);
    if let Some(addr) = daemon.http_addr() {
        log::info!("HTTP front on http://{addr}");
    }
    let shutdown = CancellationToken::new();
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
        signal_token.cancel();
        log::info!("shutting down, finishing in-flight requests");
    });
    daemon.serve(shutdown).await;
    Ok(())
}
