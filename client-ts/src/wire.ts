/**
 * The Headroom wire protocol, byte for byte as `protocol/README.md` writes it down: frames (a
 * 4-byte big-endian length and a body) and the bincode 2 `standard()` encoding of `Request` and
 * `Reply` bodies (varints, little-endian floats, enums as a variant index then the payload).
 *
 * The message types and their codecs are generated from the Rust types (`wireTypes.ts`, written
 * by `protocol/generate.py`) and re-exported here; this module holds what they are built on: the
 * writer and the strict reader of the primitives, framing, and the `encode*`/`decode*` entry
 * points. Values are shaped like the serde JSON of the Rust types, the form the test vectors use:
 * structs are objects keyed by field name, enum variants without payload are strings (`"Ping"`),
 * variants with a payload are one-key objects (`{ Compress: {...} }`), `u64` is `bigint`, `u32`
 * is `number`, byte vectors are `Uint8Array`. This layer knows nothing about LLMs.
 *
 * @module
 */

import { readReply, readRequest, writeReply, writeRequest, type Reply, type Request } from "./wireTypes.js";

export type * from "./wireTypes.js";
export { DEFAULT_MAX_FRAME, PROTOCOL_VERSION } from "./wireTypes.js";

/** A body or frame that does not follow the protocol. */
export class WireError extends Error {
  override name = "WireError";
}

/** Encodes a request as one complete frame, length prefix included. */
export function encodeRequest(request: Request): Uint8Array {
  const op = request.op;
  const w = new Writer(64 + (typeof op === "object" && "Compress" in op ? op.Compress.messages.length : 0));
  writeRequest(w, request);
  return w.frame();
}

/** Encodes a reply as one complete frame (the daemon's side; used by tests and fakes). */
export function encodeReply(reply: Reply): Uint8Array {
  const body = reply.body;
  const w = new Writer(64 + (typeof body === "object" && "Compressed" in body ? body.Compressed.messages.length : 0));
  writeReply(w, reply);
  return w.frame();
}

/** Decodes one request body (without its length prefix), consuming every byte. */
export function decodeRequest(body: Uint8Array): Request {
  const r = new Reader(body);
  const request = readRequest(r);
  r.end();
  return request;
}

/**
 * Decodes one reply body (without its length prefix), consuming every byte.
 *
 * Throws {@link WireError} on anything this version does not know (an unknown variant, bytes left
 * over): the daemon then speaks something else, and the connection should be dropped.
 */
export function decodeReply(body: Uint8Array): Reply {
  const r = new Reader(body);
  const reply = readReply(r);
  r.end();
  return reply;
}

const MAX_U64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Appends encoded values to a growing buffer, after 4 bytes left for the frame's length prefix.
 * The generated `write*` functions call it.
 *
 * @internal
 */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private len = 4; // the length prefix, written last

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

  /** One raw byte. */
  u8(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  /** A `u32` in its shortest varint form. */
  u32(n: number): void {
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
  u64(n: bigint): void {
    if (n < 0n || n > MAX_U64) throw new WireError(`${n} is not a u64`);
    if (n <= 0xffff_ffffn) return this.u32(Number(n));
    this.reserve(9);
    this.buf[this.len] = 0xfd;
    this.view.setBigUint64(this.len + 1, n, true);
    this.len += 9;
  }

  bytes(b: Uint8Array): void {
    this.u32(b.length);
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

  vec<T>(items: readonly T[], write: (v: T) => void): void {
    this.u32(items.length);
    for (const item of items) write(item);
  }

  /** A variant without payload, by its index in `names`. */
  variant<T>(names: readonly T[], value: T, what: string): void {
    const i = names.indexOf(value);
    if (i < 0) throw new WireError(`unknown ${what} ${JSON.stringify(value)}`);
    this.u32(i);
  }

  /** Refuses a value that is none of a union's variants. */
  unknown(what: string, value: never): never {
    const shown = typeof value === "object" && value !== null ? `{${Object.keys(value).join(", ")}}` : String(value);
    throw new WireError(`unknown ${what} ${shown}`);
  }

  /** The bytes written, prefixed with their length as a frame. */
  frame(): Uint8Array {
    this.view.setUint32(0, this.len - 4, false);
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Reads values from one body, strictly by type. The generated `read*` functions call it.
 *
 * @internal
 */
export class Reader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new WireError("truncated body");
  }

  /** One raw byte. */
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** A `u32` varint: the `0xfd` form is too wide for it. */
  u32(): number {
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

  u64(): bigint {
    if (this.buf[this.pos] === 0xfd) {
      this.pos++;
      this.need(8);
      const v = this.view.getBigUint64(this.pos, true);
      this.pos += 8;
      return v;
    }
    return BigInt(this.u32());
  }

  bytes(): Uint8Array {
    const n = this.u64();
    if (n > BigInt(this.buf.length - this.pos)) throw new WireError("truncated body");
    return this.buf.subarray(this.pos, (this.pos += Number(n)));
  }

  string(): string {
    const n = Number(this.u64());
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

  vec<T>(read: () => T): T[] {
    return Array.from({ length: this.u32() }, read);
  }

  /** A variant's name, by the index read. */
  variant<T>(names: readonly T[], what: string): T {
    const i = this.u32();
    const name = names[i];
    if (name === undefined) throw new WireError(`unknown ${what} variant ${i}`);
    return name;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new WireError(`${this.buf.length - this.pos} bytes left over after the value`);
  }
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
