import { test } from "node:test";
import assert from "node:assert/strict";
import { JitError } from "../model";
import { requestAccess, revokeAccess, sweep } from "./index";
import { POLICY, VM, fakeWorld } from "./testing/fake-world";

async function setup(start?: number) {
  const { ledger, driver, clock, options } = await fakeWorld(start);
  const ask = (duration = "PT1H", source = "203.0.113.7") =>
    requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [{ number: 22, duration, allowedSourceAddressPrefix: source }] }], justification: "INC-1" }, options);
  return { ledger, driver, clock, options, ask };
}

test("a request opens the port, and sweep after expiry puts it back and records why", async () => {
  const { ledger, driver, clock, options, ask } = await setup();
  const grant = await ask();
  assert.equal(grant.state, "active");
  assert.equal(driver.rules.size, 1);
  assert.ok(grant.changes.every((c) => c.status === "applied"));

  assert.deepEqual((await sweep(options)).restored, [], "nothing is due before the end");
  clock.t += 3_600_000;
  const report = await sweep(options);
  assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
  assert.equal(driver.rules.size, 0);
  const after = await ledger.getGrant(grant.id);
  assert.equal(after?.state, "expired");
  assert.equal(after?.reason, "Expired");
  assert.deepEqual((await sweep(options)).restored, [], "sweep is idempotent");
  const actions = (await ledger.listAudit()).map((e) => e.action).reverse();
  assert.deepEqual(actions.slice(0, 3), ["grant.request", "grant.apply", "grant.expire"]);
});

test("refused requests change nothing and say why", async () => {
  const { ledger, driver, options } = await setup();
  const refusals: [unknown, RegExp, string][] = [
    [{ number: 3389, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }, /port 3389 of VM "web1" is not in policy "web"/, "RequestNotAllowed"],
    [{ number: 22, duration: "PT4H", allowedSourceAddressPrefix: "203.0.113.7" }, /PT4H|4 hours|longer/, "RequestNotAllowed"],
    [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "198.51.100.1" }, /198\.51\.100\.1.*203\.0\.113\.0\/24|not inside/, "RequestNotAllowed"],
  ];
  for (const [port, message, code] of refusals) {
    await assert.rejects(
      requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [port as never] }] }, options),
      (e: unknown) => e instanceof JitError && e.code === code && message.test(e.message),
    );
  }
  driver.missing = ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"];
  await assert.rejects(
    requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] }, options),
    /ana@example\.com .* lacks Microsoft\.Security\/locations\/jitNetworkAccessPolicies\/initiate\/action on/,
  );
  assert.equal(driver.writes, 0, "no cloud write for a refused request");
  assert.deepEqual(await ledger.listGrants(), [], "no grant recorded for a refused request");
  assert.equal((await ledger.listAudit({ action: "grant.refuse" })).length, 4);
  await assert.rejects(requestAccess({ policy: "nope", virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H" }] }] }, options), /no policy named "nope" in the ledger \(it has web\)/);
});

test("a failure while opening undoes what was opened", async () => {
  const { ledger, driver, ask } = await setup();
  await ledger.putPolicy({
    policy: { ...POLICY, virtualMachines: [{ id: VM, ports: [...POLICY.virtualMachines[0].ports, { ...POLICY.virtualMachines[0].ports[0], number: 3389 }] }] },
    baseline: {},
  });
  driver.failAt = 2;
  await assert.rejects(
    requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [22, 3389].map((number) => ({ number, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" })) }] }, {
      ledger,
      drivers: { azure: driver },
    }),
    /cloud refused write 2/,
  );
  assert.equal(driver.rules.size, 0, "the first port's rule was removed again");
  const [grant] = await ledger.listGrants();
  assert.equal(grant.state, "failed");
  assert.ok(grant.changes.every((c) => c.status === "removed" || c.status === "intended"));
  void ask;
});

test("a crash mid-apply leaves a record that sweep finishes from", async () => {
  const { ledger, driver, options, ask } = await setup();
  driver.crashAt = 1;
  await assert.rejects(ask(), /crashed at write 1/);
  driver.crashAt = undefined;
  const [stuck] = await ledger.listGrants();
  assert.notEqual(stuck.state, "active");
  const report = await sweep({ ...options, abandonedAfterMs: 0 });
  assert.deepEqual(report.failed, []);
  const [after] = await ledger.listGrants();
  assert.equal(after.state, "failed");
  assert.equal(driver.rules.size, 0);
});

test("revoke ends a grant early; a newer request supersedes an older one only when it covers it", async () => {
  const { ledger, driver, options, ask } = await setup();
  const first = await ask("PT1H");
  const second = await ask("PT2H");
  assert.equal((await ledger.getGrant(first.id))?.state, "revoked");
  assert.equal((await ledger.getGrant(first.id))?.reason, "NewerRequestInitiated");
  assert.equal(driver.rules.size, 1);
  const shorter = await ask("PT30M");
  assert.equal((await ledger.getGrant(second.id))?.state, "active", "a shorter newer grant does not cut the older one short");
  assert.equal(driver.rules.size, 2);
  const revoked = await revokeAccess(shorter.id, options);
  assert.equal(revoked.state, "revoked");
  assert.equal(revoked.reason, "UserRequested");
  assert.equal(driver.rules.size, 1);
  await assert.rejects(revokeAccess(shorter.id, options), /has already ended \(revoked, UserRequested\)/);
  await assert.rejects(revokeAccess("AAAAAAAAAAAA", options), /no grant with id "AAAAAAAAAAAA"/);
});

test("ports of one grant that end at different times close at their own ends", async () => {
  const { ledger, driver, clock, options } = await setup();
  await ledger.putPolicy({
    policy: { ...POLICY, virtualMachines: [{ id: VM, ports: [...POLICY.virtualMachines[0].ports, { ...POLICY.virtualMachines[0].ports[0], number: 3389 }] }] },
    baseline: {},
  });
  const grant = await requestAccess(
    { policy: "web", virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT30M", allowedSourceAddressPrefix: "203.0.113.7" }, { number: 3389, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] },
    options,
  );
  assert.equal(driver.rules.size, 2);
  clock.t += 30 * 60_000;
  await sweep(options);
  assert.deepEqual([...driver.rules.keys()].map((k) => k.split("-")[3]), ["3389"], "port 22 closed at its end, 3389 still open");
  assert.equal((await ledger.getGrant(grant.id))?.state, "active");
  clock.t += 30 * 60_000;
  assert.deepEqual((await sweep(options)).restored, [{ grantId: grant.id, state: "expired" }]);
  assert.equal(driver.rules.size, 0);
});

test("sweep claims many due grants side by side, reports them in due order, and skips one extended after the due list was read", async () => {
  const { ledger, clock, options, ask } = await setup();
  const grants = [];
  for (let i = 0; i < 40; i++) {
    grants.push(await ask("PT1H", `203.0.113.${i + 1}`));
    clock.t += 1000;
  }
  clock.t += 3_600_000;
  const [extended] = grants.splice(17, 1);
  const later = new Date(clock.t + 3_600_000).toISOString();
  const dueForRestore = ledger.dueForRestore.bind(ledger);
  ledger.dueForRestore = async (now, limit) => {
    const due = await dueForRestore(now, limit);
    // Another process extends one of them between this sweep's read and its claim.
    const current = (await ledger.getGrant(extended.id))!;
    await ledger.updateGrant(extended.id, current.version, {
      ...current,
      endTimeUtc: later,
      virtualMachines: current.virtualMachines.map((vm) => ({ ...vm, ports: vm.ports.map((p) => ({ ...p, endTimeUtc: later })) })),
      changes: current.changes.map((c) => (c.endTimeUtc === undefined ? c : { ...c, endTimeUtc: later })),
    });
    return due;
  };
  const report = await sweep(options);
  assert.deepEqual(report.failed, []);
  assert.deepEqual(
    report.restored.map((r) => r.grantId),
    grants.map((g) => g.id),
  );
  const kept = await ledger.getGrant(extended.id);
  assert.equal(kept?.state, "active");
  assert.equal(kept?.endTimeUtc, later);
  assert.ok(kept?.changes.every((c) => c.status === "applied"), "the extended grant's rule was not restored");
});
