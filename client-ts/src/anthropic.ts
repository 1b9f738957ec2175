/**
 * The Anthropic SDK wrapper: `messages.create` sends its request body (native content blocks,
 * `tool_result` blocks included) through the daemon, then to Anthropic. Non-streaming calls
 * answer `headroom_retrieve` tool uses and ask the model again. Needs nothing from
 * `@anthropic-ai/sdk` at run time: it wraps the instance it is given.
 *
 * @module
 */

import { RETRIEVE_TOOL_NAME } from "./client.js";
import { allRetrieve, forStreaming, overlay, settings, type HeadroomOptions } from "./sdk.js";

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
  const { hr, rounds, compressOptions } = settings(options);
  const compressed = await hr.compress(body, { ...compressOptions, model: body?.model, format: "anthropic" });
  let request = compressed.messages;
  if (body?.stream) return create(forStreaming(request, body), requestOptions);
  let reply = await create(request, requestOptions);
  for (let round = 0; round < rounds; round++) {
    const calls: any[] = (reply?.content ?? []).filter((block: any) => block.type === "tool_use");
    if (!allRetrieve(calls, (call) => call.name)) break;
    const answers = await Promise.all(calls.map((call) => hr.retrieveToolResult(call.input)));
    request = {
      ...request,
      messages: [
        ...request.messages,
        { role: "assistant", content: reply.content },
        {
          role: "user",
          content: calls.map((call, i) => ({ type: "tool_result", tool_use_id: call.id, content: answers[i] })),
        },
      ],
    };
    reply = await create(request, requestOptions);
  }
  const named = (block: any) => block.type === "tool_use" && block.name === RETRIEVE_TOOL_NAME;
  if (!reply?.content?.some(named)) return reply;
  const content = reply.content.filter((block: any) => !named(block));
  const toolUseLeft = content.some((block: any) => block.type === "tool_use");
  return { ...reply, content, stop_reason: toolUseLeft ? reply.stop_reason : "end_turn" };
}
