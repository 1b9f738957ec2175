/**
 * What every integration (the OpenAI and Anthropic SDK wrappers, the Vercel AI SDK middleware,
 * the LangChain chat model) shares: its options, the loops that answer Headroom's own tools
 * (`headroom_retrieve`, `memory_save`, `memory_search`) inside one call so the application never
 * sees them — one for plain replies, one inside a stream the integration hands on —, usage
 * summed over the rounds and the {@link Savings} it reports, and, for the SDK wrappers,
 * overlaying an SDK's methods without touching the caller's objects and the engine of one
 * wrapped `create` call ({@link sdkCall}).
 *
 * The rule for streams, the same in every integration: where the integration owns the stream it
 * answers Headroom's tools inside it (only the tool-call round is held back; text passes as it
 * arrives); where it cannot (`asResponse()`, whose bytes the application reads), Headroom's
 * tools are not offered — the marker's text still tells the model what was left out.
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
export interface HeadroomOptions extends Omit<CompressOptions, "model" | "format" | "client"> {
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

/**
 * What Headroom did for one call, where the application can read it: the tokens of the blocks
 * the daemon considered before and after compression, and how many rounds of Headroom's own
 * tools the call answered (each one a further provider call, whose usage is in the call's
 * usage). The SDK wrappers put it on what they return (`.headroom`), the Vercel middleware in
 * `providerMetadata.headroom`, the LangChain model in `response_metadata.headroom`.
 */
export interface Savings {
  tokensBefore: number;
  tokensAfter: number;
  retrieveRounds: number;
}

/** A fresh {@link Savings}, all zero. */
export function noSavings(): Savings {
  return { tokensBefore: 0, tokensAfter: 0, retrieveRounds: 0 };
}

/** Adds a compress result's token counts to `savings`. */
export function addCompressed(savings: Savings, result: { tokensBefore: number; tokensAfter: number }): void {
  savings.tokensBefore += result.tokensBefore;
  savings.tokensAfter += result.tokensAfter;
}

/**
 * `value` with `savings` as its non-enumerable `headroom` property: readable, but left out of
 * `JSON.stringify` and spreads, so a reply forwarded as is carries nothing new.
 */
export function withSavings<T>(value: T, savings: Savings): T {
  if (value && typeof value === "object") Object.defineProperty(value, "headroom", { value: savings, configurable: true, writable: true });
  return value;
}

/**
 * Two usage records added up, field by field: numbers are summed, nested records added the same
 * way, anything else (a tier name, a missing count) taken from whichever has it, `b` first. Works
 * for every provider's usage shape (OpenAI's, Anthropic's, the AI SDK's, LangChain's).
 */
export function sumUsage(a: any, b: any): any {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = key in a ? sumUsage(a[key], value) : value;
    return out;
  }
  return b ?? a;
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
 * Returns the final reply and every reply, the first included (their usage is the call's).
 */
export async function answerOwnTools<R, C>(
  own: OwnTools,
  rounds: number,
  reply: R,
  shape: ToolCalls<R, C>,
  again: (reply: R, calls: C[], answers: string[]) => PromiseLike<R>,
): Promise<{ reply: R; replies: R[] }> {
  const replies = [reply];
  for (let round = 0; round < rounds; round++) {
    const calls = shape.calls(reply);
    if (calls.length === 0 || !calls.every((c) => own.has(shape.name(c)))) break;
    const answers = await Promise.all(calls.map((c) => own.answer(shape.name(c), shape.args(c))));
    reply = await again(reply, calls, answers);
    replies.push(reply);
  }
  const saves = shape.calls(reply).filter((c) => shape.name(c) === MEMORY_SAVE_TOOL_NAME && own.has(MEMORY_SAVE_TOOL_NAME));
  await Promise.all(saves.map((c) => own.answer(MEMORY_SAVE_TOOL_NAME, shape.args(c))));
  return { reply, replies };
}

/** One tool call read out of a finished stream round. */
export interface StreamCall {
  /** What the stream's events use to point at the call (an index, or the call id). */
  key: unknown;
  /** The call id the provider wants its answer tagged with. */
  id: string;
  name: string;
  args: ToolArguments;
}

/**
 * How {@link answerOwnToolsInStream} reads and rewrites one stream's events (chunks, SSE events,
 * stream parts). One instance serves one call, so it may keep what it needs from round to round
 * (the usage of the rounds answered, how many content blocks the application has seen).
 */
export interface StreamFormat<E> {
  /** Whether `event` starts the round's tool calls: from it on the round is held back until it ends. */
  startsCalls(event: E): boolean;
  /** The tool calls of a finished round, read from all its events. */
  calls(events: E[]): StreamCall[];
  /** An event as the application gets it (`round` 0 is the first); `null` drops it. */
  relay(event: E, round: number): E | null;
  /**
   * A round whose calls Headroom answered is over (its held events are dropped): remember what
   * later rounds need, and return any events that close what the application already saw.
   */
  answered(events: E[], round: number): E[];
  /** The held events of the last round, relayed, without the events of the calls in `drop`. */
  release(held: E[], drop: Set<unknown>, round: number): E[];
}

/**
 * The model-call loop for Headroom's own tools inside a stream the integration hands on:
 * events pass through as they arrive until one starts tool calls; from there the round is held
 * back. When it ends with calls to Headroom's tools only, they are answered, the held events
 * dropped, and the events of the stream `again` returns (the model asked again) follow, at most
 * `rounds` times; otherwise the held events are released, without Headroom's calls (whose
 * `memory_save` calls are still carried out). With `hold` false (Headroom offered no tools)
 * nothing is held. The application sees one reply: the text of every round, then the last
 * round's end, with the usage of all rounds when `format` sums it.
 */
export async function* answerOwnToolsInStream<E>(
  own: OwnTools,
  rounds: number,
  first: AsyncIterable<E>,
  format: StreamFormat<E>,
  again: (events: E[], calls: StreamCall[], answers: string[]) => Promise<AsyncIterable<E>>,
  savings: Savings,
  hold = true,
): AsyncGenerator<E> {
  let stream = first;
  for (let round = 0; ; round++) {
    const events: E[] = [];
    let held: E[] | null = null;
    for await (const event of stream) {
      events.push(event);
      if (!held && hold && format.startsCalls(event)) held = [];
      if (held) held.push(event);
      else {
        const out = format.relay(event, round);
        if (out !== null) yield out;
      }
    }
    const calls = held ? format.calls(events) : [];
    const ours = calls.filter((c) => own.has(c.name));
    if (round < rounds && calls.length > 0 && ours.length === calls.length) {
      const answers = await Promise.all(calls.map((c) => own.answer(c.name, c.args)));
      yield* format.answered(events, round);
      savings.retrieveRounds++;
      stream = await again(events, calls, answers);
      continue;
    }
    const saves = ours.filter((c) => c.name === MEMORY_SAVE_TOOL_NAME);
    await Promise.all(saves.map((c) => own.answer(c.name, c.args)));
    yield* format.release(held ?? [], new Set(ours.map((c) => c.key)), round);
    return;
  }
}

/** The tool calls of a round whose arguments came as JSON fragments, keyed by `key`, in order. */
export function gatherCalls(pieces: Array<{ key: unknown; id?: unknown; name?: unknown; args?: unknown }>): StreamCall[] {
  const calls = new Map<unknown, StreamCall>();
  for (const piece of pieces) {
    let call = calls.get(piece.key);
    if (!call) calls.set(piece.key, (call = { key: piece.key, id: "", name: "", args: "" }));
    if (typeof piece.id === "string" && piece.id) call.id = piece.id;
    if (typeof piece.name === "string") call.name += piece.name;
    if (typeof piece.args === "string") call.args += piece.args;
  }
  return [...calls.values()];
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
 * `request` without the tools the daemon added (`headroom_retrieve`, the memory tools), for a
 * reply the application reads itself and Headroom cannot answer (`asResponse()`); a tool of the
 * same name that the caller's request declared stays.
 */
export function withoutAddedTools(request: any, original: any): any {
  if (request === original || !Array.isArray(request?.tools)) return request;
  const declared = new Set(Array.isArray(original?.tools) ? original.tools.map(toolName) : []);
  const tools = request.tools.filter((t: unknown) => declared.has(toolName(t)));
  const { tools: _added, ...rest } = request;
  return original?.tools === undefined ? rest : { ...rest, tools };
}

/** Whether the request offers the model one of Headroom's tools, so that its reply may call one. */
export function offersOwnTools(request: any, own: OwnTools): boolean {
  return Array.isArray(request?.tools) && request.tools.some((t: unknown) => own.has(toolName(t)));
}

const warned = new Set<string>();

/** `console.warn(message)` the first time this process passes `message`, never again. */
export function warnOncePerProcess(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

// ---- What the OpenAI and Anthropic SDK wrappers share ----

/** What an SDK promise's `withResponse()` gives. */
export interface WithResponse<T> {
  data: T;
  response: Response;
  request_id: string | null | undefined;
}

/**
 * What a wrapped SDK method returns in place of the SDK's `APIPromise`: a promise of the data
 * that also has `withResponse()`, `asResponse()` and the `_thenUnwrap()` the SDKs' own helpers
 * (`parse`) chain on. The call starts when it is first awaited (or one of those is called).
 */
export class HeadroomPromise<T> implements PromiseLike<T> {
  private started: Promise<WithResponse<T>> | undefined;

  constructor(
    private readonly run: () => Promise<WithResponse<T>>,
    private readonly raw: () => Promise<Response>,
  ) {}

  /** The data, the last provider call's `Response` (its body read) and request id. */
  withResponse(): Promise<WithResponse<T>> {
    return (this.started ??= this.run());
  }

  /**
   * The provider's `Response`, its body unread: one call with the compressed request, without
   * Headroom's tools, since the application reads the reply itself.
   */
  asResponse(): Promise<Response> {
    return this.raw();
  }

  then<A = T, B = never>(onfulfilled?: ((value: T) => A | PromiseLike<A>) | null, onrejected?: ((reason: any) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.withResponse().then((r) => r.data).then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: any) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  /** The SDKs' own chaining (their `parse` helpers call it on `create`'s promise). */
  _thenUnwrap<U>(transform: (data: T, props: { response: Response }) => U): HeadroomPromise<U> {
    return new HeadroomPromise(
      async () => {
        const r = await this.withResponse();
        const data = transform(r.data, { response: r.response });
        const savings = (r.data as { headroom?: Savings } | null)?.headroom;
        return { ...r, data: savings ? withSavings(data, savings) : data };
      },
      () => this.raw(),
    );
  }

  get [Symbol.toStringTag](): string {
    return "Promise";
  }
}

/**
 * How the SDK engine ({@link sdkCall}) handles one provider API: OpenAI chat completions,
 * OpenAI responses, or Anthropic messages.
 */
export interface SdkFormat<R, C> {
  /** The daemon's name for the request format. */
  format: "openai_chat" | "openai_responses" | "anthropic";
  /** Reads Headroom's tool calls out of a reply. */
  shape: ToolCalls<R, C>;
  /** The request that asks the model again after `reply`, whose `calls` got `answers`. */
  next(request: any, reply: R, calls: C[], answers: string[]): any;
  /** The final reply without calls to Headroom's tools (the same object when it has none). */
  strip(reply: R, own: OwnTools): R;
  /** A fresh reader of this API's stream events. */
  stream(): StreamFormat<any>;
  /** The request that asks the model again after a streamed round (`events`) whose `calls` got `answers`. */
  nextStreamed(request: any, events: any[], calls: StreamCall[], answers: string[]): any;
}

/** A raw SDK method: returns the SDK's `APIPromise`. */
export type SdkMethod = (body: any, requestOptions?: any) => any;

/**
 * The key under which a wrapped SDK helper (`stream()`, `runTools()`) hands its {@link Savings}
 * through the request options to the `create` calls it makes; removed before the SDK sees them.
 */
export const SAVINGS_OPTION = Symbol("headroom.savings");

/**
 * One call of a wrapped SDK `create`: compresses `body`, sends it with `send`, and answers
 * Headroom's own tools inside the call — a plain reply by asking again, a stream (`stream:
 * true`) inside the stream it returns (see {@link answerOwnToolsInStream}). The reply's usage
 * is that of every provider call, and its `.headroom` the {@link Savings}.
 */
export function sdkCall<R, C>(format: SdkFormat<R, C>, send: SdkMethod, body: any, requestOptions: any, options: HeadroomOptions): HeadroomPromise<any> {
  const { hr, own, rounds, compressOptions } = settings(options);
  const { [SAVINGS_OPTION]: shared, ...sdkOptions } = (requestOptions ?? {}) as Record<PropertyKey, any>;
  const savings: Savings = shared ?? noSavings();
  const reqOptions = requestOptions === undefined ? undefined : sdkOptions;
  const compressed = async () => {
    // The daemon's savings ledger counts SDK calls by SDK.
    const client = format.format === "anthropic" ? "anthropic-sdk" : "openai-sdk";
    const result = await hr.compress(body, { app: client, ...compressOptions, model: body?.model, format: format.format });
    addCompressed(savings, result);
    return result.messages;
  };
  const run = async (): Promise<WithResponse<any>> => {
    let request = await compressed();
    const first: WithResponse<any> = await send(request, reqOptions).withResponse();
    if (body?.stream) {
      const raw = first.data;
      if (!offersOwnTools(request, own)) return { ...first, data: withSavings(raw, savings) };
      const controller: AbortController = raw.controller ?? new AbortController();
      const signal = reqOptions?.signal ? AbortSignal.any([reqOptions.signal, controller.signal]) : controller.signal;
      const again = async (events: any[], calls: StreamCall[], answers: string[]) => {
        request = format.nextStreamed(request, events, calls, answers);
        return (await send(request, { ...reqOptions, signal }).withResponse()).data;
      };
      const events = answerOwnToolsInStream(own, rounds, raw, format.stream(), again, savings);
      const Stream = raw.constructor as new (iterator: () => AsyncIterator<unknown>, controller: AbortController) => object;
      return { ...first, data: withSavings(new Stream(() => events, controller), savings) };
    }
    let last = first;
    const { reply, replies } = await answerOwnTools(own, rounds, first.data, format.shape, async (reply, calls, answers) => {
      request = format.next(request, reply, calls, answers);
      last = await send(request, reqOptions).withResponse();
      return last.data;
    });
    savings.retrieveRounds += replies.length - 1;
    const data: any = format.strip(reply, own);
    if (replies.length > 1 && data?.usage) data.usage = replies.map((r: any) => r?.usage).reduce(sumUsage);
    return { ...last, data: withSavings(data, savings) };
  };
  const raw = async () => send(withoutAddedTools(await compressed(), body), reqOptions).asResponse();
  return new HeadroomPromise(run, raw);
}

/**
 * An SDK helper method (`stream`, `parse`, `runTools`, …) run on `view`, the wrapped resource,
 * so that the `create` calls it makes are the wrapped ones; what it returns carries their
 * {@link Savings} as `.headroom` (a stream runner at once, filled in as it runs; a promise's
 * value).
 */
export function sdkHelper(method: (...args: any[]) => any, view: object): SdkMethod {
  return (body: any, requestOptions?: any) => {
    const savings = noSavings();
    const out = method.call(view, body, { ...requestOptions, [SAVINGS_OPTION]: savings });
    if (out instanceof HeadroomPromise) return out;
    if (typeof out?.then === "function") return out.then((value: unknown) => withSavings(value, savings));
    return withSavings(out, savings);
  };
}
