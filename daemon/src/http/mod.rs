//! The HTTP front: the same engine and stores as the socket server, served over HTTP on
//! 127.0.0.1 for clients that only take a base URL. Off unless `http = true` (or
//! `HEADROOM_HTTP=1`, or `headroomd --http`).
//!
//! - [`proxy`]: `POST /v1/chat/completions`, `/v1/responses` (OpenAI) and `/v1/messages`
//!   (Anthropic) compressed and forwarded upstream; other `/v1/…` paths forwarded as they are.
//! - [`guardrail`]: `POST /v1/compress` and `GET /v1/retrieve/{hash}`, the API LiteLLM's
//!   `guardrail: headroom` and Portkey's Headroom guardrail call.
//! - [`shaping`]: opt-in cache-friendly request shaping.
//! - [`errors`]: errors in each provider's own shape and status.
//! - [`origin`]: only loopback hosts and origins are served (no DNS rebinding, no web pages).
//!
//! `GET /metrics` answers in the Prometheus text format ([`crate::app::prometheus`]).
//! `GET /health` answers `{"status": "ok", …}`; `headroom wrap` uses it to find the front.
//!
//! Every local user can reach a loopback port (unlike the socket, which only serves the
//! daemon's uid): on a shared machine, leave the front off.

pub mod errors;
pub mod guardrail;
pub mod origin;
pub mod proxy;
pub mod shaping;

use crate::config::HttpSettings;
use crate::app::{ops, prometheus, App, StartError};
use bytes::Bytes;
use errors::{Problem, Provider};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use headroom_protocol::{Op, ReplyBody};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A response body: a whole buffer or a stream passed through chunk by chunk.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body holding `bytes`.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never: Infallible| match never {}).boxed_unsync()
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, json: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(full(json));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The bound listener, taken before the daemon reports ready so a busy port stops the start.
pub struct HttpListener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl HttpListener {
    /// Where the front listens (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Binds 127.0.0.1 (never another address) on the configured port, or returns `None` when the
/// front is off.
pub async fn bind(settings: &HttpSettings) -> Result<Option<HttpListener>, StartError> {
    if !settings.enabled {
        return Ok(None);
    }
    let wanted = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = TcpListener::bind(wanted).await.map_err(|e| {
        StartError(format!("cannot serve HTTP on {wanted}: {e}; pick another http_port or turn the HTTP front off"))
    })?;
    let addr = listener.local_addr().map_err(|e| StartError(format!("cannot read the HTTP address: {e}")))?;
    Ok(Some(HttpListener { listener, addr }))
}

/// What every HTTP request shares.
pub struct Front {
    pub app: Arc<App>,
    /// One upstream client, so connections to the providers are pooled and kept alive.
    pub client: reqwest::Client,
}

/// How long a new upstream connection (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves HTTP until `shutdown` is cancelled, then stops accepting, lets every in-flight
/// request (streams included) finish, and returns. The caller bounds that wait with the
/// daemon's drain timeout.
pub async fn serve(listener: HttpListener, app: Arc<App>, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            log::error!("the HTTP front cannot start its upstream client: {e}");
            return;
        }
    };
    let front = Arc::new(Front { app, client });
    let connections = TaskTracker::new();
    // Past the cap, new connections wait in the listen backlog instead of taking descriptors
    // the socket front and the stores need.
    let slots = Arc::new(tokio::sync::Semaphore::new(connection_cap()));
    loop {
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let (front, shutdown) = (front.clone(), shutdown.clone());
                    connections.spawn(async move {
                        connection(stream, front, shutdown).await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    log::error!("HTTP accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// HTTP connections served at once: a quarter of the descriptors this process may open (each
/// proxied request also holds one upstream), at least 8 and at most 1,024.
fn connection_cap() -> usize {
    let mut limit = nix::libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given.
    let known = unsafe { nix::libc::getrlimit(nix::libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let descriptors = if known { limit.rlim_cur.min(1 << 20) as usize } else { 1024 };
    (descriptors / 4).clamp(8, 1024)
}

/// One keep-alive connection; on shutdown it finishes the request in flight and closes. Headers
/// must arrive within the frame timeout, and so must the next request on an idle connection.
async fn connection(stream: tokio::net::TcpStream, front: Arc<Front>, shutdown: CancellationToken) {
    let wait = front.app.settings.frame_timeout;
    let service = service_fn(move |request| {
        let front = front.clone();
        async move { Ok::<_, Infallible>(route(front, request).await) }
    });
    let conn = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(wait)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Dispatches by method and path.
async fn route(front: Arc<Front>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    if let Some(why) = origin::refusal(request.headers()) {
        return errors::response(Provider::OpenAi, Problem::Forbidden, &why);
    }
    match (request.method(), path.as_str()) {
        (&Method::GET, "/health") => json_response(
            StatusCode::OK,
            serde_json::json!({"status": "ok", "service": "headroomd", "version": env!("CARGO_PKG_VERSION")}).to_string(),
        ),
        (&Method::GET, "/metrics") => metrics(&front).await,
        (&Method::POST, "/v1/compress") => guardrail::compress(&front, request).await,
        (&Method::GET, p) if p.starts_with("/v1/retrieve/") => guardrail::retrieve(&front, request).await,
        (&Method::POST, "/v1/chat/completions") => proxy::handle(&front, Some(proxy::Route::OpenAiChat), request).await,
        (&Method::POST, "/v1/responses") => proxy::handle(&front, Some(proxy::Route::OpenAiResponses), request).await,
        (&Method::POST, "/v1/messages") => proxy::handle(&front, Some(proxy::Route::Anthropic), request).await,
        (_, p) if p.starts_with("/v1/") => proxy::handle(&front, None, request).await,
        _ => errors::response(Provider::OpenAi, Problem::NotFound, &format!("headroomd serves no {path}")),
    }
}

/// `GET /metrics`: the daemon's counters for a Prometheus scrape.
async fn metrics(front: &Front) -> Response<Body> {
    let stats = ops::handle(Op::Stats, &front.app, "http").await;
    let metrics = ops::handle(Op::Metrics, &front.app, "http").await;
    match (stats, metrics) {
        (ReplyBody::Stats(stats), ReplyBody::Metrics(metrics)) => {
            let mut response = Response::new(full(prometheus::render(&stats, &metrics)));
            response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            response
        }
        _ => errors::response(Provider::OpenAi, Problem::Internal, "the daemon's counters could not be read"),
    }
}

/// The whole request body, or the error response for a body over the frame limit, cut short,
/// or not finished within the frame timeout (a client announcing 100 GB and sending nothing).
pub async fn read_body(front: &Front, body: Incoming, provider: Provider) -> Result<Bytes, Response<Body>> {
    let (limit, wait) = (front.app.settings.max_frame, front.app.settings.frame_timeout);
    let Ok(collected) = tokio::time::timeout(wait, Limited::new(body, limit).collect()).await else {
        let message = format!("the request body did not arrive within {} s (frame_timeout_secs)", wait.as_secs());
        return Err(errors::response(provider, Problem::InvalidRequest, &message));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(errors::response(
            provider,
            Problem::TooLarge,
            &format!("the request body is over headroomd's limit of {limit} bytes (max_frame)"),
        )),
        Err(e) => Err(errors::response(provider, Problem::InvalidRequest, &format!("cannot read the request body: {e}"))),
    }
}
