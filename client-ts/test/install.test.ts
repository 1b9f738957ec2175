// The client installed the way the README says — `npm pack`, then `npm install` of the tarball in
// an application that has its own @langchain/core — and, as the other way people try, linked from
// the directory (`npm install /path/to/client-ts`, which loads client-ts/node_modules' second copy
// of @langchain/core). In each, a LangChain.js streamed tool call goes through HeadroomChatModel
// against the real daemon and a fake provider, and must reach the application intact.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { fakeProvider, keyOf, LOG, MARKER, REPO, removeDir, startDaemon, streamedRound, type Daemon } from "./helpers.js";

const run = promisify(execFile);
const ROOT = join(REPO, "client-ts");
const pinned: Record<string, string> = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).devDependencies;
const FRAMEWORKS = ["@langchain/core", "@langchain/openai"].map((name) => `${name}@${pinned[name]}`);

/** The application: streams a reply through HeadroomChatModel and prints what it got. */
const APP = `
import { readFileSync } from "node:fs";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import { HeadroomChatModel } from "headroom-client/langchain";

const inner = new ChatOpenAI({ model: "gpt-4o", apiKey: "sk-test", configuration: { baseURL: process.env.PROVIDER_URL }, maxRetries: 0 });
const readLog = { type: "function", function: { name: "read_log", description: "Read a log file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } } };
const model = new HeadroomChatModel({ model: inner }).bindTools([readLog]);
const messages = [
  new HumanMessage("Why did the HDFS block transfers fail?"),
  new AIMessage({ content: "", tool_calls: [{ id: "call_1", name: "read_log", args: { path: "/var/log/hdfs/datanode.log" } }] }),
  new ToolMessage({ content: readFileSync(process.env.LOG_PATH, "utf8"), tool_call_id: "call_1" }),
];
let all;
for await (const chunk of await model.stream(messages)) all = all ? all.concat(chunk) : chunk;
console.log(JSON.stringify({ text: all.text, toolCalls: all.tool_calls, client: import.meta.resolve("headroom-client/langchain") }));
`;

/** A fresh application directory with its own package.json and APP. */
function newApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "headroom-app-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
  writeFileSync(join(dir, "app.mjs"), APP);
  return dir;
}

/** `npm install` in `dir`, from the npm cache where it can. */
async function npmInstall(dir: string, specs: string[]): Promise<void> {
  await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--save-exact", ...specs], { cwd: dir });
}

describe("installed as the README says", { timeout: 180_000 }, () => {
  let daemon: Daemon;
  let packed: string;
  let linked: string;

  before(async () => {
    daemon = await startDaemon();
    packed = newApp();
    linked = newApp();
    const { stdout } = await run("npm", ["pack", "--pack-destination", packed], { cwd: ROOT });
    const tarball = stdout.trim().split("\n").at(-1)!;
    await Promise.all([npmInstall(packed, [`./${tarball}`, ...FRAMEWORKS]), npmInstall(linked, [ROOT, ...FRAMEWORKS])]);
  });
  after(async () => {
    await daemon.stop();
    for (const dir of [packed, linked, join(daemon.socket, "..")]) if (dir) removeDir(dir);
  });

  /** Runs the app in `dir` against a fake provider whose reply streams a call of the app's tool. */
  async function streamToolCall(dir: string) {
    const provider = await fakeProvider([streamedRound("Reading it. ", [["call_2", "read_log", { path: "/var/log/hdfs/other.log" }]])]);
    try {
      const env = { ...process.env, HEADROOM_SOCKET: daemon.socket, PROVIDER_URL: `${provider.url}/v1`, LOG_PATH: join(REPO, "tests", "fixtures", "logs", "HDFS_2k.log") };
      const { stdout } = await run("node", ["app.mjs"], { cwd: dir, env });
      return { got: JSON.parse(stdout), sent: provider.requests.map((r) => r.body) };
    } finally {
      await provider.close();
    }
  }

  function assertToolCallSurvived(got: any, sent: any[]) {
    assert.equal(got.text, "Reading it. ");
    assert.deepStrictEqual(
      got.toolCalls.map((c: any) => [c.id, c.name, c.args]),
      [["call_2", "read_log", { path: "/var/log/hdfs/other.log" }]],
    );
    assert.equal(sent.length, 1);
    assert.equal(MARKER.exec(sent[0].messages[2].content)?.[1], keyOf(LOG), "compressed by the daemon");
  }

  test("npm pack, then npm install of the tarball: one @langchain/core, the streamed tool call intact", async () => {
    const installed = join(packed, "node_modules", "headroom-client");
    assert.ok(!lstatSync(installed).isSymbolicLink());
    assert.ok(!existsSync(join(installed, "node_modules")), "the frameworks are the app's (peer dependencies)");
    assert.ok(existsSync(join(packed, "node_modules", "@langchain", "core")));
    const { got, sent } = await streamToolCall(packed);
    assert.ok(got.client.startsWith(`file://${installed}/`), got.client);
    assertToolCallSurvived(got, sent);
  });

  test("npm install of the directory (a link; client-ts's own @langchain/core loads too): the streamed tool call intact", async () => {
    assert.ok(lstatSync(join(linked, "node_modules", "headroom-client")).isSymbolicLink());
    const { got, sent } = await streamToolCall(linked);
    assert.ok(got.client.startsWith(`file://${ROOT}/`), got.client);
    assertToolCallSurvived(got, sent);
  });
});
