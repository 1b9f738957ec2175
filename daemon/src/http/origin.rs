//! Who may talk to the HTTP front. A loopback port is reachable from any web page the user
//! opens: through DNS rebinding (a page whose name resolves to 127.0.0.1 sends its own `Host`)
//! or a no-cors POST (a page on another origin). Only requests addressed to a loopback name and,
//! when a browser says where they come from, sent from a loopback origin are served.

use hyper::header::{HeaderMap, HOST, ORIGIN};

/// Why a request was refused, or `None` when it may be served.
pub fn refusal(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !is_loopback_authority(host) {
        return Some(format!("headroomd only answers requests addressed to 127.0.0.1, localhost or [::1], not {host:?}"));
    }
    let origin = headers.get(ORIGIN).and_then(|h| h.to_str().ok())?;
    let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    if authority.is_some_and(is_loopback_authority) {
        return None;
    }
    Some(format!("headroomd does not answer requests from the web page {origin:?}"))
}

/// `host` or `host:port` naming this machine's loopback interface.
fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.strip_prefix(':').is_some_and(is_port) => return inside == "::1",
            _ => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) if is_port(port) => host,
            Some(_) => return false,
            None => authority,
        },
    };
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1"
}

/// 1-5 digits.
fn is_port(port: &str) -> bool {
    (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts_with_or_without_a_port_are_served() {
        for host in ["127.0.0.1:8787", "localhost:8787", "LOCALHOST", "[::1]:8787", "[::1]", "127.0.0.1"] {
            assert_eq!(refusal(&headers(host, None)), None, "{host}");
        }
        assert_eq!(refusal(&headers("127.0.0.1:8787", Some("http://localhost:3000"))), None);
    }

    #[test]
    fn other_hosts_and_web_origins_are_refused() {
        for host in ["evil.example", "evil.example:8787", "127.0.0.1.evil.example", "localhost:80x", "[::2]:8787", "127.0.0.2:1"] {
            assert!(refusal(&headers(host, None)).is_some(), "{host}");
        }
        for origin in ["https://evil.example", "null", "http://127.0.0.1.evil.example"] {
            assert!(refusal(&headers("127.0.0.1:8787", Some(origin))).is_some(), "{origin}");
        }
        assert!(refusal(&HeaderMap::new()).is_some(), "a request without a Host is refused");
    }
}
