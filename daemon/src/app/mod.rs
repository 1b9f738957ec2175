//! The application core: what the daemon holds for its whole life (settings, stores, engine,
//! memory, metrics) and one handler per operation ([`ops`]). Both fronts call it — the socket
//! server (`crate::server`) with protocol requests, the HTTP front (`crate::http`) with the
//! operations it derives from HTTP requests — and nothing below it calls back into a front.
//!
//! - [`ops`]: one handler per operation; the fronts only translate to and from it.
//! - [`metrics`]: request counts, per-compressor totals, CCR hits, latency percentiles, all-time
//!   totals.
//! - [`large_work`]: admission of large compressions.
//! - [`prometheus`]: the counters in Prometheus's text format.
//! - [`ledger`]: what was saved, per hour, per compressor, model and client, kept for a year.

pub mod large_work;
pub mod ledger;
pub mod metrics;
pub mod ops;
pub mod prometheus;

use crate::clock::now_ms;
use crate::config::Settings;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::memory::Memory;
use crate::store::shared::Shared;
use crate::store::{Stores, DEFAULT_MAP_SIZE};
use headroom_protocol::{
    CompressOptions, CompressReply, MemoryAddReply, MemoryAddRequest, MemoryFact, MemoryForgetRequest, MemoryListRequest,
    MemorySearchRequest,
};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Tokens of a retrieved original counted exactly before the rest is extrapolated.
const RETRIEVED_EXACT_TOKENS: u64 = 4_000;

/// How often idle CCR originals are swept into tombstones.
const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// The daemon's state, shared by every connection of both fronts.
pub struct App {
    pub engine: Engine,
    /// Beside the engine, not inside it: the engine only reads facts on the compress path.
    pub memory: Memory,
    pub metrics: metrics::Metrics,
    pub ledger: ledger::Ledger,
    pub settings: Settings,
    /// The only user whose processes the daemon serves.
    pub uid: u32,
    pub large_work: large_work::LargeWork,
    pub started: Instant,
    /// Where the HTTP front listens, once it is bound (the `Info` operation reports it).
    pub http_address: OnceLock<SocketAddr>,
}

/// Why the daemon could not start; printed as is.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl App {
    /// An application over `engine`, with fresh metrics and nothing started: what tests and
    /// [`App::start`] build on.
    pub fn new(engine: Engine, settings: Settings) -> App {
        App {
            metrics: metrics::Metrics::load(engine.stores()),
            ledger: ledger::Ledger::default(),
            engine,
            memory: Memory::default(),
            settings,
            uid: nix::unistd::getuid().as_raw(),
            large_work: large_work::LargeWork::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            started: Instant::now(),
            http_address: OnceLock::new(),
        }
    }

    /// Opens the stores (or volatile ones when `damaged` says the state directory cannot be
    /// used), continues the persisted metrics, and starts loading the models in the background
    /// so the fronts answer at once.
    pub fn start(settings: Settings, damaged: Option<String>) -> Result<Arc<App>, StartError> {
        let (stores, volatile) =
            Stores::open_or_volatile(&settings.state_dir, DEFAULT_MAP_SIZE, damaged).map_err(|e| StartError(e.to_string()))?;
        if let Some(reason) = volatile {
            log::warn!("{reason}");
        }
        let stores = match &settings.store {
            Some(url) => {
                let shared = Shared::new(url, settings.store_timeout, settings.ccr_idle_expiry).map_err(StartError)?;
                log::info!("store: sharing originals, replay entries and memory through {}, LMDB as the local copy", shared.shown());
                stores.with_shared(shared)
            }
            None => stores,
        };
        let engine = Engine::configured(stores, &settings);
        let app = Arc::new(App::new(engine, settings));
        let loading = app.clone();
        std::thread::Builder::new()
            .name("headroomd-models".into())
            .spawn(move || loading.engine.load_models(&loading.settings.ml))
            .map_err(|e| StartError(format!("cannot start the model loader: {e}")))?;
        Ok(app)
    }

    /// Compresses a request, with remembered facts when its options ask for them.
    pub fn compress(&self, messages: &[u8], options: &CompressOptions) -> Result<CompressReply, EngineError> {
        self.engine.compress_with(messages, options, Some(&self.memory))
    }

    /// Counts a compression in the ledger: its tokens, the tool definitions Headroom added, who
    /// asked and for which model.
    pub fn count_compression(&self, reply: &CompressReply, model: Option<&str>, client: &str, latency: Duration) {
        let compression = ledger::Compression {
            at_ms: now_ms(),
            model: model.unwrap_or("unknown"),
            client,
            reply,
            latency,
        };
        self.ledger.record_compress(self.engine.stores(), &compression);
    }

    /// Counts an answered retrieval and the tokens it brought back into the conversation: exact
    /// up to [`RETRIEVED_EXACT_TOKENS`], extrapolated from the bytes beyond (a whole original can
    /// be megabytes, and counting it all would cost the retrieval more than it takes).
    pub fn count_retrieval(&self, content: &str) {
        let tokens = crate::request::tokens::count_past(self.engine.tokenizer(None), content, RETRIEVED_EXACT_TOKENS);
        self.ledger.record_retrieve(self.engine.stores(), now_ms(), tokens);
    }

    /// Remembers a fact (docs/memory.md).
    pub fn memory_add(&self, request: &MemoryAddRequest) -> Result<MemoryAddReply, EngineError> {
        self.memory.add(self.engine.stores(), request, now_ms(), self.engine.models())
    }

    /// The facts of a scope most relevant to a query.
    pub fn memory_search(&self, request: &MemorySearchRequest) -> Result<Vec<MemoryFact>, EngineError> {
        let ml = self.engine.models().map(|m| m.for_request(&request.query));
        self.memory.search(self.engine.stores(), self.engine.tokenizer(None), request, now_ms(), ml.as_ref())
    }

    /// The facts a scope sees, or everything under it.
    pub fn memory_list(&self, request: &MemoryListRequest) -> Result<Vec<MemoryFact>, EngineError> {
        self.memory.list(self.engine.stores(), request, now_ms())
    }

    /// Deletes one fact or a scope's facts; how many went.
    pub fn memory_forget(&self, request: &MemoryForgetRequest) -> Result<u64, EngineError> {
        self.memory.forget(self.engine.stores(), request)
    }

    /// Writes the all-time metrics and the ledger to the stores, off the async threads.
    pub async fn persist_metrics(self: &Arc<Self>) {
        let app = self.clone();
        let saved = tokio::task::spawn_blocking(move || {
            app.metrics.persist(app.engine.stores())?;
            app.ledger.persist(app.engine.stores(), now_ms())
        })
        .await;
        if let Ok(Err(e)) = saved {
            log::error!("cannot save metrics: {e}");
        }
    }

    /// Turns idle CCR originals into tombstones and ledger hours older than a year into days,
    /// every hour until `shutdown`.
    pub async fn sweep_periodically(self: Arc<Self>, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {
                    let app = self.clone();
                    let swept = tokio::task::spawn_blocking(move || {
                        if let Err(e) = app.ledger.compact(app.engine.stores(), now_ms()) {
                            log::error!("folding old ledger hours into days failed: {e}");
                        }
                        app.engine.sweep_expired(now_ms())
                    })
                    .await;
                    if let Ok(Err(e)) = swept {
                        log::error!("expiring old originals failed: {}", e.message);
                    }
                }
            }
        }
    }
}
