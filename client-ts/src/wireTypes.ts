// Generated from protocol/schema.json by protocol/generate.py; do not edit.
//
// The wire types of protocol/src/message.rs, shaped like their serde JSON (the form of the test
// vectors): structs are objects keyed by field name, enum variants without payload are strings,
// variants with one are one-key objects, `u64` is `bigint`, `u32` is `number`, byte vectors are
// `Uint8Array`. A `writeX(w, value)` / `readX(r)` pair per type walks the fields in wire order;
// `./wire.js` re-exports the types and holds the writer `w`, the strict reader `r` and framing.

import type { Reader, Writer } from "./wire.js";

/** The protocol version this client speaks (`PROTOCOL_VERSION` in `protocol/src/lib.rs`). */
export const PROTOCOL_VERSION = 4;

/** The daemon's default limit on a body; larger requests are not even sent. */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;

/** The handshake a client sends first. */
export interface Hello {
  /** The client's `PROTOCOL_VERSION`. */
  protocol_version: number;
  /** Free text naming the client (e.g. `headroom-py/0.1.0`), for logs. */
  client: string;
}

/**
 * The provider message shapes the daemon understands.
 *
 * - `Auto`: Detect from the content.
 * - `OpenAiChat`: OpenAI Chat Completions `messages`.
 * - `OpenAiResponses`: OpenAI Responses `input` items.
 * - `Anthropic`: Anthropic Messages `messages` (and its content blocks).
 */
export type ProviderFormat = "Auto" | "OpenAiChat" | "OpenAiResponses" | "Anthropic";
const PROVIDER_FORMAT_NAMES: readonly ProviderFormat[] = [
  "Auto",
  "OpenAiChat",
  "OpenAiResponses",
  "Anthropic",
];

/**
 * Where a fact belongs. Scopes nest user → agent (or project) → session: a session sees its
 * own facts, its agent's and its user's, and nothing of any other scope.
 */
export interface MemoryScope {
  /** Required, never empty. */
  user: string;
  agent: string | null;
  session: string | null;
}

/** Memory on the request path of `Compress`. */
export interface MemoryOptions {
  scope: MemoryScope;
  /** Most tokens of facts to add; 0 means the daemon's default (256). */
  budget_tokens: number;
  /** Also offer the model `memory_save` and `memory_search` tools. */
  tools: boolean;
}

/** Per-request choices. The zero value (`Default`) is what most callers want. */
export interface CompressOptions {
  /** Model name; picks the tokenizer (o200k for current models, cl100k for older ones). */
  model: string | null;
  /** Message shape; `Auto` detects it from the content. */
  format: ProviderFormat;
  /** Overrides the query (by default the latest user message). */
  query: string | null;
  /** How many trailing messages to leave untouched beyond the latest user message. */
  protect_recent: number;
  /** How many leading messages the caller has frozen (passed through byte for byte). */
  frozen: number;
  /**
   * Wanted size of compressed blocks as a share of the original (0 < r ≤ 1); `null` lets each
   * compressor choose.
   * An `f32` on the wire: values not exactly representable come back rounded.
   */
  target_ratio: number | null;
  /** Also compress long user-pasted content (never the latest user message). */
  compress_user_messages: boolean;
  /**
   * Add remembered facts of this scope to the latest user message, and optionally offer the
   * model the memory tools.
   */
  memory: MemoryOptions | null;
  /**
   * Who is asking (`litellm`, `langchain`, `openai-sdk`, `vercel`, or a name the user sets),
   * for the savings ledger's per-client figures; `null` counts the request under the name
   * the connection's `Hello` gave.
   */
  client: string | null;
}

/** Provider messages to compress, as the JSON bytes the application would send. */
export interface CompressRequest {
  /**
   * UTF-8 JSON: a messages array, or a whole request body (an object with `messages` or
   * `input`). The reply keeps the same shape.
   */
  messages: Uint8Array;
  options: CompressOptions;
}

/** Asks for the original content behind a marker's key. */
export interface RetrieveRequest {
  /** The 24 hex characters after `hash=` in a marker. */
  key: string;
  /** When set, only the lines matching it are returned. */
  query: string | null;
}

/** A fact to remember. */
export interface MemoryAddRequest {
  scope: MemoryScope;
  text: string;
  /** Where the fact came from (a conversation or agent id, a message), free text. */
  source: string | null;
  /**
   * What the fact is about (e.g. `deploy target`). A new fact with the key of a current fact in
   * the same scope supersedes it. Derived from the text when absent (see the README).
   */
  key: string | null;
  /** When the fact became true, ms since the Unix epoch; now when absent. */
  valid_from_ms: bigint | null;
}

/** A search over the facts a scope sees. */
export interface MemorySearchRequest {
  scope: MemoryScope;
  query: string;
  /** Search what was true at this time (ms since the epoch) instead of now. */
  as_of_ms: bigint | null;
  /** Most facts to return; 0 means 10. */
  limit: number;
  /** Most tokens of fact text to return; 0 means no bound. */
  budget_tokens: number;
}

/** Lists facts, newest first. */
export interface MemoryListRequest {
  scope: MemoryScope;
  /** What was true at this time instead of now; ignored with `include_superseded`. */
  as_of_ms: bigint | null;
  /** Also facts whose validity has ended. */
  include_superseded: boolean;
  /** Every fact in this scope and the scopes under it, instead of what the scope sees. */
  include_narrower: boolean;
}

/** Deletes facts for good (no history is kept of them). */
export interface MemoryForgetRequest {
  scope: MemoryScope;
  /** One fact, which must lie in `scope` or under it; `null` forgets every fact there. */
  id: string | null;
}

/** Asks for the ledger's periods that end after `since_ms` (ms since the epoch; 0 for all). */
export interface SavingsRequest {
  since_ms: bigint;
}

/**
 * The operation a request asks for. The variant index is the operation code on the wire.
 *
 * - `Hello`: Must be the first request on a connection: agrees on the protocol version.
 * - `Ping`: Liveness check; answered with `ReplyBody::Pong`.
 * - `Compress`: Compress provider messages.
 * - `Retrieve`: Fetch the original behind a compression marker.
 * - `Stats`: Counters of the running daemon.
 * - `Metrics`: Per-compressor totals, CCR hits and misses, latency percentiles, all-time totals.
 * - `MemoryAdd`: Remember a fact in a memory scope.
 * - `MemorySearch`: The facts of a scope most relevant to a query.
 * - `MemoryList`: The facts a scope sees, or everything under it.
 * - `MemoryForget`: Delete one fact, or every fact in a scope and the scopes under it.
 * - `Info`: What the running daemon serves besides the socket (where its HTTP front listens).
 * - `Savings`: The savings ledger since a time, and the latest requests.
 */
export type Op =
  | { Hello: Hello }
  | "Ping"
  | { Compress: CompressRequest }
  | { Retrieve: RetrieveRequest }
  | "Stats"
  | "Metrics"
  | { MemoryAdd: MemoryAddRequest }
  | { MemorySearch: MemorySearchRequest }
  | { MemoryList: MemoryListRequest }
  | { MemoryForget: MemoryForgetRequest }
  | "Info"
  | { Savings: SavingsRequest };
const OP_NAMES = [
  "Hello",
  "Ping",
  "Compress",
  "Retrieve",
  "Stats",
  "Metrics",
  "MemoryAdd",
  "MemorySearch",
  "MemoryList",
  "MemoryForget",
  "Info",
  "Savings",
] as const;

/**
 * A client's request. The daemon echoes `id` in the `Reply`, so one connection can carry many
 * requests at once and match replies that arrive out of order.
 */
export interface Request {
  id: bigint;
  op: Op;
}

/** The daemon's side of the handshake. */
export interface HelloReply {
  protocol_version: number;
  /** Daemon name and version, e.g. `headroomd/0.1.0`. */
  server: string;
}

/** What one compressor did in one request. */
export interface CompressorStats {
  name: string;
  blocks: number;
  tokens_before: bigint;
  tokens_after: bigint;
}

/** The result of a compression. */
export interface CompressReply {
  /** The new JSON, in the shape that was sent; untouched bytes are identical. */
  messages: Uint8Array;
  /**
   * Tokens of the content blocks considered, before and after. `tokens_after` is exact; the
   * original's count is exact up to what the never-larger decision needed and extrapolated
   * from the bytes beyond that.
   */
  tokens_before: bigint;
  tokens_after: bigint;
  /** Keys of every marker in `messages`, in order of first appearance. */
  ccr_keys: string[];
  /** One entry per compressor that changed at least one block. */
  compressors: CompressorStats[];
  /**
   * The `headroom_retrieve` tool definition (JSON, in the request's provider format) when
   * `messages` contains a marker.
   */
  retrieve_tool: Uint8Array | null;
  /** The provider format the daemon used (never `Auto`). */
  format: ProviderFormat;
  /** How many remembered facts were added to the latest user message. */
  memories: number;
  /**
   * The `memory_save` and `memory_search` tool definitions (a JSON array, in the request's
   * provider format) when memory tools were asked for.
   */
  memory_tools: Uint8Array | null;
  /**
   * This reply changes messages an earlier reply sent differently (compaction of superseded
   * outputs): the provider's cache is written again from there.
   */
  rewrote_earlier: boolean;
  /**
   * Tokens of the tool definitions Headroom added (`retrieve_tool` and `memory_tools`); the
   * retrieve tool's are part of `tokens_after`.
   */
  added_tokens: bigint;
  /**
   * Blocks of `LARGE_BLOCK_TOKENS` or more sent unchanged, one entry per reason (the
   * reason in `name`, e.g. `no compressor fits`): why nothing was saved on them.
   */
  left_as_is: CompressorStats[];
}

/** The original content (or the lines of it matching the query). */
export interface RetrieveReply {
  key: string;
  /** The exact original when `whole`, else the matching lines, each prefixed `L<n>: `. */
  content: string;
  whole: boolean;
}

/** Counters since the daemon started, plus store sizes. */
export interface StatsReply {
  protocol_version: number;
  uptime_ms: bigint;
  connections: bigint;
  requests: bigint;
  compress_requests: bigint;
  tokens_before: bigint;
  tokens_after: bigint;
  ccr_entries: bigint;
  replay_entries: bigint;
}

/**
 * Stable error codes; the variant index is the code on the wire.
 *
 * - `bad_frame`: The frame or its body could not be decoded.
 * - `too_large`: The frame is longer than the daemon's limit; it was skipped.
 * - `unsupported_version`: `Hello` named another protocol version.
 * - `bad_request`: Well-formed but unacceptable: unknown operation, invalid JSON messages, no `Hello` first.
 * - `not_found`: No original is stored under that key.
 * - `expired`: The original expired; the model should re-run the tool. Terminal, do not retry.
 * - `internal`: The daemon failed; the request may be retried.
 * - `busy`: Too much large work is already waiting; the request was not run. Send the messages
 *   uncompressed (or retry later).
 */
export type ErrorCode =
  | "bad_frame"
  | "too_large"
  | "unsupported_version"
  | "bad_request"
  | "not_found"
  | "expired"
  | "internal"
  | "busy";
const ERROR_CODE_NAMES: readonly ErrorCode[] = [
  "bad_frame",
  "too_large",
  "unsupported_version",
  "bad_request",
  "not_found",
  "expired",
  "internal",
  "busy",
];

/** A failed request. `message` is for people; `code` is for programs. */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
}

/** One bucket of a cumulative latency histogram. */
export interface LatencyBucket {
  le_us: bigint;
  count: bigint;
}

/**
 * What `headroom stats` shows beyond `StatsReply`. "Since start" counts this daemon process;
 * "all time" survives restarts (kept in the state directory).
 */
export interface MetricsReply {
  /** Per compressor since start, by name. */
  compressors: CompressorStats[];
  /** Retrieves that found their original, found nothing, or found it expired. */
  ccr_hits: bigint;
  ccr_misses: bigint;
  ccr_expired: bigint;
  /** Compress latency inside the daemon since start, in microseconds. */
  latency_p50_us: bigint;
  latency_p99_us: bigint;
  /** Compress requests and tokens over the daemon's whole history. */
  all_time_compress_requests: bigint;
  all_time_tokens_before: bigint;
  all_time_tokens_after: bigint;
  all_time_latency_p50_us: bigint;
  all_time_latency_p99_us: bigint;
  /**
   * Compress latency since start as a cumulative histogram (compressions that took at most
   * `le_us` each), and the sum of all latencies, for Prometheus.
   */
  latency_buckets: LatencyBucket[];
  latency_sum_us: bigint;
  /** Large blocks sent unchanged since start, by reason (as in `CompressReply::left_as_is`). */
  left_as_is: CompressorStats[];
}

/** One remembered fact. */
export interface MemoryFact {
  /** 16 lowercase hex digits. */
  id: string;
  scope: MemoryScope;
  text: string;
  source: string | null;
  /** What the fact is about, given or derived; facts sharing it supersede each other. */
  key: string | null;
  created_ms: bigint;
  valid_from_ms: bigint;
  /** When the fact stopped being true; `null` while it is current. */
  valid_to_ms: bigint | null;
  /** The fact that replaced it. */
  superseded_by: string | null;
  /**
   * Relevance to the search query (0 in lists).
   * An `f32` on the wire: values not exactly representable come back rounded.
   */
  score: number;
}

/** The result of `MemoryAdd`. */
export interface MemoryAddReply {
  /** The stored fact, or the existing one it duplicates. */
  fact: MemoryFact;
  /** The text was near-identical to a current fact of the scope; nothing new was stored. */
  duplicate: boolean;
  /** Ids of the facts whose validity this one ended. */
  superseded: string[];
}

/** Facts, most relevant (search) or newest (list) first. */
export interface MemoryFactsReply {
  facts: MemoryFact[];
}

/** The result of `MemoryForget`. */
export interface MemoryForgetReply {
  removed: bigint;
}

/**
 * What the running daemon serves, for tools that must find it as it is rather than as the
 * configuration says (`headroom wrap` after `headroomd --http --http-port N`).
 */
export interface InfoReply {
  /** Daemon name and version, e.g. `headroomd/0.1.0`. */
  server: string;
  /** Where the HTTP front listens (`127.0.0.1:8787`), or `null` when it is off. */
  http_address: string | null;
}

/** A period's requests of one model or one client. */
export interface LedgerSlice {
  name: string;
  requests: bigint;
  tokens_before: bigint;
  tokens_after: bigint;
}

/** One period of the savings ledger. */
export interface LedgerPeriod {
  /** When the period starts, ms since the epoch, and how long it is (an hour or a day). */
  start_ms: bigint;
  span_ms: bigint;
  /**
   * Compress requests and their tokens before and after (`tokens_after` includes Headroom's
   * additions: markers and the retrieve tool's definition).
   */
  requests: bigint;
  tokens_before: bigint;
  tokens_after: bigint;
  /** Tokens of the tool definitions Headroom added. */
  added_tokens: bigint;
  /** `headroom_retrieve` calls answered, and the tokens of what they brought back. */
  retrieves: bigint;
  retrieved_tokens: bigint;
  /** Remembered facts put into requests. */
  memories: number;
  /** Requests in which Headroom changed earlier messages (compaction): each costs a cache write. */
  rewrites: bigint;
  /** The same figures per compressor, per model and per client. */
  compressors: CompressorStats[];
  models: LedgerSlice[];
  clients: LedgerSlice[];
}

/** One recent compression, for the dashboard's list. */
export interface RecentRequest {
  at_ms: bigint;
  model: string;
  client: string;
  tokens_before: bigint;
  tokens_after: bigint;
  /** The compressors that changed a block. */
  compressors: string[];
  /** Microseconds the engine took. */
  latency_us: bigint;
}

/** What Headroom saved, period by period, and the latest requests. */
export interface SavingsReply {
  /** Hours (days once older than a year), oldest first. */
  periods: LedgerPeriod[];
  /** The latest compressions since the daemon started, newest first. */
  recent: RecentRequest[];
}

/** What a reply carries; the variant index is the reply code on the wire. */
export type ReplyBody =
  | { Hello: HelloReply }
  | "Pong"
  | { Compressed: CompressReply }
  | { Retrieved: RetrieveReply }
  | { Stats: StatsReply }
  | { Error: ErrorReply }
  | { Metrics: MetricsReply }
  | { MemoryAdded: MemoryAddReply }
  | { MemoryFacts: MemoryFactsReply }
  | { MemoryForgotten: MemoryForgetReply }
  | { Info: InfoReply }
  | { Savings: SavingsReply };
const REPLY_BODY_NAMES = [
  "Hello",
  "Pong",
  "Compressed",
  "Retrieved",
  "Stats",
  "Error",
  "Metrics",
  "MemoryAdded",
  "MemoryFacts",
  "MemoryForgotten",
  "Info",
  "Savings",
] as const;

/** The daemon's answer to one `Request`. */
export interface Reply {
  /** The request's id; 0 when the request was too damaged to read one. */
  id: bigint;
  body: ReplyBody;
}

// --- Codecs ----------------------------------------------------------------------------------------

export function writeHello(w: Writer, v: Hello): void {
  w.u32(v.protocol_version);
  w.string(v.client);
}

export function readHello(r: Reader): Hello {
  return { protocol_version: r.u32(), client: r.string() };
}

export function writeMemoryScope(w: Writer, v: MemoryScope): void {
  w.string(v.user);
  w.option(v.agent, (x) => w.string(x));
  w.option(v.session, (x) => w.string(x));
}

export function readMemoryScope(r: Reader): MemoryScope {
  return {
    user: r.string(),
    agent: r.option(() => r.string()),
    session: r.option(() => r.string()),
  };
}

export function writeMemoryOptions(w: Writer, v: MemoryOptions): void {
  writeMemoryScope(w, v.scope);
  w.u32(v.budget_tokens);
  w.bool(v.tools);
}

export function readMemoryOptions(r: Reader): MemoryOptions {
  return { scope: readMemoryScope(r), budget_tokens: r.u32(), tools: r.bool() };
}

export function writeCompressOptions(w: Writer, v: CompressOptions): void {
  w.option(v.model, (x) => w.string(x));
  w.variant(PROVIDER_FORMAT_NAMES, v.format, "ProviderFormat");
  w.option(v.query, (x) => w.string(x));
  w.u32(v.protect_recent);
  w.u32(v.frozen);
  w.option(v.target_ratio, (x) => w.f32(x));
  w.bool(v.compress_user_messages);
  w.option(v.memory, (x) => writeMemoryOptions(w, x));
  w.option(v.client, (x) => w.string(x));
}

export function readCompressOptions(r: Reader): CompressOptions {
  return {
    model: r.option(() => r.string()),
    format: r.variant(PROVIDER_FORMAT_NAMES, "ProviderFormat"),
    query: r.option(() => r.string()),
    protect_recent: r.u32(),
    frozen: r.u32(),
    target_ratio: r.option(() => r.f32()),
    compress_user_messages: r.bool(),
    memory: r.option(() => readMemoryOptions(r)),
    client: r.option(() => r.string()),
  };
}

export function writeCompressRequest(w: Writer, v: CompressRequest): void {
  w.bytes(v.messages);
  writeCompressOptions(w, v.options);
}

export function readCompressRequest(r: Reader): CompressRequest {
  return { messages: r.bytes(), options: readCompressOptions(r) };
}

export function writeRetrieveRequest(w: Writer, v: RetrieveRequest): void {
  w.string(v.key);
  w.option(v.query, (x) => w.string(x));
}

export function readRetrieveRequest(r: Reader): RetrieveRequest {
  return { key: r.string(), query: r.option(() => r.string()) };
}

export function writeMemoryAddRequest(w: Writer, v: MemoryAddRequest): void {
  writeMemoryScope(w, v.scope);
  w.string(v.text);
  w.option(v.source, (x) => w.string(x));
  w.option(v.key, (x) => w.string(x));
  w.option(v.valid_from_ms, (x) => w.u64(x));
}

export function readMemoryAddRequest(r: Reader): MemoryAddRequest {
  return {
    scope: readMemoryScope(r),
    text: r.string(),
    source: r.option(() => r.string()),
    key: r.option(() => r.string()),
    valid_from_ms: r.option(() => r.u64()),
  };
}

export function writeMemorySearchRequest(w: Writer, v: MemorySearchRequest): void {
  writeMemoryScope(w, v.scope);
  w.string(v.query);
  w.option(v.as_of_ms, (x) => w.u64(x));
  w.u32(v.limit);
  w.u32(v.budget_tokens);
}

export function readMemorySearchRequest(r: Reader): MemorySearchRequest {
  return {
    scope: readMemoryScope(r),
    query: r.string(),
    as_of_ms: r.option(() => r.u64()),
    limit: r.u32(),
    budget_tokens: r.u32(),
  };
}

export function writeMemoryListRequest(w: Writer, v: MemoryListRequest): void {
  writeMemoryScope(w, v.scope);
  w.option(v.as_of_ms, (x) => w.u64(x));
  w.bool(v.include_superseded);
  w.bool(v.include_narrower);
}

export function readMemoryListRequest(r: Reader): MemoryListRequest {
  return {
    scope: readMemoryScope(r),
    as_of_ms: r.option(() => r.u64()),
    include_superseded: r.bool(),
    include_narrower: r.bool(),
  };
}

export function writeMemoryForgetRequest(w: Writer, v: MemoryForgetRequest): void {
  writeMemoryScope(w, v.scope);
  w.option(v.id, (x) => w.string(x));
}

export function readMemoryForgetRequest(r: Reader): MemoryForgetRequest {
  return { scope: readMemoryScope(r), id: r.option(() => r.string()) };
}

export function writeSavingsRequest(w: Writer, v: SavingsRequest): void {
  w.u64(v.since_ms);
}

export function readSavingsRequest(r: Reader): SavingsRequest {
  return { since_ms: r.u64() };
}

export function writeOp(w: Writer, v: Op): void {
  if (v === "Ping") w.u32(1);
  else if (v === "Stats") w.u32(4);
  else if (v === "Metrics") w.u32(5);
  else if (v === "Info") w.u32(10);
  else if ("Hello" in v) {
    w.u32(0);
    writeHello(w, v.Hello);
  } else if ("Compress" in v) {
    w.u32(2);
    writeCompressRequest(w, v.Compress);
  } else if ("Retrieve" in v) {
    w.u32(3);
    writeRetrieveRequest(w, v.Retrieve);
  } else if ("MemoryAdd" in v) {
    w.u32(6);
    writeMemoryAddRequest(w, v.MemoryAdd);
  } else if ("MemorySearch" in v) {
    w.u32(7);
    writeMemorySearchRequest(w, v.MemorySearch);
  } else if ("MemoryList" in v) {
    w.u32(8);
    writeMemoryListRequest(w, v.MemoryList);
  } else if ("MemoryForget" in v) {
    w.u32(9);
    writeMemoryForgetRequest(w, v.MemoryForget);
  } else if ("Savings" in v) {
    w.u32(11);
    writeSavingsRequest(w, v.Savings);
  } else w.unknown("Op", v);
}

export function readOp(r: Reader): Op {
  switch (r.variant(OP_NAMES, "Op")) {
    case "Hello":
      return { Hello: readHello(r) };
    case "Ping":
      return "Ping";
    case "Compress":
      return { Compress: readCompressRequest(r) };
    case "Retrieve":
      return { Retrieve: readRetrieveRequest(r) };
    case "Stats":
      return "Stats";
    case "Metrics":
      return "Metrics";
    case "MemoryAdd":
      return { MemoryAdd: readMemoryAddRequest(r) };
    case "MemorySearch":
      return { MemorySearch: readMemorySearchRequest(r) };
    case "MemoryList":
      return { MemoryList: readMemoryListRequest(r) };
    case "MemoryForget":
      return { MemoryForget: readMemoryForgetRequest(r) };
    case "Info":
      return "Info";
    case "Savings":
      return { Savings: readSavingsRequest(r) };
  }
}

export function writeRequest(w: Writer, v: Request): void {
  w.u64(v.id);
  writeOp(w, v.op);
}

export function readRequest(r: Reader): Request {
  return { id: r.u64(), op: readOp(r) };
}

export function writeHelloReply(w: Writer, v: HelloReply): void {
  w.u32(v.protocol_version);
  w.string(v.server);
}

export function readHelloReply(r: Reader): HelloReply {
  return { protocol_version: r.u32(), server: r.string() };
}

export function writeCompressorStats(w: Writer, v: CompressorStats): void {
  w.string(v.name);
  w.u32(v.blocks);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
}

export function readCompressorStats(r: Reader): CompressorStats {
  return { name: r.string(), blocks: r.u32(), tokens_before: r.u64(), tokens_after: r.u64() };
}

export function writeCompressReply(w: Writer, v: CompressReply): void {
  w.bytes(v.messages);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
  w.vec(v.ccr_keys, (x) => w.string(x));
  w.vec(v.compressors, (x) => writeCompressorStats(w, x));
  w.option(v.retrieve_tool, (x) => w.bytes(x));
  w.variant(PROVIDER_FORMAT_NAMES, v.format, "ProviderFormat");
  w.u32(v.memories);
  w.option(v.memory_tools, (x) => w.bytes(x));
  w.bool(v.rewrote_earlier);
  w.u64(v.added_tokens);
  w.vec(v.left_as_is, (x) => writeCompressorStats(w, x));
}

export function readCompressReply(r: Reader): CompressReply {
  return {
    messages: r.bytes(),
    tokens_before: r.u64(),
    tokens_after: r.u64(),
    ccr_keys: r.vec(() => r.string()),
    compressors: r.vec(() => readCompressorStats(r)),
    retrieve_tool: r.option(() => r.bytes()),
    format: r.variant(PROVIDER_FORMAT_NAMES, "ProviderFormat"),
    memories: r.u32(),
    memory_tools: r.option(() => r.bytes()),
    rewrote_earlier: r.bool(),
    added_tokens: r.u64(),
    left_as_is: r.vec(() => readCompressorStats(r)),
  };
}

export function writeRetrieveReply(w: Writer, v: RetrieveReply): void {
  w.string(v.key);
  w.string(v.content);
  w.bool(v.whole);
}

export function readRetrieveReply(r: Reader): RetrieveReply {
  return { key: r.string(), content: r.string(), whole: r.bool() };
}

export function writeStatsReply(w: Writer, v: StatsReply): void {
  w.u32(v.protocol_version);
  w.u64(v.uptime_ms);
  w.u64(v.connections);
  w.u64(v.requests);
  w.u64(v.compress_requests);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
  w.u64(v.ccr_entries);
  w.u64(v.replay_entries);
}

export function readStatsReply(r: Reader): StatsReply {
  return {
    protocol_version: r.u32(),
    uptime_ms: r.u64(),
    connections: r.u64(),
    requests: r.u64(),
    compress_requests: r.u64(),
    tokens_before: r.u64(),
    tokens_after: r.u64(),
    ccr_entries: r.u64(),
    replay_entries: r.u64(),
  };
}

export function writeErrorReply(w: Writer, v: ErrorReply): void {
  w.variant(ERROR_CODE_NAMES, v.code, "ErrorCode");
  w.string(v.message);
}

export function readErrorReply(r: Reader): ErrorReply {
  return { code: r.variant(ERROR_CODE_NAMES, "ErrorCode"), message: r.string() };
}

export function writeLatencyBucket(w: Writer, v: LatencyBucket): void {
  w.u64(v.le_us);
  w.u64(v.count);
}

export function readLatencyBucket(r: Reader): LatencyBucket {
  return { le_us: r.u64(), count: r.u64() };
}

export function writeMetricsReply(w: Writer, v: MetricsReply): void {
  w.vec(v.compressors, (x) => writeCompressorStats(w, x));
  w.u64(v.ccr_hits);
  w.u64(v.ccr_misses);
  w.u64(v.ccr_expired);
  w.u64(v.latency_p50_us);
  w.u64(v.latency_p99_us);
  w.u64(v.all_time_compress_requests);
  w.u64(v.all_time_tokens_before);
  w.u64(v.all_time_tokens_after);
  w.u64(v.all_time_latency_p50_us);
  w.u64(v.all_time_latency_p99_us);
  w.vec(v.latency_buckets, (x) => writeLatencyBucket(w, x));
  w.u64(v.latency_sum_us);
  w.vec(v.left_as_is, (x) => writeCompressorStats(w, x));
}

export function readMetricsReply(r: Reader): MetricsReply {
  return {
    compressors: r.vec(() => readCompressorStats(r)),
    ccr_hits: r.u64(),
    ccr_misses: r.u64(),
    ccr_expired: r.u64(),
    latency_p50_us: r.u64(),
    latency_p99_us: r.u64(),
    all_time_compress_requests: r.u64(),
    all_time_tokens_before: r.u64(),
    all_time_tokens_after: r.u64(),
    all_time_latency_p50_us: r.u64(),
    all_time_latency_p99_us: r.u64(),
    latency_buckets: r.vec(() => readLatencyBucket(r)),
    latency_sum_us: r.u64(),
    left_as_is: r.vec(() => readCompressorStats(r)),
  };
}

export function writeMemoryFact(w: Writer, v: MemoryFact): void {
  w.string(v.id);
  writeMemoryScope(w, v.scope);
  w.string(v.text);
  w.option(v.source, (x) => w.string(x));
  w.option(v.key, (x) => w.string(x));
  w.u64(v.created_ms);
  w.u64(v.valid_from_ms);
  w.option(v.valid_to_ms, (x) => w.u64(x));
  w.option(v.superseded_by, (x) => w.string(x));
  w.f32(v.score);
}

export function readMemoryFact(r: Reader): MemoryFact {
  return {
    id: r.string(),
    scope: readMemoryScope(r),
    text: r.string(),
    source: r.option(() => r.string()),
    key: r.option(() => r.string()),
    created_ms: r.u64(),
    valid_from_ms: r.u64(),
    valid_to_ms: r.option(() => r.u64()),
    superseded_by: r.option(() => r.string()),
    score: r.f32(),
  };
}

export function writeMemoryAddReply(w: Writer, v: MemoryAddReply): void {
  writeMemoryFact(w, v.fact);
  w.bool(v.duplicate);
  w.vec(v.superseded, (x) => w.string(x));
}

export function readMemoryAddReply(r: Reader): MemoryAddReply {
  return { fact: readMemoryFact(r), duplicate: r.bool(), superseded: r.vec(() => r.string()) };
}

export function writeMemoryFactsReply(w: Writer, v: MemoryFactsReply): void {
  w.vec(v.facts, (x) => writeMemoryFact(w, x));
}

export function readMemoryFactsReply(r: Reader): MemoryFactsReply {
  return { facts: r.vec(() => readMemoryFact(r)) };
}

export function writeMemoryForgetReply(w: Writer, v: MemoryForgetReply): void {
  w.u64(v.removed);
}

export function readMemoryForgetReply(r: Reader): MemoryForgetReply {
  return { removed: r.u64() };
}

export function writeInfoReply(w: Writer, v: InfoReply): void {
  w.string(v.server);
  w.option(v.http_address, (x) => w.string(x));
}

export function readInfoReply(r: Reader): InfoReply {
  return { server: r.string(), http_address: r.option(() => r.string()) };
}

export function writeLedgerSlice(w: Writer, v: LedgerSlice): void {
  w.string(v.name);
  w.u64(v.requests);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
}

export function readLedgerSlice(r: Reader): LedgerSlice {
  return { name: r.string(), requests: r.u64(), tokens_before: r.u64(), tokens_after: r.u64() };
}

export function writeLedgerPeriod(w: Writer, v: LedgerPeriod): void {
  w.u64(v.start_ms);
  w.u64(v.span_ms);
  w.u64(v.requests);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
  w.u64(v.added_tokens);
  w.u64(v.retrieves);
  w.u64(v.retrieved_tokens);
  w.u32(v.memories);
  w.u64(v.rewrites);
  w.vec(v.compressors, (x) => writeCompressorStats(w, x));
  w.vec(v.models, (x) => writeLedgerSlice(w, x));
  w.vec(v.clients, (x) => writeLedgerSlice(w, x));
}

export function readLedgerPeriod(r: Reader): LedgerPeriod {
  return {
    start_ms: r.u64(),
    span_ms: r.u64(),
    requests: r.u64(),
    tokens_before: r.u64(),
    tokens_after: r.u64(),
    added_tokens: r.u64(),
    retrieves: r.u64(),
    retrieved_tokens: r.u64(),
    memories: r.u32(),
    rewrites: r.u64(),
    compressors: r.vec(() => readCompressorStats(r)),
    models: r.vec(() => readLedgerSlice(r)),
    clients: r.vec(() => readLedgerSlice(r)),
  };
}

export function writeRecentRequest(w: Writer, v: RecentRequest): void {
  w.u64(v.at_ms);
  w.string(v.model);
  w.string(v.client);
  w.u64(v.tokens_before);
  w.u64(v.tokens_after);
  w.vec(v.compressors, (x) => w.string(x));
  w.u64(v.latency_us);
}

export function readRecentRequest(r: Reader): RecentRequest {
  return {
    at_ms: r.u64(),
    model: r.string(),
    client: r.string(),
    tokens_before: r.u64(),
    tokens_after: r.u64(),
    compressors: r.vec(() => r.string()),
    latency_us: r.u64(),
  };
}

export function writeSavingsReply(w: Writer, v: SavingsReply): void {
  w.vec(v.periods, (x) => writeLedgerPeriod(w, x));
  w.vec(v.recent, (x) => writeRecentRequest(w, x));
}

export function readSavingsReply(r: Reader): SavingsReply {
  return { periods: r.vec(() => readLedgerPeriod(r)), recent: r.vec(() => readRecentRequest(r)) };
}

export function writeReplyBody(w: Writer, v: ReplyBody): void {
  if (v === "Pong") w.u32(1);
  else if ("Hello" in v) {
    w.u32(0);
    writeHelloReply(w, v.Hello);
  } else if ("Compressed" in v) {
    w.u32(2);
    writeCompressReply(w, v.Compressed);
  } else if ("Retrieved" in v) {
    w.u32(3);
    writeRetrieveReply(w, v.Retrieved);
  } else if ("Stats" in v) {
    w.u32(4);
    writeStatsReply(w, v.Stats);
  } else if ("Error" in v) {
    w.u32(5);
    writeErrorReply(w, v.Error);
  } else if ("Metrics" in v) {
    w.u32(6);
    writeMetricsReply(w, v.Metrics);
  } else if ("MemoryAdded" in v) {
    w.u32(7);
    writeMemoryAddReply(w, v.MemoryAdded);
  } else if ("MemoryFacts" in v) {
    w.u32(8);
    writeMemoryFactsReply(w, v.MemoryFacts);
  } else if ("MemoryForgotten" in v) {
    w.u32(9);
    writeMemoryForgetReply(w, v.MemoryForgotten);
  } else if ("Info" in v) {
    w.u32(10);
    writeInfoReply(w, v.Info);
  } else if ("Savings" in v) {
    w.u32(11);
    writeSavingsReply(w, v.Savings);
  } else w.unknown("ReplyBody", v);
}

export function readReplyBody(r: Reader): ReplyBody {
  switch (r.variant(REPLY_BODY_NAMES, "ReplyBody")) {
    case "Hello":
      return { Hello: readHelloReply(r) };
    case "Pong":
      return "Pong";
    case "Compressed":
      return { Compressed: readCompressReply(r) };
    case "Retrieved":
      return { Retrieved: readRetrieveReply(r) };
    case "Stats":
      return { Stats: readStatsReply(r) };
    case "Error":
      return { Error: readErrorReply(r) };
    case "Metrics":
      return { Metrics: readMetricsReply(r) };
    case "MemoryAdded":
      return { MemoryAdded: readMemoryAddReply(r) };
    case "MemoryFacts":
      return { MemoryFacts: readMemoryFactsReply(r) };
    case "MemoryForgotten":
      return { MemoryForgotten: readMemoryForgetReply(r) };
    case "Info":
      return { Info: readInfoReply(r) };
    case "Savings":
      return { Savings: readSavingsReply(r) };
  }
}

export function writeReply(w: Writer, v: Reply): void {
  w.u64(v.id);
  writeReplyBody(w, v.body);
}

export function readReply(r: Reader): Reply {
  return { id: r.u64(), body: readReplyBody(r) };
}
