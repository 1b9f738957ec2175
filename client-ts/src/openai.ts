/**
 * The OpenAI SDK wrapper: `chat.completions.create` and `responses.create` send their request
 * body through the daemon, then to OpenAI. Non-streaming calls answer the function calls to
 * Headroom's own tools (`headroom_retrieve`, the memory tools) and ask the model again. Needs
 * nothing from the `openai` package at run time: it wraps the instance it is given.
 *
 * @module
 */

import { answerOwnTools, forStreaming, overlay, settings, type HeadroomOptions, type OwnTools } from "./loop.js";

type Create = (body: any, requestOptions?: unknown) => Promise<any>;

/** See `withHeadroom`. */
export function wrapOpenAI<T extends object>(client: T, options: HeadroomOptions): T {
  const c = client as any;
  const chatCreate: Create = c.chat.completions.create.bind(c.chat.completions);
  const completions = overlay(c.chat.completions, {
    create: (body: any, requestOptions?: unknown) => chatCompletion(chatCreate, body, requestOptions, options),
  });
  const overrides: Record<string, unknown> = { chat: overlay(c.chat, { completions }) };
  if (typeof c.responses?.create === "function") {
    const responsesCreate: Create = c.responses.create.bind(c.responses);
    overrides.responses = overlay(c.responses, {
      create: (body: any, requestOptions?: unknown) => response(responsesCreate, body, requestOptions, options),
    });
  }
  return overlay(client, overrides);
}

async function chatCompletion(create: Create, body: any, requestOptions: unknown, options: HeadroomOptions): Promise<any> {
  const { hr, own, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "openai_chat" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  const shape = {
    calls: (completion: any): any[] => (completion?.choices?.length === 1 ? (completion.choices[0].message?.tool_calls ?? []) : []),
    name: (call: any) => call.function?.name,
    args: (call: any) => call.function?.arguments,
  };
  const completion = await answerOwnTools(own, rounds, await create(request, requestOptions), shape, (reply, calls, answers) => {
    request = {
      ...request,
      messages: [
        ...request.messages,
        {
          role: "assistant",
          content: reply.choices[0].message.content ?? null,
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.function.name, arguments: call.function.arguments },
          })),
        },
        ...calls.map((call, i) => ({ role: "tool", tool_call_id: call.id, content: answers[i] })),
      ],
    };
    return create(request, requestOptions);
  });
  return withoutOwnCalls(completion, own);
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

async function response(create: Create, body: any, requestOptions: unknown, options: HeadroomOptions): Promise<any> {
  const { hr, own, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "openai_responses" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  const shape = {
    calls: (result: any): any[] => (result?.output ?? []).filter((item: any) => item.type === "function_call"),
    name: (call: any) => call.name,
    args: (call: any) => call.arguments,
  };
  const result = await answerOwnTools(own, rounds, await create(request, requestOptions), shape, (reply, calls, answers) => {
    const input = typeof request.input === "string" ? [{ role: "user", content: request.input }] : (request.input ?? []);
    request = {
      ...request,
      input: [
        ...input,
        ...reply.output,
        ...calls.map((call, i) => ({ type: "function_call_output", call_id: call.call_id, output: answers[i] })),
      ],
    };
    return create(request, requestOptions);
  });
  const named = (item: any) => item.type === "function_call" && own.has(item.name);
  if (!result?.output?.some(named)) return result;
  return { ...result, output: result.output.filter((item: any) => !named(item)) };
}
