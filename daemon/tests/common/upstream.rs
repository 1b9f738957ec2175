//! A fake LLM provider on 127.0.0.1 for the HTTP front's tests and benches: it records every
//! request's exact bytes and answers from a script (JSON, errors, SSE chunks sent over time,
//! silence).

#![allow(dead_code)] // the tests and the bench each use a different part

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the upstream got JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status and a body with its content type.
    Body { status: u16, content_type: &'static str, body: String },
    /// `text/event-stream` chunks, each sent after its delay; `sent` records when.
    Sse { chunks: Vec<(Duration, String)> },
    /// Nothing for this long, then the inner reply.
    After(Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Body { status, content_type: "application/json", body: body.to_string() }
    }
}

/// A running fake upstream; it stops with its runtime.
#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    fallback: Arc<Mutex<Reply>>,
    /// When each SSE chunk left, in order.
    pub sent: Arc<Mutex<Vec<(Instant, Bytes)>>>,
}

impl Upstream {
    /// Starts on an ephemeral port; answers `fallback` once the script is used up.
    pub async fn start(fallback: Reply) -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = Upstream {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            script: Arc::default(),
            fallback: Arc::new(Mutex::new(fallback)),
            sent: Arc::default(),
        };
        let server = upstream.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.answer(request).await) }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        upstream
    }

    /// The base URL, `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers for the next requests.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().extend(replies);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<http_body_util::combinators::UnsyncBoxBody<Bytes, Infallible>> {
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        self.seen.lock().unwrap().push(Seen {
            method: parts.method.to_string(),
            path: parts.uri.path_and_query().map_or("/".into(), |p| p.to_string()),
            headers: parts.headers,
            body,
        });
        let next = self.script.lock().unwrap().pop_front();
        let mut reply = next.unwrap_or_else(|| self.fallback.lock().unwrap().clone());
        while let Reply::After(delay, inner) = reply {
            tokio::time::sleep(delay).await;
            reply = *inner;
        }
        match reply {
            Reply::Body { status, content_type, body } => Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(body)).boxed_unsync())
                .unwrap(),
            Reply::Sse { chunks } => {
                let sent = self.sent.clone();
                let frames = futures_util::stream::unfold(chunks.into_iter(), move |mut chunks| {
                    let sent = sent.clone();
                    async move {
                        let (delay, chunk) = chunks.next()?;
                        tokio::time::sleep(delay).await;
                        let bytes = Bytes::from(chunk);
                        sent.lock().unwrap().push((Instant::now(), bytes.clone()));
                        Some((Ok::<_, Infallible>(Frame::data(bytes)), chunks))
                    }
                });
                Response::builder()
                    .status(200)
                    .header("content-type", "text/event-stream")
                    .body(StreamBody::new(frames).boxed_unsync())
                    .unwrap()
            }
            Reply::After(..) => unreachable!("unwrapped above"),
        }
    }
}
