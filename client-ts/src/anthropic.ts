/**
 * The Anthropic SDK wrapper: `messages.create` sends its request body (native content blocks,
 * `tool_result` blocks included) through the daemon, then to Anthropic, and answers the tool
 * uses of Headroom's own tools (`headroom_retrieve`, the memory tools) — in a plain reply by
 * asking the model again, in a stream inside the stream. `messages.stream()` and
 * `messages.parse()` run on the wrapped resource, so the `create` call they make is the wrapped
 * one; `withOptions()` wraps its copy. What is not compressed (`beta.messages`,
 * `messages.batches`) warns once. Needs nothing from `@anthropic-ai/sdk` at run time: it wraps
 * the instance it is given.
 *
 * @module
 */

import { overlay, sdkCall, sdkHelper, sumUsage, warnOncePerProcess, type HeadroomOptions, type SdkFormat, type StreamFormat } from "./loop.js";
import { argumentsOf } from "./tools.js";

/** See `withHeadroom`. */
export function wrapAnthropic<T extends object>(client: T, options: HeadroomOptions): T {
  const c = client as any;
  const create = c.messages.create.bind(c.messages);
  const overrides: Record<string, unknown> = {
    create: (body: any, requestOptions?: any) => sdkCall(MESSAGES, create, body, requestOptions, options),
  };
  const messages = overlay(c.messages, overrides);
  for (const name of ["parse", "stream"]) if (typeof c.messages[name] === "function") overrides[name] = sdkHelper(c.messages[name], messages);
  if (c.messages.batches) overrides.batches = uncompressed(c.messages.batches, ["create"], "messages.batches.create", BATCHES);
  const top: Record<string, unknown> = { messages };
  if (typeof c.withOptions === "function") top.withOptions = (...args: unknown[]) => wrapAnthropic(c.withOptions(...args), options);
  if (c.beta?.messages) {
    const methods = ["create", "parse", "stream", "toolRunner"];
    top.beta = overlay(c.beta, { messages: uncompressed(c.beta.messages, methods, "beta.messages", BETA) });
  }
  return overlay(client, top);
}

const BETA =
  "use messages.create / messages.stream / messages.parse on the wrapped client, or compress the body yourself with compress(body, { format: 'anthropic' })";
const BATCHES = "compress each request's params with compress(params, { format: 'anthropic' }) before you batch them";

/** `target` whose `methods` warn once per process that they are not compressed, with `alternative`. */
function uncompressed(target: any, methods: string[], what: string, alternative: string): any {
  const overrides: Record<string, unknown> = {};
  for (const name of methods) {
    if (typeof target[name] !== "function") continue;
    overrides[name] = (...args: unknown[]) => {
      warnOncePerProcess(`headroom: ${what} is not compressed by withHeadroom; ${alternative}`);
      return target[name](...args);
    };
  }
  return overlay(target, overrides);
}

/** The request with the assistant's `content` and the answers to its tool uses appended. */
function turn(request: any, content: unknown[], ids: string[], answers: string[]): any {
  return {
    ...request,
    messages: [
      ...request.messages,
      { role: "assistant", content },
      { role: "user", content: ids.map((id, i) => ({ type: "tool_result", tool_use_id: id, content: answers[i] })) },
    ],
  };
}

const MESSAGES: SdkFormat<any, any> = {
  format: "anthropic",
  shape: {
    calls: (reply: any): any[] => (reply?.content ?? []).filter((block: any) => block.type === "tool_use"),
    name: (call: any) => call.name,
    args: (call: any) => call.input,
  },
  next: (request, reply, calls, answers) =>
    turn(
      request,
      reply.content,
      calls.map((c: any) => c.id),
      answers,
    ),
  strip: (reply, own) => {
    const named = (block: any) => block.type === "tool_use" && own.has(block.name);
    if (!reply?.content?.some(named)) return reply;
    const content = reply.content.filter((block: any) => !named(block));
    const toolUseLeft = content.some((block: any) => block.type === "tool_use");
    return { ...reply, content, stop_reason: toolUseLeft ? reply.stop_reason : "end_turn" };
  },
  stream: messagesStream,
  nextStreamed: (request, events, calls, answers) =>
    turn(
      request,
      blocksOf(events).filter((b) => b && !(b.type === "text" && !b.text)),
      calls.map((c) => c.id),
      answers,
    ),
};

/** The content blocks of a streamed round, put together from its events (tool inputs parsed). */
function blocksOf(events: any[]): any[] {
  const blocks: any[] = [];
  const json: string[] = [];
  for (const e of events) {
    if (e?.type === "content_block_start") {
      blocks[e.index] = { ...e.content_block };
      json[e.index] = "";
    } else if (e?.type === "content_block_delta" && blocks[e.index]) {
      const block = blocks[e.index];
      const d = e.delta;
      if (d.type === "text_delta") block.text = (block.text ?? "") + d.text;
      else if (d.type === "input_json_delta") json[e.index] += d.partial_json;
      else if (d.type === "thinking_delta") block.thinking = (block.thinking ?? "") + d.thinking;
      else if (d.type === "signature_delta") block.signature = d.signature;
      else if (d.type === "citations_delta") block.citations = [...(block.citations ?? []), d.citation];
    }
  }
  blocks.forEach((block, i) => {
    if (json[i]) block.input = argumentsOf(json[i]) ?? {};
  });
  return blocks;
}

/** Usage fields that are set (a `message_delta` leaves out those that do not apply). */
function setFields(usage: any): Record<string, unknown> {
  return Object.fromEntries(Object.entries(usage ?? {}).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * Messages stream events: a tool use is a content block (`index`). Later rounds continue the
 * first message: their `message_start` is dropped, their block indexes follow the blocks already
 * shown, and the last `message_delta` carries the usage of all rounds.
 */
function messagesStream(): StreamFormat<any> {
  let prior: unknown;
  let current: unknown;
  let shown = 0;
  const startsCalls = (e: any) => e?.type === "content_block_start" && e.content_block?.type === "tool_use";
  const isBlock = (e: any) => typeof e?.index === "number" && String(e.type).startsWith("content_block");
  const relay = (e: any, round: number) => {
    if (e?.type === "message_start") {
      current = e.message?.usage;
      return round === 0 ? e : null;
    }
    if (e?.type === "message_delta") {
      current = { ...(current as object), ...setFields(e.usage) };
      return prior === undefined ? e : { ...e, usage: sumUsage(prior, current) };
    }
    return round > 0 && isBlock(e) ? { ...e, index: e.index + shown } : e;
  };
  return {
    startsCalls,
    calls: (events) =>
      blocksOf(events).flatMap((block, index) => (block?.type === "tool_use" ? [{ key: index, id: block.id, name: block.name, args: block.input }] : [])),
    relay,
    answered(events) {
      shown += events.find(startsCalls)?.index ?? 0;
      let usage: any;
      for (const e of events) {
        if (e?.type === "message_start") usage = e.message?.usage;
        if (e?.type === "message_delta") usage = { ...usage, ...setFields(e.usage) };
      }
      prior = sumUsage(prior, usage);
      return [];
    },
    release(held, drop, round) {
      const below = (index: number) => [...drop].filter((d) => (d as number) < index).length;
      const toolUseLeft = held.some((e) => startsCalls(e) && !drop.has(e.index));
      return held.flatMap((e) => {
        if (isBlock(e)) {
          if (drop.has(e.index)) return [];
          e = { ...e, index: e.index - below(e.index) };
        }
        if (e?.type === "message_delta" && drop.size && !toolUseLeft && e.delta?.stop_reason === "tool_use") {
          e = { ...e, delta: { ...e.delta, stop_reason: "end_turn" } };
        }
        const out = relay(e, round);
        return out === null ? [] : [out];
      });
    },
  };
}
