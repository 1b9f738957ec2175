/**
 * What every integration (the OpenAI and Anthropic SDK wrappers, the Vercel AI SDK middleware,
 * the LangChain chat model) shares: its options, overlaying an SDK's methods without touching
 * the caller's objects, the request a stream sends, and the loop that answers Headroom's own
 * tools (`headroom_retrieve`, `memory_save`, `memory_search`) inside one provider call so the
 * application never sees them.
 *
 * @module
 */

import { defaultClient, type CompressOptions, type HeadroomClient } from "./client.js";
import type { MemoryOptions } from "./memory.js";
import { MEMORY_SAVE_TOOL_NAME, MEMORY_SEARCH_TOOL_NAME, RETRIEVE_TOOL_NAME, toolName, type ToolArguments } from "./tools.js";

/**
 * What the SDK wrappers (and the framework integrations) accept. Unlike `compress`, they offer
 * the model the memory tools whenever `memory` is given, unless `memory.tools` is `false`.
 */
export interface HeadroomOptions extends Omit<CompressOptions, "model" | "format"> {
  /** The daemon client to use; default the process-wide one. */
  client?: HeadroomClient;
  /**
   * How many times one call may answer the model's calls to Headroom's own tools
   * (`headroom_retrieve`, and the memory tools) and ask it again before returning what it
   * has; default 3.
   */
  maxRetrieveRounds?: number;
}

/** The options split into the daemon client, Headroom's tools, the rounds, and per-request compress options. */
export function settings(options: HeadroomOptions): {
  hr: HeadroomClient;
  own: OwnTools;
  rounds: number;
  compressOptions: Omit<HeadroomOptions, "client" | "maxRetrieveRounds">;
} {
  const { client, maxRetrieveRounds, ...rest } = options;
  const hr = client ?? defaultClient();
  const compressOptions = { ...rest, memory: loopMemory(rest.memory) };
  return { hr, own: new OwnTools(hr, compressOptions.memory), rounds: maxRetrieveRounds ?? 3, compressOptions };
}

/** The memory options of an integration that answers the memory tools: tools on unless turned off. */
export function loopMemory(memory: MemoryOptions | undefined): MemoryOptions | undefined {
  return memory && { ...memory, tools: memory.tools ?? true };
}

/**
 * Headroom's own tools in the requests of one integration: `headroom_retrieve`, and, when
 * memory tools are on, `memory_save` and `memory_search` in the memory scope.
 */
export class OwnTools {
  constructor(
    private readonly hr: HeadroomClient,
    private readonly memory: MemoryOptions | undefined,
  ) {}

  /** Whether a tool of this name is Headroom's to answer. */
  has(name: unknown): boolean {
    if (name === RETRIEVE_TOOL_NAME) return true;
    return Boolean(this.memory?.tools) && (name === MEMORY_SAVE_TOOL_NAME || name === MEMORY_SEARCH_TOOL_NAME);
  }

  /** The tool result for one call to one of them; never rejects. */
  answer(name: unknown, args: ToolArguments): Promise<string> {
    return this.hr.answerTool(String(name), args, { memory: this.memory });
  }
}

/** How the loop reads one integration's replies. */
export interface ToolCalls<R, C> {
  /** The tool calls the application would receive in `reply` (none when it has several choices). */
  calls(reply: R): C[];
  /** A call's tool name. */
  name(call: C): unknown;
  /** A call's arguments. */
  args(call: C): ToolArguments;
}

/**
 * The model-call loop for Headroom's own tools: while every tool call in `reply` is one of
 * them, answers them through the daemon and asks the model `again` (with the reply, its calls
 * and their answers appended), at most `rounds` times. A `memory_save` call left in the final
 * reply (beside the application's own calls, or past the last round) is still carried out, so
 * the fact is kept; the caller then removes Headroom's calls from what the application sees.
 */
export async function answerOwnTools<R, C>(
  own: OwnTools,
  rounds: number,
  reply: R,
  shape: ToolCalls<R, C>,
  again: (reply: R, calls: C[], answers: string[]) => PromiseLike<R>,
): Promise<R> {
  for (let round = 0; round < rounds; round++) {
    const calls = shape.calls(reply);
    if (calls.length === 0 || !calls.every((c) => own.has(shape.name(c)))) break;
    const answers = await Promise.all(calls.map((c) => own.answer(shape.name(c), shape.args(c))));
    reply = await again(reply, calls, answers);
  }
  const saves = shape.calls(reply).filter((c) => shape.name(c) === MEMORY_SAVE_TOOL_NAME && own.has(MEMORY_SAVE_TOOL_NAME));
  await Promise.all(saves.map((c) => own.answer(MEMORY_SAVE_TOOL_NAME, shape.args(c))));
  return reply;
}

/**
 * A view of `target` whose `overrides` replace some properties. Everything else is read from
 * the target, and its methods are bound to it (SDK classes keep private fields, which a proxy
 * receiver could not reach).
 */
export function overlay<T extends object>(target: T, overrides: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (typeof prop === "string" && Object.hasOwn(overrides, prop)) return overrides[prop];
      const value = Reflect.get(t, prop, t);
      return typeof value === "function" ? value.bind(t) : value;
    },
  });
}

/**
 * The request to send when streaming: a stream's tool calls reach the application, so the
 * tools the daemon added (`headroom_retrieve`, the memory tools) are taken out again; a tool
 * of the same name that the caller's request declared stays, for the application to answer
 * with `answerTool`.
 */
export function forStreaming(request: any, original: any): any {
  if (request === original || !Array.isArray(request?.tools)) return request;
  const declared = new Set(Array.isArray(original?.tools) ? original.tools.map(toolName) : []);
  const tools = request.tools.filter((t: unknown) => declared.has(toolName(t)));
  const { tools: _added, ...rest } = request;
  return original?.tools === undefined ? rest : { ...rest, tools };
}
