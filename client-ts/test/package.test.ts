// The built package as a user imports it: its entry points resolve through package.json
// "exports", carry type declarations, and the main entry loads no framework.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

test("every entry point is built, with declarations", () => {
  for (const [name, entry] of Object.entries<any>(pkg.exports)) {
    assert.ok(existsSync(join(ROOT, entry.import)), `${name}: ${entry.import} (run npm run build)`);
    assert.ok(existsSync(join(ROOT, entry.types)), `${name}: ${entry.types}`);
  }
});

test("headroom-client loads no framework and exports the API", async () => {
  const main = await import("headroom-client");
  for (const name of ["compress", "retrieve", "stats", "metrics", "answerRetrieve", "answerTool", "withHeadroom", "HeadroomClient", "HeadroomError", "Breaker", "Memory", "defaultSocketPath", "RETRIEVE_TOOL_NAME", "MEMORY_SAVE_TOOL_NAME", "MEMORY_SEARCH_TOOL_NAME", "wire"]) {
    assert.ok(name in main, name);
  }
  const built = ["index", "client", "breaker", "trust", "wire", "memory", "tools", "loop", "sdk", "openai", "anthropic"].map((f) => readFileSync(join(ROOT, "dist", `${f}.js`), "utf8")).join("\n");
  const imports = [...built.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!).filter((s) => !s.startsWith("."));
  assert.deepStrictEqual([...new Set(imports)].sort(), ["node:fs/promises", "node:net", "node:path"]);
});

test("headroom-client/vercel and headroom-client/langchain load", async () => {
  const { headroomMiddleware } = await import("headroom-client/vercel");
  assert.equal(headroomMiddleware().specificationVersion, "v3");
  const { HeadroomChatModel } = await import("headroom-client/langchain");
  assert.equal(typeof HeadroomChatModel, "function");
});

test("the integrations load only their peer dependencies, so an app's own copy is the one used", () => {
  for (const entry of ["vercel", "langchain"]) {
    const built = readFileSync(join(ROOT, "dist", `${entry}.js`), "utf8");
    const packages = [...built.matchAll(/from\s+"([^".][^"]*)"/g)].map((m) => m[1]!.split("/").slice(0, m[1]!.startsWith("@") ? 2 : 1).join("/"));
    for (const name of packages) assert.ok(name in pkg.peerDependencies, `${entry} imports ${name}, which is not a peer dependency`);
  }
});

test("dependencies are pinned exactly, and none is needed at run time", () => {
  assert.equal(pkg.dependencies, undefined);
  for (const [name, version] of Object.entries<string>(pkg.devDependencies)) assert.match(version, /^\d+\.\d+\.\d+$/, name);
  assert.deepStrictEqual(Object.keys(pkg.peerDependenciesMeta).sort(), Object.keys(pkg.peerDependencies).sort());
});
