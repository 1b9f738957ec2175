/**
 * The OpenAI SDK wrapper: `chat.completions.create` and `responses.create` send their request
 * body through the daemon, then to OpenAI, and answer the function calls to Headroom's own tools
 * (`headroom_retrieve`, the memory tools) — in a plain reply by asking the model again, in a
 * stream inside the stream. The SDK's helpers (`parse`, `stream`, `runTools`) run on the wrapped
 * resource, so the `create` calls they make are the wrapped ones; `withOptions()` wraps its copy.
 * Needs nothing from the `openai` package at run time: it wraps the instance it is given.
 *
 * @module
 */

import {
  gatherCalls,
  overlay,
  sdkCall,
  sdkHelper,
  sumUsage,
  type HeadroomOptions,
  type OwnTools,
  type SdkFormat,
  type StreamCall,
  type StreamFormat,
} from "./loop.js";

/** See `withHeadroom`. */
export function wrapOpenAI<T extends object>(client: T, options: HeadroomOptions): T {
  const c = client as any;
  const overrides: Record<string, unknown> = {};
  const wrapped = overlay(client, overrides);
  if (typeof c.withOptions === "function") overrides.withOptions = (...args: unknown[]) => wrapOpenAI(c.withOptions(...args), options);
  overrides.chat = overlay(c.chat, { completions: resource(c.chat.completions, CHAT, ["parse", "stream", "runTools"], wrapped, options) });
  if (typeof c.responses?.create === "function") overrides.responses = resource(c.responses, RESPONSES, ["parse", "stream"], wrapped, options);
  return wrapped;
}

/**
 * `target` (`chat.completions` or `responses`) with `create` wrapped and the `helpers` run on
 * the view, whose `_client` (what the SDK's helpers call `create` through) is the wrapped client.
 */
function resource(target: any, format: SdkFormat<any, any>, helpers: string[], client: object, options: HeadroomOptions): any {
  const create = target.create.bind(target);
  const overrides: Record<string, unknown> = {
    create: (body: any, requestOptions?: any) => sdkCall(format, create, body, requestOptions, options),
    _client: client,
  };
  const view = overlay(target, overrides);
  for (const name of helpers) if (typeof target[name] === "function") overrides[name] = sdkHelper(target[name], view);
  return view;
}

interface Call {
  id: string;
  name: string;
  arguments: string;
}

/** The chat request with the assistant's turn (`content`, `calls`) and the answers to the calls appended. */
function chatTurn(request: any, content: unknown, calls: Call[], answers: string[]): any {
  const toolCalls = calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  return {
    ...request,
    messages: [
      ...request.messages,
      { role: "assistant", content, tool_calls: toolCalls },
      ...calls.map((c, i) => ({ role: "tool", tool_call_id: c.id, content: answers[i] })),
    ],
  };
}

const CHAT: SdkFormat<any, any> = {
  format: "openai_chat",
  shape: {
    calls: (completion: any): any[] => (completion?.choices?.length === 1 ? (completion.choices[0].message?.tool_calls ?? []) : []),
    name: (call: any) => call.function?.name,
    args: (call: any) => call.function?.arguments,
  },
  next: (request, reply, calls, answers) =>
    chatTurn(
      request,
      reply.choices[0].message.content ?? null,
      calls.map((c: any) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
      answers,
    ),
  strip: withoutOwnCalls,
  stream: chatStream,
  nextStreamed: (request, events, calls, answers) => {
    const text = events.map((e) => e?.choices?.[0]?.delta?.content ?? "").join("");
    return chatTurn(request, text || null, calls.map(streamedCall), answers);
  },
};

function streamedCall(c: StreamCall): Call {
  return { id: c.id, name: c.name, arguments: String(c.args ?? "") };
}

/** The completion without calls to Headroom's tools, which the application could not answer. */
function withoutOwnCalls(completion: any, own: OwnTools): any {
  const named = (call: any) => own.has(call?.function?.name);
  if (!completion?.choices?.some((c: any) => c.message?.tool_calls?.some(named))) return completion;
  return {
    ...completion,
    choices: completion.choices.map((choice: any) => {
      const kept = (choice.message?.tool_calls ?? []).filter((call: any) => !named(call));
      const { tool_calls: _all, ...message } = choice.message;
      return kept.length ? { ...choice, message: { ...message, tool_calls: kept } } : { ...choice, message, finish_reason: "stop" };
    }),
  };
}

/**
 * Chat completion chunks: tool calls are `delta.tool_calls` pieces keyed by `index`; a usage
 * chunk (with `stream_options.include_usage`) gets the usage of the rounds answered added.
 */
function chatStream(): StreamFormat<any> {
  let prior: unknown;
  const relay = (chunk: any) => (prior !== undefined && chunk?.usage ? { ...chunk, usage: sumUsage(prior, chunk.usage) } : chunk);
  const pieces = (chunk: any): any[] => chunk?.choices?.[0]?.delta?.tool_calls ?? [];
  return {
    startsCalls: (chunk) => pieces(chunk).length > 0,
    calls(events) {
      // Several choices are the application's to read; Headroom answers single replies only.
      if (events.some((e) => e?.choices?.some((c: any) => c.index !== 0))) return [];
      return gatherCalls(events.flatMap(pieces).map((t) => ({ key: t.index, id: t.id, name: t.function?.name, args: t.function?.arguments })));
    },
    relay,
    answered(events) {
      for (const e of events) if (e?.usage) prior = sumUsage(prior, e.usage);
      return [];
    },
    release(held, drop) {
      if (drop.size === 0) return held.map(relay);
      const kept = [...new Set(held.flatMap(pieces).map((t) => t.index))].filter((k) => !drop.has(k));
      const index = new Map(kept.map((k, i) => [k, i]));
      return held.map((chunk) =>
        relay({
          ...chunk,
          choices: chunk.choices?.map((choice: any) => {
            const { tool_calls, ...delta } = choice.delta ?? {};
            const left = (tool_calls ?? []).filter((t: any) => !drop.has(t.index)).map((t: any) => ({ ...t, index: index.get(t.index) }));
            const finish = kept.length === 0 && choice.finish_reason === "tool_calls" ? "stop" : choice.finish_reason;
            return { ...choice, delta: left.length ? { ...delta, tool_calls: left } : delta, finish_reason: finish };
          }),
        }),
      );
    },
  };
}

/** The responses request with the model's output items and the answers to its calls appended. */
function responsesTurn(request: any, output: unknown[], callIds: string[], answers: string[]): any {
  const input = typeof request.input === "string" ? [{ role: "user", content: request.input }] : (request.input ?? []);
  return {
    ...request,
    input: [...input, ...output, ...callIds.map((id, i) => ({ type: "function_call_output", call_id: id, output: answers[i] }))],
  };
}

const RESPONSES: SdkFormat<any, any> = {
  format: "openai_responses",
  shape: {
    calls: (result: any): any[] => (result?.output ?? []).filter((item: any) => item.type === "function_call"),
    name: (call: any) => call.name,
    args: (call: any) => call.arguments,
  },
  next: (request, reply, calls, answers) =>
    responsesTurn(
      request,
      reply.output,
      calls.map((c: any) => c.call_id),
      answers,
    ),
  strip: (result, own) => {
    const named = (item: any) => item.type === "function_call" && own.has(item.name);
    if (!result?.output?.some(named)) return result;
    return { ...result, output: result.output.filter((item: any) => !named(item)) };
  },
  stream: responsesStream,
  nextStreamed: (request, events, calls, answers) =>
    responsesTurn(
      request,
      outputItems(events).map(([, item]) => item),
      calls.map((c) => c.id),
      answers,
    ),
};

/** The finished output items of a streamed round, with their `output_index`, in order. */
function outputItems(events: any[]): Array<[number, any]> {
  const done = events.filter((e) => e?.type === "response.output_item.done");
  return done.map((e): [number, any] => [e.output_index, e.item]).sort((a, b) => a[0] - b[0]);
}

const STARTS = new Set(["response.created", "response.queued", "response.in_progress"]);
const ENDS = new Set(["response.completed", "response.incomplete", "response.failed"]);

/**
 * Responses API events: a function call is an output item (`output_index`). Later rounds
 * continue the first response: their start events are dropped, their output indexes follow the
 * items already shown, and their final response lists those items and the usage of all rounds.
 */
function responsesStream(): StreamFormat<any> {
  let prior: unknown;
  const shown: any[] = [];
  const startsCalls = (e: any) => e?.type === "response.output_item.added" && e.item?.type === "function_call";
  const relay = (e: any, round: number) => {
    if (round === 0) return e;
    if (STARTS.has(e?.type)) return null;
    if (typeof e?.output_index === "number") e = { ...e, output_index: e.output_index + shown.length };
    if (ENDS.has(e?.type) && e.response) {
      e = { ...e, response: { ...e.response, output: [...shown, ...(e.response.output ?? [])], usage: sumUsage(prior, e.response.usage) } };
    }
    return e;
  };
  return {
    startsCalls,
    calls: (events) =>
      outputItems(events)
        .filter(([, item]) => item?.type === "function_call")
        .map(([index, item]) => ({ key: index, id: item.call_id, name: item.name, args: item.arguments })),
    relay,
    answered(events) {
      const start = events.find(startsCalls)?.output_index ?? Infinity;
      shown.push(...outputItems(events).filter(([index]) => index < start).map(([, item]) => item));
      prior = sumUsage(prior, events.find((e) => ENDS.has(e?.type))?.response?.usage);
      return [];
    },
    release(held, drop, round) {
      const below = (index: number) => [...drop].filter((d) => (d as number) < index).length;
      return held.flatMap((e) => {
        if (typeof e?.output_index === "number") {
          if (drop.has(e.output_index)) return [];
          e = { ...e, output_index: e.output_index - below(e.output_index) };
        }
        if (ENDS.has(e?.type) && drop.size && Array.isArray(e.response?.output)) {
          e = { ...e, response: { ...e.response, output: e.response.output.filter((_: unknown, i: number) => !drop.has(i)) } };
        }
        const out = relay(e, round);
        return out === null ? [] : [out];
      });
    },
  };
}
