/**
 * Earlier answers to `headroom_retrieve`, shielded from compression (as client-py's
 * `retrieval.py` does).
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
