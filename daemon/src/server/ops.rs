//! One handler per operation. CPU-heavy and store work runs on blocking threads so the async
//! threads keep reading and writing frames.

use super::large_work::{Busy, LARGE_REQUEST};
use super::{Counters, Shared};
use crate::engine::{now_ms, EngineError};
use headroom_protocol::{
    ErrorCode, Hello, HelloReply, MemoryFactsReply, MemoryForgetReply, Op, ReplyBody, StatsReply, PROTOCOL_VERSION,
};
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
    ReplyBody::Hello(HelloReply { protocol_version: PROTOCOL_VERSION, server: format!("headroomd/{}", env!("CARGO_PKG_VERSION")) })
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

/// Handles every operation after the handshake.
pub async fn handle(op: Op, shared: &Arc<Shared>) -> ReplyBody {
    match op {
        Op::Hello(h) => hello(&h),
        Op::Ping => ReplyBody::Pong,
        Op::Compress(request) => {
            Counters::add(&shared.counters.compress_requests, 1);
            let engine = shared.engine.clone();
            let large = request.messages.len() > LARGE_REQUEST;
            let slot = if large {
                match shared.large_work.admit().await {
                    Ok(permit) => Some(permit),
                    Err(Busy(waiting)) => {
                        let message = format!("busy: {waiting} large requests are waiting; send these messages uncompressed");
                        return ReplyBody::error(ErrorCode::Busy, message);
                    }
                }
            } else {
                None
            };
            let timed = move || {
                let started = Instant::now();
                engine.compress(&request.messages, &request.options).map(|reply| (reply, started.elapsed()))
            };
            let done = blocking(timed).await;
            drop(slot);
            match done {
                Ok((reply, latency)) => {
                    Counters::add(&shared.counters.tokens_before, reply.tokens_before);
                    Counters::add(&shared.counters.tokens_after, reply.tokens_after);
                    shared.metrics.record_compress(&reply, latency);
                    ReplyBody::Compressed(reply)
                }
                Err(e) => failed(e),
            }
        }
        Op::Retrieve(request) => {
            let engine = shared.engine.clone();
            let found = blocking(move || engine.retrieve(&request.key, request.query.as_deref(), now_ms())).await;
            let m = &shared.metrics;
            let counter = match &found {
                Ok(_) => &m.ccr_hits,
                Err(e) if e.code == ErrorCode::Expired => &m.ccr_expired,
                Err(_) => &m.ccr_misses,
            };
            Counters::add(counter, 1);
            found.map_or_else(failed, ReplyBody::Retrieved)
        }
        Op::Metrics => ReplyBody::Metrics(shared.metrics.reply()),
        Op::MemoryAdd(request) => {
            let engine = shared.engine.clone();
            blocking(move || engine.memory_add(&request)).await.map_or_else(failed, ReplyBody::MemoryAdded)
        }
        Op::MemorySearch(request) => {
            let engine = shared.engine.clone();
            let found = blocking(move || engine.memory_search(&request)).await;
            found.map_or_else(failed, |facts| ReplyBody::MemoryFacts(MemoryFactsReply { facts }))
        }
        Op::MemoryList(request) => {
            let engine = shared.engine.clone();
            let found = blocking(move || engine.memory_list(&request)).await;
            found.map_or_else(failed, |facts| ReplyBody::MemoryFacts(MemoryFactsReply { facts }))
        }
        Op::MemoryForget(request) => {
            let engine = shared.engine.clone();
            let removed = blocking(move || engine.memory_forget(&request)).await;
            removed.map_or_else(failed, |removed| ReplyBody::MemoryForgotten(MemoryForgetReply { removed }))
        }
        Op::Stats => {
            let engine = shared.engine.clone();
            match blocking(move || engine.store_counts()).await {
                Ok((ccr_entries, replay_entries)) => {
                    let c = &shared.counters;
                    ReplyBody::Stats(StatsReply {
                        protocol_version: PROTOCOL_VERSION,
                        uptime_ms: shared.started.elapsed().as_millis() as u64,
                        connections: c.connections.load(Ordering::Relaxed),
                        requests: c.requests.load(Ordering::Relaxed),
                        compress_requests: c.compress_requests.load(Ordering::Relaxed),
                        tokens_before: c.tokens_before.load(Ordering::Relaxed),
                        tokens_after: c.tokens_after.load(Ordering::Relaxed),
                        ccr_entries,
                        replay_entries,
                    })
                }
                Err(e) => failed(e),
            }
        }
    }
}
