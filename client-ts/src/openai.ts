/**
 * The OpenAI SDK wrapper: `chat.completions.create` and `responses.create` send their request
 * body through the daemon, then to OpenAI. Non-streaming calls answer `headroom_retrieve`
 * function calls and ask the model again. Needs nothing from the `openai` package at run time:
 * it wraps the instance it is given.
 *
 * @module
 */

import { RETRIEVE_TOOL_NAME } from "./client.js";
import { allRetrieve, forStreaming, overlay, settings, type HeadroomOptions } from "./sdk.js";

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
  const { hr, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "openai_chat" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  let completion = await create(request, requestOptions);
  for (let round = 0; round < rounds; round++) {
    const message = completion?.choices?.length === 1 ? completion.choices[0].message : undefined;
    const calls: any[] = message?.tool_calls ?? [];
    if (!allRetrieve(calls, (call) => call.function?.name)) break;
    const answers = await Promise.all(calls.map((call) => hr.retrieveToolResult(call.function.arguments)));
    request = {
      ...request,
      messages: [
        ...request.messages,
        {
          role: "assistant",
          content: message.content ?? null,
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.function.name, arguments: call.function.arguments },
          })),
        },
        ...calls.map((call, i) => ({ role: "tool", tool_call_id: call.id, content: answers[i] })),
      ],
    };
    completion = await create(request, requestOptions);
  }
  return withoutRetrieveCalls(completion);
}

/** The completion without `headroom_retrieve` calls the application could not answer. */
function withoutRetrieveCalls(completion: any): any {
  const named = (call: any) => call?.function?.name === RETRIEVE_TOOL_NAME;
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
  const { hr, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "openai_responses" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  let result = await create(request, requestOptions);
  for (let round = 0; round < rounds; round++) {
    const output: any[] = result?.output ?? [];
    const calls = output.filter((item) => item.type === "function_call");
    if (!allRetrieve(calls, (call) => call.name)) break;
    const answers = await Promise.all(calls.map((call) => hr.retrieveToolResult(call.arguments)));
    const input = typeof request.input === "string" ? [{ role: "user", content: request.input }] : (request.input ?? []);
    request = {
      ...request,
      input: [
        ...input,
        ...output,
        ...calls.map((call, i) => ({ type: "function_call_output", call_id: call.call_id, output: answers[i] })),
      ],
    };
    result = await create(request, requestOptions);
  }
  const named = (item: any) => item.type === "function_call" && item.name === RETRIEVE_TOOL_NAME;
  if (!result?.output?.some(named)) return result;
  return { ...result, output: result.output.filter((item: any) => !named(item)) };
}
