/**
 * `headroomMiddleware()` for the Vercel AI SDK (ai@6): a language-model middleware for
 * `wrapLanguageModel` that compresses the prompt's tool results through the daemon.
 *
 * The AI SDK prompt is not a provider format the daemon reads, so `transformParams` sends an
 * OpenAI-chat-shaped copy of it (system, user text, assistant tool calls, one `tool` message per
 * tool result) and puts each compressed tool output back into its tool-result part as text.
 * Only tool results change, and, with `memory`, user messages get the remembered facts the daemon
 * puts in front of their text; every other part of the prompt is passed on as it came.
 *
 * When a result carries a marker, the model is offered the `headroom_retrieve` tool, and with
 * `memory` the `memory_save` and `memory_search` tools; `wrapGenerate` (`generateText`) answers
 * the model's calls to them and asks the model again, and `wrapStream` (`streamText`) does the
 * same inside the stream (text passes as it arrives; only the tool-call round is held back), so
 * the application never sees them. The usage reported is that of every call to the model, and
 * `providerMetadata.headroom` says what Headroom did ({@link Savings}).
 *
 * `frozen` and `protectRecent` count messages of that chat-shaped copy, in which each tool
 * result is its own message.
 *
 * @module
 */

import type { LanguageModelMiddleware } from "ai";
import {
  addCompressed,
  answerOwnTools,
  answerOwnToolsInStream,
  noSavings,
  settings,
  sumUsage,
  type HeadroomOptions,
  type Savings,
  type StreamFormat,
} from "./loop.js";

type CallOptions = Parameters<NonNullable<LanguageModelMiddleware["transformParams"]>>[0]["params"];
type Prompt = CallOptions["prompt"];
type Message = Prompt[number];
type Tool = NonNullable<CallOptions["tools"]>[number];
type GenerateResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware["wrapGenerate"]>>>;
type StreamResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware["wrapStream"]>>>;
type Part = StreamResult["stream"] extends ReadableStream<infer P> ? P : never;
type Content = GenerateResult["content"][number];
type ToolResultPart = Extract<Extract<Message, { role: "tool" }>["content"][number], { type: "tool-result" }>;
type ToolCallContent = Extract<Content, { type: "tool-call" }>;
type Output = ToolResultPart["output"];
type Metadata = NonNullable<GenerateResult["providerMetadata"]>;

/** Where a chat-shaped tool message came from: prompt message, part, and (for `content` outputs) items. */
interface Place {
  message: number;
  part: number;
  chat: number;
  /** For a `content` output: the indexes of its text items, in the order sent. */
  items?: number[];
}

/** The middleware; pass it to `wrapLanguageModel({ model, middleware: headroomMiddleware() })`. */
export function headroomMiddleware(options: HeadroomOptions = {}): LanguageModelMiddleware {
  const { hr, own, rounds, compressOptions } = settings(options);
  // What transformParams did, for the wrap* call that receives the params it returned.
  const savingsOf = new WeakMap<object, Savings>();
  const offersOwn = (params: CallOptions) => Boolean(params.tools?.some((t) => own.has(t.name)));
  return {
    specificationVersion: "v3",

    async transformParams({ params, model }) {
      const savings = noSavings();
      const out = await transform(params, model.modelId, savings);
      savingsOf.set(out, savings);
      return out;
    },

    async wrapGenerate({ doGenerate, params, model }) {
      const savings = savingsOf.get(params) ?? noSavings();
      let prompt = params.prompt;
      const shape = {
        calls: (r: GenerateResult) => r.content.filter((c): c is ToolCallContent => c.type === "tool-call" && !c.providerExecuted),
        name: (c: ToolCallContent) => c.toolName,
        args: (c: ToolCallContent) => c.input,
      };
      const { reply, replies } = await answerOwnTools(own, rounds, await doGenerate(), shape, (last, calls, answers) => {
        prompt = [...prompt, { role: "assistant", content: last.content.flatMap(assistantPart) }, toolResults(calls, answers)];
        return model.doGenerate({ ...params, prompt });
      });
      savings.retrieveRounds += replies.length - 1;
      const usage = replies.map((r) => r.usage).reduce(sumUsage);
      const providerMetadata = withHeadroom(reply.providerMetadata, savings);
      const named = (c: Content) => c.type === "tool-call" && own.has(c.toolName);
      if (!reply.content.some(named)) return { ...reply, usage, providerMetadata };
      const content = reply.content.filter((c) => !named(c));
      const callsLeft = content.some((c) => c.type === "tool-call");
      const finishReason = callsLeft ? reply.finishReason : { unified: "stop" as const, raw: reply.finishReason.raw };
      return { ...reply, usage, providerMetadata, content, finishReason };
    },

    async wrapStream({ doStream, params, model }) {
      const savings = savingsOf.get(params) ?? noSavings();
      const { stream, ...rest } = await doStream();
      let prompt = params.prompt;
      const again = async (parts: Part[], calls: Array<{ id: string; name: string }>, answers: string[]) => {
        const called = calls.map((c) => ({ toolCallId: c.id, toolName: c.name }));
        prompt = [...prompt, { role: "assistant", content: streamedContent(parts).flatMap(assistantPart) }, toolResults(called, answers)];
        return iterate((await model.doStream({ ...params, prompt })).stream);
      };
      const parts = answerOwnToolsInStream(own, rounds, iterate(stream), partsFormat(savings), again, savings, offersOwn(params));
      return { ...rest, stream: readable(parts) };
    },
  };

  /** The params with compressed tool results, the facts and Headroom's tools; `params` itself when nothing changed. */
  async function transform(params: CallOptions, modelId: string, savings: Savings): Promise<CallOptions> {
    const { chat, places, users } = toChat(params.prompt);
    if (places.length === 0 && !compressOptions.memory) return params;
    const result = await hr.compress(chat, { app: "vercel", ...compressOptions, model: modelId, format: "openai_chat" });
    addCompressed(savings, result);
    if (result.messages === chat && !result.memoryTools) return params;
    const prompt = withFacts(fromChat(params.prompt, result.messages, places), chat, result.messages, users);
    const declared = new Set(params.tools?.map((t) => t.name));
    const offered = [...(result.retrieveTool ? [result.retrieveTool] : []), ...(result.memoryTools ?? [])];
    const added = offered.map(functionTool).filter((t) => !declared.has(t.name));
    return { ...params, prompt, ...(added.length ? { tools: [...(params.tools ?? []), ...added] } : {}) };
  }
}

/** `metadata` with Headroom's {@link Savings} under `headroom`. */
function withHeadroom(metadata: Metadata | undefined, savings: Savings): Metadata {
  return { ...metadata, headroom: { ...savings } };
}

/** The tool message answering `calls` with `answers`. */
function toolResults(calls: Array<{ toolCallId: string; toolName: string }>, answers: string[]): Message {
  return {
    role: "tool",
    content: calls.map((c, i) => ({
      type: "tool-result" as const,
      toolCallId: c.toolCallId,
      toolName: c.toolName,
      output: { type: "text" as const, value: answers[i]! },
    })),
  };
}

/** The parts of a stream, read one by one (cancelling the stream if the reader stops early). */
async function* iterate<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** A stream of what `parts` yields. */
function readable<T>(parts: AsyncGenerator<T>): ReadableStream<T> {
  return new ReadableStream<T>({
    async pull(controller) {
      try {
        const { done, value } = await parts.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await parts.return(undefined);
    },
  });
}

/** The generated content of a streamed round, put together from its parts, for the next prompt. */
function streamedContent(parts: Part[]): Content[] {
  const out: Content[] = [];
  const open = new Map<string, { type: "text" | "reasoning"; text: string; providerMetadata?: Metadata }>();
  for (const p of parts) {
    if (p.type === "text-start" || p.type === "reasoning-start") {
      const type = p.type === "text-start" ? "text" : "reasoning";
      const content = { type, text: "", ...(p.providerMetadata ? { providerMetadata: p.providerMetadata } : {}) } as const;
      open.set(`${type}:${p.id}`, content);
      out.push(content as Content);
    } else if (p.type === "text-delta" || p.type === "reasoning-delta") {
      const content = open.get(`${p.type === "text-delta" ? "text" : "reasoning"}:${p.id}`);
      if (content) content.text += p.delta;
    } else if (p.type === "tool-call") {
      out.push(p);
    }
  }
  return out;
}

/**
 * AI SDK stream parts: tool calls are `tool-input-*` parts keyed by the call id and a
 * `tool-call` part. Later rounds continue the first: their `stream-start` is dropped, the text
 * left open by an answered round is closed, and the last `finish` has the usage of all rounds
 * and `providerMetadata.headroom`.
 */
function partsFormat(savings: Savings): StreamFormat<Part> {
  let prior: any;
  const open = new Map<string, "text-end" | "reasoning-end">();
  const isCall = (p: Part) => (p.type === "tool-input-start" || p.type === "tool-call") && !p.providerExecuted;
  const relay = (p: Part, round: number): Part | null => {
    if (p.type === "stream-start" && round > 0) return null;
    if (p.type === "text-start") open.set(p.id, "text-end");
    if (p.type === "reasoning-start") open.set(p.id, "reasoning-end");
    if (p.type === "text-end" || p.type === "reasoning-end") open.delete(p.id);
    if (p.type === "finish") return { ...p, usage: sumUsage(prior, p.usage), providerMetadata: withHeadroom(p.providerMetadata, savings) };
    return p;
  };
  return {
    startsCalls: isCall,
    calls: (parts) =>
      parts.flatMap((p) => (p.type === "tool-call" && !p.providerExecuted ? [{ key: p.toolCallId, id: p.toolCallId, name: p.toolName, args: p.input }] : [])),
    relay,
    answered(parts) {
      const finish = parts.find((p) => p.type === "finish");
      if (finish?.type === "finish") prior = sumUsage(prior, finish.usage);
      const closing = [...open].map(([id, type]) => ({ type, id }) as Part);
      open.clear();
      return closing;
    },
    release(held, drop, round) {
      const left = held.some((p) => p.type === "tool-call" && !p.providerExecuted && !drop.has(p.toolCallId));
      return held.flatMap((p) => {
        if ((p.type === "tool-input-start" || p.type === "tool-input-delta" || p.type === "tool-input-end") && drop.has(p.id)) return [];
        if (p.type === "tool-call" && drop.has(p.toolCallId)) return [];
        if (p.type === "finish" && drop.size && !left && p.finishReason.unified === "tool-calls") {
          p = { ...p, finishReason: { unified: "stop", raw: p.finishReason.raw } };
        }
        const out = relay(p, round);
        return out === null ? [] : [out];
      });
    },
  };
}

/** The text a tool output shows the model, when it is text the daemon can compress. */
function outputText(output: Output): string | null {
  switch (output.type) {
    case "text":
    case "error-text":
      return output.value;
    case "json":
    case "error-json":
      return JSON.stringify(output.value);
    default:
      return null;
  }
}

/**
 * The prompt as an OpenAI chat messages array, where each tool result went, and where each user
 * message went (prompt index to chat index).
 */
function toChat(prompt: Prompt): { chat: any[]; places: Place[]; users: Map<number, number> } {
  const chat: any[] = [];
  const places: Place[] = [];
  const users = new Map<number, number>();
  prompt.forEach((message, m) => {
    switch (message.role) {
      case "system":
        chat.push({ role: "system", content: message.content });
        break;
      case "user":
        users.set(m, chat.length);
        chat.push({ role: "user", content: message.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n") });
        break;
      case "assistant": {
        const text = message.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
        const calls = message.content.flatMap((p) =>
          p.type === "tool-call"
            ? [{ id: p.toolCallId, type: "function", function: { name: p.toolName, arguments: JSON.stringify(p.input ?? {}) } }]
            : [],
        );
        chat.push({ role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
        break;
      }
      case "tool":
        message.content.forEach((part, p) => {
          if (part.type !== "tool-result") return;
          const text = outputText(part.output);
          if (text !== null) {
            places.push({ message: m, part: p, chat: chat.length });
            chat.push({ role: "tool", tool_call_id: part.toolCallId, content: text });
          } else if (part.output.type === "content") {
            const items: number[] = [];
            const blocks: Array<{ type: "text"; text: string }> = [];
            part.output.value.forEach((item, i) => {
              if (item.type === "text") {
                items.push(i);
                blocks.push({ type: "text", text: item.text });
              }
            });
            if (blocks.length) {
              places.push({ message: m, part: p, chat: chat.length, items });
              chat.push({ role: "tool", tool_call_id: part.toolCallId, content: blocks });
            }
          }
        });
        break;
    }
  });
  return { chat, places, users };
}

/**
 * `prompt` with the remembered facts the daemon put in front of a user message's text: in front
 * of its first part when that is text, else as a text part of their own before the others.
 */
function withFacts(prompt: Prompt, sent: any[], got: any[], users: Map<number, number>): Prompt {
  let out = prompt;
  for (const [m, c] of users) {
    const before: string = sent[c].content;
    const after: unknown = got[c]?.content;
    if (typeof after !== "string" || after === before || !after.endsWith(before)) continue;
    const message = prompt[m] as Extract<Message, { role: "user" }>;
    const facts = after.slice(0, after.length - before.length);
    const [first, ...rest] = message.content;
    const content = first?.type === "text" ? [{ ...first, text: facts + first.text }, ...rest] : [{ type: "text" as const, text: facts }, ...message.content];
    if (out === prompt) out = [...prompt];
    out[m] = { ...message, content };
  }
  return out;
}

/** A copy of `prompt` whose tool results hold the compressed text wherever it changed. */
function fromChat(prompt: Prompt, chat: any[], places: Place[]): Prompt {
  const out = [...prompt];
  for (const place of places) {
    const message = out[place.message] as Extract<Message, { role: "tool" }>;
    const part = message.content[place.part] as ToolResultPart;
    const sent = chat[place.chat]?.content;
    const output = replaceOutput(part.output, sent, place.items);
    if (output === part.output) continue;
    const content = [...message.content];
    content[place.part] = { ...part, output };
    out[place.message] = { ...message, content };
  }
  return out;
}

function replaceOutput(output: Output, sent: unknown, items?: number[]): Output {
  if (output.type === "content" && items && Array.isArray(sent)) {
    const value = [...output.value];
    let changed = false;
    items.forEach((i, k) => {
      const text = (sent[k] as { text?: unknown } | undefined)?.text;
      const item = value[i] as { type: "text"; text: string };
      if (typeof text === "string" && text !== item.text) {
        value[i] = { ...item, text };
        changed = true;
      }
    });
    return changed ? { ...output, value } : output;
  }
  if (typeof sent !== "string" || sent === outputText(output)) return output;
  // Compressed JSON is no longer JSON: it goes to the model as text.
  const type = output.type === "error-json" || output.type === "error-text" ? "error-text" : "text";
  const providerOptions = "providerOptions" in output && output.providerOptions ? { providerOptions: output.providerOptions } : {};
  return { type, value: sent, ...providerOptions };
}

/** The daemon's OpenAI-chat tool definition as an AI SDK function tool. */
function functionTool(definition: Record<string, unknown>): Tool {
  const f = definition.function as { name: string; description?: string; parameters: any };
  return { type: "function", name: f.name, description: f.description, inputSchema: f.parameters };
}

/** A generated content part as it goes back into the prompt, in the assistant's message. */
function assistantPart(c: Content): Extract<Message, { role: "assistant" }>["content"] {
  const providerOptions = "providerMetadata" in c && c.providerMetadata ? { providerOptions: c.providerMetadata } : {};
  switch (c.type) {
    case "text":
      return [{ type: "text", text: c.text, ...providerOptions }];
    case "reasoning":
      return [{ type: "reasoning", text: c.text, ...providerOptions }];
    case "tool-call":
      if (c.providerExecuted) return [];
      return [{ type: "tool-call", toolCallId: c.toolCallId, toolName: c.toolName, input: parseInput(c.input), ...providerOptions }];
    default:
      return [];
  }
}

function parseInput(input: string): unknown {
  try {
    return JSON.parse(input || "{}");
  } catch {
    return input;
  }
}
