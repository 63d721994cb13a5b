import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../model";
import { connect } from "./connect";
import { VM, fakeWorld } from "./testing/fake-world";

/** A ledger with the policy, the fake cloud, and a clock that only `sleep` moves. */
async function setup() {
  const { ledger, driver, clock, options: base } = await fakeWorld();
  const progress: string[] = [];
  const slept: number[] = [];
  const options = {
    ...base,
    progress: (m: string) => progress.push(m),
    sleep: async (ms: number) => {
      slept.push(ms);
      clock.t += ms;
    },
    sourceAddress: "203.0.113.7",
  };
  return { ledger, driver, clock, progress, slept, options };
}

const ARGS = { policy: "web", vmId: VM, port: 22, duration: "PT1H" };

test("connect waits, reading the cloud, until the rule is in effect, with a progress line each time", async () => {
  const { driver, progress, slept, options } = await setup();
  driver.unsettledReads = 2;
  const c = await connect(ARGS, options);
  assert.equal(c.reused, false);
  assert.deepEqual([c.host, c.endpointPort, c.port], [driver.host, 22, 22]);
  assert.deepEqual(slept, [2000, 2000], "two reads said not yet; each was followed by one wait");
  assert.equal(progress.filter((m) => m.startsWith("waiting for the rule to take effect on port 22 of web1: rule written, not yet in effect")).length, 2);
  assert.match(progress.at(-1) ?? "", /^port 22 of web1 admits 203\.0\.113\.7: connect to 198\.51\.100\.20:22/);
});

test("a live grant of the caller's for the port and address is reused; another address, or one about to end, gets a new grant", async () => {
  const { ledger, clock, options } = await setup();
  const first = await connect(ARGS, options);
  const again = await connect(ARGS, options);
  assert.equal(again.reused, true);
  assert.equal(again.grant.id, first.grant.id);
  const elsewhere = await connect(ARGS, { ...options, sourceAddress: "203.0.113.8" });
  assert.equal(elsewhere.reused, false);
  clock.t += 3_600_000 - 30_000;
  const late = await connect(ARGS, options);
  assert.equal(late.reused, false, "a grant with 30 seconds left is not reused");
  assert.equal((await ledger.listGrants({ state: "active" })).length, 2, "the new grant superseded the one about to end");
});

test("a rule that never takes effect fails with CloudError after the wait, and the grant stays for revoke or sweep", async () => {
  const { ledger, driver, options } = await setup();
  driver.unsettledReads = Infinity;
  await assert.rejects(connect(ARGS, { ...options, waitMs: 10_000 }), (err) => isJitError(err, "CloudError") && /still does not admit 203\.0\.113\.7 after 10s/.test(err.message));
  assert.equal((await ledger.listGrants({ state: "active" })).length, 1);
});
