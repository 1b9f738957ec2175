//! A Rust client of the daemon: one connection, requests sent one at a time. The CLI and the
//! end-to-end tests use it; the Python and TypeScript clients speak the same wire through codecs
//! generated from `protocol/schema.json`.

use futures_util::{SinkExt, StreamExt};
use headroom_protocol::*;
use interprocess::local_socket::tokio::{prelude::*, Stream};
use interprocess::local_socket::GenericFilePath;
use std::fmt;
use std::path::Path;
use tokio_util::codec::Framed;

/// Why a call failed.
#[derive(Debug)]
pub enum ClientError {
    /// The socket could not be reached or broke.
    Io(std::io::Error),
    /// The daemon answered with an error.
    Daemon(ErrorReply),
    /// The daemon's reply made no sense for the request.
    Protocol(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "cannot talk to headroomd: {e}"),
            ClientError::Daemon(e) => write!(f, "headroomd: {}: {}", e.code.as_str(), e.message),
            ClientError::Protocol(m) => write!(f, "unexpected reply from headroomd: {m}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// A connected, greeted client.
pub struct Client {
    framed: Framed<Stream, FrameCodec>,
    next_id: u64,
}

/// Opens a raw connection to the socket at `path` (no handshake).
pub async fn connect_stream(path: &Path) -> std::io::Result<Stream> {
    Stream::connect(path.to_fs_name::<GenericFilePath>()?).await
}

impl Client {
    /// Connects to the daemon at `path` and performs the `Hello` handshake.
    pub async fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream = connect_stream(path).await?;
        let mut client = Client { framed: Framed::new(stream, FrameCodec::new(DEFAULT_MAX_FRAME)), next_id: 1 };
        let hello = Hello { protocol_version: PROTOCOL_VERSION, client: format!("headroom-cli/{}", env!("CARGO_PKG_VERSION")) };
        match client.call(Op::Hello(hello)).await? {
            ReplyBody::Hello(_) => Ok(client),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Hello"))),
        }
    }

    /// Sends one operation and waits for its reply body; error replies become `Daemon` errors.
    pub async fn call(&mut self, op: Op) -> Result<ReplyBody, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.framed.send(encode_request(&Request { id, op })).await?;
        let frame = self.framed.next().await.ok_or_else(|| ClientError::Protocol("the daemon closed the connection".into()))??;
        let Frame::Body(body) = frame else { return Err(ClientError::Protocol(format!("{frame:?}"))) };
        let reply = decode_reply(&body).map_err(ClientError::Protocol)?;
        if reply.id != id {
            return Err(ClientError::Protocol(format!("reply to request {} while waiting for {id}", reply.id)));
        }
        match reply.body {
            ReplyBody::Error(e) => Err(ClientError::Daemon(e)),
            body => Ok(body),
        }
    }

    /// Round trip with no work.
    pub async fn ping(&mut self) -> Result<(), ClientError> {
        match self.call(Op::Ping).await? {
            ReplyBody::Pong => Ok(()),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Ping"))),
        }
    }

    /// Compresses `messages` (JSON bytes).
    pub async fn compress(&mut self, messages: Vec<u8>, options: CompressOptions) -> Result<CompressReply, ClientError> {
        match self.call(Op::Compress(CompressRequest { messages, options })).await? {
            ReplyBody::Compressed(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Compress"))),
        }
    }

    /// Fetches the original behind `key`.
    pub async fn retrieve(&mut self, key: &str, query: Option<&str>) -> Result<RetrieveReply, ClientError> {
        let request = RetrieveRequest { key: key.to_string(), query: query.map(str::to_string) };
        match self.call(Op::Retrieve(request)).await? {
            ReplyBody::Retrieved(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Retrieve"))),
        }
    }

    /// Per-compressor totals, CCR hits, latency percentiles and all-time totals.
    pub async fn metrics(&mut self) -> Result<MetricsReply, ClientError> {
        match self.call(Op::Metrics).await? {
            ReplyBody::Metrics(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Metrics"))),
        }
    }

    /// Remembers a fact.
    pub async fn memory_add(&mut self, request: MemoryAddRequest) -> Result<MemoryAddReply, ClientError> {
        match self.call(Op::MemoryAdd(request)).await? {
            ReplyBody::MemoryAdded(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to MemoryAdd"))),
        }
    }

    /// Searches, lists (`Op::MemorySearch` or `Op::MemoryList`) and returns the facts.
    pub async fn memory_facts(&mut self, op: Op) -> Result<Vec<MemoryFact>, ClientError> {
        match self.call(op).await? {
            ReplyBody::MemoryFacts(reply) => Ok(reply.facts),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to a memory search or list"))),
        }
    }

    /// Forgets facts; returns how many.
    pub async fn memory_forget(&mut self, request: MemoryForgetRequest) -> Result<u64, ClientError> {
        match self.call(Op::MemoryForget(request)).await? {
            ReplyBody::MemoryForgotten(reply) => Ok(reply.removed),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to MemoryForget"))),
        }
    }

    /// The daemon's counters.
    pub async fn stats(&mut self) -> Result<StatsReply, ClientError> {
        match self.call(Op::Stats).await? {
            ReplyBody::Stats(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Stats"))),
        }
    }

    /// The savings ledger's periods ending after `since_ms`, and the latest requests.
    pub async fn savings(&mut self, since_ms: u64) -> Result<SavingsReply, ClientError> {
        match self.call(Op::Savings(SavingsRequest { since_ms })).await? {
            ReplyBody::Savings(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Savings"))),
        }
    }

    /// What the running daemon serves besides the socket (its HTTP front's address).
    pub async fn info(&mut self) -> Result<InfoReply, ClientError> {
        match self.call(Op::Info).await? {
            ReplyBody::Info(reply) => Ok(reply),
            other => Err(ClientError::Protocol(format!("{other:?} in answer to Info"))),
        }
    }
}

/// Connects to the daemon on `socket` and runs `call` on a runtime of its own, for the
/// command-line tool's one-shot requests.
pub fn blocking<T>(socket: &Path, call: impl AsyncFnOnce(&mut Client) -> Result<T, ClientError>) -> Result<T, ClientError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = Client::connect(socket).await?;
        call(&mut client).await
    })
}
