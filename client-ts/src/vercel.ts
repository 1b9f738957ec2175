/**
 * `headroomMiddleware()` for the Vercel AI SDK (ai@6): a language-model middleware for
 * `wrapLanguageModel` that compresses the prompt's tool results through the daemon.
 *
 * The AI SDK prompt is not a provider format the daemon reads, so `transformParams` sends an
 * OpenAI-chat-shaped copy of it (system, user text, assistant tool calls, one `tool` message per
 * tool result) and puts each compressed tool output back into its tool-result part as text.
 * Only tool results change; every other part of the prompt is passed on as it came.
 *
 * When a result carries a marker, `generateText` calls are offered the `headroom_retrieve` tool
 * and `wrapGenerate` answers the model's calls to it and asks the model again, so the
 * application never sees them. Streaming calls are not offered the tool (their tool calls reach
 * the application) unless the application declares a tool of that name itself.
 *
 * `frozen` and `protectRecent` count messages of that chat-shaped copy, in which each tool
 * result is its own message.
 *
 * @module
 */

import type { LanguageModelMiddleware } from "ai";
import { RETRIEVE_TOOL_NAME } from "./client.js";
import { allRetrieve, settings, type HeadroomOptions } from "./sdk.js";

type CallOptions = Parameters<NonNullable<LanguageModelMiddleware["transformParams"]>>[0]["params"];
type Prompt = CallOptions["prompt"];
type Message = Prompt[number];
type Tool = NonNullable<CallOptions["tools"]>[number];
type GenerateResult = Awaited<ReturnType<NonNullable<LanguageModelMiddleware["wrapGenerate"]>>>;
type Content = GenerateResult["content"][number];
type ToolResultPart = Extract<Extract<Message, { role: "tool" }>["content"][number], { type: "tool-result" }>;
type Output = ToolResultPart["output"];

/** Where a chat-shaped tool message came from: prompt message, part, and (for `content` outputs) items. */
interface Place {
  message: number;
  part: number;
  chat: number;
  /** For a `content` output: the indexes of its text items, in the order sent. */
  items?: number[];
}

/** The middleware; pass it to `wrapLanguageModel({ model, middleware: headroomMiddleware() })`. */
export function headroomMiddleware(options: HeadroomOptions = {}): LanguageModelMiddleware {
  const { hr, rounds, compressOptions } = settings(options);
  return {
    specificationVersion: "v3",

    async transformParams({ type, params, model }) {
      const { chat, places } = toChat(params.prompt);
      if (places.length === 0) return params;
      const result = await hr.compress(chat, { ...compressOptions, model: model.modelId, format: "openai_chat" });
      if (result.messages === chat) return params;
      const prompt = fromChat(params.prompt, result.messages, places);
      const declared = params.tools?.some((t) => t.name === RETRIEVE_TOOL_NAME) ?? false;
      const offer = type === "generate" && result.retrieveTool && !declared;
      return { ...params, prompt, ...(offer ? { tools: [...(params.tools ?? []), functionTool(result.retrieveTool!)] } : {}) };
    },

    async wrapGenerate({ doGenerate, params, model }) {
      let result = await doGenerate();
      let prompt = params.prompt;
      for (let round = 0; round < rounds; round++) {
        const calls = result.content.filter(
          (c): c is Extract<Content, { type: "tool-call" }> => c.type === "tool-call" && !c.providerExecuted,
        );
        if (!allRetrieve(calls, (c) => c.toolName)) break;
        const answers = await Promise.all(calls.map((c) => hr.retrieveToolResult(c.input)));
        prompt = [
          ...prompt,
          { role: "assistant", content: result.content.flatMap(assistantPart) },
          {
            role: "tool",
            content: calls.map((c, i) => ({
              type: "tool-result" as const,
              toolCallId: c.toolCallId,
              toolName: c.toolName,
              output: { type: "text" as const, value: answers[i]! },
            })),
          },
        ];
        result = await model.doGenerate({ ...params, prompt });
      }
      const named = (c: Content) => c.type === "tool-call" && c.toolName === RETRIEVE_TOOL_NAME;
      if (!result.content.some(named)) return result;
      const content = result.content.filter((c) => !named(c));
      const callsLeft = content.some((c) => c.type === "tool-call");
      return { ...result, content, finishReason: callsLeft ? result.finishReason : { unified: "stop", raw: result.finishReason.raw } };
    },
  };
}

/** The text a tool output shows the model, when it is text the daemon can compress. */
function outputText(output: Output): string | null {
  switch (output.type) {
    case "text":
    case "error-text":
      return output.value;
    case "json":
    case "error-json":
      return JSON.stringify(output.value);
    default:
      return null;
  }
}

/** The prompt as an OpenAI chat messages array, and where each tool result went. */
function toChat(prompt: Prompt): { chat: any[]; places: Place[] } {
  const chat: any[] = [];
  const places: Place[] = [];
  prompt.forEach((message, m) => {
    switch (message.role) {
      case "system":
        chat.push({ role: "system", content: message.content });
        break;
      case "user":
        chat.push({ role: "user", content: message.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n") });
        break;
      case "assistant": {
        const text = message.content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
        const calls = message.content.flatMap((p) =>
          p.type === "tool-call"
            ? [{ id: p.toolCallId, type: "function", function: { name: p.toolName, arguments: JSON.stringify(p.input ?? {}) } }]
            : [],
        );
        chat.push({ role: "assistant", content: text || null, ...(calls.length ? { tool_calls: calls } : {}) });
        break;
      }
      case "tool":
        message.content.forEach((part, p) => {
          if (part.type !== "tool-result") return;
          const text = outputText(part.output);
          if (text !== null) {
            places.push({ message: m, part: p, chat: chat.length });
            chat.push({ role: "tool", tool_call_id: part.toolCallId, content: text });
          } else if (part.output.type === "content") {
            const items: number[] = [];
            const blocks: Array<{ type: "text"; text: string }> = [];
            part.output.value.forEach((item, i) => {
              if (item.type === "text") {
                items.push(i);
                blocks.push({ type: "text", text: item.text });
              }
            });
            if (blocks.length) {
              places.push({ message: m, part: p, chat: chat.length, items });
              chat.push({ role: "tool", tool_call_id: part.toolCallId, content: blocks });
            }
          }
        });
        break;
    }
  });
  return { chat, places };
}

/** A copy of `prompt` whose tool results hold the compressed text wherever it changed. */
function fromChat(prompt: Prompt, chat: any[], places: Place[]): Prompt {
  const out = [...prompt];
  for (const place of places) {
    const message = out[place.message] as Extract<Message, { role: "tool" }>;
    const part = message.content[place.part] as ToolResultPart;
    const sent = chat[place.chat]?.content;
    const output = replaceOutput(part.output, sent, place.items);
    if (output === part.output) continue;
    const content = [...message.content];
    content[place.part] = { ...part, output };
    out[place.message] = { ...message, content };
  }
  return out;
}

function replaceOutput(output: Output, sent: unknown, items?: number[]): Output {
  if (output.type === "content" && items && Array.isArray(sent)) {
    const value = [...output.value];
    let changed = false;
    items.forEach((i, k) => {
      const text = (sent[k] as { text?: unknown } | undefined)?.text;
      const item = value[i] as { type: "text"; text: string };
      if (typeof text === "string" && text !== item.text) {
        value[i] = { ...item, text };
        changed = true;
      }
    });
    return changed ? { ...output, value } : output;
  }
  if (typeof sent !== "string" || sent === outputText(output)) return output;
  // Compressed JSON is no longer JSON: it goes to the model as text.
  const type = output.type === "error-json" || output.type === "error-text" ? "error-text" : "text";
  const providerOptions = "providerOptions" in output && output.providerOptions ? { providerOptions: output.providerOptions } : {};
  return { type, value: sent, ...providerOptions };
}

/** The daemon's OpenAI-chat tool definition as an AI SDK function tool. */
function functionTool(definition: Record<string, unknown>): Tool {
  const f = definition.function as { name: string; description?: string; parameters: any };
  return { type: "function", name: f.name, description: f.description, inputSchema: f.parameters };
}

/** A generated content part as it goes back into the prompt, in the assistant's message. */
function assistantPart(c: Content): Extract<Message, { role: "assistant" }>["content"] {
  const providerOptions = "providerMetadata" in c && c.providerMetadata ? { providerOptions: c.providerMetadata } : {};
  switch (c.type) {
    case "text":
      return [{ type: "text", text: c.text, ...providerOptions }];
    case "reasoning":
      return [{ type: "reasoning", text: c.text, ...providerOptions }];
    case "tool-call":
      if (c.providerExecuted) return [];
      return [{ type: "tool-call", toolCallId: c.toolCallId, toolName: c.toolName, input: parseInput(c.input), ...providerOptions }];
    default:
      return [];
  }
}

function parseInput(input: string): unknown {
  try {
    return JSON.parse(input || "{}");
  } catch {
    return input;
  }
}
