/**
 * The Anthropic SDK wrapper: `messages.create` sends its request body (native content blocks,
 * `tool_result` blocks included) through the daemon, then to Anthropic. Non-streaming calls
 * answer the tool uses of Headroom's own tools (`headroom_retrieve`, the memory tools) and ask
 * the model again. Needs nothing from `@anthropic-ai/sdk` at run time: it wraps the instance it
 * is given.
 *
 * @module
 */

import { answerOwnTools, forStreaming, overlay, settings, type HeadroomOptions } from "./loop.js";

type Create = (body: any, requestOptions?: unknown) => Promise<any>;

/** See `withHeadroom`. */
export function wrapAnthropic<T extends object>(client: T, options: HeadroomOptions): T {
  const c = client as any;
  const create: Create = c.messages.create.bind(c.messages);
  const messages = overlay(c.messages, {
    create: (body: any, requestOptions?: unknown) => message(create, body, requestOptions, options),
  });
  return overlay(client, { messages });
}

async function message(create: Create, body: any, requestOptions: unknown, options: HeadroomOptions): Promise<any> {
  const { hr, own, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "anthropic" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  const shape = {
    calls: (reply: any): any[] => (reply?.content ?? []).filter((block: any) => block.type === "tool_use"),
    name: (call: any) => call.name,
    args: (call: any) => call.input,
  };
  const reply = await answerOwnTools(own, rounds, await create(request, requestOptions), shape, (last, calls, answers) => {
    request = {
      ...request,
      messages: [
        ...request.messages,
        { role: "assistant", content: last.content },
        {
          role: "user",
          content: calls.map((call, i) => ({ type: "tool_result", tool_use_id: call.id, content: answers[i] })),
        },
      ],
    };
    return create(request, requestOptions);
  });
  const named = (block: any) => block.type === "tool_use" && own.has(block.name);
  if (!reply?.content?.some(named)) return reply;
  const content = reply.content.filter((block: any) => !named(block));
  const toolUseLeft = content.some((block: any) => block.type === "tool_use");
  return { ...reply, content, stop_reason: toolUseLeft ? reply.stop_reason : "end_turn" };
}
