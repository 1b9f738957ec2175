// withHeadroom(new OpenAI()) against a fake OpenAI server on 127.0.0.1 and the real daemon:
// chat completions and responses, plain and streaming, the retrieve loop (inside streams too),
// the SDK's helpers (parse, stream, runTools, withResponse, asResponse, withOptions), usage
// summed over the rounds, and the daemon down.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { withHeadroom, RETRIEVE_TOOL_NAME } from "../src/index.js";
import { chatConversation, completion, fakeProvider, keyOf, LOG, MARKER, streamedRound, suiteDaemon, type Canned } from "./helpers.js";

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

  test("chat: usage is the sum of every round, and .headroom says what Headroom did", async () => {
    const { provider, client } = await openai([callTool([["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]), answer("Found it.")]);
    const got: any = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation() } as any);
    assert.equal(provider.requests.length, 2);
    assert.deepStrictEqual(got.usage, { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 });
    assert.equal(got.headroom.retrieveRounds, 1);
    assert.ok(got.headroom.tokensBefore > 5 * got.headroom.tokensAfter, JSON.stringify(got.headroom));
    assert.equal(JSON.stringify(got).includes("headroom"), false, "not enumerable: a forwarded reply carries nothing new");
    await provider.close();
  });

  test("chat streaming: a headroom_retrieve round is answered inside the stream; text passes, the calls never reach the app", async () => {
    const { provider, client } = await openai([
      streamedRound("Let me read the whole log. ", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]], [100, 12]),
      streamedRound("Blocks failed on 10.251.30.85.", [], [300, 8]),
    ]);
    const stream: any = await client.chat.completions.create({
      model: "gpt-4o",
      messages: chatConversation(),
      tools: [READ_LOG],
      stream: true,
      stream_options: { include_usage: true },
    } as any);
    let text = "";
    const finishes: unknown[] = [];
    const usages: unknown[] = [];
    for await (const part of stream) {
      assert.equal(part.choices[0]?.delta?.tool_calls, undefined, "no tool call reaches the app");
      text += part.choices[0]?.delta?.content ?? "";
      if (part.choices[0]?.finish_reason) finishes.push(part.choices[0].finish_reason);
      if (part.usage) usages.push(part.usage);
      if (part.choices[0]?.delta?.content === "Let me read the whole log. ") assert.equal(provider.requests.length, 1, "the first round's text arrives before the second call");
    }
    assert.equal(text, "Let me read the whole log. Blocks failed on 10.251.30.85.");
    assert.deepStrictEqual(finishes, ["stop"]);
    assert.deepStrictEqual(usages, [{ prompt_tokens: 400, completion_tokens: 20, total_tokens: 420 }]);
    assert.equal(provider.requests.length, 2);
    const [first, second] = provider.requests.map((r) => r.body);
    assert.deepStrictEqual(first.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.match(first.messages[3].content, MARKER);
    assert.equal(second.stream, true);
    assert.deepStrictEqual(second.messages[4], {
      role: "assistant",
      content: "Let me read the whole log. ",
      tool_calls: [{ id: "call_r", type: "function", function: { name: RETRIEVE_TOOL_NAME, arguments: JSON.stringify({ hash: KEY }) } }],
    });
    assert.deepStrictEqual(second.messages[5], { role: "tool", tool_call_id: "call_r", content: LOG });
    assert.equal(stream.headroom.retrieveRounds, 1);
    assert.ok(stream.headroom.tokensBefore > 5 * stream.headroom.tokensAfter);
    await provider.close();
  });

  test("chat streaming: the app's own call comes through (renumbered); a retrieve call beside it is dropped", async () => {
    const { provider, client } = await openai([
      streamedRound("", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }], ["call_a", "read_log", { path: "/x" }]]),
    ]);
    const stream: any = await client.chat.completions.create({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG], stream: true } as any);
    const pieces: any[] = [];
    let finish = null;
    for await (const part of stream) {
      pieces.push(...(part.choices[0]?.delta?.tool_calls ?? []));
      finish = part.choices[0]?.finish_reason ?? finish;
    }
    assert.deepStrictEqual(pieces.map((p) => p.index), [0, 0]);
    assert.equal(pieces[0].function.name, "read_log");
    assert.equal(pieces.map((p) => p.function.arguments).join(""), JSON.stringify({ path: "/x" }));
    assert.equal(finish, "tool_calls");
    assert.equal(provider.requests.length, 1);
    await provider.close();
  });

  test("chat.completions.stream(): compressed, the retrieve round answered, the final completion holds both rounds' text", async () => {
    const { provider, client } = await openai([
      streamedRound("Reading. ", [["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]),
      streamedRound("Blocks failed."),
    ]);
    const runner: any = client.chat.completions.stream({ model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG], stream_options: { include_usage: true } } as any);
    let text = "";
    runner.on("content", (delta: string) => (text += delta));
    const final = await runner.finalChatCompletion();
    assert.equal(text, "Reading. Blocks failed.");
    assert.equal(final.choices[0].message.content, "Reading. Blocks failed.");
    assert.deepStrictEqual(final.choices[0].message.tool_calls ?? [], []);
    assert.equal(final.choices[0].finish_reason, "stop");
    assert.equal(final.usage.total_tokens, 220);
    assert.equal(provider.requests.length, 2);
    assert.match(provider.requests[0]!.body.messages[3].content, MARKER);
    assert.equal(provider.requests[1]!.body.messages[5].content, LOG);
    assert.equal(runner.headroom.retrieveRounds, 1);
    assert.ok(runner.headroom.tokensAfter > 0);
    await provider.close();
  });

  test("chat.completions.parse(): compressed, the retrieve loop answered, the answer parsed with the caller's format", async () => {
    const { provider, client } = await openai([callTool([["call_r", RETRIEVE_TOOL_NAME, { hash: KEY }]]), answer('{"host":"10.251.30.85"}')]);
    const schema = { type: "object", properties: { host: { type: "string" } }, required: ["host"], additionalProperties: false };
    const got: any = await client.chat.completions.parse({
      model: "gpt-4o",
      messages: chatConversation(),
      response_format: { type: "json_schema", json_schema: { name: "answer", strict: true, schema } },
    } as any);
    assert.deepStrictEqual(got.choices[0].message.parsed, { host: "10.251.30.85" });
    assert.equal(provider.requests.length, 2);
    assert.match(provider.requests[0]!.body.messages[3].content, MARKER);
    assert.deepStrictEqual(provider.requests[0]!.body.response_format.json_schema.schema, schema);
    assert.equal(got.headroom.retrieveRounds, 1);
    assert.equal(got.usage.total_tokens, 30);
    await provider.close();
  });

  test("withResponse(): the data, the provider's Response; asResponse(): the raw reply of a compressed request without Headroom's tools", async () => {
    const { provider, client } = await openai([answer("one"), answer("two")]);
    const body = { model: "gpt-4o", messages: chatConversation(), tools: [READ_LOG] };
    const { data, response } = await client.chat.completions.create(body as any).withResponse();
    assert.equal(data.choices[0]!.message.content, "one");
    assert.equal(response.status, 200);
    const raw = await client.chat.completions.create(body as any).asResponse();
    assert.equal(((await raw.json()) as any).choices[0].message.content, "two");
    const [first, second] = provider.requests.map((r) => r.body);
    for (const sent of [first, second]) assert.match(sent.messages[3].content, MARKER);
    assert.deepStrictEqual(first.tools.map((t: any) => t.function.name), ["read_log", RETRIEVE_TOOL_NAME]);
    assert.deepStrictEqual(second.tools, [READ_LOG], "the app reads the raw reply: no tool it would have to answer");
    await provider.close();
  });

  test("chat.completions.runTools(): every call the runner makes is compressed, its tool's big output included", async () => {
    const { provider, client } = await openai([callTool([["call_1", "read_log", { path: "/var/log/hdfs/datanode.log" }]]), answer("Blocks failed.")]);
    const runner: any = client.chat.completions.runTools({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Why did the HDFS block transfers fail?" }],
      tools: [{ type: "function", function: { name: "read_log", function: async () => LOG, parse: JSON.parse, parameters: READ_LOG.function.parameters } }],
    } as any);
    assert.equal(await runner.finalContent(), "Blocks failed.");
    assert.equal(provider.requests.length, 2);
    const tool = provider.requests[1]!.body.messages.find((m: any) => m.role === "tool");
    assert.equal(MARKER.exec(tool.content)?.[1], KEY);
    assert.ok(runner.headroom.tokensBefore > 5 * runner.headroom.tokensAfter, JSON.stringify(runner.headroom));
    await provider.close();
  });

  test("withOptions(): the copy is wrapped too", async () => {
    const { provider, client } = await openai([answer("ok")]);
    await client.withOptions({ timeout: 5000 }).chat.completions.create({ model: "gpt-4o", messages: chatConversation() } as any);
    assert.match(provider.requests[0]!.body.messages[3].content, MARKER);
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

  test("responses streaming: a function_call round is answered inside the stream; the app sees one response", async () => {
    const call = functionCall("call_r", RETRIEVE_TOOL_NAME, { hash: KEY });
    const said = outputText("Reading. ");
    const round1 = [
      ["response.created", { type: "response.created", sequence_number: 0, response: { id: "resp_1", status: "in_progress", output: [] } }],
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { ...said, status: "in_progress", content: [] } }],
      ["response.content_part.added", { type: "response.content_part.added", sequence_number: 2, item_id: "msg_1", output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }],
      ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 3, item_id: "msg_1", output_index: 0, content_index: 0, delta: "Reading. " }],
      ["response.output_item.done", { type: "response.output_item.done", sequence_number: 4, output_index: 0, item: said }],
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 5, output_index: 1, item: { ...call, arguments: "" } }],
      ["response.function_call_arguments.delta", { type: "response.function_call_arguments.delta", sequence_number: 6, item_id: call.id, output_index: 1, delta: call.arguments }],
      ["response.output_item.done", { type: "response.output_item.done", sequence_number: 7, output_index: 1, item: call }],
      ["response.completed", { type: "response.completed", sequence_number: 8, response: { id: "resp_1", status: "completed", output: [said, call], usage: { input_tokens: 100, output_tokens: 10, total_tokens: 110 } } }],
    ];
    const answerText = { ...outputText("Blocks failed."), id: "msg_2" };
    const round2 = [
      ["response.created", { type: "response.created", sequence_number: 0, response: { id: "resp_2", status: "in_progress", output: [] } }],
      ["response.output_item.added", { type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { ...answerText, status: "in_progress", content: [] } }],
      ["response.content_part.added", { type: "response.content_part.added", sequence_number: 2, item_id: "msg_2", output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }],
      ["response.output_text.delta", { type: "response.output_text.delta", sequence_number: 3, item_id: "msg_2", output_index: 0, content_index: 0, delta: "Blocks failed." }],
      ["response.output_item.done", { type: "response.output_item.done", sequence_number: 4, output_index: 0, item: answerText }],
      ["response.completed", { type: "response.completed", sequence_number: 5, response: { id: "resp_2", status: "completed", output: [answerText], usage: { input_tokens: 300, output_tokens: 5, total_tokens: 305 } } }],
    ];
    const { provider, client } = await openai([{ sse: round1 }, { sse: round2 }]);
    const stream: any = client.responses.stream({ model: "gpt-4o", input: responsesInput() } as any);
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    assert.equal(final.output_text, "Reading. Blocks failed.");
    assert.deepStrictEqual(final.output.map((o: any) => o.id), ["msg_1", "msg_2"]);
    assert.deepStrictEqual(final.usage, { input_tokens: 400, output_tokens: 15, total_tokens: 415 });
    assert.equal(types.filter((t) => t === "response.created").length, 1);
    assert.ok(!types.some((t) => t.startsWith("response.function_call")));
    assert.equal(provider.requests.length, 2);
    const [first, second] = provider.requests.map((r) => r.body);
    assert.match(first.input[2].output, MARKER);
    assert.deepStrictEqual(first.tools.map((t: any) => t.name), [RETRIEVE_TOOL_NAME]);
    assert.deepStrictEqual(second.input.slice(3), [said, call, { type: "function_call_output", call_id: "call_r", output: LOG }]);
    assert.equal(stream.headroom.retrieveRounds, 1);
    await provider.close();
  });

  test("responses.parse(): compressed, the retrieve loop answered, output_parsed from the caller's format", async () => {
    const { provider, client } = await openai([
      responseObject([functionCall("call_r", RETRIEVE_TOOL_NAME, { hash: KEY })]),
      responseObject([outputText('{"host":"10.251.30.85"}')]),
    ]);
    const schema = { type: "object", properties: { host: { type: "string" } }, required: ["host"], additionalProperties: false };
    const got: any = await client.responses.parse({
      model: "gpt-4o",
      input: responsesInput(),
      text: { format: { type: "json_schema", name: "answer", strict: true, schema } },
    } as any);
    assert.deepStrictEqual(got.output_parsed, { host: "10.251.30.85" });
    assert.equal(provider.requests.length, 2);
    assert.match(provider.requests[0]!.body.input[2].output, MARKER);
    assert.equal(got.headroom.retrieveRounds, 1);
    assert.deepStrictEqual(got.usage, { input_tokens: 20, output_tokens: 10, total_tokens: 30 });
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
