import { test } from "node:test";
import assert from "node:assert/strict";
import { Gate, mapLimit } from "./parallel";

test("mapLimit keeps order, never runs more than the limit at once, and stops starting work after a failure", async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
    most = Math.max(most, ++running);
    await new Promise((r) => setTimeout(r, n));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(most, 2);
  assert.deepEqual(await mapLimit([], 4, async () => 1), []);

  const started: number[] = [];
  await assert.rejects(
    mapLimit([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error("boom");
    }),
    /boom/,
  );
  assert.deepEqual(started, [1, 2]);
});

test("Gate runs at most its limit at once, in arrival order, and frees the slot of a failed call", async () => {
  const gate = new Gate(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const job = (n: number) =>
    gate.run(async () => {
      order.push(n);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5 - n));
      running--;
      if (n === 1) throw new Error("one failed");
      return n;
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map(job));
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
  assert.deepEqual(
    results.map((r) => (r.status === "fulfilled" ? r.value : "failed")),
    [0, "failed", 2, 3, 4],
  );
  assert.equal(await gate.run(async () => "free again"), "free again");
});
