/**
 * `HeadroomChatModel` for LangChain.js (@langchain/core 1.4): wraps any chat model so that the
 * tool messages it is given are compressed through the daemon first.
 *
 * The messages go to the daemon as an OpenAI-chat-shaped copy, one chat message per LangChain
 * message (so `frozen` and `protectRecent` count the caller's messages); compressed tool outputs
 * come back as new `ToolMessage`s, and with `memory` the facts the daemon puts in front of a
 * user message come back as a new `HumanMessage`; the caller's messages are never modified.
 * Tools bound with `bindTools` are passed through to the wrapped model. `invoke` answers the
 * model's calls to Headroom's own tools (`headroom_retrieve`, the memory tools) itself and asks
 * the model again; `stream` does the same inside the stream (text chunks pass as they arrive;
 * only the tool-call round is held back). The reply's `usage_metadata` is that of every call to
 * the model, and `response_metadata.headroom` says what Headroom did (`Savings`; in a stream, on
 * the last chunk).
 *
 * `@langchain/core` is a peer dependency: the application's own copy is the one loaded. A chunk
 * that comes from another copy (as when the client is linked from a directory that has its own
 * `node_modules`) is rebuilt with all its fields, tool-call chunks included.
 *
 * @module
 */

import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import {
  BaseChatModel,
  type BaseChatModelCallOptions,
  type BaseChatModelParams,
  type BindToolsInput,
} from "@langchain/core/language_models/chat_models";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { defaultClient, type HeadroomClient } from "./client.js";
import {
  addCompressed,
  answerOwnTools,
  answerOwnToolsInStream,
  gatherCalls,
  loopMemory,
  noSavings,
  OwnTools,
  sumUsage,
  type HeadroomOptions,
  type Savings,
  type StreamFormat,
} from "./loop.js";
import { toolName } from "./tools.js";

/** The call options of {@link HeadroomChatModel}: LangChain's, plus the tools bound with `bindTools`. */
export interface HeadroomChatModelCallOptions extends BaseChatModelCallOptions {
  /** Tools bound with `bindTools`, passed through to the wrapped model. */
  tools?: BindToolsInput[];
}

/** What {@link HeadroomChatModel} is built from: the model it wraps, and Headroom's options. */
export interface HeadroomChatModelInput extends BaseChatModelParams, HeadroomOptions {
  /** The chat model that answers; it needs `bindTools` for tools and for Headroom's own tools. */
  model: BaseChatModel;
}

/** A chat model whose tool messages are compressed by headroomd before the wrapped model reads them. */
export class HeadroomChatModel extends BaseChatModel<HeadroomChatModelCallOptions, AIMessageChunk> {
  readonly model: BaseChatModel;
  private readonly headroom: HeadroomOptions;

  static override lc_name(): string {
    return "HeadroomChatModel";
  }

  constructor(fields: HeadroomChatModelInput) {
    const { model, client, maxRetrieveRounds, query, protectRecent, frozen, targetRatio, compressUserMessages, memory, ...base } = fields;
    super(base);
    this.model = model;
    this.headroom = { client, maxRetrieveRounds, query, protectRecent, frozen, targetRatio, compressUserMessages, memory: loopMemory(memory) };
  }

  _llmType(): string {
    return "headroom";
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<HeadroomChatModelCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, HeadroomChatModelCallOptions> {
    return this.withConfig({ tools, ...kwargs } as Partial<HeadroomChatModelCallOptions>);
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const own = new OwnTools(this.client(), this.headroom.memory);
    const savings = noSavings();
    const { messages: prepared, offered } = await this.compress(messages, savings);
    const { tools, ...callOptions } = options;
    const runnable = this.bound(this.withOffered(tools, offered));
    let conversation = prepared;
    const shape = { calls: (m: AIMessage) => m.tool_calls ?? [], name: (c: ToolCall) => c.name, args: (c: ToolCall) => c.args };
    const first = (await runnable.invoke(conversation, callOptions)) as AIMessage;
    const { reply, replies } = await answerOwnTools(own, this.headroom.maxRetrieveRounds ?? 3, first, shape, async (last, calls, answers) => {
      conversation = [...conversation, last, ...toolMessages(calls, answers)];
      return (await runnable.invoke(conversation, callOptions)) as AIMessage;
    });
    savings.retrieveRounds = replies.length - 1;
    const usage = replies.map((r) => r.usage_metadata).reduce(sumUsage);
    const message = finalMessage(reply, own, usage, savings);
    return { generations: [{ text: message.text, message }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const own = new OwnTools(this.client(), this.headroom.memory);
    const savings = noSavings();
    const { messages: prepared, offered } = await this.compress(messages, savings);
    const { tools, ...callOptions } = options;
    const bound = this.withOffered(tools, offered);
    const runnable = this.bound(bound);
    let conversation = prepared;
    const chunks = async function* (input: BaseMessage[]): AsyncGenerator<AIMessageChunk> {
      for await (const chunk of await runnable.stream(input, callOptions)) yield ownChunk(chunk);
    };
    const again = async (round: AIMessageChunk[], calls: Array<{ id: string; name: string }>, answers: string[]) => {
      const said = round.reduce((a, b) => a.concat(b));
      conversation = [...conversation, said, ...toolMessages(calls, answers)];
      return chunks(conversation);
    };
    const offers = bound.some((t) => own.has(toolName(t)));
    const stream = answerOwnToolsInStream(own, this.headroom.maxRetrieveRounds ?? 3, chunks(prepared), chunkFormat(), again, savings, offers);
    for await (const message of stream) yield await this.emit(message, runManager);
    yield await this.emit(new AIMessageChunk({ content: "", response_metadata: { headroom: { ...savings } } }), runManager);
  }

  private async emit(message: AIMessageChunk, runManager: CallbackManagerForLLMRun | undefined): Promise<ChatGenerationChunk> {
    const generation = new ChatGenerationChunk({ text: message.text, message });
    await runManager?.handleLLMNewToken(message.text, undefined, undefined, undefined, undefined, { chunk: generation });
    return generation;
  }

  /** The tools bound by the application, and those Headroom offers that it did not bind itself. */
  private withOffered(tools: BindToolsInput[] | undefined, offered: Array<Record<string, unknown>>): BindToolsInput[] {
    const declared = new Set((tools ?? []).map(toolName));
    const added = typeof this.model.bindTools === "function" ? offered.filter((t) => !declared.has(toolName(t))) : [];
    return [...(tools ?? []), ...added];
  }

  private client(): HeadroomClient {
    return this.headroom.client ?? defaultClient();
  }

  /** The wrapped model with `tools` bound, or as is when there are none. */
  private bound(tools: BindToolsInput[] | undefined): Runnable<BaseLanguageModelInput, BaseMessage> {
    if (!tools?.length) return this.model;
    if (typeof this.model.bindTools !== "function") throw new Error(`${this.model._llmType()} does not support tools (no bindTools)`);
    return this.model.bindTools(tools);
  }

  /**
   * The messages with compressed tool outputs and remembered facts, and the tools the daemon
   * offers the model (`headroom_retrieve` when a marker was emitted, the memory tools when asked
   * for), in OpenAI format.
   */
  private async compress(messages: BaseMessage[], savings: Savings): Promise<{ messages: BaseMessage[]; offered: Array<Record<string, unknown>> }> {
    const { client: _c, maxRetrieveRounds: _r, ...options } = this.headroom;
    const chat = messages.map(toChat);
    if (!options.memory && !chat.some((m) => m.role === "tool")) return { messages, offered: [] };
    const result = await this.client().compress(chat, { app: "langchain", ...options, model: modelName(this.model), format: "openai_chat" });
    addCompressed(savings, result);
    const offered = [...(result.retrieveTool ? [result.retrieveTool] : []), ...(result.memoryTools ?? [])];
    if (result.messages === chat) return { messages, offered };
    const out = messages.map((message, i) => {
      const got = result.messages[i]?.content;
      if (HumanMessage.isInstance(message)) return withFacts(message, chat[i]!.content, got);
      if (!ToolMessage.isInstance(message)) return message;
      const content = compressedContent(message.content, chat[i]!.content, got);
      return content === message.content ? message : copyWithContent(message, content);
    });
    return { messages: out, offered };
  }
}

type ToolCall = NonNullable<AIMessage["tool_calls"]>[number];

/** The model name the wrapped model reports, for the daemon's choice of tokenizer. */
function modelName(model: BaseChatModel): string | undefined {
  const m = model as unknown as { model?: unknown; modelName?: unknown };
  const name = m.model ?? m.modelName;
  return typeof name === "string" ? name : undefined;
}

/** One LangChain message in OpenAI chat shape; tool outputs keep their text blocks' order. */
function toChat(message: BaseMessage): any {
  if (ToolMessage.isInstance(message)) {
    const content =
      typeof message.content === "string"
        ? message.content
        : message.content.flatMap((b: any) => (b?.type === "text" && typeof b.text === "string" ? [{ type: "text", text: b.text }] : []));
    return { role: "tool", tool_call_id: message.tool_call_id, content };
  }
  if (AIMessage.isInstance(message)) {
    const calls = (message.tool_calls ?? []).map((c) => ({
      id: c.id,
      type: "function",
      function: { name: c.name, arguments: JSON.stringify(c.args ?? {}) },
    }));
    return { role: "assistant", content: message.text || null, ...(calls.length ? { tool_calls: calls } : {}) };
  }
  const role = { human: "user", system: "system", developer: "system" }[message.type as string] ?? "user";
  return { role, content: message.text };
}

/** The tool message's content with the compressed text put back, or the same value if unchanged. */
function compressedContent(original: ToolMessage["content"], sent: unknown, got: unknown): ToolMessage["content"] {
  if (typeof original === "string") return typeof got === "string" && got !== sent ? got : original;
  if (!Array.isArray(sent) || !Array.isArray(got)) return original;
  let k = 0;
  let changed = false;
  const blocks = original.map((b: any) => {
    if (!(b?.type === "text" && typeof b.text === "string")) return b;
    const text = got[k++]?.text;
    if (typeof text !== "string" || text === b.text) return b;
    changed = true;
    return { ...b, text };
  });
  return changed ? (blocks as ToolMessage["content"]) : original;
}

function copyWithContent(message: ToolMessage, content: ToolMessage["content"]): ToolMessage {
  return new ToolMessage({
    content,
    tool_call_id: message.tool_call_id,
    name: message.name,
    id: message.id,
    status: message.status,
    artifact: message.artifact,
    additional_kwargs: message.additional_kwargs,
    response_metadata: message.response_metadata,
  } as ConstructorParameters<typeof ToolMessage>[0] & object);
}

/**
 * The user message with what the daemon put in front of its text (the `<memory>` block), or
 * the same message when the daemon left it alone.
 */
function withFacts(message: HumanMessage, sent: string, got: unknown): HumanMessage {
  if (typeof got !== "string" || got === sent || !got.endsWith(sent)) return message;
  const facts = got.slice(0, got.length - sent.length);
  const content = typeof message.content === "string" ? facts + message.content : [{ type: "text", text: facts }, ...message.content];
  return new HumanMessage({
    content,
    id: message.id,
    name: message.name,
    additional_kwargs: message.additional_kwargs,
    response_metadata: message.response_metadata,
  } as ConstructorParameters<typeof HumanMessage>[0] & object);
}

/** The ToolMessages answering `calls` with `answers`. */
function toolMessages(calls: Array<{ id?: string | undefined; name: string }>, answers: string[]): ToolMessage[] {
  return calls.map((c, i) => new ToolMessage({ content: answers[i]!, tool_call_id: c.id ?? "", name: c.name }));
}

/**
 * The reply as the application gets it: without calls to Headroom's tools, which it could not
 * answer, with the usage of every call to the model and Headroom's savings.
 */
function finalMessage(reply: AIMessage, own: OwnTools, usage: AIMessage["usage_metadata"], savings: Savings): AIMessage {
  return new AIMessage({
    content: reply.content,
    id: reply.id,
    name: reply.name,
    tool_calls: (reply.tool_calls ?? []).filter((c) => !own.has(c.name)),
    invalid_tool_calls: reply.invalid_tool_calls,
    usage_metadata: usage,
    additional_kwargs: reply.additional_kwargs,
    response_metadata: { ...reply.response_metadata, headroom: { ...savings } },
  });
}

/**
 * A streamed chunk as this copy of `@langchain/core` knows it. A chunk from another copy fails
 * `AIMessageChunk.isInstance` (a prototype check); it is rebuilt with all its fields, so its
 * tool-call chunks and usage survive.
 */
function ownChunk(chunk: BaseMessage): AIMessageChunk {
  if (AIMessageChunk.isInstance(chunk)) return chunk;
  const c = chunk as Partial<AIMessageChunk>;
  return new AIMessageChunk({
    content: chunk.content,
    id: chunk.id,
    name: chunk.name,
    tool_call_chunks: c.tool_call_chunks ?? [],
    usage_metadata: c.usage_metadata,
    additional_kwargs: chunk.additional_kwargs,
    response_metadata: chunk.response_metadata,
  });
}

/**
 * Message chunks: tool calls are `tool_call_chunks` keyed by `index`. An answered round's usage
 * goes on as a chunk of its own, since LangChain adds up the usage of the chunks it concatenates.
 */
function chunkFormat(): StreamFormat<AIMessageChunk> {
  const pieces = (c: AIMessageChunk) => c.tool_call_chunks ?? [];
  return {
    startsCalls: (c) => pieces(c).length > 0,
    calls: (chunks) => gatherCalls(chunks.flatMap(pieces).map((t) => ({ key: t.index ?? t.id, id: t.id, name: t.name, args: t.args }))),
    relay: (c) => c,
    answered(chunks) {
      const usage = chunks.reduce((a, b) => a.concat(b)).usage_metadata;
      return usage ? [new AIMessageChunk({ content: "", usage_metadata: usage })] : [];
    },
    release(held, drop) {
      return held.map((c) => {
        const kept = pieces(c).filter((t) => !drop.has(t.index ?? t.id));
        if (kept.length === pieces(c).length) return c;
        return new AIMessageChunk({
          content: c.content,
          id: c.id,
          tool_call_chunks: kept,
          usage_metadata: c.usage_metadata,
          additional_kwargs: c.additional_kwargs,
          response_metadata: c.response_metadata,
        });
      });
    },
  };
}
