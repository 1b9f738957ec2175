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
 * Wraps an OpenAI client or an Anthropic client so that requests go through the daemon first.
 * Returns a new object that behaves like the client; the client itself is not modified.
 *
 * Compressed: OpenAI `chat.completions.create` / `parse` / `stream` / `runTools` and
 * `responses.create` / `parse` / `stream`; Anthropic `messages.create` / `parse` / `stream`;
 * streaming or not, with `.withResponse()` and `.asResponse()`, and on `withOptions()` copies.
 * Anthropic's `beta.messages` and `messages.batches.create` are not, and warn once per process.
 *
 * With `memory`, the daemon adds the scope's remembered facts to the latest user message and
 * (unless `memory.tools` is `false`) offers the model `memory_save` and `memory_search`.
 *
 * The wrapper answers the model's calls to `headroom_retrieve` and the memory tools itself and
 * asks the model again, so the application never sees them: after a plain reply, or inside a
 * stream (text passes as it arrives; only the tool-call round is held back). `asResponse()`,
 * whose body the application reads itself, is sent without those tools. What a call returns
 * has the usage of every provider call it made, and `.headroom` (`Savings`: tokens before and
 * after, rounds answered; on a stream, complete once it has ended).
 */
export function withHeadroom<T extends object>(client: T, options: HeadroomOptions = {}): T {
  const c = client as any;
  if (typeof c.chat?.completions?.create === "function") return wrapOpenAI(client, options);
  if (typeof c.messages?.create === "function") return wrapAnthropic(client, options);
  throw new TypeError("withHeadroom expects an OpenAI or Anthropic SDK client");
}
