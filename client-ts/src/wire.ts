/**
 * The Headroom wire protocol, byte for byte as `protocol/README.md` writes it down: frames (a
 * 4-byte big-endian length and a body) and the bincode 2 `standard()` encoding of `Request` and
 * `Reply` bodies (varints, little-endian floats, enums as a variant index then the payload).
 *
 * Values are shaped like the serde JSON of the Rust types, the form the test vectors use:
 * structs are objects keyed by field name, enum variants without payload are strings (`"Ping"`),
 * variants with a payload are one-key objects (`{ Compress: {...} }`), `u64` is `bigint`, `u32`
 * is `number`, byte vectors are `Uint8Array`. This layer knows nothing about LLMs.
 *
 * @module
 */

/** The protocol version this client speaks (`PROTOCOL_VERSION` in `protocol/src/lib.rs`). */
export const PROTOCOL_VERSION = 2;

/** The daemon's default limit on a body; larger requests are not even sent. */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;

export type ProviderFormat = "Auto" | "OpenAiChat" | "OpenAiResponses" | "Anthropic";

export type ErrorCode =
  | "bad_frame"
  | "too_large"
  | "unsupported_version"
  | "bad_request"
  | "not_found"
  | "expired"
  | "internal"
  | "busy";

export interface Hello {
  protocol_version: number;
  client: string;
}

export interface CompressOptions {
  model: string | null;
  format: ProviderFormat;
  query: string | null;
  protect_recent: number;
  frozen: number;
  target_ratio: number | null;
  compress_user_messages: boolean;
  memory: MemoryOptions | null;
}

/** Where a fact belongs: a user, optionally one of its agents, optionally one session. */
export interface MemoryScope {
  user: string;
  agent: string | null;
  session: string | null;
}

/** Memory on the request path of `Compress`. */
export interface MemoryOptions {
  scope: MemoryScope;
  budget_tokens: number;
  tools: boolean;
}

export interface CompressRequest {
  messages: Uint8Array;
  options: CompressOptions;
}

export interface RetrieveRequest {
  key: string;
  query: string | null;
}

export interface MemoryAddRequest {
  scope: MemoryScope;
  text: string;
  source: string | null;
  key: string | null;
  valid_from_ms: bigint | null;
}

export interface MemorySearchRequest {
  scope: MemoryScope;
  query: string;
  as_of_ms: bigint | null;
  limit: number;
  budget_tokens: number;
}

export interface MemoryListRequest {
  scope: MemoryScope;
  as_of_ms: bigint | null;
  include_superseded: boolean;
  include_narrower: boolean;
}

export interface MemoryForgetRequest {
  scope: MemoryScope;
  id: string | null;
}

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
  | { MemoryForget: MemoryForgetRequest };

export interface Request {
  id: bigint;
  op: Op;
}

export interface HelloReply {
  protocol_version: number;
  server: string;
}

export interface CompressorStats {
  name: string;
  blocks: number;
  tokens_before: bigint;
  tokens_after: bigint;
}

export interface CompressReply {
  messages: Uint8Array;
  tokens_before: bigint;
  tokens_after: bigint;
  ccr_keys: string[];
  compressors: CompressorStats[];
  retrieve_tool: Uint8Array | null;
  format: ProviderFormat;
  memories: number;
  memory_tools: Uint8Array | null;
}

export interface RetrieveReply {
  key: string;
  content: string;
  whole: boolean;
}

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

export interface MetricsReply {
  compressors: CompressorStats[];
  ccr_hits: bigint;
  ccr_misses: bigint;
  ccr_expired: bigint;
  latency_p50_us: bigint;
  latency_p99_us: bigint;
  all_time_compress_requests: bigint;
  all_time_tokens_before: bigint;
  all_time_tokens_after: bigint;
  all_time_latency_p50_us: bigint;
  all_time_latency_p99_us: bigint;
}

export interface MemoryFact {
  id: string;
  scope: MemoryScope;
  text: string;
  source: string | null;
  key: string | null;
  created_ms: bigint;
  valid_from_ms: bigint;
  valid_to_ms: bigint | null;
  superseded_by: string | null;
  /** An `f32`: values that are not exactly representable come back rounded. */
  score: number;
}

export interface MemoryAddReply {
  fact: MemoryFact;
  duplicate: boolean;
  superseded: string[];
}

export interface MemoryFactsReply {
  facts: MemoryFact[];
}

export interface MemoryForgetReply {
  removed: bigint;
}

export interface ErrorReply {
  code: ErrorCode;
  message: string;
}

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
  | { MemoryForgotten: MemoryForgetReply };

export interface Reply {
  id: bigint;
  body: ReplyBody;
}

// Variant orders are the wire format (protocol/README.md, "Messages").
const OPS = [
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
] as const;
const REPLY_BODIES = [
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
] as const;
// MetricsReply's u64 fields after `compressors`, in wire order.
const METRICS_COUNTERS = [
  "ccr_hits",
  "ccr_misses",
  "ccr_expired",
  "latency_p50_us",
  "latency_p99_us",
  "all_time_compress_requests",
  "all_time_tokens_before",
  "all_time_tokens_after",
  "all_time_latency_p50_us",
  "all_time_latency_p99_us",
] as const;
const FORMATS: readonly ProviderFormat[] = ["Auto", "OpenAiChat", "OpenAiResponses", "Anthropic"];
const ERROR_CODES: readonly ErrorCode[] = [
  "bad_frame",
  "too_large",
  "unsupported_version",
  "bad_request",
  "not_found",
  "expired",
  "internal",
  "busy",
];

/** A body or frame that does not follow the protocol. */
export class WireError extends Error {
  override name = "WireError";
}

const MAX_U64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Appends encoded values to a growing buffer. */
class Writer {
  private buf: Uint8Array;
  private view: DataView;
  len = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  u8(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A `u32` in its shortest varint form. */
  varint(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new WireError(`${n} is not a u32`);
    if (n < 251) return this.u8(n);
    this.reserve(5);
    if (n <= 0xffff) {
      this.buf[this.len] = 0xfb;
      this.view.setUint16(this.len + 1, n, true);
      this.len += 3;
    } else {
      this.buf[this.len] = 0xfc;
      this.view.setUint32(this.len + 1, n, true);
      this.len += 5;
    }
  }

  /** A `u64` in its shortest varint form. */
  varint64(n: bigint): void {
    if (n < 0n || n > MAX_U64) throw new WireError(`${n} is not a u64`);
    if (n <= 0xffff_ffffn) return this.varint(Number(n));
    this.reserve(9);
    this.buf[this.len] = 0xfd;
    this.view.setBigUint64(this.len + 1, n, true);
    this.len += 9;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  string(s: string): void {
    this.bytes(utf8.encode(s));
  }

  bool(b: boolean): void {
    this.u8(b ? 1 : 0);
  }

  f32(x: number): void {
    this.reserve(4);
    this.view.setFloat32(this.len, x, true);
    this.len += 4;
  }

  option<T>(value: T | null, write: (v: T) => void): void {
    if (value === null) return this.u8(0);
    this.u8(1);
    write(value);
  }

  /** The bytes written, prefixed with their length as a frame. */
  frame(): Uint8Array {
    const n = this.len - 4;
    this.view.setUint32(0, n, false);
    return this.buf.subarray(0, this.len);
  }
}

/** Reads values from one body, strictly by type. */
class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError("truncated body");
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** A `u32` varint: the `0xfd` form is too wide for it. */
  varint(): number {
    const tag = this.u8();
    if (tag < 251) return tag;
    if (tag === 0xfb) {
      this.need(2);
      const v = this.view.getUint16(this.pos, true);
      this.pos += 2;
      return v;
    }
    if (tag === 0xfc) {
      this.need(4);
      const v = this.view.getUint32(this.pos, true);
      this.pos += 4;
      return v;
    }
    throw new WireError(`varint tag 0x${tag.toString(16)} is invalid for a u32`);
  }

  varint64(): bigint {
    if (this.buf[this.pos] === 0xfd) {
      this.pos++;
      this.need(8);
      const v = this.view.getBigUint64(this.pos, true);
      this.pos += 8;
      return v;
    }
    return BigInt(this.varint());
  }

  bytes(): Uint8Array {
    const n = this.varint64();
    if (n > BigInt(this.buf.length - this.pos)) throw new WireError("truncated body");
    return this.buf.subarray(this.pos, (this.pos += Number(n)));
  }

  string(): string {
    const n = Number(this.varint64());
    this.need(n);
    try {
      return strictUtf8.decode(this.buf.subarray(this.pos, (this.pos += n)));
    } catch {
      throw new WireError("invalid UTF-8 in a string");
    }
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new WireError(`bool byte 0x${b.toString(16)}`);
    return b === 1;
  }

  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  option<T>(read: () => T): T | null {
    const tag = this.u8();
    if (tag > 1) throw new WireError(`option tag 0x${tag.toString(16)}`);
    return tag === 1 ? read() : null;
  }

  variant<T>(names: readonly T[], what: string): T {
    const i = this.varint();
    const name = names[i];
    if (name === undefined) throw new WireError(`unknown ${what} variant ${i}`);
    return name;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new WireError(`${this.buf.length - this.pos} bytes left over after the value`);
  }
}

function writeCompressors(w: Writer, compressors: CompressorStats[]): void {
  w.varint(compressors.length);
  for (const c of compressors) {
    w.string(c.name);
    w.varint(c.blocks);
    w.varint64(c.tokens_before);
    w.varint64(c.tokens_after);
  }
}

function readCompressors(r: Reader): CompressorStats[] {
  return Array.from({ length: r.varint() }, () => ({
    name: r.string(),
    blocks: r.varint(),
    tokens_before: r.varint64(),
    tokens_after: r.varint64(),
  }));
}

function writeScope(w: Writer, scope: MemoryScope): void {
  w.string(scope.user);
  w.option(scope.agent, (a) => w.string(a));
  w.option(scope.session, (s) => w.string(s));
}

function readScope(r: Reader): MemoryScope {
  return { user: r.string(), agent: r.option(() => r.string()), session: r.option(() => r.string()) };
}

function writeFact(w: Writer, f: MemoryFact): void {
  w.string(f.id);
  writeScope(w, f.scope);
  w.string(f.text);
  w.option(f.source, (s) => w.string(s));
  w.option(f.key, (k) => w.string(k));
  w.varint64(f.created_ms);
  w.varint64(f.valid_from_ms);
  w.option(f.valid_to_ms, (t) => w.varint64(t));
  w.option(f.superseded_by, (s) => w.string(s));
  w.f32(f.score);
}

function readFact(r: Reader): MemoryFact {
  return {
    id: r.string(),
    scope: readScope(r),
    text: r.string(),
    source: r.option(() => r.string()),
    key: r.option(() => r.string()),
    created_ms: r.varint64(),
    valid_from_ms: r.varint64(),
    valid_to_ms: r.option(() => r.varint64()),
    superseded_by: r.option(() => r.string()),
    score: r.f32(),
  };
}

/** Encodes a request as one complete frame, length prefix included. */
export function encodeRequest(request: Request): Uint8Array {
  const op = request.op;
  const messages = typeof op === "object" && "Compress" in op ? op.Compress.messages.length : 0;
  const w = new Writer(64 + messages);
  w.len = 4; // the length prefix, written last
  w.varint64(request.id);
  if (op === "Ping") w.varint(1);
  else if (op === "Stats") w.varint(4);
  else if (op === "Metrics") w.varint(5);
  else if ("Hello" in op) {
    w.varint(0);
    w.varint(op.Hello.protocol_version);
    w.string(op.Hello.client);
  } else if ("Compress" in op) {
    w.varint(2);
    w.bytes(op.Compress.messages);
    const o = op.Compress.options;
    w.option(o.model, (m) => w.string(m));
    w.varint(FORMATS.indexOf(o.format));
    w.option(o.query, (q) => w.string(q));
    w.varint(o.protect_recent);
    w.varint(o.frozen);
    w.option(o.target_ratio, (r) => w.f32(r));
    w.bool(o.compress_user_messages);
    w.option(o.memory, (m) => {
      writeScope(w, m.scope);
      w.varint(m.budget_tokens);
      w.bool(m.tools);
    });
  } else if ("Retrieve" in op) {
    w.varint(3);
    w.string(op.Retrieve.key);
    w.option(op.Retrieve.query, (q) => w.string(q));
  } else if ("MemoryAdd" in op) {
    const a = op.MemoryAdd;
    w.varint(6);
    writeScope(w, a.scope);
    w.string(a.text);
    w.option(a.source, (s) => w.string(s));
    w.option(a.key, (k) => w.string(k));
    w.option(a.valid_from_ms, (t) => w.varint64(t));
  } else if ("MemorySearch" in op) {
    const s = op.MemorySearch;
    w.varint(7);
    writeScope(w, s.scope);
    w.string(s.query);
    w.option(s.as_of_ms, (t) => w.varint64(t));
    w.varint(s.limit);
    w.varint(s.budget_tokens);
  } else if ("MemoryList" in op) {
    const l = op.MemoryList;
    w.varint(8);
    writeScope(w, l.scope);
    w.option(l.as_of_ms, (t) => w.varint64(t));
    w.bool(l.include_superseded);
    w.bool(l.include_narrower);
  } else if ("MemoryForget" in op) {
    w.varint(9);
    writeScope(w, op.MemoryForget.scope);
    w.option(op.MemoryForget.id, (id) => w.string(id));
  } else throw new WireError(`unknown op ${JSON.stringify(op)}`);
  return w.frame();
}

/** Encodes a reply as one complete frame (the daemon's side; used by tests and fakes). */
export function encodeReply(reply: Reply): Uint8Array {
  const body = reply.body;
  const w = new Writer(64 + (typeof body === "object" && "Compressed" in body ? body.Compressed.messages.length : 0));
  w.len = 4;
  w.varint64(reply.id);
  if (body === "Pong") w.varint(1);
  else if ("Hello" in body) {
    w.varint(0);
    w.varint(body.Hello.protocol_version);
    w.string(body.Hello.server);
  } else if ("Compressed" in body) {
    const c = body.Compressed;
    w.varint(2);
    w.bytes(c.messages);
    w.varint64(c.tokens_before);
    w.varint64(c.tokens_after);
    w.varint(c.ccr_keys.length);
    for (const k of c.ccr_keys) w.string(k);
    writeCompressors(w, c.compressors);
    w.option(c.retrieve_tool, (t) => w.bytes(t));
    w.varint(FORMATS.indexOf(c.format));
    w.varint(c.memories);
    w.option(c.memory_tools, (t) => w.bytes(t));
  } else if ("Retrieved" in body) {
    w.varint(3);
    w.string(body.Retrieved.key);
    w.string(body.Retrieved.content);
    w.bool(body.Retrieved.whole);
  } else if ("Stats" in body) {
    const s = body.Stats;
    w.varint(4);
    w.varint(s.protocol_version);
    for (const n of [
      s.uptime_ms,
      s.connections,
      s.requests,
      s.compress_requests,
      s.tokens_before,
      s.tokens_after,
      s.ccr_entries,
      s.replay_entries,
    ]) {
      w.varint64(n);
    }
  } else if ("Error" in body) {
    w.varint(5);
    w.varint(ERROR_CODES.indexOf(body.Error.code));
    w.string(body.Error.message);
  } else if ("Metrics" in body) {
    w.varint(6);
    writeCompressors(w, body.Metrics.compressors);
    for (const name of METRICS_COUNTERS) w.varint64(body.Metrics[name]);
  } else if ("MemoryAdded" in body) {
    const a = body.MemoryAdded;
    w.varint(7);
    writeFact(w, a.fact);
    w.bool(a.duplicate);
    w.varint(a.superseded.length);
    for (const id of a.superseded) w.string(id);
  } else if ("MemoryFacts" in body) {
    w.varint(8);
    w.varint(body.MemoryFacts.facts.length);
    for (const f of body.MemoryFacts.facts) writeFact(w, f);
  } else if ("MemoryForgotten" in body) {
    w.varint(9);
    w.varint64(body.MemoryForgotten.removed);
  } else throw new WireError(`unknown reply body ${JSON.stringify(body)}`);
  return w.frame();
}

/** Decodes one request body (without its length prefix), consuming every byte. */
export function decodeRequest(body: Uint8Array): Request {
  const r = new Reader(body);
  const id = r.varint64();
  let op: Op;
  switch (r.variant(OPS, "Op")) {
    case "Hello":
      op = { Hello: { protocol_version: r.varint(), client: r.string() } };
      break;
    case "Ping":
      op = "Ping";
      break;
    case "Compress": {
      const messages = r.bytes();
      const options: CompressOptions = {
        model: r.option(() => r.string()),
        format: r.variant(FORMATS, "ProviderFormat"),
        query: r.option(() => r.string()),
        protect_recent: r.varint(),
        frozen: r.varint(),
        target_ratio: r.option(() => r.f32()),
        compress_user_messages: r.bool(),
        memory: r.option(() => ({ scope: readScope(r), budget_tokens: r.varint(), tools: r.bool() })),
      };
      op = { Compress: { messages, options } };
      break;
    }
    case "Retrieve":
      op = { Retrieve: { key: r.string(), query: r.option(() => r.string()) } };
      break;
    case "Stats":
      op = "Stats";
      break;
    case "Metrics":
      op = "Metrics";
      break;
    case "MemoryAdd":
      op = {
        MemoryAdd: {
          scope: readScope(r),
          text: r.string(),
          source: r.option(() => r.string()),
          key: r.option(() => r.string()),
          valid_from_ms: r.option(() => r.varint64()),
        },
      };
      break;
    case "MemorySearch":
      op = {
        MemorySearch: {
          scope: readScope(r),
          query: r.string(),
          as_of_ms: r.option(() => r.varint64()),
          limit: r.varint(),
          budget_tokens: r.varint(),
        },
      };
      break;
    case "MemoryList":
      op = {
        MemoryList: {
          scope: readScope(r),
          as_of_ms: r.option(() => r.varint64()),
          include_superseded: r.bool(),
          include_narrower: r.bool(),
        },
      };
      break;
    case "MemoryForget":
      op = { MemoryForget: { scope: readScope(r), id: r.option(() => r.string()) } };
      break;
  }
  r.end();
  return { id, op };
}

/**
 * Decodes one reply body (without its length prefix), consuming every byte.
 *
 * Throws {@link WireError} on anything this version does not know (an unknown variant, bytes left
 * over): the daemon then speaks something else, and the connection should be dropped.
 */
export function decodeReply(body: Uint8Array): Reply {
  const r = new Reader(body);
  const id = r.varint64();
  let reply: ReplyBody;
  switch (r.variant(REPLY_BODIES, "ReplyBody")) {
    case "Hello":
      reply = { Hello: { protocol_version: r.varint(), server: r.string() } };
      break;
    case "Pong":
      reply = "Pong";
      break;
    case "Compressed": {
      const messages = r.bytes();
      const tokens_before = r.varint64();
      const tokens_after = r.varint64();
      const ccr_keys = Array.from({ length: r.varint() }, () => r.string());
      const compressors = readCompressors(r);
      const retrieve_tool = r.option(() => r.bytes());
      const format = r.variant(FORMATS, "ProviderFormat");
      const memories = r.varint();
      const memory_tools = r.option(() => r.bytes());
      reply = {
        Compressed: { messages, tokens_before, tokens_after, ccr_keys, compressors, retrieve_tool, format, memories, memory_tools },
      };
      break;
    }
    case "Retrieved":
      reply = { Retrieved: { key: r.string(), content: r.string(), whole: r.bool() } };
      break;
    case "Stats":
      reply = {
        Stats: {
          protocol_version: r.varint(),
          uptime_ms: r.varint64(),
          connections: r.varint64(),
          requests: r.varint64(),
          compress_requests: r.varint64(),
          tokens_before: r.varint64(),
          tokens_after: r.varint64(),
          ccr_entries: r.varint64(),
          replay_entries: r.varint64(),
        },
      };
      break;
    case "Error":
      reply = { Error: { code: r.variant(ERROR_CODES, "ErrorCode"), message: r.string() } };
      break;
    case "Metrics": {
      const compressors = readCompressors(r);
      const counters = Object.fromEntries(METRICS_COUNTERS.map((name) => [name, r.varint64()]));
      reply = { Metrics: { compressors, ...counters } as MetricsReply };
      break;
    }
    case "MemoryAdded":
      reply = {
        MemoryAdded: {
          fact: readFact(r),
          duplicate: r.bool(),
          superseded: Array.from({ length: r.varint() }, () => r.string()),
        },
      };
      break;
    case "MemoryFacts":
      reply = { MemoryFacts: { facts: Array.from({ length: r.varint() }, () => readFact(r)) } };
      break;
    case "MemoryForgotten":
      reply = { MemoryForgotten: { removed: r.varint64() } };
      break;
  }
  r.end();
  return { id, body: reply };
}

/**
 * Splits a byte stream into frame bodies. Feed it whatever the socket delivers; it returns the
 * bodies completed so far, in order, and keeps any partial frame for the next call.
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const bodies: Uint8Array[] = [];
    while (this.buffered >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.take(4, false);
      const n = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
      if (this.buffered < 4 + n) break;
      this.take(4, true);
      bodies.push(this.take(n, true));
    }
    return bodies;
  }

  /** The next `n` buffered bytes as one array; consumed when `consume` is set. */
  private take(n: number, consume: boolean): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
        this.buffered -= n;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i++]!;
      const part = c.subarray(0, Math.min(c.length, n - filled));
      out.set(part, filled);
      filled += part.length;
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const c = this.chunks[0]!;
        if (c.length <= left) {
          this.chunks.shift();
          left -= c.length;
        } else {
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      this.buffered -= n;
    }
    return out;
  }
}

/** The body of a buffer that holds exactly one frame; throws if it holds anything else. */
export function splitSingleFrame(frame: Uint8Array): Uint8Array {
  if (frame.length < 4) throw new WireError("shorter than a length prefix");
  const n = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, false);
  if (frame.length !== 4 + n) throw new WireError(`frame announces ${n} body bytes but holds ${frame.length - 4}`);
  return frame.subarray(4);
}
