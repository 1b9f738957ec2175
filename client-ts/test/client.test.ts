// The client against the real daemon (compress, retrieve, stats, pipelining, reconnect) and
// against fake daemons for the fail-open paths.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { answerRetrieve, compress, defaultSocketPath, HeadroomClient, HeadroomError } from "../src/client.js";
import { RETRIEVE_TOOL_NAME } from "../src/tools.js";
import {
  chatConversation,
  deadSocket,
  fakeDaemon,
  LOG,
  MARKER,
  quietClient,
  removeDir,
  REPO,
  startDaemon,
  type Daemon,
} from "./helpers.js";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import { encodeReply, PROTOCOL_VERSION } from "../src/wire.js";
import { Breaker } from "../src/breaker.js";

describe("against the real daemon", () => {
  let daemon: Daemon;
  let client: HeadroomClient;
  let warnings: string[];

  before(async () => {
    daemon = await startDaemon();
    ({ client, warnings } = quietClient(daemon.socket));
  });
  after(async () => {
    client.close();
    await daemon.stop();
    removeDir(dirname(daemon.socket));
  });

  test("ping", async () => {
    await client.ping();
  });

  test("compress a bare messages array: the log shrinks, a marker and the tool come back", async () => {
    const messages = chatConversation();
    const before = structuredClone(messages);
    const result = await client.compress(messages, { model: "gpt-4o" });
    assert.equal(result.error, null);
    assert.deepStrictEqual(messages, before, "the caller's messages are untouched");
    assert.equal(result.format, "openai_chat");
    assert.equal(result.messages.length, 4);
    assert.deepStrictEqual(result.messages.slice(0, 3), messages.slice(0, 3));
    const tool = result.messages[3].content as string;
    assert.ok(tool.length < LOG.length / 5, `compressed to ${tool.length} of ${LOG.length} bytes`);
    const key = MARKER.exec(tool)?.[1];
    assert.ok(key, "the compressed log carries a marker");
    assert.deepStrictEqual(result.ccrKeys, [key]);
    assert.ok(result.tokensBefore > 5 * result.tokensAfter, `${result.tokensBefore} -> ${result.tokensAfter}`);
    assert.deepStrictEqual(result.compressors.map((c) => c.name), ["logs"]);
    assert.equal((result.retrieveTool as any).function.name, RETRIEVE_TOOL_NAME);
  });

  test("compress a whole request body: the daemon adds the retrieve tool to its tools", async () => {
    const body = { model: "gpt-4o", temperature: 0, messages: chatConversation(), tools: [{ type: "function", function: { name: "read_log", parameters: { type: "object" } } }] };
    const result = await client.compress(body);
    assert.equal(result.error, null);
    assert.equal(result.messages.model, "gpt-4o");
    assert.equal(result.messages.temperature, 0);
    assert.deepStrictEqual(
      result.messages.tools.map((t: any) => t.function.name),
      ["read_log", RETRIEVE_TOOL_NAME],
    );
    assert.equal(body.tools.length, 1, "the caller's tools are untouched");
    assert.match(result.messages.messages[3].content, MARKER);
  });

  test("nothing to compress: the caller's own object comes back", async () => {
    const messages = [{ role: "user", content: "hello" }];
    const result = await client.compress(messages);
    assert.equal(result.error, null);
    assert.equal(result.messages, messages);
    assert.deepStrictEqual(result.ccrKeys, []);
    assert.equal(result.retrieveTool, null);
  });

  test("retrieve: the exact original, or the lines matching a query", async () => {
    const { ccrKeys } = await client.compress(chatConversation());
    const key = ccrKeys[0]!;
    const whole = await client.retrieve(key);
    assert.deepStrictEqual(whole, { key, content: LOG, whole: true });
    const some = await client.retrieve(key, { query: "2918118818249673980" });
    assert.equal(some.whole, false);
    const lines = some.content.trimEnd().split("\n");
    assert.ok(lines.length >= 1);
    for (const line of lines) assert.match(line, /^L\d+: .*blk_-2918118818249673980/);
  });

  test("retrieve errors carry the daemon's codes", async () => {
    await assert.rejects(client.retrieve("0123456789abcdef01234567"), (e: HeadroomError) => e.code === "not_found");
    await assert.rejects(client.retrieve("not-a-key"), (e: HeadroomError) => e.code === "bad_request");
  });

  test("answerRetrieve answers a model's call in every shape, never throwing", async () => {
    const { ccrKeys } = await client.compress(chatConversation());
    const key = ccrKeys[0]!;
    assert.equal(await client.answerRetrieve(JSON.stringify({ hash: key })), LOG);
    assert.match(await client.answerRetrieve({ hash: key, query: "WARN" }), /^L\d+: .*WARN/);
    assert.match(await client.answerRetrieve({ hash: "0123456789abcdef01234567" }), /not available/);
    assert.match(await client.answerRetrieve("{not json"), /needs a "hash"/);
    assert.match(await client.answerRetrieve({ hash: "xyz" }), /24-character key/);
    assert.equal(await answerRetrieve({ hash: key }, { client }), LOG);
    assert.equal(await client.answerTool(RETRIEVE_TOOL_NAME, { hash: key, query: "WARN" }), await client.answerRetrieve({ hash: key, query: "WARN" }));
  });

  test("an earlier answer to headroom_retrieve is not compressed again, in any shape", async () => {
    const key = (await client.compress(chatConversation())).ccrKeys[0]!;
    const call = { id: "call_r", type: "function", function: { name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: key }) } };
    const chat = [...chatConversation(), { role: "assistant", content: null, tool_calls: [call] }, { role: "tool", tool_call_id: "call_r", content: LOG }];
    const before = structuredClone(chat);
    const c = await client.compress(chat, { format: "openai_chat" });
    assert.deepStrictEqual(chat, before);
    assert.match(c.messages[3].content, MARKER, "the tool output itself is compressed");
    assert.equal(c.messages[5].content, LOG, "the retrieve answer is sent as it is");

    const responses: any = {
      model: "gpt-4o",
      input: [
        { role: "user", content: "Why did the HDFS block transfers fail?" },
        { type: "function_call", call_id: "f1", name: "read_log", arguments: "{}" },
        { type: "function_call_output", call_id: "f1", output: LOG },
        { type: "function_call", call_id: "f2", name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: key }) },
        { type: "function_call_output", call_id: "f2", output: LOG },
      ],
    };
    const r = await client.compress(responses);
    assert.match(r.messages.input[2].output, MARKER);
    assert.equal(r.messages.input[4].output, LOG);

    const anthropic: any = {
      model: "claude-sonnet-4-5",
      messages: [
        { role: "user", content: "Why did the HDFS block transfers fail?" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "read_log", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: LOG }] },
        { role: "assistant", content: [{ type: "tool_use", id: "t2", name: RETRIEVE_TOOL_NAME, input: { hash: key } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t2", content: LOG }] },
      ],
    };
    const a = await client.compress(anthropic);
    assert.match(a.messages.messages[2].content[0].content, MARKER);
    assert.equal(a.messages.messages[4].content[0].content, LOG);
    assert.equal(anthropic.messages[4]!.content[0].content, LOG);
  });

  test("stats count what this client did", async () => {
    const s0 = await client.stats();
    await client.compress(chatConversation());
    await client.ping();
    const s1 = await client.stats();
    assert.equal(s1.protocolVersion, PROTOCOL_VERSION);
    assert.equal(s1.compressRequests - s0.compressRequests, 1);
    assert.equal(s1.requests - s0.requests, 3);
    assert.ok(s1.ccrEntries >= 1);
    assert.ok(s1.tokensBefore > s1.tokensAfter);
    assert.ok(s1.uptimeMs >= s0.uptimeMs);
  });

  test("metrics count compressors and retrievals", async () => {
    const { ccrKeys } = await client.compress(chatConversation("Which datanode threw exceptions?"));
    await client.retrieve(ccrKeys[0]!);
    await client.retrieve("0123456789abcdef01234567").catch(() => {});
    const m = await client.metrics();
    assert.ok(m.compressors.some((c) => c.name === "logs" && c.blocks >= 1 && c.tokensBefore > c.tokensAfter));
    assert.ok(m.ccrHits >= 1 && m.ccrMisses >= 1, JSON.stringify(m));
    assert.ok(m.allTimeCompressRequests >= 1);
  });

  test("large blocks sent unchanged say why", async () => {
    const messages = chatConversation("What did the Spark executors do?");
    messages[3].content = readFileSync(join(REPO, "tests", "fixtures", "logs", "Spark_2k.log"), "utf8") + "\nleft-as-is probe (ts)\n";
    const result = await client.compress(messages, { protectRecent: 1 });
    assert.deepEqual(result.leftAsIs.map((c) => [c.name, c.blocks]), [["protected", 1]]);
    assert.ok(result.leftAsIs[0]!.tokensBefore >= 2000 && result.compressors.length === 0);
    assert.ok((await client.metrics()).leftAsIs.some((c) => c.name === "protected"));
  });

  test("concurrent calls are pipelined on one connection", async () => {
    const { client: fresh } = quietClient(daemon.socket);
    const s0 = await fresh.stats();
    const questions = Array.from({ length: 24 }, (_, i) => `Which blocks failed? (${i})`);
    const calls = await Promise.all([
      ...questions.map((q) => fresh.compress([{ role: "user", content: q }, { role: "tool", tool_call_id: "c", content: LOG.slice(0, 40_000 + questions.indexOf(q)) }])),
      ...Array.from({ length: 24 }, () => fresh.ping().then(() => "pong")),
      fresh.retrieve("0123456789abcdef01234567").catch((e: HeadroomError) => e.code),
    ]);
    const s1 = await fresh.stats();
    fresh.close();
    assert.equal(s1.connections - s0.connections, 0, "no new connection was opened");
    for (const [i, q] of questions.entries()) {
      const r = calls[i] as Awaited<ReturnType<typeof fresh.compress<any[]>>>;
      assert.equal(r.error, null);
      assert.equal(r.messages[0].content, q, "each reply went to its own request");
    }
    assert.ok(calls.slice(24, 48).every((c) => c === "pong"));
    assert.equal(calls[48], "not_found");
    assert.equal(s1.compressRequests - s0.compressRequests, 24);
  });

  test("reconnects after the daemon restarts, without a warning", async () => {
    const { client: c, warnings } = quietClient(daemon.socket);
    await c.ping();
    await daemon.stop();
    daemon = await startDaemon(dirname(daemon.socket));
    const result = await c.compress(chatConversation());
    assert.equal(result.error, null);
    assert.match(result.messages[3].content, MARKER);
    assert.deepStrictEqual(warnings, []);
    c.close();
    await c.ping();
    c.close();
  });

  test("the module-level functions use HEADROOM_SOCKET", async () => {
    process.env.HEADROOM_SOCKET = daemon.socket;
    const result = await compress(chatConversation(), { model: "gpt-4o" });
    assert.equal(result.error, null);
    assert.equal(result.ccrKeys.length, 1);
  });

  test("a request the daemon refuses fails open", async () => {
    const odd = { neither: "messages nor input" };
    const result = await client.compress(odd);
    assert.equal(result.messages, odd);
    assert.equal(result.error?.code, "bad_request");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /bad_request/);
  });
});

describe("fail-open", () => {
  test("no daemon: the original messages, one warning for many calls", async () => {
    const { client, warnings } = quietClient(deadSocket());
    const messages = chatConversation();
    for (let i = 0; i < 3; i++) {
      const result = await client.compress(messages);
      assert.equal(result.messages, messages);
      assert.equal(result.error?.code, "unavailable");
      assert.equal(result.retrieveTool, null);
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot reach headroomd/);
    await assert.rejects(client.stats(), (e: HeadroomError) => e.code === "unavailable");
    assert.match(await client.answerRetrieve({ hash: "0123456789abcdef01234567" }), /could not retrieve/);
  });

  test("a daemon that never answers times out", async () => {
    const fake = await fakeDaemon(() => null);
    const { client, warnings } = quietClient(fake.socket, 150);
    const started = performance.now();
    const result = await client.compress(chatConversation());
    const took = performance.now() - started;
    assert.equal(result.error?.code, "timeout");
    assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
    assert.equal(warnings.length, 1);
    client.close();
    await fake.close();
  });

  test("a daemon that answers after the timeout: its late reply is dropped, the next call works", async () => {
    let delay = 300;
    const fake = await fakeDaemon((request, socket) => {
      if (typeof request.op === "object" && "Hello" in request.op) return { id: request.id, body: { Hello: { protocol_version: 1, server: "fake" } } };
      const reply = { id: request.id, body: "Pong" as const };
      setTimeout(() => socket.write(encodeReply(reply)), delay);
      return null;
    });
    let now = 0;
    const { client } = quietClient(fake.socket, 100, new Breaker({ now: () => now }));
    await assert.rejects(client.ping(), (e: HeadroomError) => e.code === "timeout");
    delay = 0;
    now += 1000; // the breaker's interval is over: the next call tries the daemon again
    await client.ping();
    await new Promise((r) => setTimeout(r, 300));
    await client.ping();
    client.close();
    await fake.close();
  });

  test("another protocol version: unsupported_version, fail open", async () => {
    const fake = await fakeDaemon((request) => ({
      id: request.id,
      body: { Error: { code: "unsupported_version", message: "client speaks protocol 1, daemon speaks 2" } },
    }));
    const { client, warnings } = quietClient(fake.socket);
    const messages = chatConversation();
    const result = await client.compress(messages);
    assert.equal(result.messages, messages);
    assert.equal(result.error?.code, "unsupported_version");
    assert.match(warnings[0]!, /daemon speaks 2/);
    await fake.close();
  });

  test("a reply with id 0 drops the connection and fails the call open", async () => {
    const fake = await fakeDaemon((request) =>
      typeof request.op === "object" && "Hello" in request.op
        ? { id: request.id, body: { Hello: { protocol_version: 1, server: "fake" } } }
        : { id: 0n, body: { Error: { code: "bad_frame", message: "cannot read" } } },
    );
    const { client } = quietClient(fake.socket);
    const result = await client.compress(chatConversation());
    assert.equal(result.error?.code, "protocol");
    await fake.close();
  });

  test("replies arriving out of order reach their own calls", async () => {
    const held: Array<() => void> = [];
    const fake = await fakeDaemon((request, socket) => {
      if (typeof request.op === "object" && "Hello" in request.op) return { id: request.id, body: { Hello: { protocol_version: 1, server: "fake" } } };
      const op = request.op as { Retrieve: { key: string } };
      held.push(() => socket.write(encodeReply({ id: request.id, body: { Retrieved: { key: op.Retrieve.key, content: `content of ${op.Retrieve.key}`, whole: true } } })));
      if (held.length === 5) held.reverse().forEach((send) => send());
      return null;
    });
    const { client } = quietClient(fake.socket);
    const keys = ["k1", "k2", "k3", "k4", "k5"];
    const got = await Promise.all(keys.map((k) => client.retrieve(k)));
    assert.deepStrictEqual(got.map((g) => g.content), keys.map((k) => `content of ${k}`));
    client.close();
    await fake.close();
  });

  test("metrics: the reply of a daemon that has them, as numbers", async () => {
    const counters = { ccr_hits: 4n, ccr_misses: 1n, ccr_expired: 0n, latency_p50_us: 850n, latency_p99_us: 21000n, all_time_compress_requests: 1234n, all_time_tokens_before: 9_000_000n, all_time_tokens_after: 700_000n, all_time_latency_p50_us: 900n, all_time_latency_p99_us: 25000n, latency_buckets: [], latency_sum_us: 0n, left_as_is: [] };
    const fake = await fakeDaemon((request) =>
      typeof request.op === "object" && "Hello" in request.op
        ? { id: request.id, body: { Hello: { protocol_version: 1, server: "fake" } } }
        : { id: request.id, body: { Metrics: { compressors: [{ name: "logs", blocks: 3, tokens_before: 90000n, tokens_after: 6000n }], ...counters } } },
    );
    const { client } = quietClient(fake.socket);
    const m = await client.metrics();
    assert.equal(fake.requests[1]!.op, "Metrics");
    assert.deepStrictEqual(m.compressors, [{ name: "logs", blocks: 3, tokensBefore: 90000, tokensAfter: 6000 }]);
    assert.equal(m.latencyP50Us, 850);
    assert.equal(m.allTimeTokensBefore, 9_000_000);
    client.close();
    await fake.close();
  });

  test("a reply of another shape than the messages sent fails open", async () => {
    // Answers each Compress with `reshape` of what it was sent.
    const reshaping = (reshape: (sent: any) => unknown) =>
      fakeDaemon((request) => {
        if (typeof request.op === "object" && "Hello" in request.op) return { id: request.id, body: { Hello: { protocol_version: 3, server: "fake" } } };
        const sent = JSON.parse(Buffer.from((request.op as { Compress: { messages: Uint8Array } }).Compress.messages).toString("utf8"));
        const messages = Buffer.from(JSON.stringify(reshape(sent)), "utf8");
        return { id: request.id, body: { Compressed: { messages, tokens_before: 100n, tokens_after: 10n, ccr_keys: [], compressors: [], retrieve_tool: null, format: "OpenAiChat", memories: 0, memory_tools: null, rewrote_earlier: false, added_tokens: 0n, left_as_is: [] } } };
      });
    const retrieved = [
      { role: "user", content: "Why?" },
      { role: "assistant", content: [{ type: "tool_use", id: "t1", name: RETRIEVE_TOOL_NAME, input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "the original" }] },
    ];
    const cases: Array<[unknown, (sent: any) => unknown]> = [
      [{ model: "gpt-4o", messages: chatConversation() }, () => []],
      [chatConversation(), (sent) => sent.slice(0, 3)],
      [chatConversation(), (sent) => [{ ...sent[0], role: "assistant" }, ...sent.slice(1)]],
      [chatConversation(), (sent) => ({ messages: sent })],
      [retrieved, (sent) => [sent[0], sent[1], { role: "user", content: "flattened" }]],
    ];
    for (const [messages, reshape] of cases) {
      const fake = await reshaping(reshape);
      const { client, warnings } = quietClient(fake.socket);
      const result = await client.compress(messages);
      assert.equal(result.messages, messages);
      assert.equal(result.error?.code, "protocol");
      assert.equal(result.error?.message, "headroomd returned messages of another shape than those sent");
      assert.equal(result.tokensBefore, 0);
      assert.match(warnings[0]!, /another shape/);
      client.close();
      await fake.close();
    }
    const same = await reshaping((sent) => [...sent.slice(0, 3), { ...sent[3], content: "[headroom: short]" }]);
    const { client } = quietClient(same.socket);
    const result = await client.compress(chatConversation());
    assert.equal(result.error, null);
    assert.equal(result.messages[3].content, "[headroom: short]");
    client.close();
    await same.close();
  });

  test("a request above the frame limit is not sent", async () => {
    const fake = await fakeDaemon((request) => ({ id: request.id, body: { Hello: { protocol_version: 1, server: "fake" } } }));
    const client = new HeadroomClient({ socketPath: fake.socket, maxFrame: 1000, onWarning: () => {} });
    const result = await client.compress(chatConversation());
    assert.equal(result.error?.code, "too_large");
    assert.equal(fake.requests.length, 0);
    await fake.close();
  });
});

test("the default timeout is 2 s", () => {
  assert.equal(new HeadroomClient().timeoutMs, 2000);
});

test("socket path: HEADROOM_SOCKET, else XDG_RUNTIME_DIR, else /tmp/headroom-$UID", () => {
  assert.equal(defaultSocketPath({ HEADROOM_SOCKET: "/x/s.sock", XDG_RUNTIME_DIR: "/run/user/7" }), "/x/s.sock");
  assert.equal(defaultSocketPath({ HEADROOM_SOCKET: "", XDG_RUNTIME_DIR: "/run/user/7" }), "/run/user/7/headroom/headroomd.sock");
  assert.equal(defaultSocketPath({}), `/tmp/headroom-${process.getuid!()}/headroomd.sock`);
});
