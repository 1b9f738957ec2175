//! The values carried in frames. Field order and enum variant order are the wire format: never
//! reorder them, only append (and bump [`crate::PROTOCOL_VERSION`] when a vector changes).

use bincode::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// A client's request. The daemon echoes `id` in the [`Reply`], so one connection can carry many
/// requests at once and match replies that arrive out of order.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub op: Op,
}

/// The operation a request asks for. The variant index is the operation code on the wire.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub enum Op {
    /// Must be the first request on a connection: agrees on the protocol version.
    Hello(Hello),
    /// Liveness check; answered with [`ReplyBody::Pong`].
    Ping,
    /// Compress provider messages.
    Compress(CompressRequest),
    /// Fetch the original behind a compression marker.
    Retrieve(RetrieveRequest),
    /// Counters of the running daemon.
    Stats,
    /// Per-compressor totals, CCR hits and misses, latency percentiles, all-time totals.
    Metrics,
    /// Remember a fact in a memory scope.
    MemoryAdd(MemoryAddRequest),
    /// The facts of a scope most relevant to a query.
    MemorySearch(MemorySearchRequest),
    /// The facts a scope sees, or everything under it.
    MemoryList(MemoryListRequest),
    /// Delete one fact, or every fact in a scope and the scopes under it.
    MemoryForget(MemoryForgetRequest),
    /// What the running daemon serves besides the socket (where its HTTP front listens).
    Info,
    /// The savings ledger since a time, and the latest requests.
    Savings(SavingsRequest),
}

/// Number of operations this version knows; an index at or past it is an unknown operation.
pub const OP_COUNT: u32 = 12;

/// The handshake a client sends first.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct Hello {
    /// The client's [`crate::PROTOCOL_VERSION`].
    pub protocol_version: u32,
    /// Free text naming the client (e.g. `headroom-py/0.1.0`), for logs.
    pub client: String,
}

/// Provider messages to compress, as the JSON bytes the application would send.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct CompressRequest {
    /// UTF-8 JSON: a messages array, or a whole request body (an object with `messages` or
    /// `input`). The reply keeps the same shape.
    pub messages: Vec<u8>,
    pub options: CompressOptions,
}

/// Per-request choices. The zero value (`Default`) is what most callers want.
#[derive(Debug, Clone, PartialEq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct CompressOptions {
    /// Model name; picks the tokenizer (o200k for current models, cl100k for older ones).
    pub model: Option<String>,
    /// Message shape; `Auto` detects it from the content.
    pub format: ProviderFormat,
    /// Overrides the query (by default the latest user message).
    pub query: Option<String>,
    /// How many trailing messages to leave untouched beyond the latest user message.
    pub protect_recent: u32,
    /// How many leading messages the caller has frozen (passed through byte for byte).
    pub frozen: u32,
    /// Wanted size of compressed blocks as a share of the original (0 < r ≤ 1); `None` lets each
    /// compressor choose.
    pub target_ratio: Option<f32>,
    /// Also compress long user-pasted content (never the latest user message).
    pub compress_user_messages: bool,
    /// Add remembered facts of this scope to the latest user message, and optionally offer the
    /// model the memory tools.
    pub memory: Option<MemoryOptions>,
    /// Who is asking (`litellm`, `langchain`, `openai-sdk`, `vercel`, or a name the user sets),
    /// for the savings ledger's per-client figures; `None` counts the request under the name
    /// the connection's `Hello` gave.
    pub client: Option<String>,
}

/// Where a fact belongs. Scopes nest user → agent (or project) → session: a session sees its
/// own facts, its agent's and its user's, and nothing of any other scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryScope {
    /// Required, never empty.
    pub user: String,
    pub agent: Option<String>,
    pub session: Option<String>,
}

/// Memory on the request path of `Compress`.
#[derive(Debug, Clone, PartialEq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryOptions {
    pub scope: MemoryScope,
    /// Most tokens of facts to add; 0 means the daemon's default (256).
    pub budget_tokens: u32,
    /// Also offer the model `memory_save` and `memory_search` tools.
    pub tools: bool,
}

/// A fact to remember.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryAddRequest {
    pub scope: MemoryScope,
    pub text: String,
    /// Where the fact came from (a conversation or agent id, a message), free text.
    pub source: Option<String>,
    /// What the fact is about (e.g. `deploy target`). A new fact with the key of a current fact in
    /// the same scope supersedes it. Derived from the text when absent (see the README).
    pub key: Option<String>,
    /// When the fact became true, ms since the Unix epoch; now when absent.
    pub valid_from_ms: Option<u64>,
}

/// A search over the facts a scope sees.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemorySearchRequest {
    pub scope: MemoryScope,
    pub query: String,
    /// Search what was true at this time (ms since the epoch) instead of now.
    pub as_of_ms: Option<u64>,
    /// Most facts to return; 0 means 10.
    pub limit: u32,
    /// Most tokens of fact text to return; 0 means no bound.
    pub budget_tokens: u32,
}

/// Lists facts, newest first.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryListRequest {
    pub scope: MemoryScope,
    /// What was true at this time instead of now; ignored with `include_superseded`.
    pub as_of_ms: Option<u64>,
    /// Also facts whose validity has ended.
    pub include_superseded: bool,
    /// Every fact in this scope and the scopes under it, instead of what the scope sees.
    pub include_narrower: bool,
}

/// Deletes facts for good (no history is kept of them).
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryForgetRequest {
    pub scope: MemoryScope,
    /// One fact, which must lie in `scope` or under it; `None` forgets every fact there.
    pub id: Option<String>,
}

/// The provider message shapes the daemon understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Encode, Decode, Serialize, Deserialize)]
pub enum ProviderFormat {
    /// Detect from the content.
    #[default]
    Auto,
    /// OpenAI Chat Completions `messages`.
    OpenAiChat,
    /// OpenAI Responses `input` items.
    OpenAiResponses,
    /// Anthropic Messages `messages` (and its content blocks).
    Anthropic,
}

/// Asks for the original content behind a marker's key.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct RetrieveRequest {
    /// The 24 hex characters after `hash=` in a marker.
    pub key: String,
    /// When set, only the lines matching it are returned.
    pub query: Option<String>,
}

/// The daemon's answer to one [`Request`].
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct Reply {
    /// The request's id; 0 when the request was too damaged to read one.
    pub id: u64,
    pub body: ReplyBody,
}

/// What a reply carries; the variant index is the reply code on the wire.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub enum ReplyBody {
    Hello(HelloReply),
    Pong,
    Compressed(CompressReply),
    Retrieved(RetrieveReply),
    Stats(StatsReply),
    Error(ErrorReply),
    Metrics(MetricsReply),
    MemoryAdded(MemoryAddReply),
    MemoryFacts(MemoryFactsReply),
    MemoryForgotten(MemoryForgetReply),
    Info(InfoReply),
    Savings(SavingsReply),
}

/// The daemon's side of the handshake.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct HelloReply {
    pub protocol_version: u32,
    /// Daemon name and version, e.g. `headroomd/0.1.0`.
    pub server: String,
}

/// The result of a compression.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct CompressReply {
    /// The new JSON, in the shape that was sent; untouched bytes are identical.
    pub messages: Vec<u8>,
    /// Tokens of the content blocks considered, before and after. `tokens_after` is exact; the
    /// original's count is exact up to what the never-larger decision needed and extrapolated
    /// from the bytes beyond that.
    pub tokens_before: u64,
    pub tokens_after: u64,
    /// Keys of every marker in `messages`, in order of first appearance.
    pub ccr_keys: Vec<String>,
    /// One entry per compressor that changed at least one block.
    pub compressors: Vec<CompressorStats>,
    /// The `headroom_retrieve` tool definition (JSON, in the request's provider format) when
    /// `messages` contains a marker.
    pub retrieve_tool: Option<Vec<u8>>,
    /// The provider format the daemon used (never `Auto`).
    pub format: ProviderFormat,
    /// How many remembered facts were added to the latest user message.
    pub memories: u32,
    /// The `memory_save` and `memory_search` tool definitions (a JSON array, in the request's
    /// provider format) when memory tools were asked for.
    pub memory_tools: Option<Vec<u8>>,
    /// This reply changes messages an earlier reply sent differently (compaction of superseded
    /// outputs): the provider's cache is written again from there.
    pub rewrote_earlier: bool,
    /// Tokens of the tool definitions Headroom added (`retrieve_tool` and `memory_tools`); the
    /// retrieve tool's are part of `tokens_after`.
    pub added_tokens: u64,
    /// Blocks of [`LARGE_BLOCK_TOKENS`] or more sent unchanged, one entry per reason (the
    /// reason in `name`, e.g. `no compressor fits`): why nothing was saved on them.
    pub left_as_is: Vec<CompressorStats>,
}

/// The size from which a block sent unchanged is reported in `left_as_is`, with its reason.
pub const LARGE_BLOCK_TOKENS: u64 = 2_000;

/// What one compressor did in one request.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct CompressorStats {
    pub name: String,
    pub blocks: u32,
    pub tokens_before: u64,
    pub tokens_after: u64,
}

/// The original content (or the lines of it matching the query).
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct RetrieveReply {
    pub key: String,
    /// The exact original when `whole`, else the matching lines, each prefixed `L<n>: `.
    pub content: String,
    pub whole: bool,
}

/// Counters since the daemon started, plus store sizes.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct StatsReply {
    pub protocol_version: u32,
    pub uptime_ms: u64,
    pub connections: u64,
    pub requests: u64,
    pub compress_requests: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
    pub ccr_entries: u64,
    pub replay_entries: u64,
}

/// What `headroom stats` shows beyond [`StatsReply`]. "Since start" counts this daemon process;
/// "all time" survives restarts (kept in the state directory).
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MetricsReply {
    /// Per compressor since start, by name.
    pub compressors: Vec<CompressorStats>,
    /// Retrieves that found their original, found nothing, or found it expired.
    pub ccr_hits: u64,
    pub ccr_misses: u64,
    pub ccr_expired: u64,
    /// Compress latency inside the daemon since start, in microseconds.
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    /// Compress requests and tokens over the daemon's whole history.
    pub all_time_compress_requests: u64,
    pub all_time_tokens_before: u64,
    pub all_time_tokens_after: u64,
    pub all_time_latency_p50_us: u64,
    pub all_time_latency_p99_us: u64,
    /// Compress latency since start as a cumulative histogram (compressions that took at most
    /// `le_us` each), and the sum of all latencies, for Prometheus.
    pub latency_buckets: Vec<LatencyBucket>,
    pub latency_sum_us: u64,
    /// Large blocks sent unchanged since start, by reason (as in [`CompressReply::left_as_is`]).
    pub left_as_is: Vec<CompressorStats>,
}

/// One bucket of a cumulative latency histogram.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct LatencyBucket {
    pub le_us: u64,
    pub count: u64,
}

/// One remembered fact.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryFact {
    /// 16 lowercase hex digits.
    pub id: String,
    pub scope: MemoryScope,
    pub text: String,
    pub source: Option<String>,
    /// What the fact is about, given or derived; facts sharing it supersede each other.
    pub key: Option<String>,
    pub created_ms: u64,
    pub valid_from_ms: u64,
    /// When the fact stopped being true; `None` while it is current.
    pub valid_to_ms: Option<u64>,
    /// The fact that replaced it.
    pub superseded_by: Option<String>,
    /// Relevance to the search query (0 in lists).
    pub score: f32,
}

/// The result of `MemoryAdd`.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryAddReply {
    /// The stored fact, or the existing one it duplicates.
    pub fact: MemoryFact,
    /// The text was near-identical to a current fact of the scope; nothing new was stored.
    pub duplicate: bool,
    /// Ids of the facts whose validity this one ended.
    pub superseded: Vec<String>,
}

/// Facts, most relevant (search) or newest (list) first.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryFactsReply {
    pub facts: Vec<MemoryFact>,
}

/// The result of `MemoryForget`.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct MemoryForgetReply {
    pub removed: u64,
}

/// What the running daemon serves, for tools that must find it as it is rather than as the
/// configuration says (`headroom wrap` after `headroomd --http --http-port N`).
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct InfoReply {
    /// Daemon name and version, e.g. `headroomd/0.1.0`.
    pub server: String,
    /// Where the HTTP front listens (`127.0.0.1:8787`), or `None` when it is off.
    pub http_address: Option<String>,
}

/// Asks for the ledger's periods that end after `since_ms` (ms since the epoch; 0 for all).
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct SavingsRequest {
    pub since_ms: u64,
}

/// What Headroom saved, period by period, and the latest requests.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct SavingsReply {
    /// Hours (days once older than a year), oldest first.
    pub periods: Vec<LedgerPeriod>,
    /// The latest compressions since the daemon started, newest first.
    pub recent: Vec<RecentRequest>,
}

/// One period of the savings ledger.
#[derive(Debug, Clone, PartialEq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct LedgerPeriod {
    /// When the period starts, ms since the epoch, and how long it is (an hour or a day).
    pub start_ms: u64,
    pub span_ms: u64,
    /// Compress requests and their tokens before and after (`tokens_after` includes Headroom's
    /// additions: markers and the retrieve tool's definition).
    pub requests: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
    /// Tokens of the tool definitions Headroom added.
    pub added_tokens: u64,
    /// `headroom_retrieve` calls answered, and the tokens of what they brought back.
    pub retrieves: u64,
    pub retrieved_tokens: u64,
    /// Remembered facts put into requests.
    pub memories: u32,
    /// Requests in which Headroom changed earlier messages (compaction): each costs a cache write.
    pub rewrites: u64,
    /// The same figures per compressor, per model and per client.
    pub compressors: Vec<CompressorStats>,
    pub models: Vec<LedgerSlice>,
    pub clients: Vec<LedgerSlice>,
}

/// A period's requests of one model or one client.
#[derive(Debug, Clone, PartialEq, Default, Encode, Decode, Serialize, Deserialize)]
pub struct LedgerSlice {
    pub name: String,
    pub requests: u64,
    pub tokens_before: u64,
    pub tokens_after: u64,
}

/// One recent compression, for the dashboard's list.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct RecentRequest {
    pub at_ms: u64,
    pub model: String,
    pub client: String,
    pub tokens_before: u64,
    pub tokens_after: u64,
    /// The compressors that changed a block.
    pub compressors: Vec<String>,
    /// Microseconds the engine took.
    pub latency_us: u64,
}

/// A failed request. `message` is for people; `code` is for programs.
#[derive(Debug, Clone, PartialEq, Encode, Decode, Serialize, Deserialize)]
pub struct ErrorReply {
    pub code: ErrorCode,
    pub message: String,
}

/// Stable error codes; the variant index is the code on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame or its body could not be decoded.
    BadFrame,
    /// The frame is longer than the daemon's limit; it was skipped.
    TooLarge,
    /// `Hello` named another protocol version.
    UnsupportedVersion,
    /// Well-formed but unacceptable: unknown operation, invalid JSON messages, no `Hello` first.
    BadRequest,
    /// No original is stored under that key.
    NotFound,
    /// The original expired; the model should re-run the tool. Terminal, do not retry.
    Expired,
    /// The daemon failed; the request may be retried.
    Internal,
    /// Too much large work is already waiting; the request was not run. Send the messages
    /// uncompressed (or retry later).
    Busy,
}

impl ErrorCode {
    /// The code's name as documented (`bad_frame`, `too_large`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Expired => "expired",
            ErrorCode::Internal => "internal",
            ErrorCode::Busy => "busy",
        }
    }
}

impl ReplyBody {
    /// Shorthand for an error reply body.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ReplyBody::Error(ErrorReply { code, message: message.into() })
    }
}
