// headroomMiddleware() with ai@6's wrapLanguageModel and a real provider package (@ai-sdk/openai,
// chat model) pointed at a fake OpenAI server on 127.0.0.1, with the real daemon: generateText
// and streamText, Headroom's tools answered in both, usage summed over every call, and
// providerMetadata.headroom.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool, wrapLanguageModel, type ModelMessage } from "ai";
import { MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME, RETRIEVE_TOOL_NAME, type MemoryOptions } from "../src/index.js";
import { headroomMiddleware } from "../src/vercel.js";
import { fakeProvider, keyOf, LOG, MARKER, REPO, streamedRound, suiteDaemon, type Canned, chunk, completion } from "./helpers.js";

const KEY = keyOf(LOG);
const ISSUES = JSON.parse(readFileSync(join(REPO, "tests", "fixtures", "github", "paginate-issues.json"), "utf8"));

const answer = (text: string) => completion({ content: text });
function conversation(output: unknown = { type: "text", value: LOG }): ModelMessage[] {
  return [
    { role: "system", content: "You are an SRE agent." },
    { role: "user", content: "Why did the HDFS block transfers fail?" },
    { role: "assistant", content: [{ type: "tool-call", toolCallId: "call_1", toolName: "read_log", input: { path: "/var/log/hdfs/datanode.log" } }] },
    { role: "tool", content: [{ type: "tool-result", toolCallId: "call_1", toolName: "read_log", output: output as any }] },
  ];
}

const readLog = tool({ description: "Read a log file", inputSchema: jsonSchema<{ path: string }>({ type: "object", properties: { path: { type: "string" } }, required: ["path"] }) });

describe("headroomMiddleware() for the Vercel AI SDK", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  async function model(script: Canned[], down = false, memory?: MemoryOptions) {
    const provider = await fakeProvider(script);
    const openai = createOpenAI({ apiKey: "sk-test", baseURL: `${provider.url}/v1` });
    const wrapped = wrapLanguageModel({ model: openai.chat("gpt-4o"), middleware: headroomMiddleware({ client: down ? env.dead : env.client, memory }) });
    return { provider, model: wrapped };
  }

  test("generateText: the tool result reaches the provider compressed; the app's tools survive", async () => {
    const { provider, model: m } = await model([answer("Blocks failed on 10.251.30.85.")]);
    const messages = conversation();
    const before = structuredClone(messages);
    const result = await generateText({ model: m, messages, tools: { read_log: readLog }, maxRetries: 0 });
    assert.equal(result.text, "Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(messages, before, "the caller's messages are untouched");
    const sent = provider.requests[0]!.body;
    const toolMessage = sent.messages.find((m: any) => m.role === "tool");
    assert.equal(toolMessage.tool_call_id, "call_1");
    assert.ok(toolMessage.content.length < LOG.length / 5, `${toolMessage.content.length} bytes`);
    assert.equal(MARKER.exec(toolMessage.content)?.[1], KEY);
    assert.equal(sent.messages[0].content, "You are an SRE agent.");
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    await provider.close();
  });

  test("generateText: a headroom_retrieve call is answered and the model asked again, unseen by the app", async () => {
    const { provider, model: m } = await model([
      completion({ tool_calls: [{ id: "call_r", type: "function", function: { name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: KEY }) } }] }, "tool_calls"),
      answer("The full log shows the failures."),
    ]);
    const result = await generateText({ model: m, messages: conversation(), tools: { read_log: readLog }, maxRetries: 0 });
    assert.equal(result.text, "The full log shows the failures.");
    assert.deepStrictEqual(result.toolCalls, []);
    assert.equal(result.finishReason, "stop");
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    const last = second.at(-1);
    assert.deepStrictEqual(last, { role: "tool", tool_call_id: "call_r", content: LOG });
    assert.equal(second.at(-2).tool_calls[0].function.name, RETRIEVE_TOOL_NAME);
    await provider.close();
  });

  test("a JSON tool output is compressed and handed to the model as text", async () => {
    const { provider, model: m } = await model([answer("ok")]);
    await generateText({ model: m, messages: conversation({ type: "json", value: ISSUES }), maxRetries: 0 });
    const toolMessage = provider.requests[0]!.body.messages.find((m: any) => m.role === "tool");
    assert.ok(toolMessage.content.length < JSON.stringify(ISSUES).length / 2, `${toolMessage.content.length} bytes`);
    assert.match(toolMessage.content, MARKER);
    await provider.close();
  });

  test("memory: the facts reach the latest user message; a memory_save call is answered, unseen by the app", async () => {
    await env.client.memory.add("The deploy target is eu-west-1.", { user: "ada", agent: "sre" });
    const memory = { scope: { user: "ada", agent: "sre", session: "s1" }, tools: true };
    const { provider, model: m } = await model(
      [
        completion({ tool_calls: [{ id: "call_m", type: "function", function: { name: MEMORY_SAVE_TOOL_NAME, arguments: JSON.stringify({ text: "Ada's favourite editor is vim." }) } }] }, "tool_calls"),
        answer("Noted."),
      ],
      false,
      memory,
    );
    const messages: ModelMessage[] = [
      { role: "system", content: "You are an SRE agent." },
      { role: "user", content: "Which deploy target do we use? I like vim, by the way." },
    ];
    const result = await generateText({ model: m, messages, tools: { read_log: readLog }, maxRetries: 0 });
    assert.equal(result.text, "Noted.");
    assert.deepStrictEqual(result.toolCalls, []);
    assert.equal(result.finishReason, "stop");
    const first = provider.requests[0]!.body;
    assert.equal(first.messages[0].content, "You are an SRE agent.");
    assert.match(first.messages[1].content, /^<memory>\n- The deploy target is eu-west-1\. \(since \d{4}-\d\d-\d\d\)\n<\/memory>\n\nWhich deploy target/);
    assert.deepStrictEqual(first.tools.map((t: any) => t.function.name), ["read_log", MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    const last = provider.requests[1]!.body.messages.at(-1);
    assert.equal(last.tool_call_id, "call_m");
    assert.match(last.content, /^saved as fact [0-9a-f]{16}$/);
    const saved = await env.client.memory.search("favourite editor", { user: "ada", agent: "sre" });
    assert.deepStrictEqual(saved.map((f) => f.text), ["Ada's favourite editor is vim."]);
    await provider.close();
  });

  test("memory with streamText: the facts are added and the memory tools offered", async () => {
    const memory = { scope: { user: "ada", agent: "sre", session: "s2" }, tools: true };
    const { provider, model: m } = await model([{ sse: [chunk({ content: "eu-west-1" }), chunk({}, "stop")], done: true }], false, memory);
    let text = "";
    for await (const part of streamText({ model: m, messages: [{ role: "user", content: "Which deploy target do we use?" }], maxRetries: 0 }).textStream) text += part;
    assert.equal(text, "eu-west-1");
    const sent = provider.requests[0]!.body;
    assert.match(sent.messages[0].content, /^<memory>\n- The deploy target is eu-west-1\./);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    await provider.close();
  });

  test("streamText: text streams, the request was compressed, the retrieve tool offered", async () => {
    const { provider, model: m } = await model([
      { sse: [chunk({ role: "assistant", content: "" }), chunk({ content: "Blocks " }), chunk({ content: "failed." }), chunk({}, "stop")], done: true },
    ]);
    const result = streamText({ model: m, messages: conversation(), tools: { read_log: readLog }, maxRetries: 0 });
    let text = "";
    for await (const part of result.textStream) text += part;
    assert.equal(text, "Blocks failed.");
    const sent = provider.requests[0]!.body;
    assert.equal(sent.stream, true);
    assert.match(sent.messages.find((m: any) => m.role === "tool").content, MARKER);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    await provider.close();
  });

  test("streamText: a headroom_retrieve round is answered inside the stream; usage of both calls, providerMetadata.headroom", async () => {
    const { provider, model: m } = await model([
      streamedRound("Let me read the whole log. ", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]], [100, 12]),
      streamedRound("Blocks failed on 10.251.30.85.", [], [300, 8]),
    ]);
    const result = streamText({ model: m, messages: conversation(), tools: { read_log: readLog }, maxRetries: 0 });
    const kinds = new Set<string>();
    for await (const part of result.fullStream) kinds.add(part.type);
    assert.equal(await result.text, "Let me read the whole log. Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(await result.toolCalls, []);
    assert.equal(await result.finishReason, "stop");
    assert.ok(!kinds.has("tool-call") && !kinds.has("tool-input-start"), [...kinds].join());
    const usage = await result.totalUsage;
    assert.equal(usage.inputTokens, 400);
    assert.equal(usage.outputTokens, 20);
    const headroom = (await result.providerMetadata)?.headroom as any;
    assert.equal(headroom.retrieveRounds, 1);
    assert.ok(headroom.tokensBefore > 5 * headroom.tokensAfter, JSON.stringify(headroom));
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second.at(-2).tool_calls[0].function.name, RETRIEVE_TOOL_NAME);
    assert.equal(second.at(-2).content, "Let me read the whole log. ");
    assert.deepStrictEqual(second.at(-1), { role: "tool", tool_call_id: "call_r", content: LOG });
    await provider.close();
  });

  test("streamText: the app's own tool call comes through; a retrieve call beside it is dropped", async () => {
    const { provider, model: m } = await model([streamedRound("", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }], ["call_a", "read_log", { path: "/x" }]])]);
    const result = streamText({ model: m, messages: conversation(), tools: { read_log: readLog }, maxRetries: 0 });
    for await (const _ of result.fullStream);
    assert.deepStrictEqual((await result.toolCalls).map((c) => [c.toolName, c.input]), [["read_log", { path: "/x" }]]);
    assert.equal(await result.finishReason, "tool-calls");
    assert.equal(provider.requests.length, 1);
    await provider.close();
  });

  test("generateText: totalUsage counts every call to the model, the retrieve round's included", async () => {
    const retrieve = completion({ tool_calls: [{ id: "call_r", type: "function", function: { name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: KEY }) } }] }, "tool_calls");
    const readAgain = completion({ tool_calls: [{ id: "call_2", type: "function", function: { name: "read_log", arguments: JSON.stringify({ path: "/x" }) } }] }, "tool_calls");
    const { provider, model: m } = await model([retrieve, readAgain, answer("Done.")]);
    const tools = { read_log: tool({ ...readLog, execute: async () => "short log" }) };
    const result = await generateText({ model: m, messages: conversation(), tools, stopWhen: stepCountIs(3), maxRetries: 0 });
    assert.equal(result.text, "Done.");
    assert.equal(result.steps.length, 2);
    assert.equal(provider.requests.length, 3);
    assert.equal(result.totalUsage.inputTokens, 30, "10 per call, three calls");
    assert.equal(result.totalUsage.totalTokens, 45);
    assert.equal((result.steps[0]!.providerMetadata?.headroom as any).retrieveRounds, 1);
    assert.equal((result.providerMetadata?.headroom as any).retrieveRounds, 0);
    await provider.close();
  });

  test("daemon down: generateText and streamText go through uncompressed", async () => {
    const { provider, model: m } = await model([answer("plain"), { sse: [chunk({ content: "plain" }), chunk({}, "stop")], done: true }], true);
    assert.equal((await generateText({ model: m, messages: conversation(), maxRetries: 0 })).text, "plain");
    let text = "";
    for await (const part of streamText({ model: m, messages: conversation(), maxRetries: 0 }).textStream) text += part;
    assert.equal(text, "plain");
    for (const r of provider.requests) assert.equal(r.body.messages.find((m: any) => m.role === "tool").content, LOG);
    assert.equal(provider.requests[0]!.body.tools, undefined, "nothing to retrieve, no tool offered");
    assert.equal(env.deadWarnings.length, 1);
    await provider.close();
  });
});
