/**
 * Headroom's own tools as the client meets them: their names, reading a call's arguments, the
 * texts that answer `headroom_retrieve` when the original cannot be had, and earlier retrieve
 * answers shielded from compression (as client-py's `tools.py` does). The answers themselves come
 * from `HeadroomClient.answerTool`; the memory tools' texts are in `memory.ts`.
 *
 * The answer to a retrieve call is the exact original of a compressed block. Sent to the daemon
 * again on a later turn, it would be compressed again — the replay store knows those bytes and
 * re-emits the same marker — and the model would ask for it forever. {@link shield} swaps every
 * such answer (OpenAI chat `tool` messages, Responses `function_call_output` items, Anthropic
 * `tool_result` blocks) for a short placeholder before the messages go to the daemon;
 * {@link restore} puts the answers back into the daemon's reply.
 *
 * @module
 */

/** The tool the daemon offers the model for reading back what a marker left out. */
export const RETRIEVE_TOOL_NAME = "headroom_retrieve";

/** The tool the daemon offers the model for remembering a fact (`{text, key?}`). */
export const MEMORY_SAVE_TOOL_NAME = "memory_save";

/** The tool the daemon offers the model for searching what is remembered (`{query}`). */
export const MEMORY_SEARCH_TOOL_NAME = "memory_search";

/** The arguments of a tool call: a JSON string (OpenAI) or an object. */
export type ToolArguments = string | Record<string, unknown> | null | undefined;

/** The arguments of a `headroom_retrieve` call: a JSON string (OpenAI) or an object. */
export type RetrieveArguments = string | { hash?: unknown; query?: unknown } | null | undefined;

/** A tool call's arguments as an object; `null` when they are not a JSON object. */
export function argumentsOf(args: ToolArguments): Record<string, unknown> | null {
  try {
    const parsed: unknown = typeof args === "string" ? JSON.parse(args || "{}") : args;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The answer to a `headroom_retrieve` call without a usable `hash`. */
export const RETRIEVE_NEEDS_HASH = `${RETRIEVE_TOOL_NAME} needs a "hash": the 24-character key after hash= in a [headroom: ...] marker.`;

/**
 * The answer to a `headroom_retrieve` call the daemon could not serve: what went wrong and what
 * the model can do instead (re-run the tool, for an expired original).
 */
export function retrieveFailedText(hash: string, error: { code: string; message: string }): string {
  switch (error.code) {
    case "expired":
      return `Headroom: ${error.message}`;
    case "not_found":
      return `Headroom: ${error.message}. The original is not available; work from what the marker says, or re-run the tool that produced it.`;
    case "bad_request":
      return `Headroom: ${error.message}. Pass the 24-character key that follows hash= in the marker.`;
    default:
      return `Headroom could not retrieve hash=${hash} (${error.message}). Work from what the marker says, or re-run the tool that produced the content.`;
  }
}

/** The name of a tool definition in any of the three provider shapes. */
export function toolName(tool: unknown): unknown {
  const t = tool as { name?: unknown; function?: { name?: unknown } } | null;
  return t?.name ?? t?.function?.name;
}

/** What the daemon sees in place of an earlier retrieve answer: shorter than anything it compresses. */
const PLACEHOLDER = "[headroom: retrieved content]";

/** One answer taken out: message index, block index (Anthropic), field, original value. */
export type Saved = Array<[number, number | null, string, unknown]>;

type Json = Record<string, any>;

/** The list of messages / items inside a bare array or a whole request body. */
function itemsOf(messages: unknown): unknown[] | null {
  if (Array.isArray(messages)) return messages;
  if (messages && typeof messages === "object") {
    for (const key of ["messages", "input"]) {
      const items = (messages as Json)[key];
      if (Array.isArray(items)) return items;
    }
  }
  return null;
}

/** Ids of every `headroom_retrieve` call, in any of the three shapes. */
function retrieveCallIds(items: unknown[]): Set<unknown> {
  const ids = new Set<unknown>();
  for (const m of items as Json[]) {
    if (!m || typeof m !== "object") continue;
    for (const call of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
      if (call?.function?.name === RETRIEVE_TOOL_NAME) ids.add(call.id);
    }
    if (m.type === "function_call" && m.name === RETRIEVE_TOOL_NAME) ids.add(m.call_id);
    for (const block of Array.isArray(m.content) ? m.content : []) {
      if (block?.type === "tool_use" && block.name === RETRIEVE_TOOL_NAME) ids.add(block.id);
    }
  }
  ids.delete(undefined);
  return ids;
}

/**
 * The messages to send, with earlier retrieve answers replaced by a placeholder, and what was
 * taken out. Returns `messages` itself (and nothing saved) when there are none; never modifies
 * the caller's objects.
 */
export function shield<T>(messages: T): { sent: T; saved: Saved } {
  const items = itemsOf(messages);
  const ids = items ? retrieveCallIds(items) : new Set();
  if (!items || ids.size === 0) return { sent: messages, saved: [] };
  const saved: Saved = [];
  const out = items.map((item, i) => {
    const m = item as Json;
    if (!m || typeof m !== "object") return m;
    if ((m.role === "tool" || m.role === "function") && ids.has(m.tool_call_id) && "content" in m) {
      saved.push([i, null, "content", m.content]);
      return { ...m, content: PLACEHOLDER };
    }
    if (m.type === "function_call_output" && ids.has(m.call_id) && "output" in m) {
      saved.push([i, null, "output", m.output]);
      return { ...m, output: PLACEHOLDER };
    }
    if (m.role === "user" && Array.isArray(m.content)) {
      let changed = false;
      const blocks = m.content.map((b: Json, j: number) => {
        if (b?.type !== "tool_result" || !ids.has(b.tool_use_id)) return b;
        changed = true;
        saved.push([i, j, "content", b.content]);
        return { ...b, content: PLACEHOLDER };
      });
      return changed ? { ...m, content: blocks } : m;
    }
    return m;
  });
  if (saved.length === 0) return { sent: messages, saved };
  const sent = Array.isArray(messages) ? out : { ...(messages as Json), [Array.isArray((messages as Json).messages) ? "messages" : "input"]: out };
  return { sent: sent as T, saved };
}

/** Puts the answers {@link shield} took out back into `messages`, the client's own parsed reply. */
export function restore<T>(messages: T, saved: Saved): T {
  const items = itemsOf(messages) as Json[];
  for (const [i, j, key, value] of saved) {
    const target = j === null ? items[i]! : items[i]!.content[j];
    target[key] = value;
  }
  return messages;
}
