//! One client connection: checks the peer's uid, reads frames, answers `Hello` in order,
//! runs every other request in its own task (so requests pipeline and replies may return out of
//! order, matched by id), and writes replies as they are ready. At most 64 requests of a
//! connection are in flight: past that it is not read, so a peer that never reads its replies
//! is held back by its own socket.
//!
//! Bad input never ends the daemon and rarely the connection: an undecodable body, an unknown
//! operation or an oversized frame each get an error reply and the next frame is read. Only a
//! frame cut short by end-of-stream, an I/O error, or shutdown end the read loop; in-flight
//! requests still get their replies.

use crate::app::metrics::Metrics;
use crate::app::{ops, App};
use futures_util::{SinkExt, StreamExt};
use headroom_protocol::{decode_request, encode_reply, ErrorCode, Frame, FrameCodec, Op, Reply, ReplyBody};
use interprocess::local_socket::tokio::{prelude::*, Stream};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Replies waiting to be written; bounds memory when a client stops reading.
const REPLY_QUEUE: usize = 256;
/// Requests of one connection in flight at once. Past it the connection is not read until one
/// finishes: a peer that pipelines without reading replies is held back by its own socket
/// instead of filling the daemon's memory.
const IN_FLIGHT: usize = 64;

/// Serves one connection until the peer closes it or shutdown begins.
pub async fn serve(stream: Stream, app: Arc<App>, shutdown: CancellationToken) {
    Metrics::count(&app.metrics.connections);
    let peer_uid = stream.peer_creds().ok().and_then(|c| c.euid());
    // `&Stream` reads and writes, so one Arc serves as both halves.
    let stream = Arc::new(stream);
    let (tx, rx) = mpsc::channel::<Reply>(REPLY_QUEUE);
    let writer = tokio::spawn(write_replies(ArcStream(stream.clone()), rx, app.settings.max_frame));

    if peer_uid != Some(app.uid) {
        let who = peer_uid.map_or("an unknown uid".to_string(), |u| format!("uid {u}"));
        let message = format!("refused: the peer runs as {who}, this daemon serves only uid {}", app.uid);
        let _ = tx.send(error(0, ErrorCode::BadRequest, message)).await;
        drop(tx);
        let _ = writer.await;
        discard_briefly(ArcStream(stream)).await;
        return;
    }
    read_requests(ArcStream(stream), &tx, &app, &shutdown).await;
    drop(tx);
    let _ = writer.await;
}

/// Reads and drops what a refused peer already sent, for a moment, so closing does not reset
/// the connection before the peer has read why it was refused.
async fn discard_briefly(mut stream: ArcStream) {
    use tokio::io::AsyncReadExt;
    let mut sink = [0u8; 4096];
    let drain = async {
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), drain).await;
}

fn error(id: u64, code: ErrorCode, message: impl Into<String>) -> Reply {
    Reply { id, body: ReplyBody::error(code, message) }
}

async fn read_requests(
    recv: impl tokio::io::AsyncRead + Unpin,
    tx: &mpsc::Sender<Reply>,
    app: &Arc<App>,
    shutdown: &CancellationToken,
) {
    let max = app.settings.max_frame;
    let mut frames = FramedRead::new(recv, FrameCodec::new(max));
    let in_flight = TaskTracker::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut greeted = false;
    // Who the connection said it is, for the ledger (requests may name a client of their own).
    let mut caller: Arc<str> = Arc::from("unknown");
    loop {
        let slot = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let frame = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            frame = tokio::time::timeout(app.settings.frame_timeout, frames.next()) => match frame {
                Ok(frame) => frame,
                // Idle between frames is fine (clients keep connections); stalled inside one is not.
                Err(_) if frames.read_buffer().is_empty() && !frames.decoder().is_skipping() => continue,
                Err(_) => {
                    let message = format!(
                        "a frame was started but not finished within {} s; closing the connection",
                        app.settings.frame_timeout.as_secs()
                    );
                    let _ = tx.send(error(0, ErrorCode::BadFrame, message)).await;
                    break;
                }
            },
        };
        let reply = match frame {
            None | Some(Err(_)) => break,
            Some(Ok(Frame::TooLarge { id, len })) => error(
                id.unwrap_or(0),
                ErrorCode::TooLarge,
                format!("frame of {len} bytes exceeds the daemon's limit of {max} bytes; it was skipped"),
            ),
            Some(Ok(Frame::Truncated { expected, got })) => {
                let message = format!("the stream ended inside a frame: {got} of {expected} body bytes arrived");
                let _ = tx.send(error(0, ErrorCode::BadFrame, message)).await;
                break;
            }
            Some(Ok(Frame::Body(body))) => match decode_request(&body) {
                Err(e) => error(e.id, e.code, e.message),
                Ok(request) => {
                    Metrics::count(&app.metrics.requests);
                    match request.op {
                        Op::Hello(hello) => {
                            let body = ops::hello(&hello);
                            if matches!(body, ReplyBody::Hello(_)) {
                                greeted = true;
                                caller = Arc::from(ops::client_name(&hello.client));
                            }
                            Reply { id: request.id, body }
                        }
                        _ if !greeted => error(request.id, ErrorCode::BadRequest, "the first request on a connection must be Hello"),
                        op => {
                            let (tx, app, caller) = (tx.clone(), app.clone(), caller.clone());
                            in_flight.spawn(async move {
                                let body = ops::handle(op, &app, &caller).await;
                                let _ = tx.send(Reply { id: request.id, body }).await;
                                drop(slot);
                            });
                            continue;
                        }
                    }
                }
            },
        };
        if tx.send(reply).await.is_err() {
            break;
        }
    }
    in_flight.close();
    in_flight.wait().await;
}

/// Writes replies as they come, flushing once the queue is empty so pipelined replies share
/// system calls.
async fn write_replies(send: impl tokio::io::AsyncWrite + Unpin, mut rx: mpsc::Receiver<Reply>, max_frame: usize) {
    let mut sink = FramedWrite::new(send, FrameCodec::new(max_frame));
    while let Some(reply) = rx.recv().await {
        if sink.feed(encode_reply(&reply)).await.is_err() {
            return;
        }
        while let Ok(more) = rx.try_recv() {
            if sink.feed(encode_reply(&more)).await.is_err() {
                return;
            }
        }
        if sink.flush().await.is_err() {
            return;
        }
    }
}

/// A shared handle to the connection that reads or writes through `&Stream`.
struct ArcStream(Arc<Stream>);

impl tokio::io::AsyncRead for ArcStream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ArcStream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_shutdown(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut &*self.0).poll_shutdown(cx)
    }
}
