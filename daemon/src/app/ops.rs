//! One handler per operation. CPU-heavy and store work runs on blocking threads so the async
//! threads keep reading and writing frames.

use super::large_work::{Busy, LARGE_REQUEST};
use super::App;
use crate::clock::now_ms;
use crate::error::EngineError;
use headroom_protocol::{
    ErrorCode, Hello, HelloReply, InfoReply, MemoryFactsReply, SavingsReply, MemoryForgetReply, Op, ReplyBody, StatsReply, PROTOCOL_VERSION,
};
use super::metrics::Metrics;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Answers the handshake: the daemon's version, or `unsupported_version` naming both.
pub fn hello(hello: &Hello) -> ReplyBody {
    if hello.protocol_version != PROTOCOL_VERSION {
        return ReplyBody::error(
            ErrorCode::UnsupportedVersion,
            format!(
                "client {:?} speaks protocol {}, this daemon speaks {PROTOCOL_VERSION}; upgrade the older side",
                hello.client, hello.protocol_version
            ),
        );
    }
    ReplyBody::Hello(HelloReply { protocol_version: PROTOCOL_VERSION, server: server_name() })
}

/// The daemon's name and version, as `Hello` and `Info` report it.
fn server_name() -> String {
    format!("headroomd/{}", env!("CARGO_PKG_VERSION"))
}

/// Runs `work` on a blocking thread; a panic becomes an `internal` error, never a crash.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, EngineError> + Send + 'static) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(EngineError { code: ErrorCode::Internal, message: format!("the request failed inside the daemon: {e}") })
    })
}

fn failed(e: EngineError) -> ReplyBody {
    ReplyBody::error(e.code, e.message)
}

/// The name a client gave in its `Hello` (`headroom-py/0.1.0` → `headroom-py`), for the ledger.
pub fn client_name(hello_client: &str) -> &str {
    let name = hello_client.split(['/', ' ']).next().unwrap_or("").trim();
    if name.is_empty() { "unknown" } else { name }
}

/// Handles every operation after the handshake. `caller` names the front or the connection's
/// client, for requests that do not name one themselves.
pub async fn handle(op: Op, app: &Arc<App>, caller: &str) -> ReplyBody {
    match op {
        Op::Hello(h) => hello(&h),
        Op::Ping => ReplyBody::Pong,
        Op::Compress(request) => {
            let worker = app.clone();
            let large = request.messages.len() > LARGE_REQUEST;
            let slot = if large {
                match app.large_work.admit().await {
                    Ok(permit) => Some(permit),
                    Err(Busy(waiting)) => {
                        let message = format!("busy: {waiting} large requests are waiting; send these messages uncompressed");
                        return ReplyBody::error(ErrorCode::Busy, message);
                    }
                }
            } else {
                None
            };
            let client = request.options.client.clone().unwrap_or_else(|| caller.to_string());
            let timed = move || {
                let started = Instant::now();
                let reply = worker.compress(&request.messages, &request.options)?;
                let latency = started.elapsed();
                worker.count_compression(&reply, request.options.model.as_deref(), &client, latency);
                Ok((reply, latency))
            };
            let done = blocking(timed).await;
            drop(slot);
            match done {
                Ok((reply, latency)) => {
                    app.metrics.record_compress(&reply, latency);
                    ReplyBody::Compressed(reply)
                }
                Err(e) => failed(e),
            }
        }
        Op::Retrieve(request) => {
            let worker = app.clone();
            let found = blocking(move || {
                let found = worker.engine.retrieve(&request.key, request.query.as_deref(), now_ms())?;
                worker.count_retrieval(&found.content);
                Ok(found)
            })
            .await;
            let m = &app.metrics;
            let counter = match &found {
                Ok(_) => &m.ccr_hits,
                Err(e) if e.code == ErrorCode::Expired => &m.ccr_expired,
                Err(_) => &m.ccr_misses,
            };
            Metrics::count(counter);
            found.map_or_else(failed, ReplyBody::Retrieved)
        }
        Op::Metrics => ReplyBody::Metrics(app.metrics.reply()),
        Op::Savings(request) => {
            let worker = app.clone();
            let periods = blocking(move || Ok(worker.ledger.periods(worker.engine.stores(), request.since_ms)?)).await;
            periods.map_or_else(failed, |periods| ReplyBody::Savings(SavingsReply { periods, recent: app.ledger.recent() }))
        }
        Op::Info => ReplyBody::Info(InfoReply {
            server: server_name(),
            http_address: app.http_address.get().map(ToString::to_string),
        }),
        Op::MemoryAdd(request) => {
            let worker = app.clone();
            blocking(move || worker.memory_add(&request)).await.map_or_else(failed, ReplyBody::MemoryAdded)
        }
        Op::MemorySearch(request) => {
            let worker = app.clone();
            let found = blocking(move || worker.memory_search(&request)).await;
            found.map_or_else(failed, |facts| ReplyBody::MemoryFacts(MemoryFactsReply { facts }))
        }
        Op::MemoryList(request) => {
            let worker = app.clone();
            let found = blocking(move || worker.memory_list(&request)).await;
            found.map_or_else(failed, |facts| ReplyBody::MemoryFacts(MemoryFactsReply { facts }))
        }
        Op::MemoryForget(request) => {
            let worker = app.clone();
            let removed = blocking(move || worker.memory_forget(&request)).await;
            removed.map_or_else(failed, |removed| ReplyBody::MemoryForgotten(MemoryForgetReply { removed }))
        }
        Op::Stats => {
            let worker = app.clone();
            match blocking(move || worker.engine.store_counts()).await {
                Ok((ccr_entries, replay_entries)) => {
                    let m = &app.metrics;
                    let (compress_requests, tokens_before, tokens_after) = m.compressed_since_start();
                    ReplyBody::Stats(StatsReply {
                        protocol_version: PROTOCOL_VERSION,
                        uptime_ms: app.started.elapsed().as_millis() as u64,
                        connections: m.connections.load(Ordering::Relaxed),
                        requests: m.requests.load(Ordering::Relaxed),
                        compress_requests,
                        tokens_before,
                        tokens_after,
                        ccr_entries,
                        replay_entries,
                    })
                }
                Err(e) => failed(e),
            }
        }
    }
}
