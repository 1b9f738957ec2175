/**
 * `withHeadroom(client)`: the OpenAI or Anthropic SDK client, with every request compressed by
 * the daemon on its way out. It recognises the client and hands it to its wrapper, `openai.ts`
 * or `anthropic.ts`; what the wrappers share is in `loop.ts`.
 *
 * @module
 */

import { wrapAnthropic } from "./anthropic.js";
import type { HeadroomOptions } from "./loop.js";
import { wrapOpenAI } from "./openai.js";

/**
 * Wraps an OpenAI client (`chat.completions.create`, `responses.create`) or an Anthropic client
 * (`messages.create`) so that requests go through the daemon first. Returns a new object that
 * behaves like the client; the client itself is not modified.
 *
 * With `memory`, the daemon adds the scope's remembered facts to the latest user message and
 * (unless `memory.tools` is `false`) offers the model `memory_save` and `memory_search`.
 *
 * Non-streaming calls answer the model's calls to `headroom_retrieve` and the memory tools
 * themselves and ask the model again, so the application never sees them. Streaming calls are
 * passed through compressed; those tools are kept in them only when the request already
 * declares them (then the application answers them with `answerTool`).
 */
export function withHeadroom<T extends object>(client: T, options: HeadroomOptions = {}): T {
  const c = client as any;
  if (typeof c.chat?.completions?.create === "function") return wrapOpenAI(client, options);
  if (typeof c.messages?.create === "function") return wrapAnthropic(client, options);
  throw new TypeError("withHeadroom expects an OpenAI or Anthropic SDK client");
}
