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
 * the model again; `stream` does not offer those tools, since its tool calls reach the
 * application (unless the application binds tools of those names itself).
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
import { answerOwnTools, loopMemory, OwnTools, type HeadroomOptions } from "./loop.js";
import { toolName } from "./tools.js";

export interface HeadroomChatModelCallOptions extends BaseChatModelCallOptions {
  /** Tools bound with `bindTools`, passed through to the wrapped model. */
  tools?: BindToolsInput[];
}

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
    const { messages: prepared, offered } = await this.compress(messages);
    const { tools, ...callOptions } = options;
    const declared = new Set((tools ?? []).map(toolName));
    const added = typeof this.model.bindTools === "function" ? offered.filter((t) => !declared.has(toolName(t))) : [];
    const runnable = this.bound([...(tools ?? []), ...added]);
    let conversation = prepared;
    const shape = { calls: (m: AIMessage) => m.tool_calls ?? [], name: (c: ToolCall) => c.name, args: (c: ToolCall) => c.args };
    const first = (await runnable.invoke(conversation, callOptions)) as AIMessage;
    const reply = await answerOwnTools(own, this.headroom.maxRetrieveRounds ?? 3, first, shape, async (last, calls, answers) => {
      conversation = [
        ...conversation,
        last,
        ...calls.map((c, i) => new ToolMessage({ content: answers[i]!, tool_call_id: c.id ?? "", name: c.name })),
      ];
      return (await runnable.invoke(conversation, callOptions)) as AIMessage;
    });
    const message = withoutOwnCalls(reply, own);
    return { generations: [{ text: message.text, message }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { messages: prepared } = await this.compress(messages);
    const { tools, ...callOptions } = options;
    const stream = await this.bound(tools).stream(prepared, callOptions);
    for await (const chunk of stream) {
      const message = AIMessageChunk.isInstance(chunk) ? chunk : new AIMessageChunk({ content: (chunk as BaseMessage).content });
      const generation = new ChatGenerationChunk({ text: message.text, message });
      yield generation;
      await runManager?.handleLLMNewToken(message.text, undefined, undefined, undefined, undefined, { chunk: generation });
    }
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
  private async compress(messages: BaseMessage[]): Promise<{ messages: BaseMessage[]; offered: Array<Record<string, unknown>> }> {
    const { client: _c, maxRetrieveRounds: _r, ...options } = this.headroom;
    const chat = messages.map(toChat);
    if (!options.memory && !chat.some((m) => m.role === "tool")) return { messages, offered: [] };
    const result = await this.client().compress(chat, { ...options, model: modelName(this.model), format: "openai_chat" });
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

/** The reply without calls to Headroom's tools, which the application could not answer. */
function withoutOwnCalls(reply: AIMessage, own: OwnTools): AIMessage {
  const calls = reply.tool_calls ?? [];
  if (!calls.some((c) => own.has(c.name))) return reply;
  return new AIMessage({
    content: reply.content,
    id: reply.id,
    name: reply.name,
    tool_calls: calls.filter((c) => !own.has(c.name)),
    invalid_tool_calls: reply.invalid_tool_calls,
    usage_metadata: reply.usage_metadata,
    additional_kwargs: reply.additional_kwargs,
    response_metadata: reply.response_metadata,
  });
}
