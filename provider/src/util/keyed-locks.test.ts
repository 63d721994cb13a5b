import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedLocks } from "./keyed-locks";

const tick = () => new Promise((r) => setTimeout(r, 1));

test("work under one key takes turns; other keys run alongside; several keys cannot deadlock", async () => {
  const locks = new KeyedLocks();
  const log: string[] = [];
  const job = (name: string, keys: string[]) =>
    locks.with(keys, async () => {
      log.push(`${name}+`);
      await tick();
      await tick();
      log.push(`${name}-`);
    });
  await Promise.all([job("a", ["x"]), job("b", ["x"]), job("c", ["y"])]);
  assert.ok(log.indexOf("b+") > log.indexOf("a-"), "b waited for a");
  assert.ok(log.indexOf("c+") < log.indexOf("a-"), "c did not wait");

  log.length = 0;
  await Promise.all([job("p", ["x", "y"]), job("q", ["y", "x"]), job("r", ["x", "y"])]);
  assert.deepEqual(log, ["p+", "p-", "q+", "q-", "r+", "r-"]);
});

test("a failing holder releases its keys", async () => {
  const locks = new KeyedLocks();
  await assert.rejects(locks.with(["k"], async () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await locks.with(["k"], async () => "next"), "next");
});
