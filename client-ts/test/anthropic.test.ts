// withHeadroom(new Anthropic()) against a fake Anthropic server on 127.0.0.1 and the real daemon:
// native tool_result blocks compressed, the retrieve loop (inside streams too), memory and its
// tools, messages.stream() / parse() / withResponse() / asResponse() / withOptions(), usage
// summed over the rounds, what is not compressed warning once, and the daemon down.
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

/**
 * A streamed message: text blocks (`string`) and tool uses (`[id, name, input]`, the input in two
 * JSON pieces), then the stop reason and usage.
 */
function streamed(blocks: Array<string | [string, string, unknown]>, usage: [number, number] = [100, 10]): Canned {
  const start = { id: "msg_s", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage[0], output_tokens: 1 } };
  const events: Array<[string, unknown]> = [["message_start", { type: "message_start", message: start }]];
  blocks.forEach((block, index) => {
    if (typeof block === "string") {
      events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }]);
      events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block } }]);
    } else {
      const json = JSON.stringify(block[2]);
      events.push(["content_block_start", { type: "content_block_start", index, content_block: { type: "tool_use", id: block[0], name: block[1], input: {} } }]);
      for (const piece of [json.slice(0, 4), json.slice(4)]) {
        events.push(["content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } }]);
      }
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  });
  const stop = blocks.some((b) => typeof b !== "string") ? "tool_use" : "end_turn";
  events.push(["message_delta", { type: "message_delta", delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage[1] } }]);
  events.push(["message_stop", { type: "message_stop" }]);
  return { sse: events };
}

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
    assert.deepStrictEqual(got.usage, { input_tokens: 20, output_tokens: 10 }, "the usage of both calls");
    assert.equal((got as any).headroom.retrieveRounds, 1);
    assert.ok((got as any).headroom.tokensBefore > 5 * (got as any).headroom.tokensAfter);
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

  test("messages.stream(): the retrieve round is answered inside the stream; the final message holds both rounds' text and usage", async () => {
    const { provider, client } = await anthropic([
      streamed(["Let me read the whole log.", ["toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY }]], [100, 12]),
      streamed(["Blocks failed on 10.251.30.85."], [300, 8]),
    ]);
    const stream: any = client.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] } as any);
    let out = "";
    stream.on("text", (delta: string) => (out += delta));
    const final = await stream.finalMessage();
    assert.equal(out, "Let me read the whole log.Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(final.content.map((b: any) => [b.type, b.text]), [["text", "Let me read the whole log."], ["text", "Blocks failed on 10.251.30.85."]]);
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.input_tokens, 400);
    assert.equal(final.usage.output_tokens, 20);
    assert.equal(provider.requests.length, 2);
    const [first, second] = provider.requests.map((r) => r.body);
    assert.equal(first.stream, true);
    assert.match(first.messages[2].content[0].content, MARKER);
    assert.deepStrictEqual(first.tools.map((t: any) => t.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.deepStrictEqual(second.messages[3], {
      role: "assistant",
      content: [{ type: "text", text: "Let me read the whole log." }, { type: "tool_use", id: "toolu_r", name: RETRIEVE_TOOL_NAME, input: { hash: KEY } }],
    });
    assert.deepStrictEqual(second.messages[4], { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_r", content: LOG }] });
    assert.equal(stream.headroom.retrieveRounds, 1);
    assert.ok(stream.headroom.tokensBefore > 5 * stream.headroom.tokensAfter);
    await provider.close();
  });

  test("create({ stream: true }): one message, its blocks numbered in order, no tool_use event reaches the app", async () => {
    const { provider, client } = await anthropic([streamed(["Reading.", ["toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]), streamed(["Done."])]);
    const stream = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), stream: true } as any);
    const events: any[] = [];
    for await (const event of stream as any) events.push(event);
    assert.equal(events.filter((e) => e.type === "message_start").length, 1);
    assert.equal(events.filter((e) => e.type === "message_stop").length, 1);
    assert.deepStrictEqual(events.filter((e) => e.type === "content_block_start").map((e) => [e.index, e.content_block.type]), [[0, "text"], [1, "text"]]);
    assert.ok(!events.some((e) => e.delta?.type === "input_json_delta"));
    assert.equal(provider.requests.length, 2);
    await provider.close();
  });

  test("streaming: the app's own tool use comes through (renumbered); a retrieve call beside it is dropped", async () => {
    const { provider, client } = await anthropic([streamed([["toolu_r", RETRIEVE_TOOL_NAME, { hash: KEY }], ["toolu_a", "read_log", { path: "/x" }]])]);
    const final: any = await client.messages.stream({ model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] } as any).finalMessage();
    assert.deepStrictEqual(final.content, [{ type: "tool_use", id: "toolu_a", name: "read_log", input: { path: "/x" } }]);
    assert.equal(final.stop_reason, "tool_use");
    assert.equal(provider.requests.length, 1);
    await provider.close();
  });

  test("messages.parse(), withResponse() and asResponse() are compressed; asResponse() without Headroom's tools", async () => {
    const { provider, client } = await anthropic([message([text("parsed")]), message([text("with response")]), message([text("raw")])]);
    const body = { model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation(), tools: [READ_LOG] };
    const parsed: any = await client.messages.parse(body as any);
    assert.equal(parsed.content[0].text, "parsed");
    assert.ok(parsed.headroom.tokensBefore > 5 * parsed.headroom.tokensAfter);
    const { data, response } = await client.messages.create(body as any).withResponse();
    assert.deepStrictEqual(data.content, [text("with response")]);
    assert.equal(response.status, 200);
    const raw = await client.messages.create(body as any).asResponse();
    assert.equal(((await raw.json()) as any).content[0].text, "raw");
    for (const r of provider.requests) assert.match(r.body.messages[2].content[0].content, MARKER);
    assert.deepStrictEqual(provider.requests[1]!.body.tools.map((t: any) => t.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.deepStrictEqual(provider.requests[2]!.body.tools, [READ_LOG]);
    await provider.close();
  });

  test("withOptions() is wrapped; beta.messages is not compressed and warns once per process", async () => {
    const { provider, client } = await anthropic([message([text("ok")])]);
    const body = { model: "claude-sonnet-4-5", max_tokens: 512, messages: conversation() };
    await client.withOptions({ timeout: 5000 }).messages.create(body as any);
    assert.match(provider.requests[0]!.body.messages[2].content[0].content, MARKER);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => (m.startsWith("headroom:") ? warnings.push(m) : undefined);
    try {
      await client.beta.messages.create(body as any);
      await client.beta.messages.create(body as any);
    } finally {
      console.warn = warn;
    }
    assert.equal(provider.requests[1]!.body.messages[2].content[0].content, LOG);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /beta\.messages is not compressed.*messages\.create/);
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
