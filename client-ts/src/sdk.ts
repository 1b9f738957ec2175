/**
 * `withHeadroom(client)`: the OpenAI or Anthropic SDK client, with every request compressed by
 * the daemon on its way out. What the two wrappers share lives here: recognising the client,
 * overlaying methods without touching the caller's objects, and the `headroom_retrieve` rules.
 *
 * @module
 */

import { defaultClient, RETRIEVE_TOOL_NAME, type CompressOptions, type HeadroomClient } from "./client.js";
import { wrapAnthropic } from "./anthropic.js";
import { wrapOpenAI } from "./openai.js";

/** What the SDK wrappers (and the framework integrations) accept. */
export interface HeadroomOptions extends Omit<CompressOptions, "model" | "format"> {
  /** The daemon client to use; default the process-wide one. */
  client?: HeadroomClient;
  /**
   * How many times one call may answer the model's `headroom_retrieve` calls and ask it again
   * before returning what it has; default 3.
   */
  maxRetrieveRounds?: number;
}

/** The options split into the daemon client, the retrieve rounds, and per-request compress options. */
export function settings(options: HeadroomOptions): {
  hr: HeadroomClient;
  rounds: number;
  compressOptions: Omit<HeadroomOptions, "client" | "maxRetrieveRounds">;
} {
  const { client, maxRetrieveRounds, ...compressOptions } = options;
  return { hr: client ?? defaultClient(), rounds: maxRetrieveRounds ?? 3, compressOptions };
}

/**
 * Wraps an OpenAI client (`chat.completions.create`, `responses.create`) or an Anthropic client
 * (`messages.create`) so that requests go through the daemon first. Returns a new object that
 * behaves like the client; the client itself is not modified.
 *
 * Non-streaming calls answer the model's `headroom_retrieve` calls themselves and ask the model
 * again, so the application never sees them. Streaming calls are passed through compressed; the
 * retrieve tool is kept in them only when the request already declares it (then the application
 * answers it with `retrieveToolResult`).
 */
export function withHeadroom<T extends object>(client: T, options: HeadroomOptions = {}): T {
  const c = client as any;
  if (typeof c.chat?.completions?.create === "function") return wrapOpenAI(client, options);
  if (typeof c.messages?.create === "function") return wrapAnthropic(client, options);
  throw new TypeError("withHeadroom expects an OpenAI or Anthropic SDK client");
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

/** The name of a tool definition in any of the three provider shapes. */
function toolName(tool: any): unknown {
  return tool?.name ?? tool?.function?.name;
}

/**
 * The request to send when streaming: a stream's tool calls reach the application, so the
 * retrieve tool the daemon added is taken out again unless the caller's request declared it.
 */
export function forStreaming(request: any, original: any): any {
  if (request === original || !Array.isArray(request?.tools)) return request;
  if (Array.isArray(original?.tools) && original.tools.some((t: unknown) => toolName(t) === RETRIEVE_TOOL_NAME)) return request;
  const tools = request.tools.filter((t: unknown) => toolName(t) !== RETRIEVE_TOOL_NAME);
  const { tools: _added, ...rest } = request;
  return original?.tools === undefined ? rest : { ...rest, tools };
}

/** Whether every call in a non-empty list is a `headroom_retrieve` call. */
export function allRetrieve<C>(calls: C[], name: (call: C) => unknown): boolean {
  return calls.length > 0 && calls.every((c) => name(c) === RETRIEVE_TOOL_NAME);
}
