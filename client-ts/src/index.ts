/**
 * headroom-client: the TypeScript client of headroomd, the Headroom context-compression daemon.
 *
 * Layout (the same split as client-py):
 * - `wire`      frames and the bincode envelope, byte for byte (no knowledge of LLMs)
 * - `client`    the connection (reuse, reconnect, pipelining), compress / retrieve / stats / memory, fail-open
 * - `breaker`   after a timeout, calls skip the daemon for a growing interval
 * - `ownership` the socket and its directory must be this user's
 * - `memory`    memory scopes, facts and times, and the texts that answer the memory tools
 * - `retrieval` earlier `headroom_retrieve` answers kept out of compression
 * - `sdk`       `withHeadroom(client)` for the OpenAI and Anthropic SDKs, over `openai` and `anthropic`,
 *               and the loop that answers Headroom's own tools for every integration
 * - `vercel`    `headroomMiddleware()` for the Vercel AI SDK (import `headroom-client/vercel`)
 * - `langchain` `HeadroomChatModel` for LangChain.js (import `headroom-client/langchain`)
 *
 * This entry point needs no other package; the framework integrations are separate entry points
 * so that importing it never loads a framework.
 *
 * @module
 */

export {
  compress,
  defaultClient,
  defaultSocketPath,
  HeadroomClient,
  HeadroomError,
  Memory,
  MEMORY_SAVE_TOOL_NAME,
  MEMORY_SEARCH_TOOL_NAME,
  memoryToolResult,
  metrics,
  retrieve,
  retrieveToolResult,
  RETRIEVE_TOOL_NAME,
  stats,
  type ClientOptions,
  type CompressOptions,
  type CompressorStats,
  type CompressResult,
  type Format,
  type Metrics,
  type RetrieveArguments,
  type Retrieved,
  type Stats,
  type ToolArguments,
  type WithClient,
} from "./client.js";
export { Breaker, type BreakerOptions } from "./breaker.js";
export type {
  AddOptions,
  ForgetOptions,
  ListOptions,
  MemoryAdded,
  MemoryFact,
  MemoryOptions,
  MemoryScope,
  SearchOptions,
  Time,
} from "./memory.js";
export { withHeadroom, type HeadroomOptions } from "./sdk.js";
export * as wire from "./wire.js";
