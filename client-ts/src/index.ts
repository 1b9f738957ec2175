/**
 * headroom-client: the TypeScript client of headroomd, the Headroom context-compression daemon.
 *
 * Layout (the same split as client-py):
 * - `wire`      frames and the bincode envelope, byte for byte (no knowledge of LLMs)
 * - `client`    the connection (reuse, reconnect, pipelining), compress / retrieve / stats, fail-open
 * - `retrieval` earlier `headroom_retrieve` answers kept out of compression
 * - `sdk`       `withHeadroom(client)` for the OpenAI and Anthropic SDKs, over `openai` and `anthropic`
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
  type WithClient,
} from "./client.js";
export { withHeadroom, type HeadroomOptions } from "./sdk.js";
export * as wire from "./wire.js";
