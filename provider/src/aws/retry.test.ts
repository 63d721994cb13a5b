import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, makeBackoff, withRetries } from "./retry";

function recording(random = () => 0.5) {
  const waits: number[] = [];
  return { waits, backoff: makeBackoff(100, { capMs: 1000, random, sleep: async (ms) => void waits.push(ms) }) };
}

test("waits grow exponentially under a cap, scaled by the jitter", () => {
  const { backoff } = recording(() => 0.999);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(backoff, a)), [99, 199, 399, 799, 999, 999]);
  const none = makeBackoff(100, { random: () => 0 });
  assert.equal(backoffDelay(none, 3), 0, "full jitter: a wait may be anything from nothing to the ceiling");
});

test("a retryable error is tried again after a jittered wait, until it succeeds", async () => {
  const { waits, backoff } = recording();
  const seen: number[] = [];
  const out = await withRetries(backoff, { attempts: 5, retryable: (e) => (e as Error).message === "busy", beforeRetry: (_e, a) => void seen.push(a) }, async (attempt) => {
    if (attempt < 3) throw new Error("busy");
    return attempt;
  });
  assert.equal(out, 3);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(waits, [50, 100]);
});

test("anything not retryable is thrown at once, and the last error once the attempts are used up", async () => {
  const { waits, backoff } = recording();
  await assert.rejects(withRetries(backoff, { attempts: 5, retryable: () => false }, async () => { throw new Error("denied"); }), /denied/);
  assert.deepEqual(waits, []);
  let tries = 0;
  await assert.rejects(withRetries(backoff, { attempts: 3, retryable: () => true }, async () => { throw new Error(`busy ${++tries}`); }), /busy 3/);
  assert.equal(waits.length, 2);
});
