// The wire against protocol/vectors: every frame decodes to its JSON value and re-encodes to the
// same bytes; plus the strictness rules of protocol/README.md, frame splitting, and a check that
// the generated src/wireTypes.ts is current.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  FrameReader,
  splitSingleFrame,
  WireError,
  type Reply,
  type Request,
} from "../src/wire.js";
import { REPO } from "./helpers.js";

const VECTORS = join(REPO, "protocol", "vectors");

/** JSON.parse, except that integer literals become bigints (2^64 − 1 survives). */
function parseExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (/\s/.test(text[i] ?? "")) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") return i++, obj;
      for (;;) {
        ws();
        const key = value() as string;
        ws();
        i++; // ':'
        obj[key] = value();
        ws();
        if (text[i++] === "}") return obj;
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") return i++, arr;
      for (;;) {
        arr.push(value());
        ws();
        if (text[i++] === "]") return arr;
      }
    }
    const m = /^(?:"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) throw new Error(`bad JSON at ${i}`);
    i += m[0].length;
    return /^-?\d+$/.test(m[0]) ? BigInt(m[0]) : JSON.parse(m[0]);
  };
  return value();
}

// Every integer on the wire is a u64 except these u32 fields (and the f32 fields).
const U32 = new Set(["protocol_version", "protect_recent", "frozen", "blocks", "memories", "budget_tokens", "limit"]);
const F32 = new Set(["target_ratio", "score"]);
const BYTES = new Set(["messages", "retrieve_tool", "memory_tools"]);

/** The vector JSON as wire values: u64 stays bigint, u32 becomes a number, bytes a Uint8Array. */
function typed(v: unknown, key = ""): unknown {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "bigint") return U32.has(key) || F32.has(key) ? Number(v) : v;
  if (typeof v === "number") return F32.has(key) ? Math.fround(v) : v;
  if (Array.isArray(v)) return BYTES.has(key) ? Uint8Array.from(v, Number) : v.map((x) => typed(x, key));
  return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, typed(x, k)]));
}

const names = readdirSync(VECTORS)
  .filter((f) => f.endsWith(".bin"))
  .map((f) => f.slice(0, -4))
  .sort();

describe("protocol vectors", () => {
  test("there are vectors to check, every operation and reply among them", () => {
    assert.ok(names.length >= 26, `found ${names.length}`);
    for (const name of ["request_memory_add", "request_memory_search", "request_memory_list", "request_memory_forget", "reply_memory_added", "reply_memory_facts", "reply_memory_forgotten"]) {
      assert.ok(names.includes(name), name);
    }
  });
  for (const name of names) {
    test(name, () => {
      const frame = new Uint8Array(readFileSync(join(VECTORS, `${name}.bin`)));
      const { kind, value } = parseExact(readFileSync(join(VECTORS, `${name}.json`), "utf8")) as {
        kind: string;
        value: unknown;
      };
      const expected = typed(value);
      const body = splitSingleFrame(frame);
      if (kind === "request") {
        assert.deepStrictEqual(decodeRequest(body), expected);
        assert.deepStrictEqual(encodeRequest(expected as Request), frame);
      } else {
        assert.equal(kind, "reply");
        assert.deepStrictEqual(decodeReply(body), expected);
        assert.deepStrictEqual(encodeReply(expected as Reply), frame);
      }
    });
  }
});

describe("decoding is strict", () => {
  const hello = splitSingleFrame(encodeReply({ id: 1n, body: { Hello: { protocol_version: 1, server: "s" } } }));

  test("bytes left over", () => {
    assert.throws(() => decodeReply(Uint8Array.of(...hello, 0)), WireError);
  });
  test("truncated", () => {
    assert.throws(() => decodeReply(hello.subarray(0, hello.length - 1)), WireError);
  });
  test("unknown reply variant", () => {
    assert.throws(() => decodeReply(Uint8Array.of(1, 12)), /unknown ReplyBody variant 12/);
  });
  test("unknown error code", () => {
    assert.throws(() => decodeReply(Uint8Array.of(1, 5, 8, 0)), /unknown ErrorCode variant 8/);
  });
  test("a u64 varint in a u32 field", () => {
    // Hello reply whose protocol_version uses the 0xfd form.
    assert.throws(() => decodeReply(Uint8Array.of(1, 0, 0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0)), /invalid for a u32/);
  });
  test("0xfe and 0xff are never varints", () => {
    assert.throws(() => decodeReply(Uint8Array.of(0xfe, 1)), WireError);
    assert.throws(() => decodeReply(Uint8Array.of(0xff, 1)), WireError);
  });
  test("bool other than 0 or 1", () => {
    assert.throws(() => decodeReply(Uint8Array.of(1, 3, 1, 0x61, 1, 0x62, 2)), /bool byte/);
  });
  test("option tag other than 0 or 1", () => {
    assert.throws(() => decodeRequest(Uint8Array.of(1, 3, 1, 0x61, 2)), /option tag/);
  });
  test("invalid UTF-8", () => {
    assert.throws(() => decodeReply(Uint8Array.of(1, 0, 1, 1, 0xff)), /UTF-8/);
  });
  test("encoding refuses values out of range", () => {
    assert.throws(() => encodeRequest({ id: -1n, op: "Ping" }), WireError);
    assert.throws(() => encodeRequest({ id: 1n << 64n, op: "Ping" }), WireError);
  });
});

describe("generated code", () => {
  test("src/wireTypes.ts (and its Python twin) is what protocol/generate.py makes of the schema", () => {
    // After changing the Rust types, regenerate it (protocol/README.md, "Changing the wire").
    const check = spawnSync("python3", [join(REPO, "protocol", "generate.py"), "--check"], { encoding: "utf8" });
    assert.equal(check.error, undefined, "python3 runs the generator");
    assert.equal(check.status, 0, check.stderr);
  });
});

describe("frame reader", () => {
  const frames = [
    encodeReply({ id: 1n, body: "Pong" }),
    encodeReply({ id: 2n, body: { Retrieved: { key: "k", content: "x".repeat(300), whole: true } } }),
    encodeReply({ id: 3n, body: { Error: { code: "internal", message: "" } } }),
  ];
  const stream = Uint8Array.from(frames.flatMap((f) => [...f]));

  test("whole stream in one chunk", () => {
    const bodies = new FrameReader().push(stream);
    assert.deepStrictEqual(bodies.map((b) => decodeReply(b).id), [1n, 2n, 3n]);
  });
  test("one byte at a time", () => {
    const reader = new FrameReader();
    const ids: bigint[] = [];
    for (const b of stream) for (const body of reader.push(Uint8Array.of(b))) ids.push(decodeReply(body).id);
    assert.deepStrictEqual(ids, [1n, 2n, 3n]);
  });
  test("a zero-length frame is a frame", () => {
    const bodies = new FrameReader().push(Uint8Array.of(0, 0, 0, 0, 0, 0));
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]!.length, 0);
  });
});
