/**
 * `HeadroomChatModel` for LangChain.js (@langchain/core 1.4): wraps any chat model so that the
 * tool messages it is given are compressed through the daemon first.
 *
 * The messages go to the daemon as an OpenAI-chat-shaped copy, one chat message per LangChain
 * message (so `frozen` and `protectRecent` count the caller's messages); compressed tool outputs
 * come back as new `ToolMessage`s, the caller's are never modified. Tools bound with `bindTools`
 * are passed through to the wrapped model. `invoke` answers the model's `headroom_retrieve`
 * calls itself and asks the model again; `stream` does not offer that tool, since its tool calls
 * reach the application (unless the application binds a tool of that name itself).
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
import { AIMessage, AIMessageChunk, ToolMessage, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { defaultClient, RETRIEVE_TOOL_NAME, type HeadroomClient } from "./client.js";
import { allRetrieve, type HeadroomOptions } from "./sdk.js";

export interface HeadroomChatModelCallOptions extends BaseChatModelCallOptions {
  /** Tools bound with `bindTools`, passed through to the wrapped model. */
  tools?: BindToolsInput[];
}

export interface HeadroomChatModelInput extends BaseChatModelParams, HeadroomOptions {
  /** The chat model that answers; it needs `bindTools` for tools and for `headroom_retrieve`. */
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
    const { model, client, maxRetrieveRounds, query, protectRecent, frozen, targetRatio, compressUserMessages, ...base } = fields;
    super(base);
    this.model = model;
    this.headroom = { client, maxRetrieveRounds, query, protectRecent, frozen, targetRatio, compressUserMessages };
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
    const hr = this.client();
    const { messages: prepared, retrieveTool } = await this.compress(messages);
    const { tools, ...callOptions } = options;
    const offer = retrieveTool && typeof this.model.bindTools === "function" && !declares(tools);
    const runnable = this.bound(offer ? [...(tools ?? []), retrieveTool] : tools);
    const config = callOptions;
    let conversation = prepared;
    let reply = (await runnable.invoke(conversation, config)) as AIMessage;
    for (let round = 0; round < (this.headroom.maxRetrieveRounds ?? 3); round++) {
      const calls = reply.tool_calls ?? [];
      if (!allRetrieve(calls, (c) => c.name)) break;
      const answers = await Promise.all(calls.map((c) => hr.retrieveToolResult(c.args)));
      conversation = [
        ...conversation,
        reply,
        ...calls.map((c, i) => new ToolMessage({ content: answers[i]!, tool_call_id: c.id ?? "", name: c.name })),
      ];
      reply = (await runnable.invoke(conversation, config)) as AIMessage;
    }
    const message = withoutRetrieveCalls(reply);
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

  /** The messages with compressed tool outputs, and the retrieve tool when a marker was emitted. */
  private async compress(messages: BaseMessage[]): Promise<{ messages: BaseMessage[]; retrieveTool: Record<string, unknown> | null }> {
    const { client: _c, maxRetrieveRounds: _r, ...options } = this.headroom;
    const chat = messages.map(toChat);
    if (!chat.some((m) => m.role === "tool")) return { messages, retrieveTool: null };
    const result = await this.client().compress(chat, { ...options, model: modelName(this.model), format: "openai_chat" });
    if (result.messages === chat) return { messages, retrieveTool: null };
    const out = messages.map((message, i) => {
      if (!ToolMessage.isInstance(message)) return message;
      const content = compressedContent(message.content, chat[i]!.content, result.messages[i]?.content);
      return content === message.content ? message : copyWithContent(message, content);
    });
    return { messages: out, retrieveTool: result.retrieveTool };
  }
}

function declares(tools: BindToolsInput[] | undefined): boolean {
  return (tools ?? []).some((t: any) => (t?.name ?? t?.function?.name) === RETRIEVE_TOOL_NAME);
}

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

/** The reply without `headroom_retrieve` calls the application could not answer. */
function withoutRetrieveCalls(reply: AIMessage): AIMessage {
  const calls = reply.tool_calls ?? [];
  if (!calls.some((c) => c.name === RETRIEVE_TOOL_NAME)) return reply;
  return new AIMessage({
    content: reply.content,
    id: reply.id,
    name: reply.name,
    tool_calls: calls.filter((c) => c.name !== RETRIEVE_TOOL_NAME),
    invalid_tool_calls: reply.invalid_tool_calls,
    usage_metadata: reply.usage_metadata,
    additional_kwargs: reply.additional_kwargs,
    response_metadata: reply.response_metadata,
  });
}
