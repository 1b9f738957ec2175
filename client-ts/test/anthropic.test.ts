// withHeadroom(new Anthropic()) against a fake Anthropic server on 127.0.0.1 and the real daemon:
// native tool_result blocks compressed, the retrieve loop, memory and its tools, streaming, and
// the daemon down.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME, withHeadroom, RETRIEVE_TOOL_NAME, type HeadroomOptions } from "../src/index.js";
import { fakeProvider, keyOf, LOG, MARKER, suiteDaemon, type Canned } from "./helpers.js";

const KEY = keyOf(LOG);
const READ_LOG = { name: "read_log", description: "Read a log file", input_schema: { type: "object", properties: { path: { type: "string" } } } };

function message(content: unknown[], stop = "end_turn"): Canned {
  return {
    json: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5",
      content,
      stop_reason: stop,
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5 },
    },
  };
}
const text = (t: string) => ({ type: "text", text: t, citations: null });
const toolUse = (id: string, name: string, input: unknown) => ({ type: "tool_use", id, name, input });

function conversation(): any[] {
  return [
    { role: "user", content: "Why did the HDFS block transfers fail?" },
    { role: "assistant", content: [{ type: "text", text: "Reading the log." }, toolUse("toolu_1", "read_log", { path: "/var/log/hdfs/datanode.log" })] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: LOG }] },
  ];
}

describe("withHeadroom(new Anthropic())", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  async function anthropic(script: Canned[], down = false, options: HeadroomOptions = {}) {
    const provider = await fakeProvider(script);
    const raw = new Anthropic({ apiKey: "sk-ant-test", baseURL: provider.url, maxRetries: 0 });
    return { provider, client: withHeadroom(raw, { client: down ? env.dead : env.client, ...options }) };
  }

  test("the provider receives the compressed tool_result, the system prompt and tools intact", async () => {
    const { provider, client } = await anthropic([message([text("Blocks failed on 10.251.30.85.")])]);
    const body = { model: "claude-sonnet-4-5", max_tokens: 512, system: "You are an SRE agent.", messages: conversation(), tools: [READ_LOG] };
    const before = structuredClone(body);
    const got = await client.messages.create(body as any);
    assert.deepStrictEqual(got.content, [text("Blocks failed on 10.251.30.85.")]);
    assert.deepStrictEqual(body, before, "the caller's request is untouched");
    const sent = provider.requests[0]!;
    assert.equal(sent.path, "/v1/messages");
    assert.equal(sent.body.system, "You are an SRE agent.");
    assert.deepStrictEqual(sent.body.messages.slice(0, 2), body.messages.slice(0, 2));
    const result = sent.body.messages[2].content[0];
    assert.equal(result.type, "tool_result");
    assert.equal(result.tool_use_id, "toolu_1");
    assert.ok(result.content.length < LOG.length / 5);
    assert.equal(MARKER.exec(result.content)?.[1], KEY);
    assert.deepStrictEqual(sent.body.tools.map((t: any) => t.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.equal(sent.body.tools[1].input_schema.required[0], "hash");
    await provider.close();
  });

  test("a headroom_retrieve tool_use is answered with a tool_result and the model asked again", async () => {
    const { provider, client } = await anthropic([
      message([text("Let me read the whole log."), toolUse("toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY })], "tool_use"),
      message([text("The full log shows the failures.")]),
    ]);
    const got = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] } as any);
    assert.deepStrictEqual(got.content, [text("The full log shows the failures.")]);
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second.length, 5);
    assert.deepStrictEqual(second[3], { role: "assistant", content: [text("Let me read the whole log."), toolUse("toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY })] });
    assert.deepStrictEqual(second[4], { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_r", content: LOG }] });
    await provider.close();
  });

  test("the application's own tool_use comes back to it; a mixed-in retrieve call is dropped", async () => {
    const { provider, client } = await anthropic([
      message([toolUse("toolu_a", "read_log", { path: "/x" }), toolUse("toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY })], "tool_use"),
    ]);
    const got = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] } as any);
    assert.equal(provider.requests.length, 1);
    assert.deepStrictEqual(got.content, [toolUse("toolu_a", "read_log", { path: "/x" })]);
    assert.equal(got.stop_reason, "tool_use");
    await provider.close();
  });

  test("memory: the facts reach the latest user message; a memory_save tool_use is answered and the model asked again", async () => {
    await env.client.memory.add("The deploy target is eu-west-1.", { user: "ada", agent: "sre" });
    const memory = { scope: { user: "ada", agent: "sre", session: "s1" }, tools: true };
    const { provider, client } = await anthropic(
      [message([toolUse("toolu_m", MEMORY_SAVE_TOOL_NAME, { text: "Ada's favourite editor is vim." })], "tool_use"), message([text("Noted.")])],
      false,
      { memory },
    );
    const body = { model: "claude-sonnet-4-5", max_tokens: 512, system: "You are an SRE agent.", messages: [{ role: "user", content: "Which deploy target do we use? I like vim, by the way." }] };
    const got = await client.messages.create(body as any);
    assert.deepStrictEqual(got.content, [text("Noted.")]);
    assert.equal(got.stop_reason, "end_turn");
    assert.equal(provider.requests.length, 2);
    const first = provider.requests[0]!.body;
    assert.equal(first.system, "You are an SRE agent.");
    assert.match(first.messages[0].content, /^<memory>\n- The deploy target is eu-west-1\. \(since \d{4}-\d\d-\d\d\)\n<\/memory>\n/);
    assert.ok(first.messages[0].content.endsWith(body.messages[0]!.content));
    assert.deepStrictEqual(first.tools.map((t: any) => t.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    assert.ok(first.tools[0].input_schema, "tools in Anthropic's shape");
    const answer = provider.requests[1]!.body.messages.at(-1);
    assert.equal(answer.content[0].tool_use_id, "toolu_m");
    assert.match(answer.content[0].content, /^saved as fact [0-9a-f]{16}$/);
    const facts = await env.client.memory.list({ user: "ada", agent: "sre" });
    assert.ok(facts.some((f) => f.text === "Ada's favourite editor is vim." && f.scope.session === undefined));
    await provider.close();
  });

  test("memory: a memory_save beside the application's own tool use is still carried out, and hidden", async () => {
    const memory = { scope: { user: "ada", agent: "sre", session: "s2" }, tools: true };
    const { provider, client } = await anthropic(
      [message([toolUse("toolu_a", "read_log", { path: "/x" }), toolUse("toolu_m", MEMORY_SAVE_TOOL_NAME, { text: "The on-call engineer is Grace." })], "tool_use")],
      false,
      { memory },
    );
    const got = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] } as any);
    assert.equal(provider.requests.length, 1);
    assert.deepStrictEqual(got.content, [toolUse("toolu_a", "read_log", { path: "/x" })]);
    assert.equal(got.stop_reason, "tool_use");
    assert.deepStrictEqual(provider.requests[0]!.body.tools.map((t: any) => t.name), ["read_log", RETRIEVE_TOOL_NAME, MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    const facts = await env.client.memory.search("on-call engineer", { user: "ada", agent: "sre" });
    assert.deepStrictEqual(facts.map((f) => f.text), ["The on-call engineer is Grace."]);
    await provider.close();
  });

  test("streaming: events arrive, the request was compressed, the tool it cannot answer is not offered", async () => {
    const start = { id: "msg_2", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } };
    const { provider, client } = await anthropic([
      {
        sse: [
          ["message_start", { type: "message_start", message: start }],
          ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
          ["ping", { type: "ping" }],
          ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Blocks " } }],
          ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "failed." } }],
          ["content_block_stop", { type: "content_block_stop", index: 0 }],
          ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 3 } }],
          ["message_stop", { type: "message_stop" }],
        ],
      },
    ]);
    const stream = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), stream: true } as any);
    let out = "";
    for await (const event of stream as any) if (event.type === "content_block_delta") out += event.delta.text;
    assert.equal(out, "Blocks failed.");
    const sent = provider.requests[0]!.body;
    assert.equal(sent.stream, true);
    assert.match(sent.messages[2].content[0].content, MARKER);
    assert.equal(sent.tools, undefined);
    await provider.close();
  });

  test("daemon down: plain and streaming calls go through uncompressed", async () => {
    const { provider, client } = await anthropic(
      [
        message([text("plain")]),
        { sse: [["message_start", { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "x", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } }], ["message_stop", { type: "message_stop" }]] },
      ],
      true,
    );
    const body = { model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] };
    const got = await client.messages.create(body as any);
    assert.deepStrictEqual(got.content, [text("plain")]);
    const events: string[] = [];
    for await (const event of (await client.messages.create({ ...body, stream: true } as any)) as any) events.push(event.type);
    assert.deepStrictEqual(events, ["message_start", "message_stop"]);
    assert.deepStrictEqual(provider.requests[0]!.body, body);
    assert.deepStrictEqual(provider.requests[1]!.body, { ...body, stream: true });
    assert.equal(env.deadWarnings.length, 1);
    await provider.close();
  });
});
