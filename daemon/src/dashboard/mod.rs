//! `headroom dashboard`: the savings page (`index.html`, built into the binary, no asset from
//! anywhere else) served by the command itself on 127.0.0.1, whether or not the daemon's HTTP
//! front is on. The page polls `/api/savings`, which asks the daemon over its socket
//! ([`crate::savings::from_daemon`]).
//!
//! Only the holder of the URL gets in: every path needs the random token the command printed,
//! and like the HTTP front it answers only requests addressed to a loopback host from no other
//! web page (no DNS rebinding, no cross-site reads).

use crate::http::origin;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// The page, as the browser gets it.
const PAGE: &str = include_str!("index.html");

/// What the page may load: its own inline script and styles, data: images, and `/api` calls to
/// where it came from; nothing else.
const POLICY: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'";

/// 32 hex digits from the system's random source.
fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| format!("cannot read /dev/urandom for the dashboard's token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The value of `name` in a query string.
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| pair.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Answers one request: the page, its data, or a refusal.
async fn answer(request: Request<Incoming>, token: Arc<str>, socket: Arc<PathBuf>) -> Response<Full<Bytes>> {
    if let Some(why) = origin::refusal(request.headers()) {
        return response(StatusCode::FORBIDDEN, "text/plain; charset=utf-8", why);
    }
    let query = request.uri().query().unwrap_or("");
    // Equal lengths first, then every byte: the comparison takes as long for a near miss.
    let given = query_value(query, "token").unwrap_or("");
    let matches = given.len() == token.len() && given.bytes().zip(token.bytes()).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !matches {
        return response(StatusCode::FORBIDDEN, "text/plain; charset=utf-8", "this page needs the token `headroom dashboard` printed");
    }
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => {
            let mut page = response(StatusCode::OK, "text/html; charset=utf-8", PAGE);
            page.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
            page
        }
        (&Method::GET, "/api/savings") => {
            let since = query_value(query, "since").unwrap_or("30d").to_string();
            let report = tokio::task::spawn_blocking(move || crate::savings::from_daemon(&socket, &since)).await;
            match report {
                Ok(Ok(report)) => response(StatusCode::OK, "application/json", report.to_string()),
                Ok(Err(e)) => response(StatusCode::BAD_GATEWAY, "text/plain; charset=utf-8", e),
                Err(e) => response(StatusCode::INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", e.to_string()),
            }
        }
        _ => response(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "no such page"),
    }
}

/// Serves the dashboard on 127.0.0.1:`port` until the process is stopped, printing its URL
/// first (and opening it in the browser when `open`).
pub fn serve(socket: PathBuf, port: u16, open: bool) -> Result<(), String> {
    let token: Arc<str> = Arc::from(new_token()?);
    let socket = Arc::new(socket);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|e| format!("cannot serve the dashboard on 127.0.0.1:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let url = format!("http://{addr}/?token={token}");
        println!("{url}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        if open {
            if let Err(e) = std::process::Command::new("xdg-open").arg(&url).spawn() {
                log::warn!("cannot open a browser ({e}); open the URL above yourself");
            }
        }
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    log::error!("dashboard accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let (token, socket) = (token.clone(), socket.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let (token, socket) = (token.clone(), socket.clone());
                    async move { Ok::<_, Infallible>(answer(request, token, socket).await) }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_hex_and_queries_are_read_by_name() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()) && a != b);
        assert_eq!(query_value("since=7d&token=abc", "token"), Some("abc"));
        assert_eq!(query_value("tokens=abc", "token"), None);
        assert!(PAGE.contains("<html") && !PAGE.contains("https://"), "the page loads nothing from elsewhere");
    }
}
