//! The gate between the host's stdio and the MCP session. The SDK drops a line it cannot take —
//! one longer than 16 MiB, or nested deeper than its JSON reader goes — without a word, and a
//! host then waits for an answer that never comes. The gate answers such a line itself with a
//! JSON-RPC error for the id it carried, and passes every other line through unchanged.

use crate::request::spans;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// The longest line the session is given.
pub const MAX_LINE: usize = 16 << 20;

/// What one line from the host becomes.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// Passed to the session as it is.
    Pass(Vec<u8>),
    /// Answered here with this JSON-RPC error.
    Refuse(String),
}

/// Judges a complete line (without its newline); `len` is its full length when it was cut.
pub fn judge(line: Vec<u8>, len: usize) -> Line {
    if len > MAX_LINE {
        return Line::Refuse(error(&line, format!("the message is {len} bytes; the most this server reads is {MAX_LINE}")));
    }
    if spans::nesting_depth(&line) > spans::MAX_DEPTH {
        return Line::Refuse(error(&line, format!("the message nests deeper than {} arrays and objects", spans::MAX_DEPTH)));
    }
    Line::Pass(line)
}

/// An `Invalid Request` error for the id found near the start of `line`.
fn error(line: &[u8], message: String) -> String {
    json!({"jsonrpc": "2.0", "id": id_of(line), "error": {"code": -32600, "message": message}}).to_string()
}

/// The request id in the first KiB of a message (`"id": 7` or `"id": "a"`), else null.
fn id_of(line: &[u8]) -> Value {
    let head = String::from_utf8_lossy(&line[..line.len().min(1024)]);
    let Some(at) = head.find("\"id\"") else { return Value::Null };
    let rest = head[at + 4..].trim_start().strip_prefix(':').map(str::trim_start).unwrap_or("");
    if let Some(text) = rest.strip_prefix('"') {
        return text.split_once('"').map_or(Value::Null, |(id, _)| Value::String(id.to_string()));
    }
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    digits.parse::<i64>().map_or(Value::Null, Value::from)
}

/// Reads lines from `input`, passes the good ones to `session` and sends refusals to `refused`,
/// until `input` ends; then ends the session's input too. A line over [`MAX_LINE`] is never
/// held whole: only its first bytes.
pub async fn pump(input: impl AsyncRead + Unpin, mut session: impl AsyncWrite + Unpin, refused: mpsc::Sender<String>) {
    pass_lines(input, &mut session, refused).await;
    let _ = session.shutdown().await;
}

async fn pass_lines(input: impl AsyncRead + Unpin, session: &mut (impl AsyncWrite + Unpin), refused: mpsc::Sender<String>) {
    let mut input = BufReader::new(input);
    loop {
        let mut line = Vec::new();
        let read = (&mut input).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line).await;
        let Ok(n) = read else { return };
        if n == 0 {
            return;
        }
        let mut len = line.len();
        if line.last() != Some(&b'\n') && len > MAX_LINE {
            // Cut: count the rest of the line and drop it.
            loop {
                let buffered = match input.fill_buf().await {
                    Ok(b) if !b.is_empty() => b,
                    _ => break,
                };
                let (take, done) = match buffered.iter().position(|&b| b == b'\n') {
                    Some(at) => (at + 1, true),
                    None => (buffered.len(), false),
                };
                len += take;
                input.consume(take);
                if done {
                    break;
                }
            }
            line.truncate(1024);
        }
        while line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            line.pop();
            len = len.saturating_sub(1);
        }
        match judge(line, len) {
            Line::Pass(mut line) => {
                line.push(b'\n');
                if session.write_all(&line).await.is_err() || session.flush().await.is_err() {
                    return;
                }
            }
            Line::Refuse(answer) => {
                if refused.send(answer).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Writes the session's lines and the refusals to `output`, one whole line at a time, until the
/// session ends.
pub async fn drain(session: impl AsyncRead + Unpin, mut refused: mpsc::Receiver<String>, mut output: impl AsyncWrite + Unpin) {
    let mut lines = BufReader::new(session).lines();
    loop {
        let line = tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => line,
                _ => break,
            },
            Some(answer) = refused.recv() => answer,
        };
        if output.write_all(format!("{line}\n").as_bytes()).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
    // The session is over; answer what was refused in the meantime.
    while let Ok(answer) = refused.try_recv() {
        let _ = output.write_all(format!("{answer}\n").as_bytes()).await;
    }
    let _ = output.flush().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_lines_are_refused_with_their_id_and_others_pass() {
        let deep = format!("{{\"jsonrpc\":\"2.0\",\"id\": 7,\"method\":\"x\",\"params\":{}{}}}", "[".repeat(200), "]".repeat(200));
        let Line::Refuse(answer) = judge(deep.into_bytes(), 0) else { panic!("refused") };
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!((answer["id"].clone(), answer["error"]["code"].clone()), (json!(7), json!(-32600)));
        let named = judge(br#"{"id":"a-1","method":"x"}"#.to_vec(), MAX_LINE + 1);
        assert!(matches!(named, Line::Refuse(ref a) if a.contains("\"id\":\"a-1\"")), "{named:?}");
        let fine = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_vec();
        assert_eq!(judge(fine.clone(), fine.len()), Line::Pass(fine));
        assert_eq!(id_of(b"{\"method\":\"x\"}"), Value::Null);
    }
}
