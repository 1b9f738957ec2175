// The circuit breaker: a hung daemon costs one timeout, not one per call. A real daemon is
// stopped with SIGSTOP; the breaker's clock is the test's, so nothing depends on how fast the
// machine is, and the requests that reached the daemon are counted rather than timed.
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { test } from "node:test";
import { Breaker } from "../src/breaker.js";
import { chatConversation, deadSocket, MARKER, quietClient, removeDir, startDaemon } from "./helpers.js";

test("the interval starts at 1 s, doubles up to 60 s, lets one probe through at a time, and resets", () => {
  let now = 5000;
  const breaker = new Breaker({ now: () => now });
  const ticket = breaker.allow();
  assert.notEqual(ticket, null);
  assert.equal(breaker.timedOut(ticket!), 1000);
  const intervals: number[] = [];
  for (let i = 0; i < 8; i++) {
    assert.equal(breaker.allow(), null, "skipped until the interval is over");
    now += intervals.at(-1) ?? 1000;
    const probe = breaker.allow();
    assert.notEqual(probe, null, "one probe once it is over");
    assert.equal(breaker.allow(), null, "the others keep skipping while it probes");
    intervals.push(breaker.timedOut(probe!)!);
  }
  assert.deepStrictEqual(intervals, [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  breaker.reset();
  assert.notEqual(breaker.allow(), null);
  assert.equal(breaker.remainingMs(), 0);
});

test("calls that time out together open the breaker once", () => {
  const breaker = new Breaker({ now: () => 0 });
  const tickets = [breaker.allow()!, breaker.allow()!, breaker.allow()!];
  assert.equal(breaker.timedOut(tickets[0]!), 1000);
  assert.equal(breaker.timedOut(tickets[1]!), null);
  assert.equal(breaker.timedOut(tickets[2]!), null);
  assert.equal(breaker.remainingMs(), 1000);
});

test("a hung daemon costs one timeout; calls skip it until a probe gets an answer", async () => {
  const daemon = await startDaemon();
  const pid = daemon.process.pid!;
  let now = 0;
  const { client, warnings } = quietClient(daemon.socket, 1000, new Breaker({ now: () => now }));
  const { client: warm } = quietClient(daemon.socket);
  try {
    const messages = chatConversation();
    // Compressed once with the default timeout, re-emitted from the replay store afterwards.
    assert.equal((await warm.compress(messages)).error, null);
    const s0 = await client.stats();

    process.kill(pid, "SIGSTOP");
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await client.compress(messages));
    assert.ok(results.every((r) => r.messages === messages), "every call fails open");
    assert.equal(results[0]!.error?.code, "timeout");
    assert.match(results[0]!.error!.message, /within 1000 ms; calls skip it for the next 1 s$/);
    for (const r of results.slice(1)) {
      assert.equal(r.error?.code, "unavailable");
      assert.match(r.error!.message, /^skipping headroomd for 1\.0 s more/);
    }
    assert.equal(warnings.length, 1, "the skip is told once");
    assert.match(await client.answerRetrieve({ hash: "0123456789abcdef01234567" }), /skipping headroomd/);

    now += 1000;
    const probe = await client.compress(messages);
    assert.match(probe.error!.message, /calls skip it for the next 2 s$/, "the probe timed out: the interval doubles");
    now += 1000;
    assert.match((await client.compress(messages)).error!.message, /^skipping headroomd/);

    process.kill(pid, "SIGCONT");
    assert.match((await client.compress(messages)).error!.message, /^skipping headroomd/, "the breaker, not the daemon, skips");
    now += 1000;
    const resumed = await client.compress(messages);
    assert.equal(resumed.error, null, "compression resumes after the interval");
    assert.match(resumed.messages[3].content, MARKER);
    assert.equal((await client.compress(messages)).error, null, "and the breaker is closed again");
    const s1 = await client.stats();
    // Reached the daemon: the first hung call, the first probe, the two calls after it, and stats.
    assert.equal(s1.requests - s0.requests, 5);
  } finally {
    process.kill(pid, "SIGCONT");
    client.close();
    warm.close();
    await daemon.stop();
    removeDir(dirname(daemon.socket));
  }
});

test("a daemon that is down is not skipped: the next call after it starts compresses", async () => {
  const { client } = quietClient(deadSocket());
  for (let i = 0; i < 3; i++) {
    const result = await client.compress(chatConversation());
    assert.match(result.error!.message, /cannot reach headroomd/);
  }
});
