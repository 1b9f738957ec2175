// withHeadroom(new OpenAI()) against a fake OpenAI server on 127.0.0.1 and the real daemon:
// chat completions and responses, plain and streaming, the retrieve loop, and the daemon down.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { withHeadroom, RETRIEVE_TOOL_NAME } from "../src/index.js";
import { chatConversation, completion, fakeProvider, keyOf, LOG, MARKER, suiteDaemon, type Canned } from "./helpers.js";

const KEY = keyOf(LOG);
const READ_LOG = { type: "function", function: { name: "read_log", description: "Read a log file", parameters: { type: "object", properties: { path: { type: "string" } } } } };

const answer = (text: string) => completion({ content: text });
const callTool = (calls: Array<[string, string, unknown]>) =>
  completion({ tool_calls: calls.map(([id, name, args]) => ({ id, type: "function", function: { name, arguments: JSON.stringify(args) } })) }, "tool_calls");

function chunk(delta: Record<string, unknown>, finish: string | null = null): unknown {
  return { id: "chatcmpl-2", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
}

function responseObject(output: unknown[]): Canned {
  return {
    json: {
      id: "resp_1",
      object: "response",
      created_at: 1,
      status: "completed",
      model: "gpt-4o",
      output,
      parallel_tool_calls: true,
      tool_choice: "auto",
      tools: [],
      usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
    },
  };
}
const outputText = (text: string) => ({ id: "msg_1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text, annotations: [] }] });
const functionCall = (callId: string, name: string, args: unknown) => ({ id: `fc_${callId}`, type: "function_call", call_id: callId, name, arguments: JSON.stringify(args), status: "completed" });

const responsesInput = () => [
  { role: "user", content: "Why did the HDFS block transfers fail?" },
  { type: "function_call", call_id: "call_1", name: "read_log", arguments: '{"path":"/var/log/hdfs/datanode.log"}' },
  { type: "function_call_output", call_id: "call_1", output: LOG },
];

describe("withHeadroom(new OpenAI())", () => {
  let env: Awaited<ReturnType<typeof suiteDaemon>>;
  before(async () => (env = await suiteDaemon()));
  after(async () => env.stop());

  async function openai(script: Canned[], down = false) {
    const provider = await fakeProvider(script);
    const raw = new OpenAI({ apiKey: "sk-test", baseURL: `${provider.url}/v1`, maxRetries: 0 });
    return { provider, raw, client: withHeadroom(raw, { client: down ? env.dead : env.client }) };
  }

  test("chat: the provider receives the compressed log and the caller's tools plus the retrieve tool", async () => {
    const { provider, raw, client } = await openai([answer("Blocks failed on 10.251.30.85.")]);
    const body = { model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG] };
    const before = structuredClone(body);
    const got = await client.chat.completions.create(body as any);
    assert.equal(got.choices[0]!.message.content, "Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(body, before, "the caller's request is untouched");
    assert.equal(provider.requests.length, 1);
    const sent = provider.requests[0]!;
    assert.equal(sent.path, "/v1/chat/completions");
    assert.ok(sent.body.messages[3].content.length < LOG.length / 5);
    assert.equal(MARKER.exec(sent.body.messages[3].content)?.[1], KEY);
    assert.deepStrictEqual(sent.body.messages.slice(0, 3), body.messages.slice(0, 3));
    assert.deepStrictEqual(sent.body.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.equal(typeof raw.chat.completions.create, "function");
    assert.notEqual(client.chat.completions.create, raw.chat.completions.create, "the raw client is not patched");
    await provider.close();
  });

  test("chat: a headroom_retrieve call is answered with the original and the model asked again", async () => {
    const { provider, client } = await openai([callTool([["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]), answer("Found it in the full log.")]);
    const got = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG] } as any);
    assert.equal(got.choices[0]!.message.content, "Found it in the full log.");
    assert.equal(provider.requests.length, 2);
    const second = provider.requests[1]!.body.messages;
    assert.equal(second.length, 6);
    assert.deepStrictEqual(second[4].tool_calls, [{ id: "call_r", type: "function", function: { name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: KEY }) } }]);
    assert.deepStrictEqual(second[5], { role: "tool", tool_call_id: "call_r", content: LOG });
    assert.match(second[3].content, MARKER, "the rest of the conversation stays compressed");
    await provider.close();
  });

  test("chat: a retrieve query returns only the matching lines", async () => {
    const { provider, client } = await openai([callTool([["call_r", RETRIEVE_TOOL_NAME, { hash: KEY, query: "WARN" }]]), answer("ok")]);
    await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation() } as any);
    const tool = provider.requests[1]!.body.messages[5].content as string;
    assert.ok(tool.split("\n").filter(Boolean).every((l) => /^L\d+: .*WARN/.test(l)), tool.slice(0, 200));
    await provider.close();
  });

  test("chat: the application's own tool calls come back to it; a mixed-in retrieve call is dropped", async () => {
    const { provider, client } = await openai([callTool([["call_a", "read_log", { path: "/x" }], ["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]])]);
    const got = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG] } as any);
    assert.equal(provider.requests.length, 1);
    assert.deepStrictEqual(got.choices[0]!.message.tool_calls!.map((c: any) => c.function.name), ["read_log"]);
    assert.equal(got.choices[0]!.finish_reason, "tool_calls");
    await provider.close();
  });

  test("chat streaming: chunks arrive, the request was compressed, the tool it cannot answer is not offered", async () => {
    const { provider, client } = await openai([
      { sse: [chunk({ role: "assistant", content: "" }), chunk({ content: "Blocks " }), chunk({ content: "failed." }), chunk({}, "stop")], done: true },
    ]);
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG], stream: true } as any);
    let text = "";
    for await (const part of stream as any) text += part.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Blocks failed.");
    const sent = provider.requests[0]!.body;
    assert.equal(sent.stream, true);
    assert.match(sent.messages[3].content, MARKER);
    assert.deepStrictEqual(sent.tools.map((t: any) => t.function.name), ["read_log"]);
    await provider.close();
  });

  test("chat streaming: an app that declares headroom_retrieve itself keeps it, to answer with answerTool", async () => {
    const { provider, client } = await openai([{ sse: [chunk({ content: "ok" }), chunk({}, "stop")], done: true }]);
    const own = { type: "function", function: { name: RETRIEVE_TOOL_NAME, parameters: { type: "object", properties: { hash: { type: "string" } } } } };
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG, own], stream: true } as any);
    for await (const _ of stream as any);
    assert.deepStrictEqual(provider.requests[0]!.body.tools, [READ_LOG, own]);
    await provider.close();
  });

  test("responses: compressed input, retrieve loop through function_call_output", async () => {
    const { provider, client } = await openai([
      responseObject([functionCall("call_r", RETRIEVE_TOOL_NAME, { hash: KEY })]),
      responseObject([outputText("The full log shows the failures.")]),
    ]);
    const body = { model: "gpt-4o", instructions: "Be precise.", input: responsesInput() };
    const before = structuredClone(body);
    const got: any = await client.responses.create(body as any);
    assert.deepStrictEqual(body, before);
    assert.equal(got.output_text, "The full log shows the failures.");
    assert.equal(provider.requests.length, 2);
    const first = provider.requests[0]!;
    assert.equal(first.path, "/v1/responses");
    assert.equal(MARKER.exec(first.body.input[2].output)?.[1], KEY);
    assert.deepStrictEqual(first.body.tools.map((t: any) => t.name), [RETRIEVE_TOOL_NAME]);
    const input = provider.requests[1]!.body.input;
    assert.equal(input.length, 5);
    assert.equal(input[3].type, "function_call");
    assert.deepStrictEqual(input[4], { type: "function_call_output", call_id: "call_r", output: LOG });
    await provider.close();
  });

  test("responses streaming: events arrive, the request was compressed", async () => {
    const { provider, client } = await openai([
      {
        sse: [
          ["response.created", { type: "response.created", sequence_number: 0, response: { id: "resp_2", status: "in_progress", output: [] } }],
          ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 1, item_id: "msg_1", output_index: 0, content_index: 0, delta: "Blocks failed." }],
          ["response.completed", { type: "response.completed", sequence_number: 2, response: { id: "resp_2", status: "completed", output: [outputText("Blocks failed.")] } }],
        ],
      },
    ]);
    const stream = await client.responses.create({ model: "gpt-4o", input: responsesInput(), stream: true } as any);
    let text = "";
    for await (const event of stream as any) if (event.type === "response.output_text.delta") text += event.delta;
    assert.equal(text, "Blocks failed.");
    const sent = provider.requests[0]!.body;
    assert.match(sent.input[2].output, MARKER);
    assert.equal(sent.tools, undefined, "no retrieve tool in a stream the wrapper cannot answer");
    await provider.close();
  });

  test("daemon down: chat, streaming and responses go through uncompressed", async () => {
    const { provider, client } = await openai(
      [answer("plain"), { sse: [chunk({ content: "plain" }), chunk({}, "stop")], done: true }, responseObject([outputText("plain")])],
      true,
    );
    const body = { model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG] };
    assert.equal((await client.chat.completions.create(body as any)).choices[0]!.message.content, "plain");
    let text = "";
    for await (const part of (await client.chat.completions.create({ ...body, stream: true } as any)) as any) text += part.choices[0]?.delta?.content ?? "";
    assert.equal(text, "plain");
    const resp: any = await client.responses.create({ model: "gpt-4o", input: responsesInput() } as any);
    assert.equal(resp.output_text, "plain");
    assert.deepStrictEqual(provider.requests[0]!.body, body);
    assert.deepStrictEqual(provider.requests[1]!.body, { ...body, stream: true });
    assert.equal(provider.requests[2]!.body.input[2].output, LOG);
    assert.equal(env.deadWarnings.length, 1, "one warning for the whole outage");
    await provider.close();
  });
});
