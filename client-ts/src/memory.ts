/**
 * Memory as the caller sees it (docs/memory.md): scopes, facts and times in TypeScript shapes,
 * {@link Memory} (`client.memory`: add, search, list, forget), which turns them into the
 * daemon's operations and its replies back, and the texts that answer the model's
 * `memory_save` and `memory_search` calls. Sending the operations is the client's part.
 *
 * @module
 */

import { MEMORY_SAVE_TOOL_NAME } from "./tools.js";
import type * as wire from "./wire.js";

/**
 * Where a fact belongs: a user, optionally one of its agents (or projects), optionally one
 * session (a conversation). A scope sees its own facts and those of the scopes above it, never
 * another user's, a sibling agent's or a sibling session's.
 */
export interface MemoryScope {
  user: string;
  agent?: string;
  session?: string;
}

/** A moment: a `Date`, or milliseconds since the Unix epoch. */
export type Time = Date | number;

/** One remembered fact. Times are milliseconds since the Unix epoch. */
export interface MemoryFact {
  /** 16 lowercase hex digits. */
  id: string;
  scope: MemoryScope;
  text: string;
  /** Where the fact came from, as the caller said. */
  source: string | null;
  /** What the fact is about, given or derived; facts sharing it supersede each other. */
  key: string | null;
  createdMs: number;
  validFromMs: number;
  /** When the fact stopped being true; `null` while it is current. */
  validToMs: number | null;
  /** The fact that replaced it. */
  supersededBy: string | null;
  /** Relevance to the search query (0 in lists). */
  score: number;
}

/** What `memory.add` did. */
export interface MemoryAdded {
  /** The stored fact, or the existing one it duplicates. */
  fact: MemoryFact;
  /** The text was near-identical to a current fact of the scope; nothing new was stored. */
  duplicate: boolean;
  /** Ids of the facts whose validity this one ended. */
  superseded: string[];
}

/** Options of `memory.add`. */
export interface AddOptions {
  /** Where the fact came from (a conversation or agent id, a message), free text. */
  source?: string;
  /** What the fact is about; derived from the text when absent (docs/memory.md). */
  key?: string;
  /** When the fact became true; now when absent. */
  validFrom?: Time;
}

/** Options of `memory.search`. */
export interface SearchOptions {
  /** Search what was true at this moment instead of now. */
  asOf?: Time;
  /** Most facts to return; default 10. */
  limit?: number;
  /** Most tokens of fact text to return; default no bound. */
  budgetTokens?: number;
}

/** Options of `memory.list`. */
export interface ListOptions {
  /** What was true at this moment instead of now; ignored with `includeSuperseded`. */
  asOf?: Time;
  /** Also facts whose validity has ended. */
  includeSuperseded?: boolean;
  /** Every fact in the scope and the scopes under it, instead of what the scope sees. */
  includeNarrower?: boolean;
}

/** Options of `memory.forget`. */
export interface ForgetOptions {
  /** One fact, which must lie in the scope or under it; absent: every fact there. */
  id?: string;
}

/** Memory on the request path of `compress` and of the integrations. */
export interface MemoryOptions {
  /** Whose facts are added to the latest user message, and where the model's tools save and search. */
  scope: MemoryScope;
  /** Most tokens of facts to add; default the daemon's (256). */
  budgetTokens?: number;
  /**
   * Also offer the model `memory_save` and `memory_search`. Default: off for `compress`, on for
   * the integrations, which answer them where they own the model-call loop; elsewhere answer
   * them with `answerTool`.
   */
  tools?: boolean;
}

/** The memory replies by variant name. */
export interface MemoryReplies {
  MemoryAdded: wire.MemoryAddReply;
  MemoryFacts: wire.MemoryFactsReply;
  MemoryForgotten: wire.MemoryForgetReply;
}

/**
 * How {@link Memory} reaches the daemon: sends `op` and resolves with the payload of the reply
 * variant `kind`; rejects with a `HeadroomError` for an error reply, another variant or a
 * connection failure. The client gives one to its `memory`.
 */
export type Ask = <K extends keyof MemoryReplies>(op: wire.Op, kind: K) => Promise<MemoryReplies[K]>;

/** The memory calls of one `HeadroomClient` (`client.memory`); each rejects with a `HeadroomError`. */
export class Memory {
  constructor(private readonly ask: Ask) {}

  /**
   * Remembers `text` in `scope`. A fact with the key of a current fact of the same scope
   * supersedes it; a near-identical one is a duplicate and stores nothing.
   */
  async add(text: string, scope: MemoryScope, options: AddOptions = {}): Promise<MemoryAdded> {
    const reply = await this.ask(
      {
        MemoryAdd: {
          scope: wireScope(scope),
          text,
          source: options.source ?? null,
          key: options.key ?? null,
          valid_from_ms: options.validFrom === undefined ? null : wireTime(options.validFrom),
        },
      },
      "MemoryAdded",
    );
    return { fact: fact(reply.fact), duplicate: reply.duplicate, superseded: reply.superseded };
  }

  /** The facts `scope` sees (now, or at `asOf`) most relevant to `query`; an empty query: the newest. */
  async search(query: string, scope: MemoryScope, options: SearchOptions = {}): Promise<MemoryFact[]> {
    const reply = await this.ask(
      {
        MemorySearch: {
          scope: wireScope(scope),
          query,
          as_of_ms: options.asOf === undefined ? null : wireTime(options.asOf),
          limit: options.limit ?? 0,
          budget_tokens: options.budgetTokens ?? 0,
        },
      },
      "MemoryFacts",
    );
    return reply.facts.map(fact);
  }

  /** The facts `scope` sees (or, with `includeNarrower`, everything under it), newest first. */
  async list(scope: MemoryScope, options: ListOptions = {}): Promise<MemoryFact[]> {
    const reply = await this.ask(
      {
        MemoryList: {
          scope: wireScope(scope),
          as_of_ms: options.asOf === undefined ? null : wireTime(options.asOf),
          include_superseded: options.includeSuperseded ?? false,
          include_narrower: options.includeNarrower ?? false,
        },
      },
      "MemoryFacts",
    );
    return reply.facts.map(fact);
  }

  /**
   * Deletes for good one fact (`id`, which must lie in `scope` or under it), or every fact in
   * `scope` and the scopes under it. Resolves with how many facts were removed.
   */
  async forget(scope: MemoryScope, options: ForgetOptions = {}): Promise<number> {
    const reply = await this.ask({ MemoryForget: { scope: wireScope(scope), id: options.id ?? null } }, "MemoryForgotten");
    return Number(reply.removed);
  }
}

/** The scope on the wire. */
export function wireScope(scope: MemoryScope): wire.MemoryScope {
  return { user: scope.user, agent: scope.agent ?? null, session: scope.session ?? null };
}

/** A time on the wire; throws a `TypeError` for anything that is not a moment after 1970. */
function wireTime(time: Time): bigint {
  const ms = Math.floor(time instanceof Date ? time.getTime() : time);
  if (!Number.isSafeInteger(ms) || ms < 0) throw new TypeError(`${String(time)} is not a time (a Date or ms since the epoch)`);
  return BigInt(ms);
}

/** A fact off the wire. */
function fact(f: wire.MemoryFact): MemoryFact {
  return {
    id: f.id,
    scope: {
      user: f.scope.user,
      ...(f.scope.agent === null ? {} : { agent: f.scope.agent }),
      ...(f.scope.session === null ? {} : { session: f.scope.session }),
    },
    text: f.text,
    source: f.source,
    key: f.key,
    createdMs: Number(f.created_ms),
    validFromMs: Number(f.valid_from_ms),
    validToMs: f.valid_to_ms === null ? null : Number(f.valid_to_ms),
    supersededBy: f.superseded_by,
    score: f.score,
  };
}

/**
 * Where a fact the model saves goes: the scope's agent when it has one, else its user. Facts the
 * model chooses to remember are meant to outlive the conversation, so never the session.
 */
export function saveScope(scope: MemoryScope): MemoryScope {
  return scope.agent == null ? { user: scope.user } : { user: scope.user, agent: scope.agent };
}

/** The answer to a `memory_save` call without a usable `text`. */
export const SAVE_NEEDS_TEXT = `${MEMORY_SAVE_TOOL_NAME} needs a "text": the fact to remember.`;

/** The tool result of a `memory_save` call. */
export function savedText(added: MemoryAdded): string {
  const head = `${added.duplicate ? "already remembered" : "saved"} as fact ${added.fact.id}`;
  return added.superseded.length ? `${head}; it replaces ${added.superseded.length} earlier fact(s)` : head;
}

/** The tool result of a `memory_search` call: one line per fact, or that none matches. */
export function foundText(facts: MemoryFact[]): string {
  if (facts.length === 0) return "no remembered fact matches";
  return facts.map((f) => `- ${f.text} (since ${new Date(f.validFromMs).toISOString().slice(0, 10)})`).join("\n");
}
