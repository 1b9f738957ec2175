// Memory: the four calls and the memory tools' answers against a fake daemon (exactly what goes
// on the wire, exactly what the model reads), then against the real daemon (round trip, scope
// isolation, supersession with asOf, compress with memory), and a multi-turn session through
// the OpenAI SDK wrapper: a fact saved in conversation A is in conversation B's prompt.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import {
  answerTool,
  HeadroomError,
  MEMORY_SAVE_TOOL_NAME,
  MEMORY_SEARCH_TOOL_NAME,
  RETRIEVE_TOOL_NAME,
  withHeadroom,
  type MemoryScope,
} from "../src/index.js";
import type * as wire from "../src/wire.js";
import { completion, deadSocket, fakeDaemon, fakeProvider, quietClient, streamedRound, suiteDaemon, type Canned } from "./helpers.js";

const NOV_20 = Date.UTC(2025, 10, 20);

function wireFact(over: Partial<wire.MemoryFact> = {}): wire.MemoryFact {
  return {
    id: "0000000000000100",
    scope: { user: "ada", agent: "bot", session: null },
    text: "The deploy target is eu-west-1.",
    source: null,
    key: "deploy target",
    created_ms: BigInt(NOV_20 + 500),
    valid_from_ms: BigInt(NOV_20),
    valid_to_ms: null,
    superseded_by: null,
    score: 0,
    ...over,
  };
}

/** A fake daemon that says Hello and answers every other operation with `answer(op)`. */
function fake(answer: (op: wire.Op) => wire.ReplyBody) {
  return fakeDaemon((request) => ({
    id: request.id,
    body: typeof request.op === "object" && "Hello" in request.op ? { Hello: { protocol_version: 3, server: "fake" } } : answer(request.op),
  }));
}

/** The operations a fake daemon received after the handshake. */
function ops(requests: wire.Request[]): wire.Op[] {
  return requests.map((r) => r.op).filter((op) => !(typeof op === "object" && "Hello" in op));
}

describe("memory against a fake daemon", () => {
  test("add, search, list and forget send what they are given; times as Date or ms", async () => {
    const replies: wire.ReplyBody[] = [
      { MemoryAdded: { fact: wireFact({ source: "chat 7" }), duplicate: false, superseded: ["00000000000000ff"] } },
      { MemoryFacts: { facts: [wireFact({ score: 1.5, scope: { user: "ada", agent: null, session: "s1" } })] } },
      { MemoryFacts: { facts: [] } },
      { MemoryForgotten: { removed: 3n } },
    ];
    const daemon = await fake(() => replies.shift()!);
    const { client } = quietClient(daemon.socket);
    const scope: MemoryScope = { user: "ada", agent: "bot" };

    const added = await client.memory.add("The deploy target is eu-west-1.", scope, { key: "deploy target", source: "chat 7", validFrom: new Date(NOV_20) });
    assert.deepStrictEqual(added, {
      fact: {
        id: "0000000000000100",
        scope: { user: "ada", agent: "bot" },
        text: "The deploy target is eu-west-1.",
        source: "chat 7",
        key: "deploy target",
        createdMs: NOV_20 + 500,
        validFromMs: NOV_20,
        validToMs: null,
        supersededBy: null,
        score: 0,
      },
      duplicate: false,
      superseded: ["00000000000000ff"],
    });
    const found = await client.memory.search("where do we deploy?", { user: "ada", session: "s1" }, { asOf: NOV_20 + 1, limit: 5, budgetTokens: 200 });
    assert.deepStrictEqual(found.map((f) => [f.scope, f.score]), [[{ user: "ada", session: "s1" }, 1.5]]);
    assert.deepStrictEqual(await client.memory.list({ user: "ada" }, { includeSuperseded: true, includeNarrower: true }), []);
    assert.equal(await client.memory.forget({ user: "ada" }, { id: "00000000000000ff" }), 3);

    assert.deepStrictEqual(ops(daemon.requests), [
      {
        MemoryAdd: {
          scope: { user: "ada", agent: "bot", session: null },
          text: "The deploy target is eu-west-1.",
          source: "chat 7",
          key: "deploy target",
          valid_from_ms: BigInt(NOV_20),
        },
      },
      {
        MemorySearch: {
          scope: { user: "ada", agent: null, session: "s1" },
          query: "where do we deploy?",
          as_of_ms: BigInt(NOV_20 + 1),
          limit: 5,
          budget_tokens: 200,
        },
      },
      { MemoryList: { scope: { user: "ada", agent: null, session: null }, as_of_ms: null, include_superseded: true, include_narrower: true } },
      { MemoryForget: { scope: { user: "ada", agent: null, session: null }, id: "00000000000000ff" } },
    ]);
    client.close();
    await daemon.close();
  });

  test("defaults: no options on the wire", async () => {
    const daemon = await fake((op) => (typeof op === "object" && "MemoryAdd" in op ? { MemoryAdded: { fact: wireFact(), duplicate: false, superseded: [] } } : { MemoryFacts: { facts: [] } }));
    const { client } = quietClient(daemon.socket);
    await client.memory.add("x", { user: "ada" });
    await client.memory.search("", { user: "ada" });
    await client.memory.list({ user: "ada" });
    assert.deepStrictEqual(ops(daemon.requests), [
      { MemoryAdd: { scope: { user: "ada", agent: null, session: null }, text: "x", source: null, key: null, valid_from_ms: null } },
      { MemorySearch: { scope: { user: "ada", agent: null, session: null }, query: "", as_of_ms: null, limit: 0, budget_tokens: 0 } },
      { MemoryList: { scope: { user: "ada", agent: null, session: null }, as_of_ms: null, include_superseded: false, include_narrower: false } },
    ]);
    client.close();
    await daemon.close();
  });

  test("failures reject with a HeadroomError (or a TypeError for a time that is none)", async () => {
    const daemon = await fake(() => ({ Error: { code: "bad_request", message: "a memory scope needs a user" } }));
    const { client } = quietClient(daemon.socket);
    await assert.rejects(client.memory.add("x", { user: "" }), (e: HeadroomError) => e instanceof HeadroomError && e.code === "bad_request" && /needs a user/.test(e.message));
    await assert.rejects(client.memory.forget({ user: "" }), (e: HeadroomError) => e.code === "bad_request");
    await assert.rejects(client.memory.search("q", { user: "ada" }, { asOf: new Date(Number.NaN) }), TypeError);
    await assert.rejects(client.memory.list({ user: "ada" }, { asOf: -1 }), TypeError);
    client.close();
    await daemon.close();
    const { client: dead } = quietClient(deadSocket());
    await assert.rejects(dead.memory.list({ user: "ada" }), (e: HeadroomError) => e.code === "unavailable");
  });

  test("answerTool: the memory tools' texts of docs/memory.md; saves go to the agent, else the user", async () => {
    const replies: wire.ReplyBody[] = [
      { MemoryAdded: { fact: wireFact(), duplicate: false, superseded: [] } },
      { MemoryAdded: { fact: wireFact({ id: "00000000000000ff" }), duplicate: true, superseded: [] } },
      { MemoryAdded: { fact: wireFact(), duplicate: false, superseded: ["00000000000000fe", "00000000000000ff"] } },
      { MemoryAdded: { fact: wireFact(), duplicate: false, superseded: [] } },
      { MemoryFacts: { facts: [wireFact(), wireFact({ text: "Ada prefers vim.", valid_from_ms: BigInt(Date.UTC(2026, 0, 5, 23, 59)) })] } },
      { MemoryFacts: { facts: [] } },
    ];
    const daemon = await fake(() => replies.shift()!);
    const { client } = quietClient(daemon.socket);
    const session: MemoryScope = { user: "ada", agent: "bot", session: "s1" };
    assert.equal(await client.answerTool(MEMORY_SAVE_TOOL_NAME, '{"text":"The deploy target is eu-west-1."}', { memory: { scope: session } }), "saved as fact 0000000000000100");
    assert.equal(await client.answerTool(MEMORY_SAVE_TOOL_NAME, { text: "the deploy target is eu-west-1" }, { memory: { scope: session } }), "already remembered as fact 00000000000000ff");
    assert.equal(
      await answerTool(MEMORY_SAVE_TOOL_NAME, { text: "The deploy target is eu-central-1.", key: "deploy target" }, { memory: { scope: session }, client }),
      "saved as fact 0000000000000100; it replaces 2 earlier fact(s)",
    );
    assert.equal(await client.answerTool(MEMORY_SAVE_TOOL_NAME, { text: "Ada's favourite editor is vim." }, { memory: { scope: { user: "ada", session: "s2" } } }), "saved as fact 0000000000000100");
    assert.equal(
      await client.answerTool(MEMORY_SEARCH_TOOL_NAME, '{"query":"deploy"}', { memory: { scope: session } }),
      "- The deploy target is eu-west-1. (since 2025-11-20)\n- Ada prefers vim. (since 2026-01-05)",
    );
    assert.equal(await client.answerTool(MEMORY_SEARCH_TOOL_NAME, "{}", { memory: { scope: session } }), "no remembered fact matches");

    const sent = ops(daemon.requests) as any[];
    assert.deepStrictEqual(sent[0].MemoryAdd, {
      scope: { user: "ada", agent: "bot", session: null },
      text: "The deploy target is eu-west-1.",
      source: "conversation s1",
      key: null,
      valid_from_ms: null,
    });
    assert.equal(sent[2].MemoryAdd.key, "deploy target");
    assert.deepStrictEqual(sent[3].MemoryAdd.scope, { user: "ada", agent: null, session: null }, "no agent: the user's level");
    assert.deepStrictEqual(sent[4].MemorySearch, { scope: { user: "ada", agent: "bot", session: "s1" }, query: "deploy", as_of_ms: null, limit: 0, budget_tokens: 0 });
    assert.equal(sent[5].MemorySearch.query, "");
    client.close();
    await daemon.close();
  });

  test("answerTool never rejects", async () => {
    const { client, warnings } = quietClient(deadSocket());
    const scope = { user: "ada" };
    assert.equal(await client.answerTool(MEMORY_SAVE_TOOL_NAME, "{not json", { memory: { scope } }), 'memory_save needs a "text": the fact to remember.');
    assert.equal(await client.answerTool(MEMORY_SAVE_TOOL_NAME, { text: "  " }, { memory: { scope } }), 'memory_save needs a "text": the fact to remember.');
    assert.equal(await client.answerTool("read_log", {}, { memory: { scope } }), "Headroom has no tool named read_log.");
    assert.equal(await client.answerTool(MEMORY_SEARCH_TOOL_NAME, { query: "x" }), "Headroom cannot answer memory_search: no memory scope was given.");
    assert.match(await client.answerTool(RETRIEVE_TOOL_NAME, "{not json"), /needs a "hash"/);
    assert.match(await client.answerTool(MEMORY_SAVE_TOOL_NAME, { text: "x y z" }, { memory: { scope } }), /^Headroom could not answer memory_save \(cannot reach headroomd/);
    assert.match(await client.answerTool(MEMORY_SEARCH_TOOL_NAME, { query: "x" }, { memory: { scope } }), /^Headroom could not answer memory_search/);
    assert.equal(warnings.length, 1);
  });

  test("compress sends the memory options; the reply's memories and memory tools come back parsed", async () => {
    const tools = [{ type: "function", function: { name: MEMORY_SAVE_TOOL_NAME } }, { type: "function", function: { name: MEMORY_SEARCH_TOOL_NAME } }];
    const daemon = await fake((op) => {
      const messages = (op as { Compress: wire.CompressRequest }).Compress.messages;
      return {
        Compressed: {
          messages,
          tokens_before: 0n,
          tokens_after: 0n,
          ccr_keys: [],
          compressors: [],
          retrieve_tool: null,
          format: "OpenAiChat",
          memories: 2,
          memory_tools: Buffer.from(JSON.stringify(tools)),
          rewrote_earlier: false,
          added_tokens: 0n,
          left_as_is: [],
        },
      };
    });
    const { client } = quietClient(daemon.socket);
    const messages = [{ role: "user", content: "where do we deploy?" }];
    const result = await client.compress(messages, { memory: { scope: { user: "ada", agent: "bot", session: "s1" }, budgetTokens: 300, tools: true } });
    assert.equal(result.messages, messages);
    assert.equal(result.memories, 2);
    assert.deepStrictEqual(result.memoryTools, tools);
    await client.compress(messages, { memory: { scope: { user: "ada" } } });
    await client.compress(messages);
    const options = ops(daemon.requests).map((op) => (op as { Compress: wire.CompressRequest }).Compress.options.memory);
    assert.deepStrictEqual(options, [
      { scope: { user: "ada", agent: "bot", session: "s1" }, budget_tokens: 300, tools: true },
      { scope: { user: "ada", agent: null, session: null }, budget_tokens: 0, tools: false },
      null,
    ]);
    client.close();
    await daemon.close();
  });

  test("compress with memory fails open like any other", async () => {
    const { client } = quietClient(deadSocket());
    const messages = [{ role: "user", content: "where do we deploy?" }];
    const result = await client.compress(messages, { memory: { scope: { user: "ada" }, tools: true } });
    assert.equal(result.messages, messages);
    assert.equal(result.memories, 0);
    assert.equal(result.memoryTools, null);
    assert.equal(result.error?.code, "unavailable");
  });
});

describe("memory against the real daemon", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  test("round trip: add, search, list, forget", async () => {
    const m = env.client.memory;
    const scope = { user: "rt", agent: "bot" };
    const added = await m.add("The deploy target is eu-west-1.", scope, { source: "test" });
    assert.equal(added.duplicate, false);
    assert.deepStrictEqual(added.superseded, []);
    assert.match(added.fact.id, /^[0-9a-f]{16}$/);
    assert.deepStrictEqual(added.fact.scope, scope);
    assert.equal(added.fact.source, "test");
    assert.equal(added.fact.key, "deploy target");
    assert.equal(added.fact.validToMs, null);
    assert.ok(Math.abs(added.fact.createdMs - Date.now()) < 60_000);
    const again = await m.add("the deploy target is EU-WEST-1", scope);
    assert.equal(again.duplicate, true);
    assert.equal(again.fact.id, added.fact.id);

    const found = await m.search("which deploy target?", { ...scope, session: "s1" });
    assert.deepStrictEqual(found.map((f) => f.id), [added.fact.id]);
    assert.ok(found[0]!.score > 0);
    assert.deepStrictEqual((await m.list(scope)).map((f) => f.id), [added.fact.id]);
    assert.equal(await m.forget(scope, { id: added.fact.id }), 1);
    assert.deepStrictEqual(await m.list(scope), []);
    await assert.rejects(m.add("x", { user: "" }), (e: HeadroomError) => e.code === "bad_request");
  });

  test("scope isolation: a session sees its own, its agent's and its user's facts, nothing else", async () => {
    const m = env.client.memory;
    const text = (who: string) => `The build server of ${who} is called zephyr.`;
    const where: Array<[string, MemoryScope]> = [
      ["user", { user: "iso-ada" }],
      ["agent", { user: "iso-ada", agent: "bot" }],
      ["session", { user: "iso-ada", agent: "bot", session: "s1" }],
      ["sibling agent", { user: "iso-ada", agent: "other" }],
      ["sibling session", { user: "iso-ada", agent: "bot", session: "s2" }],
      ["agentless session", { user: "iso-ada", session: "s1" }],
      ["other user", { user: "iso-bob" }],
      ["other user's agent", { user: "iso-bob", agent: "bot" }],
    ];
    for (const [who, scope] of where) await m.add(text(who), scope);
    const seen = async (scope: MemoryScope) => (await m.search("build server zephyr", scope, { limit: 50 })).map((f) => f.text).sort();
    assert.deepStrictEqual(await seen({ user: "iso-ada", agent: "bot", session: "s1" }), [text("agent"), text("session"), text("user")]);
    assert.deepStrictEqual(await seen({ user: "iso-ada", agent: "bot" }), [text("agent"), text("user")]);
    assert.deepStrictEqual(await seen({ user: "iso-ada" }), [text("user")]);
    assert.deepStrictEqual(await seen({ user: "iso-ada", session: "s1" }), [text("agentless session"), text("user")]);
    assert.deepStrictEqual(await seen({ user: "iso-bob", agent: "other" }), [text("other user")]);
    const under = await m.list({ user: "iso-ada", agent: "bot" }, { includeNarrower: true });
    assert.deepStrictEqual(under.map((f) => f.text).sort(), [text("agent"), text("session"), text("sibling session")]);
    assert.equal(await m.forget({ user: "iso-ada", agent: "bot" }), 3);
    assert.deepStrictEqual(await seen({ user: "iso-ada", agent: "bot", session: "s1" }), [text("user")]);
    assert.deepStrictEqual(await seen({ user: "iso-bob", agent: "bot" }), [text("other user"), text("other user's agent")]);
  });

  test("supersession: the old fact is closed, not deleted, and asOf still finds it", async () => {
    const m = env.client.memory;
    const scope = { user: "sup", agent: "bot" };
    const jan = new Date(Date.UTC(2026, 0, 1));
    const mar = Date.UTC(2026, 2, 1);
    const old = await m.add("The deploy target is us-east-1.", scope, { validFrom: jan });
    const now = await m.add("The deploy target is eu-west-1.", scope, { validFrom: mar });
    assert.deepStrictEqual(now.superseded, [old.fact.id]);
    assert.deepStrictEqual((await m.search("deploy target", scope)).map((f) => f.text), ["The deploy target is eu-west-1."]);
    assert.deepStrictEqual((await m.search("deploy target", scope, { asOf: Date.UTC(2026, 1, 1) })).map((f) => f.text), ["The deploy target is us-east-1."]);
    assert.deepStrictEqual((await m.list(scope, { asOf: new Date(Date.UTC(2026, 1, 1)) })).map((f) => f.id), [old.fact.id]);
    const history = await m.list(scope, { includeSuperseded: true });
    const closed = history.find((f) => f.id === old.fact.id)!;
    assert.equal(history.length, 2);
    assert.equal(closed.validFromMs, jan.getTime());
    assert.equal(closed.validToMs, mar);
    assert.equal(closed.supersededBy, now.fact.id);
    const keyed = await m.add("We ship to ap-south-1 now.", scope, { key: "deploy target", validFrom: Date.UTC(2026, 3, 1) });
    assert.deepStrictEqual(keyed.superseded, [now.fact.id]);
    assert.equal(await env.client.answerTool(MEMORY_SEARCH_TOOL_NAME, { query: "ship" }, { memory: { scope } }), "- We ship to ap-south-1 now. (since 2026-04-01)");
  });

  test("compress with memory: the facts go in front of the latest user message; tools when asked", async () => {
    const scope = { user: "cmp", agent: "bot", session: "s1" };
    await env.client.memory.add("The deploy target is eu-west-1.", { user: "cmp", agent: "bot" });
    const body: any = { model: "gpt-4o", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Which deploy target should the queue use?" }], tools: [{ type: "function", function: { name: "read_log", parameters: { type: "object" } } }] };
    const result = await env.client.compress(body, { memory: { scope, tools: true } });
    assert.equal(result.error, null);
    assert.equal(result.memories, 1);
    const user = result.messages.messages[1].content as string;
    assert.match(user, /^<memory>\n- The deploy target is eu-west-1\. \(since \d{4}-\d\d-\d\d\)\n<\/memory>\n/);
    assert.ok(user.endsWith("Which deploy target should the queue use?"));
    assert.equal(result.messages.messages[0].content, "Be brief.");
    assert.deepStrictEqual(result.memoryTools!.map((t: any) => t.function.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    assert.deepStrictEqual(result.messages.tools.map((t: any) => t.function.name), ["read_log", MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    const elsewhere = await env.client.compress(body.messages, { memory: { scope: { user: "cmp", agent: "other" } } });
    assert.equal(elsewhere.memories, 0);
    assert.equal(elsewhere.memoryTools, null);
    assert.equal(elsewhere.messages, body.messages, "nothing to add, nothing changed");
  });
});

describe("a fact saved in conversation A is used in conversation B (OpenAI SDK wrapper)", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  const FACT = "The deploy target is eu-west-1.";
  const SYSTEM = { role: "system", content: "You are the billing team's assistant." };

  const answer = (text: string) => completion({ content: text });

  /** One conversation: the wrapper with the memory scope of `session` (the tools on by default). */
  async function conversation(session: string, script: Canned[], agent = "billing-bot", tools?: boolean) {
    const provider = await fakeProvider(script);
    const raw = new OpenAI({ apiKey: "sk-test", baseURL: `${provider.url}/v1`, maxRetries: 0 });
    const openai = withHeadroom(raw, { client: env.client, memory: { scope: { user: "ada", agent, session }, tools } });
    return { provider, openai };
  }

  test("A saves, B reads, B's next request re-sends its earlier messages byte for byte", async () => {
    const save = completion(
      { tool_calls: [{ id: "call_m", type: "function", function: { name: MEMORY_SAVE_TOOL_NAME, arguments: JSON.stringify({ text: FACT }) } }] },
      "tool_calls",
    );
    const a = await conversation("A", [save, answer("Noted: eu-west-1.")]);
    const gotA = await a.openai.chat.completions.create({ model: "gpt-4o", messages: [SYSTEM, { role: "user", content: "From now on we deploy to eu-west-1." }] } as any);
    assert.equal(gotA.choices[0]!.message.content, "Noted: eu-west-1.");
    assert.equal(gotA.choices[0]!.message.tool_calls, undefined, "the application never sees the memory_save call");
    assert.equal(a.provider.requests.length, 2);
    assert.deepStrictEqual(a.provider.requests[0]!.body.tools.map((t: any) => t.function.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    const toolAnswer = a.provider.requests[1]!.body.messages.at(-1);
    assert.equal(toolAnswer.role, "tool");
    assert.equal(toolAnswer.tool_call_id, "call_m");
    const id = /^saved as fact ([0-9a-f]{16})$/.exec(toolAnswer.content)?.[1];
    assert.ok(id, toolAnswer.content);
    const saved = await env.client.memory.list({ user: "ada", agent: "billing-bot" });
    assert.deepStrictEqual(saved.map((f) => [f.id, f.text, f.scope, f.source]), [[id, FACT, { user: "ada", agent: "billing-bot" }, "conversation A"]]);
    await a.provider.close();

    const b = await conversation("B", [answer("Use eu-west-1."), answer("Yes, also for the archive.")]);
    const q1 = { role: "user", content: "Which deploy target should the new queue use?" };
    const gotB = await b.openai.chat.completions.create({ model: "gpt-4o", messages: [SYSTEM, q1] } as any);
    assert.equal(gotB.choices[0]!.message.content, "Use eu-west-1.");
    const first = b.provider.requests[0]!;
    const latest = first.body.messages.at(-1);
    assert.equal(latest.role, "user");
    assert.match(latest.content, /^<memory>\n/);
    assert.ok(latest.content.includes(`- ${FACT} (since `), latest.content);
    assert.ok(latest.content.endsWith(q1.content));

    const history = [SYSTEM, q1, { role: "assistant", content: "Use eu-west-1." }, { role: "user", content: "And the archive bucket, same deploy target?" }];
    await b.openai.chat.completions.create({ model: "gpt-4o", messages: history } as any);
    const second = b.provider.requests[1]!;
    const earlier = JSON.stringify(first.body.messages);
    assert.ok(first.raw.includes(earlier), "the SDK sends JSON.stringify's bytes");
    assert.ok(second.raw.includes(`"messages":${earlier.slice(0, -1)},`), "the first request's messages open the second's, byte for byte");
    assert.deepStrictEqual(second.body.messages[2], history[2]);
    assert.ok(second.body.messages[3].content.endsWith(history[3]!.content));
    await b.provider.close();

    const other = await conversation("C", [answer("I do not know.")], "other-bot");
    await other.openai.chat.completions.create({ model: "gpt-4o", messages: [SYSTEM, q1] } as any);
    assert.deepStrictEqual(other.provider.requests[0]!.body.messages, [SYSTEM, q1], "another agent of the same user does not see it");
    await other.provider.close();
  });

  test("memory_search is answered too, in a plain call and inside a stream", async () => {
    const search = completion(
      { tool_calls: [{ id: "call_s", type: "function", function: { name: MEMORY_SEARCH_TOOL_NAME, arguments: JSON.stringify({ query: "deploy target" }) } }] },
      "tool_calls",
    );
    const d = await conversation("D", [
      search,
      answer("eu-west-1"),
      streamedRound("Looking. ", [["call_t", MEMORY_SEARCH_TOOL_NAME, { query: "deploy target" }]]),
      streamedRound("eu-west-1"),
    ]);
    const got = await d.openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "What did we say?" }] } as any);
    assert.equal(got.choices[0]!.message.content, "eu-west-1");
    const found = new RegExp(`^- ${FACT.replace(/\./g, "\\.")} \\(since \\d{4}-\\d\\d-\\d\\d\\)$`);
    assert.match(d.provider.requests[1]!.body.messages.at(-1).content, found);
    const stream = await d.openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Which deploy target?" }], stream: true } as any);
    let text = "";
    for await (const part of stream as any) text += part.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Looking. eu-west-1");
    const streamed = d.provider.requests[2]!.body;
    assert.deepStrictEqual(streamed.tools.map((t: any) => t.function.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    assert.match(streamed.messages[0].content, /^<memory>/, "the facts are added");
    assert.match(d.provider.requests[3]!.body.messages.at(-1).content, found, "the search answered inside the stream");
    await d.provider.close();
  });

  test("memory.tools = false: the facts without the tools", async () => {
    const e = await conversation("E", [answer("eu-west-1")], "billing-bot", false);
    await e.openai.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "Which deploy target?" }] } as any);
    const sent = e.provider.requests[0]!.body;
    assert.equal(sent.tools, undefined);
    assert.match(sent.messages[0].content, /^<memory>\n- The deploy target is eu-west-1\./);
    await e.provider.close();
  });
});
