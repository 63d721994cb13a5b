import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../model";
import { extendAccess, requestAccess } from "./index";
import { FakeDriver } from "./testing/fake-driver";
import { VM, fakeWorld } from "./testing/fake-world";

async function setup() {
  const { ledger, driver, clock, options } = await fakeWorld();
  const grant = await requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] }, options);
  return { ledger, driver, clock, options, grant };
}

test("extend moves every end, restamps the rules, and counts the maximum from the original start", async () => {
  const { driver, clock, options, grant } = await setup();
  clock.t += 50 * 60_000;
  const once = await extendAccess(grant.id, "PT1H", options);
  assert.equal(once.endTimeUtc, "2030-01-01T02:00:00.000Z");
  assert.equal(once.createdAt, grant.createdAt, "the start stays the original one");
  assert.deepEqual([...driver.rules.values()].map((r) => r.expiresAt), ["2030-01-01T02:00:00.000Z"]);
  const twice = await extendAccess(grant.id, "PT1H", options);
  assert.equal(twice.endTimeUtc, "2030-01-01T03:00:00.000Z", "PT3H from the start, exactly");
  await assert.rejects(extendAccess(grant.id, "PT1S", options), (err) => isJitError(err, "RequestNotAllowed") && err.field === "duration" && /so until 2030-01-01T03:00:00\.000Z/.test(err.message));
});

test("extend refuses, changing nothing and auditing why: another requester's grant, a zero duration, a grant past its end", async () => {
  const { ledger, driver, clock, options, grant } = await setup();
  const writes = driver.writes;
  const other = new FakeDriver();
  other.principal = { id: "00000000-0000-0000-0000-0000000000b2", name: "bob@example.com" };
  await assert.rejects(extendAccess(grant.id, "PT30M", { ...options, drivers: { azure: other } }), (err) => isJitError(err, "Unauthorized") && /is 00000000-0000-0000-0000-0000000000a1's; bob@example\.com/.test(err.message));
  await assert.rejects(extendAccess(grant.id, "PT0S", options), (err) => isJitError(err, "InvalidInput") && err.field === "duration");
  clock.t += 3_600_000;
  await assert.rejects(extendAccess(grant.id, "PT30M", options), (err) => isJitError(err, "InvalidInput") && /ended at/.test(err.message));
  await assert.rejects(extendAccess("nosuchgrant0", "PT30M", options), (err) => isJitError(err, "NotFound"));
  assert.equal(driver.writes, writes);
  assert.equal((await ledger.getGrant(grant.id))?.endTimeUtc, grant.endTimeUtc);
  const refused = await ledger.listAudit({ grant: grant.id, action: "grant.extend" });
  assert.deepEqual(refused.map((e) => [e.outcome, e.code]).sort(), [["refused", "InvalidInput"], ["refused", "InvalidInput"], ["refused", "Unauthorized"]]);
});
