// Shared test fixtures: the real daemon on a temporary socket, a fake daemon speaking raw frames,
// a fake LLM provider that records request bodies, and the real log the tests compress.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Breaker } from "../src/breaker.js";
import { HeadroomClient } from "../src/client.js";
import { decodeRequest, encodeReply, FrameReader, type Reply, type Request } from "../src/wire.js";

/** The repository root (client-ts/..). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A real loghub log, the tool output every integration test compresses. */
export const LOG = readFileSync(join(REPO, "tests", "fixtures", "logs", "HDFS_2k.log"), "utf8");

export const MARKER = /\[headroom: [^\]]*headroom_retrieve hash=([0-9a-f]{24})\]/;

const HEADROOMD = process.env.HEADROOMD ?? join(REPO, "target", "release", "headroomd");

export interface Daemon {
  socket: string;
  stateDir: string;
  process: ChildProcess;
  /** Stops the daemon (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts target/release/headroomd on a fresh socket and state directory and waits until it
 * answers. Throws (never skips) when the binary is missing: run setup.sh or
 * `cargo build --release --bins` first.
 */
export async function startDaemon(dir = mkdtempSync(join(tmpdir(), "headroom-ts-"))): Promise<Daemon> {
  if (!existsSync(HEADROOMD)) throw new Error(`${HEADROOMD} is missing: run setup.sh (cargo build --release --bins)`);
  const socket = join(dir, "headroomd.sock");
  const stateDir = join(dir, "state");
  const child = spawn(HEADROOMD, ["--socket", socket, "--state-dir", stateDir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; ; i++) {
    // A fresh client each time: a slow first answer must not open one client's breaker.
    const probe = new HeadroomClient({ socketPath: socket, timeoutMs: 200 });
    try {
      await probe.ping();
      break;
    } catch (e) {
      if (child.exitCode !== null || i > 200) {
        // A child left running would keep the test process alive after the failure.
        child.kill("SIGKILL");
        throw new Error(`headroomd did not start: ${stderr || e}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      probe.close();
    }
  }
  return {
    socket,
    stateDir,
    process: child,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Removes a directory made by {@link startDaemon}. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/**
 * A stand-in daemon on a Unix socket that answers each decoded request with whatever `answer`
 * returns (a reply, raw bytes, or nothing to stay silent). `received` counts the connections
 * and bytes that reached it.
 */
export async function fakeDaemon(
  answer: (request: Request, socket: Socket) => Reply | Uint8Array | null,
): Promise<{ socket: string; requests: Request[]; received: { connections: number; bytes: number }; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "headroom-fake-"));
  const path = join(dir, "fake.sock");
  const requests: Request[] = [];
  const received = { connections: 0, bytes: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    received.connections++;
    const reader = new FrameReader();
    socket.on("data", (chunk) => {
      received.bytes += chunk.length;
      for (const body of reader.push(chunk)) {
        const request = decodeRequest(body);
        requests.push(request);
        const out = answer(request, socket);
        if (out) socket.write(out instanceof Uint8Array ? out : encodeReply(out));
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    socket: path,
    requests,
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
      removeDir(dir);
    },
  };
}

/** One request the fake provider received. */
export interface Recorded {
  method: string;
  path: string;
  body: any;
  /** The body as it arrived. */
  raw: string;
}

/** What the fake provider sends back: a JSON body, or SSE events (each an object, or [event, object]). */
export type Canned = { json: unknown } | { sse: Array<unknown | [string, unknown]>; done?: boolean };

/** A streamed OpenAI chat completion chunk carrying `delta`. */
export const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "chatcmpl-2",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** A streamed OpenAI chat usage chunk (what `stream_options.include_usage` adds at the end). */
export const usageChunk = (prompt: number, completion: number) => ({
  id: "chatcmpl-2",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o",
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
});

/** A streamed round: some text, then (if any) tool calls whose arguments arrive in two pieces, then usage. */
export function streamedRound(text: string, calls: Array<[string, string, unknown]> = [], usage: [number, number] = [100, 10]): Canned {
  const pieces = calls.flatMap(([id, name, args], index) => {
    const json = JSON.stringify(args);
    return [
      chunk({ tool_calls: [{ index, id, type: "function", function: { name, arguments: json.slice(0, 5) } }] }),
      chunk({ tool_calls: [{ index, function: { arguments: json.slice(5) } }] }),
    ];
  });
  const finish = calls.length ? "tool_calls" : "stop";
  return { sse: [chunk({ role: "assistant", content: "" }), chunk({ content: text }), ...pieces, chunk({}, finish), usageChunk(...usage)], done: true };
}

/** A canned OpenAI chat completion whose assistant message is `message`. */
export function completion(message: Record<string, unknown>, finish = "stop"): Canned {
  return {
    json: {
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1,
      model: "gpt-4o",
      choices: [{ index: 0, message: { role: "assistant", content: null, refusal: null, ...message }, finish_reason: finish, logprobs: null }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  };
}

/**
 * A fake LLM provider on 127.0.0.1: records every request body and answers from `script`
 * in order (the last answer repeats).
 */
export async function fakeProvider(script: Canned[]): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      requests.push({ method: req.method!, path: req.url!, body: raw ? JSON.parse(raw) : null, raw });
      const canned = script[Math.min(requests.length - 1, script.length - 1)]!;
      if ("json" in canned) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(canned.json));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      for (const event of canned.sse) {
        if (Array.isArray(event)) res.write(`event: ${event[0]}\ndata: ${JSON.stringify(event[1])}\n\n`);
        else res.write(`data: ${JSON.stringify(event)}\n\n`);
      }
      if (canned.done) res.write("data: [DONE]\n\n");
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A client that records its warnings instead of printing them. */
export function quietClient(socketPath: string, timeoutMs = 2000, breaker?: Breaker): { client: HeadroomClient; warnings: string[] } {
  const warnings: string[] = [];
  return { client: new HeadroomClient({ socketPath, timeoutMs, breaker, onWarning: (m) => warnings.push(m) }), warnings };
}

let deadSockets = 0;

/** A socket path where no daemon listens (in a directory that does not exist). */
export function deadSocket(): string {
  return join(tmpdir(), `headroom-dead-${process.pid}-${deadSockets++}`, "nobody.sock");
}

/** An OpenAI-chat conversation whose tool output is the real log: what an agent would send. */
export function chatConversation(question = "Why did the HDFS block transfers fail?"): any[] {
  return [
    { role: "system", content: "You are an SRE agent. Use the tools to answer precisely." },
    { role: "user", content: question },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "read_log", arguments: '{"path":"/var/log/hdfs/datanode.log"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: LOG },
  ];
}

/** The CCR key the daemon gives an original: the first 24 hex digits of its SHA-256. */
export function keyOf(original: string): string {
  return createHash("sha256").update(original, "utf8").digest("hex").slice(0, 24);
}

/** Starts the daemon and a quiet client on it, and a dead-socket client, for an integration suite. */
export async function suiteDaemon(): Promise<{ daemon: Daemon; client: HeadroomClient; dead: HeadroomClient; deadWarnings: string[]; stop(): Promise<void> }> {
  const daemon = await startDaemon();
  const { client } = quietClient(daemon.socket);
  const { client: dead, warnings: deadWarnings } = quietClient(deadSocket());
  return {
    daemon,
    client,
    dead,
    deadWarnings,
    async stop() {
      client.close();
      await daemon.stop();
      removeDir(dirname(daemon.socket));
    },
  };
}
