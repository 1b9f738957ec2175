// HeadroomChatModel wrapping a real LangChain chat model (@langchain/openai's ChatOpenAI) pointed
// at a fake OpenAI server on 127.0.0.1, with the real daemon: invoke and stream, Headroom's tools
// answered in both, usage summed over every call, response_metadata.headroom. (install.test.ts
// runs it from a packed tarball in a project of its own.)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME, RETRIEVE_TOOL_NAME, type MemoryOptions } from "../src/index.js";
import { HeadroomChatModel } from "../src/langchain.js";
import { fakeProvider, keyOf, LOG, MARKER, streamedRound, suiteDaemon, type Canned, chunk, completion } from "./helpers.js";

const KEY = keyOf(LOG);

const answer = (text: string) => completion({ content: text });
const callTools = (calls: Array<[string, string, unknown]>) =>
  completion({ tool_calls: calls.map(([id, name, args]) => ({ id, type: "function", function: { name, arguments: JSON.stringify(args) } })) }, "tool_calls");
function conversation(): BaseMessage[] {
  return [
    new SystemMessage("You are an SRE agent."),
    new HumanMessage("Why did the HDFS block transfers fail?"),
    new AIMessage({ content: "", tool_calls: [{ id: "call_1", name: "read_log", args: { path: "/var/log/hdfs/datanode.log" } }] }),
    new ToolMessage({ content: LOG, tool_call_id: "call_1", name: "read_log" }),
  ];
}

const readLog = tool(async ({ path }) => `contents of ${path}`, {
  name: "read_log",
  description: "Read a log file",
  schema: z.object({ path: z.string() }),
});

describe("HeadroomChatModel for LangChain.js", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  async function model(script: Canned[], down = false, memory?: MemoryOptions) {
    const provider = await fakeProvider(script);
    const inner = new ChatOpenAI({ model: "gpt-4o", apiKey: "sk-test", configuration: { baseURL: `${provider.url}/v1` }, maxRetries: 0 });
    return { provider, model: new HeadroomChatModel({ model: inner, client: down ? env.dead : env.client, memory }) };
  }

  test("invoke: the tool message reaches the model compressed, the others as they were", async () => {
    const { provider, model: m } = await model([answer("Blocks failed on 10.251.30.85.")]);
    const messages = conversation();
    const reply = await m.invoke(messages);
    assert.equal(reply.text, "Blocks failed on 10.251.30.85.");
    assert.equal(messages[3]!.content, LOG, "the caller's ToolMessage is untouched");
    const sent = provider.requests[0]!.body;
    assert.equal(sent.model, "gpt-4o");
    assert.equal(sent.messages[0].content, "You are an SRE agent.");
    assert.equal(sent.messages[1].content, "Why did the HDFS block transfers fail?");
    assert.equal(sent.messages[2].tool_calls[0].function.name, "read_log");
    assert.equal(sent.messages[3].tool_call_id, "call_1");
    assert.ok(sent.messages[3].content.length < LOG.length / 5);
    assert.equal(MARKER.exec(sent.messages[3].content)?.[1], KEY);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), [RETRIEVE_TOOL_NAME]);
    await provider.close();
  });

  test("bindTools: the app's tools pass through, and its tool calls come back to it", async () => {
    const { provider, model: m } = await model([callTools([["call_2", "read_log", { path: "/var/log/other.log" }]])]);
    const reply = await m.bindTools([readLog]).invoke(conversation());
    assert.deepStrictEqual(reply.tool_calls?.map((c) => [c.name, c.args]), [["read_log", { path: "/var/log/other.log" }]]);
    const sent = provider.requests[0]!.body;
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.deepStrictEqual(sent.tools[0].function.parameters.required, ["path"]);
    await provider.close();
  });

  test("invoke: a headroom_retrieve call is answered and the model asked again", async () => {
    const { provider, model: m } = await model([callTools([["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]), answer("The full log shows the failures.")]);
    const reply = await m.bindTools([readLog]).invoke(conversation());
    assert.equal(reply.text, "The full log shows the failures.");
    assert.deepStrictEqual(reply.tool_calls ?? [], []);
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second.length, 6);
    assert.equal(second[4].tool_calls[0].function.name, RETRIEVE_TOOL_NAME);
    assert.deepStrictEqual({ role: second[5].role, tool_call_id: second[5].tool_call_id, content: second[5].content }, { role: "tool", tool_call_id: "call_r", content: LOG });
    assert.equal(reply.usage_metadata?.total_tokens, 30, "the usage of both calls");
    const headroom = reply.response_metadata.headroom as any;
    assert.equal(headroom.retrieveRounds, 1);
    assert.ok(headroom.tokensBefore > 5 * headroom.tokensAfter, JSON.stringify(headroom));
    await provider.close();
  });

  test("memory: the facts reach the latest HumanMessage; a memory_save call is answered and the model asked again", async () => {
    await env.client.memory.add("The deploy target is eu-west-1.", { user: "ada", agent: "sre" });
    const memory = { scope: { user: "ada", agent: "sre", session: "s1" }, tools: true };
    const { provider, model: m } = await model([callTools([["call_m", MEMORY_SAVE_TOOL_NAME, { text: "Ada's favourite editor is vim." }]]), answer("Noted.")], false, memory);
    const question = new HumanMessage("Which deploy target do we use? I like vim, by the way.");
    const reply = await m.bindTools([readLog]).invoke([new SystemMessage("You are an SRE agent."), question]);
    assert.equal(reply.text, "Noted.");
    assert.deepStrictEqual(reply.tool_calls ?? [], []);
    assert.equal(question.content, "Which deploy target do we use? I like vim, by the way.", "the caller's message is untouched");
    const first = provider.requests[0]!.body;
    assert.equal(first.messages[0].content, "You are an SRE agent.");
    assert.match(first.messages[1].content, /^<memory>\n- The deploy target is eu-west-1\. \(since \d{4}-\d\d-\d\d\)\n<\/memory>\n\nWhich deploy target/);
    assert.deepStrictEqual(first.tools.map((t: any) => t.function.name), ["read_log", MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second.length, 4);
    assert.equal(second[2].tool_calls[0].function.name, MEMORY_SAVE_TOOL_NAME);
    assert.equal(second[3].tool_call_id, "call_m");
    assert.match(second[3].content, /^saved as fact [0-9a-f]{16}$/);
    const saved = await env.client.memory.search("favourite editor", { user: "ada", agent: "sre" });
    assert.deepStrictEqual(saved.map((f) => [f.text, f.scope]), [["Ada's favourite editor is vim.", { user: "ada", agent: "sre" }]]);
    await provider.close();
  });

  test("memory with stream: the facts are added and the memory tools offered", async () => {
    const memory = { scope: { user: "ada", agent: "sre", session: "s2" }, tools: true };
    const { provider, model: m } = await model([{ sse: [chunk({ content: "eu-west-1" }), chunk({}, "stop")], done: true }], false, memory);
    let text = "";
    for await (const part of await m.stream([new HumanMessage("Which deploy target do we use?")])) text += part.text;
    assert.equal(text, "eu-west-1");
    const sent = provider.requests[0]!.body;
    assert.match(sent.messages[0].content, /^<memory>\n- The deploy target is eu-west-1\./);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), [MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME]);
    await provider.close();
  });

  test("stream: chunks arrive, the request was compressed, the app's tools and the retrieve tool offered", async () => {
    const { provider, model: m } = await model([
      { sse: [chunk({ role: "assistant", content: "" }), chunk({ content: "Blocks " }), chunk({ content: "failed." }), chunk({}, "stop")], done: true },
    ]);
    let text = "";
    for await (const part of await m.bindTools([readLog]).stream(conversation())) text += part.text;
    assert.equal(text, "Blocks failed.");
    const sent = provider.requests[0]!.body;
    assert.equal(sent.stream, true);
    assert.match(sent.messages[3].content, MARKER);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    await provider.close();
  });

  test("stream: a headroom_retrieve round is answered inside the stream; usage of both calls, headroom on the last chunk", async () => {
    const { provider, model: m } = await model([
      streamedRound("Let me read the whole log. ", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]], [100, 12]),
      streamedRound("Blocks failed on 10.251.30.85.", [], [300, 8]),
    ]);
    let all: AIMessageChunk | undefined;
    let last: AIMessageChunk | undefined;
    for await (const part of await m.bindTools([readLog]).stream(conversation())) {
      assert.deepStrictEqual(part.tool_call_chunks ?? [], [], "no tool call reaches the app");
      all = all ? all.concat(part) : part;
      last = part;
    }
    assert.equal(all!.text, "Let me read the whole log. Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(all!.tool_calls, []);
    assert.equal(all!.usage_metadata?.input_tokens, 400);
    assert.equal(all!.usage_metadata?.output_tokens, 20);
    assert.equal((last!.response_metadata.headroom as any).retrieveRounds, 1);
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second[4].tool_calls[0].function.name, RETRIEVE_TOOL_NAME);
    assert.deepStrictEqual({ tool_call_id: second[5].tool_call_id, content: second[5].content }, { tool_call_id: "call_r", content: LOG });
    await provider.close();
  });

  test("stream: the app's own tool call comes through; a retrieve call beside it is dropped", async () => {
    const { provider, model: m } = await model([streamedRound("", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }], ["call_a", "read_log", { path: "/x" }]])]);
    let all: AIMessageChunk | undefined;
    for await (const part of await m.bindTools([readLog]).stream(conversation())) all = all ? all.concat(part) : part;
    assert.deepStrictEqual(all!.tool_calls?.map((c) => [c.id, c.name, c.args]), [["call_a", "read_log", { path: "/x" }]]);
    assert.equal(provider.requests.length, 1);
    await provider.close();
  });

  test("daemon down: invoke and stream go through uncompressed", async () => {
    const { provider, model: m } = await model([answer("plain"), { sse: [chunk({ content: "plain" }), chunk({}, "stop")], done: true }], true);
    assert.equal((await m.invoke(conversation())).text, "plain");
    let text = "";
    for await (const part of await m.stream(conversation())) text += part.text;
    assert.equal(text, "plain");
    for (const r of provider.requests) {
      assert.equal(r.body.messages[3].content, LOG);
      assert.equal(r.body.tools, undefined);
    }
    assert.equal(env.deadWarnings.length, 1);
    await provider.close();
  });
});
