import { test } from "node:test";
import assert from "node:assert/strict";
import { afterRace } from "./writes";

const rest = (statusCode: number, code: string) => Object.assign(new Error(code), { name: "RestError", statusCode, code });
const policy = { conflictRetries: 2, backoffMs: 100, busyWaitMs: 600_000 };

test("a changed resource is retried conflictRetries times with doubling, jittered waits, then given up", () => {
  const changed = rest(412, "PreconditionFailed");
  const first = afterRace(undefined, changed, 0, policy, 0);
  assert.deepEqual(first, { retry: true, state: { lost: 1, since: 0 }, waitMs: 50, why: "412 PreconditionFailed" });
  const second = afterRace(first.retry ? first.state : undefined, changed, 1_000, policy, 1);
  assert.deepEqual(second, { retry: true, state: { lost: 2, since: 0 }, waitMs: 200, why: "412 PreconditionFailed" });
  assert.equal(afterRace(second.retry ? second.state : undefined, changed, 2_000, policy, 0).retry, false);
});

test("a busy resource (another operation holds it) is waited for until busyWaitMs have passed since the first loss", () => {
  const busy = rest(409, "AnotherOperationInProgress");
  const spent = { lost: 5, since: 0 };
  assert.equal(afterRace(spent, busy, 599_999, policy, 0).retry, true, "minutes into a firewall update, still waiting");
  assert.equal(afterRace(spent, busy, 600_000, policy, 0).retry, false);
  const capped = afterRace({ lost: 30, since: 0 }, busy, 1_000, policy, 1);
  assert.ok(capped.retry && capped.waitMs === 30_000, "waits are capped at 30 s");
});

test("an operation NRP cancelled as superseded is a lost race, named as such", () => {
  const decision = afterRace(undefined, new Error("Operation was canceled"), 0, policy, 0);
  assert.ok(decision.retry);
  assert.equal(decision.why, "superseded");
});
