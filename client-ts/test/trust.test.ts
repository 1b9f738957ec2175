// Socket squatting: the client refuses a socket that is not this user's, fails open with the
// reason, and never connects to it. Node cannot read SO_PEERCRED, so the client checks the socket
// file and its directory; the tests run as root and play another user with chown.
import assert from "node:assert/strict";
import { chmodSync, chownSync } from "node:fs";
import { dirname } from "node:path";
import { test } from "node:test";
import { untrustedReason } from "../src/trust.js";
import { chatConversation, fakeDaemon, quietClient } from "./helpers.js";

const OTHER = 65534;
const asRoot = { skip: process.getuid?.() !== 0 ? "plays another user with chown" : false };

async function assertRefused(change: (socket: string) => void, reason: RegExp): Promise<void> {
  const fake = await fakeDaemon((request) => ({ id: request.id, body: { Hello: { protocol_version: 3, server: "squatter" } } }));
  try {
    change(fake.socket);
    const { client, warnings } = quietClient(fake.socket);
    const messages = chatConversation();
    const result = await client.compress(messages);
    assert.equal(result.messages, messages, "fails open");
    assert.equal(result.error?.code, "unavailable");
    assert.match(result.error!.message, /^refusing the socket /);
    assert.match(result.error!.message, reason);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, reason);
    await assert.rejects(client.stats(), (e: Error) => reason.test(e.message));
    assert.deepStrictEqual(fake.received, { connections: 0, bytes: 0 }, "not a byte reached the socket");
  } finally {
    await fake.close();
  }
}

test("a socket directory of another user is refused", asRoot, async () => {
  await assertRefused(
    (socket) => chownSync(dirname(socket), OTHER, OTHER),
    new RegExp(`its directory belongs to uid ${OTHER}, not to this user \\(uid 0\\)`),
  );
});

test("a socket directory other users may write to is refused", asRoot, async () => {
  await assertRefused((socket) => chmodSync(dirname(socket), 0o777), /its directory is writable by other users \(mode 777\)/);
  await assertRefused((socket) => chmodSync(dirname(socket), 0o720), /writable by other users \(mode 720\)/);
});

test("a socket file of another user is refused", asRoot, async () => {
  await assertRefused((socket) => chownSync(socket, OTHER, OTHER), new RegExp(`it belongs to uid ${OTHER}, not to this user`));
});

test("our own socket passes", async () => {
  const fake = await fakeDaemon(() => null);
  assert.equal(await untrustedReason(fake.socket), null);
  await fake.close();
});
