import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Latency } from "./latency";

/** A response as the SDK pipeline hands it to a policy: headers only. */
function answer(headers: Record<string, string> = {}) {
  const map = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: { get: (name: string) => map.get(name.toLowerCase()), set: (name: string, value: string) => void map.set(name.toLowerCase(), value) } };
}

/** A request through the clock's policy, answered after a few turns of the event loop (as a real server would be). */
async function send(latency: Latency, retryAfter?: number) {
  const policy = latency.clientPolicy();
  return policy.sendRequest({}, async () => {
    for (let i = 0; i < 5; i++) await nextTurn();
    return answer(retryAfter === undefined ? {} : { "Retry-After": String(retryAfter) });
  });
}

function clock(): Latency {
  const latency = new Latency();
  latency.enable();
  return latency;
}

test("waits side by side cost the longest of them; waits one after another add up", async () => {
  const side = clock();
  await Promise.all([side.sleep(10_000), side.sleep(4_000), side.sleep(10_000)]);
  assert.equal(side.now(), 10_000);

  const chain = clock();
  await chain.sleep(10_000);
  await chain.sleep(4_000);
  assert.equal(chain.now(), 14_000);
});

test("a Retry-After becomes a wait on the clock, and the client is told to ask again at once", async () => {
  const latency = clock();
  const response = await send(latency, 10);
  assert.equal(latency.now(), 10_000);
  assert.equal(response.headers.get("retry-after"), "0");
  assert.equal(response.headers.get("x-ms-retry-after-ms"), "0");
  assert.equal((await send(latency)).headers.get("retry-after"), undefined);
  assert.equal(latency.now(), 10_000, "an answer without Retry-After takes no modelled time");
});

test("the clock stands still while a request is in flight: a branch that is still talking to the cloud is not charged for another branch's wait", async () => {
  const latency = clock();
  // One branch starts its wait at once; the other first reads, then writes and waits for the
  // write's operation. Side by side, the whole is one wait (10 s), not two.
  await Promise.all([latency.sleep(10_000), send(latency).then(() => send(latency, 10))]);
  assert.equal(latency.now(), 10_000);
});

test("work after a join starts when the longest branch ended", async () => {
  const latency = clock();
  await Promise.all(Array.from({ length: 100 }, () => send(latency).then(() => send(latency, 10)).then(() => send(latency))));
  assert.equal(latency.now(), 10_000, "a hundred writes side by side: one operation's time");
  await send(latency, 10);
  assert.equal(latency.now(), 20_000);
});

test("a wait that ends at once (already due, or the clock off) does not hold the caller", async () => {
  const latency = clock();
  await latency.until(0);
  assert.equal(latency.now(), 0);
  const off = new Latency();
  await off.sleep(5_000);
  assert.equal(off.now(), 5_000, "off, the clock still moves by the product's own waits");
  const response = await send(off, 10);
  assert.equal(response.headers.get("retry-after"), "10", "off, ARM's answers pass as they are");
});

test("moving the clock by hand ends the waits due by then", async () => {
  const latency = clock();
  let woke = false;
  const waiting = latency.sleep(30_000).then(() => (woke = true));
  latency.advanceTo(30_000);
  await waiting;
  assert.equal(woke, true);
  assert.equal(latency.now(), 30_000);
});
