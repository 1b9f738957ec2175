/**
 * headroom-client: the TypeScript client of headroomd, the Headroom context-compression daemon.
 *
 * Layout (the same modules as client-py):
 * - `wire`      frames and the bincode envelope, byte for byte (no knowledge of LLMs)
 * - `client`    the connection (reuse, reconnect, pipelining), compress / retrieve / stats / metrics,
 *               fail-open, the memory operations, and the answers to Headroom's tools
 * - `breaker`   after a timeout, calls skip the daemon for a growing interval
 * - `trust`     the socket and its directory must be this user's
 * - `memory`    memory scopes, times and facts, `Memory` (`client.memory`), the memory tools' texts
 * - `tools`     Headroom's tool names, the retrieve answer texts, earlier `headroom_retrieve`
 *               answers kept out of compression
 * - `loop`      what the integrations share: their options, the loops that answer Headroom's own
 *               tools inside one call (after a reply, and inside a stream), usage and savings, and
 *               the SDK wrappers' engine
 * - `openai`, `anthropic`  the SDK wrappers, one per SDK
 * - `sdk`       `withHeadroom(client)`, which picks one of them
 * - `vercel`    `headroomMiddleware()` for the Vercel AI SDK (import `headroom-client/vercel`)
 * - `langchain` `HeadroomChatModel` for LangChain.js (import `headroom-client/langchain`)
 *
 * This entry point needs no other package; the framework integrations are separate entry points
 * so that importing it never loads a framework.
 *
 * @module
 */

export {
  answerRetrieve,
  answerTool,
  compress,
  defaultClient,
  defaultSocketPath,
  HeadroomClient,
  HeadroomError,
  metrics,
  retrieve,
  stats,
  type AnswerOptions,
  type ClientOptions,
  type CompressOptions,
  type CompressorStats,
  type CompressResult,
  type Format,
  type Metrics,
  type Retrieved,
  type Stats,
  type WithClient,
} from "./client.js";
export { Breaker, type BreakerOptions } from "./breaker.js";
export {
  Memory,
  type AddOptions,
  type ForgetOptions,
  type ListOptions,
  type MemoryAdded,
  type MemoryFact,
  type MemoryOptions,
  type MemoryScope,
  type SearchOptions,
  type Time,
} from "./memory.js";
export {
  MEMORY_SAVE_TOOL_NAME,
  MEMORY_SEARCH_TOOL_NAME,
  RETRIEVE_TOOL_NAME,
  type RetrieveArguments,
  type ToolArguments,
} from "./tools.js";
export type { HeadroomOptions, Savings } from "./loop.js";
export { withHeadroom } from "./sdk.js";
export * as wire from "./wire.js";
