// What the client adds to a round trip, over the daemon's own time (`npm run bench`).
//
// Three clients send the same frames to one headroomd, one request at a time:
//   native      a blocking Python socket client with the frames prepared in advance: the daemon's
//               time plus the kernel's, the baseline;
//   node raw    node:net with the same prepared frames, no library: what Node's event loop costs;
//   client      HeadroomClient.ping() / .compress(): encoding, JSON, id matching, timers.
// Reported: median and p99 per request, and the client's median minus the native median.
import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import { HeadroomClient } from "../src/client.js";
import { encodeRequest, FrameReader } from "../src/wire.js";
import { LOG, removeDir, startDaemon } from "./helpers.js";
import { dirname } from "node:path";

const N = Number(process.env.BENCH_N ?? 5000);
const WARMUP = 500;

const small = [
  { role: "user", content: "Why did the job fail?" },
  { role: "assistant", content: null, tool_calls: [{ id: "c", type: "function", function: { name: "tail_log", arguments: "{}" } }] },
  { role: "tool", tool_call_id: "c", content: LOG.split("\n").slice(0, 20).join("\n") },
];
const options = { model: null, format: "Auto" as const, query: null, protect_recent: 0, frozen: 0, target_ratio: null, compress_user_messages: false, memory: null, client: null };
const pingFrame = encodeRequest({ id: 1n, op: "Ping" });
const compressFrame = encodeRequest({ id: 2n, op: { Compress: { messages: Buffer.from(JSON.stringify(small)), options } } });

function summary(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)]!, p99: s[Math.floor(s.length * 0.99)]! };
}

const NATIVE = String.raw`
import socket, struct, sys, time
path, n, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
frames = [bytes.fromhex(h) for h in sys.argv[4:]]
s = socket.socket(socket.AF_UNIX); s.connect(path)
def call(frame):
    s.sendall(frame)
    head = b""
    while len(head) < 4: head += s.recv(4 - len(head))
    n = struct.unpack(">I", head)[0]; body = b""
    while len(body) < n: body += s.recv(n - len(body))
    return body
hello = bytes([0,0,0,0]) + bytes([9, 0, 1, 5]) + b"bench"
hello = struct.pack(">I", len(hello) - 4) + hello[4:]
call(hello)
for frame in frames:
    for _ in range(warm): call(frame)
    t = []
    for _ in range(n):
        a = time.perf_counter_ns(); call(frame); t.append(time.perf_counter_ns() - a)
    t.sort(); print(t[len(t)//2] / 1000, t[int(len(t)*0.99)] / 1000)
`;

async function nodeRaw(socket: string, frame: Uint8Array): Promise<number[]> {
  const conn = createConnection({ path: socket });
  await new Promise((r) => conn.once("connect", r));
  const reader = new FrameReader();
  let waiting: (() => void) | null = null;
  conn.on("data", (chunk) => {
    if (reader.push(chunk).length) waiting?.();
  });
  const call = (f: Uint8Array) => new Promise<void>((r) => ((waiting = r), conn.write(f)));
  await call(encodeRequest({ id: 9n, op: { Hello: { protocol_version: 1, client: "bench" } } }));
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const t = performance.now();
    await call(frame);
    if (i >= WARMUP) samples.push((performance.now() - t) * 1000);
  }
  conn.destroy();
  return samples;
}

async function viaClient(client: HeadroomClient, call: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const t = performance.now();
    await call();
    if (i >= WARMUP) samples.push((performance.now() - t) * 1000);
  }
  return samples;
}

const daemon = await startDaemon();
try {
  const native = spawnSync("python3", ["-c", NATIVE, daemon.socket, String(N), String(WARMUP), Buffer.from(pingFrame).toString("hex"), Buffer.from(compressFrame).toString("hex")], { encoding: "utf8" });
  if (native.status !== 0) throw new Error(native.stderr);
  const [nativePing, nativeCompress] = native.stdout.trim().split("\n").map((l) => l.split(" ").map(Number));
  const client = new HeadroomClient({ socketPath: daemon.socket });
  const compressed = await client.compress(small);
  if (compressed.error) throw compressed.error;
  const rows: Array<[string, { p50: number; p99: number }, number]> = [];
  const pingClient = summary(await viaClient(client, () => client.ping()));
  const compressClient = summary(
    await viaClient(client, async () => {
      const r = await client.compress(small);
      if (r.error) throw r.error;
    }),
  );
  rows.push(["ping      native (python, blocking)", { p50: nativePing![0]!, p99: nativePing![1]! }, NaN]);
  rows.push(["ping      node raw socket", summary(await nodeRaw(daemon.socket, pingFrame)), NaN]);
  rows.push(["ping      headroom-client", pingClient, pingClient.p50 - nativePing![0]!]);
  rows.push(["compress  native (python, blocking)", { p50: nativeCompress![0]!, p99: nativeCompress![1]! }, NaN]);
  rows.push(["compress  node raw socket", summary(await nodeRaw(daemon.socket, compressFrame)), NaN]);
  rows.push(["compress  headroom-client", compressClient, compressClient.p50 - nativeCompress![0]!]);
  client.close();
  console.log(`${N} sequential requests each; small compress = ${compressFrame.length} byte frame (${small.length} messages, a 20-line log)`);
  console.log("what                                   p50 µs    p99 µs   added over native (p50)");
  for (const [what, s, added] of rows) {
    console.log(`${what.padEnd(38)} ${s.p50.toFixed(1).padStart(7)}   ${s.p99.toFixed(1).padStart(7)}   ${Number.isNaN(added) ? "" : `${added.toFixed(1)} µs`}`);
  }
} finally {
  await daemon.stop();
  removeDir(dirname(daemon.socket));
}
