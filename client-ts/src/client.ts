/**
 * The connection to headroomd and the calls an application makes: {@link compress},
 * {@link retrieve}, {@link stats}, {@link metrics}, `client.memory`, and {@link answerRetrieve}
 * and {@link answerTool} for a tool loop.
 *
 * One connection per {@link HeadroomClient}, opened on first use with the `Hello` handshake,
 * reused by every call, reopened after it breaks. Calls are pipelined: each gets its own id and
 * its reply is matched by id, so concurrent calls never wait for each other.
 *
 * `compress` fails open: an absent daemon, a timeout (2 s by default), a socket that is not this
 * user's (see `trust.ts`) or an error reply gives back the caller's messages unchanged and
 * logs one warning (then none until the daemon answers again). After a timeout, calls skip the
 * daemon for a while (see `breaker.ts`), so a hung daemon costs one timeout, not one per call.
 * A Headroom problem never fails an LLM call. `retrieve`, `stats` and the memory calls reject
 * with a {@link HeadroomError} instead: they are the application's own questions.
 *
 * @module
 */

import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import {
  DEFAULT_MAX_FRAME,
  PROTOCOL_VERSION,
  decodeReply,
  encodeRequest,
  FrameReader,
  type CompressReply,
  type ErrorCode,
  type Op,
  type ProviderFormat,
  type ReplyBody,
} from "./wire.js";
import {
  argumentsOf,
  MEMORY_SAVE_TOOL_NAME,
  MEMORY_SEARCH_TOOL_NAME,
  RETRIEVE_NEEDS_HASH,
  restore,
  RETRIEVE_TOOL_NAME,
  retrieveFailedText,
  shield,
  type RetrieveArguments,
  type Saved,
  type ToolArguments,
} from "./tools.js";
import { Breaker } from "./breaker.js";
import { untrustedReason } from "./trust.js";
import { foundText, Memory, SAVE_NEEDS_TEXT, savedText, saveScope, wireScope, type MemoryOptions } from "./memory.js";

const CLIENT_NAME = "headroom-ts/0.1.0";

/** Shape of the messages, as the caller names it. `auto` lets the daemon detect it. */
export type Format = "auto" | "openai_chat" | "openai_responses" | "anthropic";

const WIRE_FORMAT: Record<Format, ProviderFormat> = {
  auto: "Auto",
  openai_chat: "OpenAiChat",
  openai_responses: "OpenAiResponses",
  anthropic: "Anthropic",
};
const CALLER_FORMAT: Record<ProviderFormat, Format> = {
  Auto: "auto",
  OpenAiChat: "openai_chat",
  OpenAiResponses: "openai_responses",
  Anthropic: "anthropic",
};

/**
 * Why a call to the daemon failed: one of the daemon's stable error codes, or `unavailable`
 * (no daemon, the connection broke, a socket that is not this user's, or the daemon skipped
 * after a timeout), `timeout`, `protocol` (the daemon's bytes made no sense).
 */
export class HeadroomError extends Error {
  override name = "HeadroomError";
  constructor(
    readonly code: ErrorCode | "unavailable" | "timeout" | "protocol",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The socket the daemon listens on: `$HEADROOM_SOCKET`, else
 * `$XDG_RUNTIME_DIR/headroom/headroomd.sock`, else `/tmp/headroom-$UID/headroomd.sock`
 * (empty variables count as unset, as in the daemon).
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HEADROOM_SOCKET) return env.HEADROOM_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, "headroom", "headroomd.sock");
  return `/tmp/headroom-${process.getuid?.() ?? 0}/headroomd.sock`;
}

export interface ClientOptions {
  /** Socket path; default {@link defaultSocketPath} at the first connection. */
  socketPath?: string;
  /** How long one call may take, connecting included; default 2000 ms. */
  timeoutMs?: number;
  /** Requests whose body is larger are not sent (fail open); default 64 MiB, the daemon's default. */
  maxFrame?: number;
  /** Where fail-open warnings go; default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Skips the daemon after a timeout; default `new Breaker()` (1 s, doubling up to 60 s). */
  breaker?: Breaker;
}

/** Per-request choices; all optional. See `CompressOptions` in protocol/README.md. */
export interface CompressOptions {
  /** Model name; picks the tokenizer. */
  model?: string;
  /** Shape of the messages; default `auto`. */
  format?: Format;
  /** What is relevant and kept first; default the latest user message. */
  query?: string;
  /** Trailing messages, beyond the latest user message, to leave untouched. */
  protectRecent?: number;
  /** Leading messages to pass through byte for byte. */
  frozen?: number;
  /** Wanted size of each compressed block as a share of its original, 0 < r ≤ 1. */
  targetRatio?: number;
  /** Also compress long content pasted into (earlier) user messages. */
  compressUserMessages?: boolean;
  /** Add remembered facts of a scope to the latest user message, and optionally the memory tools. */
  memory?: MemoryOptions;
  /** Who is asking (`vercel`, `openai-sdk`, or your app's name), for the daemon's savings ledger. */
  app?: string;
}

export interface CompressorStats {
  name: string;
  blocks: number;
  tokensBefore: number;
  tokensAfter: number;
}

export interface CompressResult<T> {
  /**
   * The messages to send, in the shape given: the caller's own object when nothing changed or
   * when failing open, else a new value (the caller's is never modified).
   */
  messages: T;
  /** Tokens in the blocks the daemon considered, before and after. */
  tokensBefore: number;
  tokensAfter: number;
  /** The key of every marker in `messages`. */
  ccrKeys: string[];
  compressors: CompressorStats[];
  /**
   * The `headroom_retrieve` tool in the request's provider format, when `messages` holds a
   * marker. A whole request body already lists it in `tools`; a bare array does not.
   */
  retrieveTool: Record<string, unknown> | null;
  /** The format the daemon read the messages as; `null` when failing open. */
  format: Exclude<Format, "auto"> | null;
  /** How many remembered facts the daemon added to the latest user message. */
  memories: number;
  /** Blocks of 2,000 tokens or more sent unchanged, one entry per reason (in `name`). */
  leftAsIs: CompressorStats[];
  /**
   * The `memory_save` and `memory_search` tools in the request's provider format, when
   * `memory.tools` was asked for. A whole request body already lists them in `tools`.
   */
  memoryTools: Array<Record<string, unknown>> | null;
  /** Why the messages came back unchanged, when the call failed open; else `null`. */
  error: HeadroomError | null;
}

export interface Retrieved {
  key: string;
  /** The exact original when `whole`, else the matching lines, each prefixed `L<n>: `. */
  content: string;
  whole: boolean;
}

export interface Stats {
  protocolVersion: number;
  uptimeMs: number;
  connections: number;
  requests: number;
  compressRequests: number;
  tokensBefore: number;
  tokensAfter: number;
  ccrEntries: number;
  replayEntries: number;
}

/** Per-compressor totals, retrieval outcomes and latency percentiles (daemon time, µs). */
export interface Metrics {
  /** Per compressor since the daemon started. */
  compressors: CompressorStats[];
  /** Blocks of 2,000+ tokens sent unchanged since the daemon started, by reason (in `name`). */
  leftAsIs: CompressorStats[];
  ccrHits: number;
  ccrMisses: number;
  ccrExpired: number;
  latencyP50Us: number;
  latencyP99Us: number;
  /** Over the daemon's whole history, across restarts. */
  allTimeCompressRequests: number;
  allTimeTokensBefore: number;
  allTimeTokensAfter: number;
  allTimeLatencyP50Us: number;
  allTimeLatencyP99Us: number;
}

/** How {@link HeadroomClient.answerTool} answers the memory tools. */
export interface AnswerOptions {
  /**
   * The memory options of the request that offered the tools: `memory_save` and
   * `memory_search` are answered in its scope.
   */
  memory?: MemoryOptions;
}

interface Pending {
  resolve: (body: ReplyBody) => void;
  reject: (error: HeadroomError) => void;
  timer: NodeJS.Timeout;
}

/** One open socket: writes frames, matches reply frames to pending requests by id. */
class Connection {
  closed = false;
  private readonly pending = new Map<bigint, Pending>();
  private readonly reader = new FrameReader();

  constructor(readonly socket: Socket) {
    // An idle connection must not keep the process alive; each pending call's timer does.
    socket.unref();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.close(new HeadroomError("unavailable", `lost headroomd: ${e.message}`)));
    socket.on("close", () => this.close(new HeadroomError("unavailable", "headroomd closed the connection")));
  }

  /** Sends `frame` and waits at most `timeoutMs` for the reply to `id`; a later reply is dropped. */
  request(id: bigint, frame: Uint8Array, timeoutMs: number): Promise<ReplyBody> {
    if (this.closed) return Promise.reject(new HeadroomError("unavailable", "the connection is closed"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HeadroomError("timeout", `headroomd did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(frame);
    });
  }

  close(error: HeadroomError): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    for (const body of this.reader.push(chunk)) {
      let id: bigint;
      let reply: ReplyBody;
      try {
        ({ id, body: reply } = decodeReply(body));
      } catch (e) {
        return this.close(new HeadroomError("protocol", `undecodable reply from headroomd: ${(e as Error).message}`));
      }
      if (id === 0n) {
        // A reply tied to no request: the daemon could not read one of ours (README, "Errors").
        const why = typeof reply === "object" && "Error" in reply ? `${reply.Error.code}: ${reply.Error.message}` : "";
        return this.close(new HeadroomError("protocol", `headroomd answered a request it could not read ${why}`));
      }
      const p = this.pending.get(id);
      if (p) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(reply);
      }
    }
  }
}

/** A client of one daemon. Cheap to keep for the life of the process; {@link close} ends it. */
export class HeadroomClient {
  readonly timeoutMs: number;
  /** Remembered facts: add, search, list, forget (docs/memory.md). */
  readonly memory: Memory = new Memory(async (op, kind) => expect(await this.call(op), kind));
  private readonly socketPath: string | undefined;
  private readonly maxFrame: number;
  private readonly onWarning: (message: string) => void;
  private readonly breaker: Breaker;
  private conn: Connection | null = null;
  private connecting: Promise<Connection> | null = null;
  private nextId = 1;
  private warned = false;

  constructor(options: ClientOptions = {}) {
    this.socketPath = options.socketPath;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.onWarning = options.onWarning ?? ((m) => console.warn(m));
    this.breaker = options.breaker ?? new Breaker();
  }

  /**
   * Sends one operation and resolves with its reply body (error replies included). Rejects with
   * `unavailable` (at once while the breaker skips the daemon), `timeout`, `too_large` or
   * `protocol`.
   */
  async call(op: Op): Promise<ReplyBody> {
    const id = BigInt(this.nextId++);
    const frame = encodeRequest({ id, op });
    if (frame.length - 4 > this.maxFrame) {
      throw new HeadroomError("too_large", `the request is ${frame.length - 4} bytes, above the ${this.maxFrame}-byte limit`);
    }
    const ticket = this.breaker.allow();
    if (ticket === null) {
      const left = (this.breaker.remainingMs() / 1000).toFixed(1);
      throw new HeadroomError("unavailable", `skipping headroomd for ${left} s more: it did not answer in time`);
    }
    try {
      const body = await this.send(id, frame);
      this.breaker.reset();
      return body;
    } catch (e) {
      if (!(e instanceof HeadroomError && e.code === "timeout")) {
        this.breaker.reset();
        throw e;
      }
      const intervalMs = this.breaker.timedOut(ticket);
      throw intervalMs === null ? e : new HeadroomError("timeout", `${e.message}; calls skip it for the next ${intervalMs / 1000} s`);
    }
  }

  /** Sends one frame on the kept connection, or on a new one when it has died. */
  private async send(id: bigint, frame: Uint8Array): Promise<ReplyBody> {
    const started = performance.now();
    const conn = this.conn && !this.conn.closed ? this.conn : null;
    if (conn) {
      try {
        return await conn.request(id, frame, this.timeoutMs);
      } catch (e) {
        // A kept connection may have died unnoticed (daemon restarted): retry once on a new one.
        if ((e as HeadroomError).code !== "unavailable") throw e;
      }
    }
    const fresh = await this.connection();
    return fresh.request(id, frame, Math.max(1, this.timeoutMs - (performance.now() - started)));
  }

  /** A round trip with no work; rejects when the daemon cannot be reached. */
  async ping(): Promise<void> {
    expect(await this.call("Ping"), "Pong");
  }

  /**
   * Compresses `messages`: a bare messages array or a whole request body (`{model, messages,
   * tools, ...}` or a Responses `{input, ...}`), sent as UTF-8 JSON. Earlier answers to
   * `headroom_retrieve` are never sent for compression (see `tools.ts`). Never rejects: on
   * any failure it warns once and returns the caller's messages with `error` set.
   */
  async compress<T>(messages: T, options: CompressOptions = {}): Promise<CompressResult<T>> {
    try {
      const { sent, saved } = shield(messages);
      const input = Buffer.from(JSON.stringify(sent), "utf8");
      const body = await this.call({
        Compress: {
          messages: input,
          options: {
            model: options.model ?? null,
            format: WIRE_FORMAT[options.format ?? "auto"],
            query: options.query ?? null,
            protect_recent: options.protectRecent ?? 0,
            frozen: options.frozen ?? 0,
            target_ratio: options.targetRatio ?? null,
            compress_user_messages: options.compressUserMessages ?? false,
            client: options.app ?? null,
            memory: options.memory
              ? {
                  scope: wireScope(options.memory.scope),
                  budget_tokens: options.memory.budgetTokens ?? 0,
                  tools: options.memory.tools ?? false,
                }
              : null,
          },
        },
      });
      const reply = expect(body, "Compressed");
      this.warned = false;
      return compressResult(messages, input, reply, saved);
    } catch (e) {
      const error = e instanceof HeadroomError ? e : new HeadroomError("protocol", String((e as Error)?.message ?? e));
      this.warnOnce(`headroom: ${error.message} (${error.code}); sending the messages uncompressed`);
      return {
        messages,
        tokensBefore: 0,
        tokensAfter: 0,
        ccrKeys: [],
        compressors: [],
        retrieveTool: null,
        format: null,
        memories: 0,
        leftAsIs: [],
        memoryTools: null,
        error,
      };
    }
  }

  /**
   * The original behind a marker's key, whole, or only its lines matching `query`. Rejects with
   * a {@link HeadroomError}: `not_found`, `expired` (terminal: re-run the tool), `bad_request`
   * (not a key), or a connection failure.
   */
  async retrieve(key: string, options: { query?: string } = {}): Promise<Retrieved> {
    const reply = expect(await this.call({ Retrieve: { key, query: options.query ?? null } }), "Retrieved");
    this.warned = false;
    return { key: reply.key, content: reply.content, whole: reply.whole };
  }

  /** The daemon's counters since it started. */
  async stats(): Promise<Stats> {
    const s = expect(await this.call("Stats"), "Stats");
    return {
      protocolVersion: s.protocol_version,
      uptimeMs: Number(s.uptime_ms),
      connections: Number(s.connections),
      requests: Number(s.requests),
      compressRequests: Number(s.compress_requests),
      tokensBefore: Number(s.tokens_before),
      tokensAfter: Number(s.tokens_after),
      ccrEntries: Number(s.ccr_entries),
      replayEntries: Number(s.replay_entries),
    };
  }

  /** Per-compressor totals, retrieval outcomes and latency percentiles (a newer daemon's `Metrics`). */
  async metrics(): Promise<Metrics> {
    const m = expect(await this.call("Metrics"), "Metrics");
    return {
      compressors: m.compressors.map(compressorStats),
      leftAsIs: m.left_as_is.map(compressorStats),
      ccrHits: Number(m.ccr_hits),
      ccrMisses: Number(m.ccr_misses),
      ccrExpired: Number(m.ccr_expired),
      latencyP50Us: Number(m.latency_p50_us),
      latencyP99Us: Number(m.latency_p99_us),
      allTimeCompressRequests: Number(m.all_time_compress_requests),
      allTimeTokensBefore: Number(m.all_time_tokens_before),
      allTimeTokensAfter: Number(m.all_time_tokens_after),
      allTimeLatencyP50Us: Number(m.all_time_latency_p50_us),
      allTimeLatencyP99Us: Number(m.all_time_latency_p99_us),
    };
  }

  /**
   * Answers a model's `headroom_retrieve` call: the text to put in the tool result. Never
   * rejects; when the original cannot be had, the text tells the model so (and, for an expired
   * original, to re-run the tool that produced it).
   */
  async answerRetrieve(args: RetrieveArguments): Promise<string> {
    const parsed = argumentsOf(args);
    const hash = parsed?.hash;
    const query = typeof parsed?.query === "string" && parsed.query.trim() ? parsed.query : undefined;
    if (typeof hash !== "string" || !hash) return RETRIEVE_NEEDS_HASH;
    try {
      const got = await this.retrieve(hash, query === undefined ? {} : { query });
      return got.content;
    } catch (e) {
      const error = e as HeadroomError;
      if (!["expired", "not_found", "bad_request"].includes(error.code)) {
        this.warnOnce(`headroom: cannot retrieve hash=${hash}: ${error.message}`);
      }
      return retrieveFailedText(hash, error);
    }
  }

  /**
   * Answers a model's call to one of Headroom's tools: `headroom_retrieve` (as
   * {@link answerRetrieve}), or `memory_save` / `memory_search` in the scope of
   * `options.memory`, the memory options of the request that offered them. The text to put in
   * the tool result, as docs/memory.md writes it. A fact is saved at the scope's agent when it
   * has one, else at its user — never in the session, since what the model chooses to remember
   * is meant to outlive the conversation. A search sees everything the scope sees. Never
   * rejects; a failure is told to the model (and warned about once).
   */
  async answerTool(name: string, args: ToolArguments, options: AnswerOptions = {}): Promise<string> {
    if (name === RETRIEVE_TOOL_NAME) return this.answerRetrieve(args);
    if (name !== MEMORY_SAVE_TOOL_NAME && name !== MEMORY_SEARCH_TOOL_NAME) return `Headroom has no tool named ${name}.`;
    const scope = options.memory?.scope;
    if (!scope) return `Headroom cannot answer ${name}: no memory scope was given.`;
    const parsed = argumentsOf(args);
    try {
      if (name === MEMORY_SAVE_TOOL_NAME) {
        const text = parsed?.text;
        if (typeof text !== "string" || !text.trim()) return SAVE_NEEDS_TEXT;
        const key = typeof parsed?.key === "string" && parsed.key.trim() ? parsed.key : undefined;
        const source = scope.session ? `conversation ${scope.session}` : undefined;
        return savedText(await this.memory.add(text, saveScope(scope), { key, source }));
      }
      const query = typeof parsed?.query === "string" ? parsed.query : "";
      return foundText(await this.memory.search(query, scope));
    } catch (e) {
      const error = e as HeadroomError;
      this.warnOnce(`headroom: ${name} failed: ${error.message}`);
      return `Headroom could not answer ${name} (${error.message}); go on without it.`;
    }
  }

  /** Closes the connection; a later call opens a new one. */
  close(): void {
    this.conn?.close(new HeadroomError("unavailable", "the client was closed"));
    this.conn = null;
  }

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    this.onWarning(message);
  }

  private connection(): Promise<Connection> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** Checks that the socket is this user's, then connects and says `Hello`, each within the call timeout. */
  private async open(): Promise<Connection> {
    const path = this.socketPath ?? defaultSocketPath();
    const untrusted = await untrustedReason(path).catch((e: Error) => {
      throw new HeadroomError("unavailable", `cannot reach headroomd at ${path}: ${e.message}`);
    });
    if (untrusted) throw new HeadroomError("unavailable", `refusing the socket ${path}: ${untrusted}`);
    const socket = createConnection({ path });
    let late = false;
    const giveUp = setTimeout(() => {
      late = true;
      socket.destroy();
    }, this.timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        const failed = (e?: Error) => {
          socket.off("connect", connected);
          reject(
            late
              ? new HeadroomError("timeout", `could not connect to headroomd at ${path} within ${this.timeoutMs} ms`)
              : new HeadroomError("unavailable", `cannot reach headroomd at ${path}${e ? `: ${e.message}` : ""}`),
          );
        };
        const connected = () => {
          socket.off("error", failed).off("close", failed);
          resolve();
        };
        socket.once("connect", connected).once("error", failed).once("close", failed);
      });
      const conn = new Connection(socket);
      const id = BigInt(this.nextId++);
      const hello = encodeRequest({ id, op: { Hello: { protocol_version: PROTOCOL_VERSION, client: CLIENT_NAME } } });
      clearTimeout(giveUp);
      const reply = await conn.request(id, hello, this.timeoutMs);
      if (typeof reply === "object" && "Error" in reply) {
        conn.close(new HeadroomError(reply.Error.code, reply.Error.message));
        throw new HeadroomError(reply.Error.code, `headroomd refused the handshake: ${reply.Error.message}`);
      }
      expect(reply, "Hello");
      this.conn = conn;
      return conn;
    } catch (e) {
      socket.destroy();
      throw e;
    } finally {
      clearTimeout(giveUp);
    }
  }
}

/** The payload of every reply variant, by name (`Pong` has none: it is its own payload). */
type Payloads = { Pong: "Pong" } & { [V in Exclude<ReplyBody, string> as keyof V & string]: V[keyof V] };

/** The reply variants a call can expect. */
type ReplyKind = Exclude<keyof Payloads, "Error">;

/** The payload of the reply variant `kind`; an `Error` reply or another variant throws. */
function expect<K extends ReplyKind>(body: ReplyBody, kind: K): Payloads[K] {
  if (typeof body === "string") {
    if (body === kind) return body as Payloads[K];
  } else if ("Error" in body) {
    throw new HeadroomError(body.Error.code, body.Error.message);
  } else if (kind in body) {
    return (body as Record<K, Payloads[K]>)[kind];
  }
  throw new HeadroomError("protocol", `headroomd answered ${JSON.stringify(Object.keys(body))} where ${kind} was expected`);
}

function compressorStats(c: CompressReply["compressors"][number]): CompressorStats {
  return { name: c.name, blocks: c.blocks, tokensBefore: Number(c.tokens_before), tokensAfter: Number(c.tokens_after) };
}

/**
 * Whether `got`, the daemon's parsed messages, has the shape of `sent`, as the protocol
 * promises: an array, or an object holding the array under the same key, with as many messages,
 * each an object with the same `role` and `type`.
 */
function sameShape(sent: unknown, got: unknown): boolean {
  let items: unknown = sent;
  let out: unknown = got;
  if (!Array.isArray(sent)) {
    if (!sent || typeof sent !== "object" || !got || typeof got !== "object" || Array.isArray(got)) return false;
    const key = Array.isArray((sent as Record<string, unknown>).messages) ? "messages" : "input";
    items = (sent as Record<string, unknown>)[key];
    out = (got as Record<string, unknown>)[key];
  }
  if (!Array.isArray(items) || !Array.isArray(out) || items.length !== out.length) return false;
  return items.every((item, i) => {
    const o = out[i] as Record<string, unknown> | null;
    if (!o || typeof o !== "object" || Array.isArray(o)) return false;
    const m = item as Record<string, unknown> | null;
    return !m || typeof m !== "object" || (m.role === o.role && m.type === o.type);
  });
}

/** The daemon's messages with the shielded retrieve answers put back; `protocol` when they are not the shape sent. */
function received<T>(messages: T, out: Buffer, saved: Saved): T {
  const parsed: unknown = JSON.parse(out.toString("utf8"));
  try {
    if (sameShape(messages, parsed)) return restore(parsed as T, saved);
  } catch {
    // The place of a shielded answer is gone: another shape.
  }
  throw new HeadroomError("protocol", "headroomd returned messages of another shape than those sent");
}

function compressResult<T>(messages: T, input: Buffer, reply: CompressReply, saved: Saved): CompressResult<T> {
  const out = Buffer.from(reply.messages.buffer, reply.messages.byteOffset, reply.messages.byteLength);
  return {
    messages: input.equals(out) ? messages : received(messages, out, saved),
    tokensBefore: Number(reply.tokens_before),
    tokensAfter: Number(reply.tokens_after),
    ccrKeys: reply.ccr_keys,
    compressors: reply.compressors.map(compressorStats),
    retrieveTool: reply.retrieve_tool
      ? (JSON.parse(Buffer.from(reply.retrieve_tool).toString("utf8")) as Record<string, unknown>)
      : null,
    format: CALLER_FORMAT[reply.format] as Exclude<Format, "auto">,
    memories: reply.memories,
    leftAsIs: reply.left_as_is.map(compressorStats),
    memoryTools: reply.memory_tools
      ? (JSON.parse(Buffer.from(reply.memory_tools).toString("utf8")) as Array<Record<string, unknown>>)
      : null,
    error: null,
  };
}

let shared: HeadroomClient | null = null;

/** The process-wide client the module-level functions use (created on first use). */
export function defaultClient(): HeadroomClient {
  shared ??= new HeadroomClient();
  return shared;
}

/** Which client a call uses: the one given, else {@link defaultClient}. */
export interface WithClient {
  client?: HeadroomClient;
}

/** {@link HeadroomClient.compress} on `options.client` or the default client. Never rejects. */
export function compress<T>(messages: T, options: CompressOptions & WithClient = {}): Promise<CompressResult<T>> {
  const { client, ...rest } = options;
  return (client ?? defaultClient()).compress(messages, rest);
}

/** {@link HeadroomClient.retrieve} on `options.client` or the default client. */
export function retrieve(key: string, options: { query?: string } & WithClient = {}): Promise<Retrieved> {
  const { client, ...rest } = options;
  return (client ?? defaultClient()).retrieve(key, rest);
}

/** {@link HeadroomClient.stats} on `options.client` or the default client. */
export function stats(options: WithClient = {}): Promise<Stats> {
  return (options.client ?? defaultClient()).stats();
}

/** {@link HeadroomClient.metrics} on `options.client` or the default client. */
export function metrics(options: WithClient = {}): Promise<Metrics> {
  return (options.client ?? defaultClient()).metrics();
}

/** {@link HeadroomClient.answerRetrieve} on `options.client` or the default client. Never rejects. */
export function answerRetrieve(args: RetrieveArguments, options: WithClient = {}): Promise<string> {
  return (options.client ?? defaultClient()).answerRetrieve(args);
}

/**
 * {@link HeadroomClient.answerTool} on `options.client` or the default client: answers a call to
 * `headroom_retrieve`, or to `memory_save` / `memory_search` in the scope of `options.memory`.
 * Never rejects.
 */
export function answerTool(name: string, args: ToolArguments, options: AnswerOptions & WithClient = {}): Promise<string> {
  const { client, ...rest } = options;
  return (client ?? defaultClient()).answerTool(name, args, rest);
}
