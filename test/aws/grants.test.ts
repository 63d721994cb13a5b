import { test } from "node:test";
import assert from "node:assert/strict";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import type { AwsDriver } from "../../provider/src/aws";
import type { AwsEmulator } from "../../provider/src/emulator/aws";
import { openLedger } from "../../provider/src/ledger";
import { JitError, PolicyInput, isJitError, parsePolicy } from "../../provider/src/model";
import { TAG_EXPIRES_AT, TAG_GRANT } from "../../provider/src/plan";
import { driverFor, fingerprint, grantGroups, jitGroups, reachable, withAws } from "./support";

const HOUR = 3_600_000;
const START = Date.parse("2030-01-01T00:00:00Z");

/** An instance behind a group that opens 22 to the world, a policy on it with its baseline applied, and a clock. */
async function setup(emu: AwsEmulator, options: { vmId?: (id: string) => string; interfaces?: number; extraGroups?: string[] } = {}) {
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }, { port: 443, source: "0.0.0.0/0" }] });
  const groupIds = [web.id, ...(options.extraGroups ?? [])];
  const vm = emu.seed.instance(options.interfaces ? { interfaces: Array.from({ length: options.interfaces }, () => ({ groupIds })) } : { groupIds });
  const vmId = options.vmId ? options.vmId(vm.id) : vm.id;
  const driver = driverFor(emu);
  const input: PolicyInput = {
    name: "web",
    virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefixes: ["203.0.113.0/24", "198.51.100.0/24"], maxRequestAccessDuration: "PT3H" }, { number: 3389, protocol: "*", maxRequestAccessDuration: "PT1H" }] }],
  };
  const baseline = await driver.applyBaseline(parsePolicy(input), undefined, {});
  const jit = emu.state.interfacesOf(emu.state.instance(vm.id))[0].groupIds.find((g) => !groupIds.includes(g)) ?? "";
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: input, baseline: baseline.record as never });
  const clock = { t: START };
  const options_ = { ledger, drivers: { aws: driver }, now: () => new Date(clock.t) };
  const ask = (source: string, duration = "PT1H", port = 22) =>
    requestAccess({ policy: "web", virtualMachines: [{ id: vmId, ports: [{ number: port, duration, allowedSourceAddressPrefix: source }] }], justification: "INC-7" }, options_);
  return { web, vm, vmId, driver, ledger, clock, options: options_, ask, baseline: fingerprint(emu, web.id), jit };
}

/** Grant groups other than JIT groups, and the JIT groups' ingress rules: what grants leave behind. */
function leftovers(emu: AwsEmulator) {
  const jit = new Set(jitGroups(emu).map((g) => g.id));
  return { groups: grantGroups(emu).filter((g) => !jit.has(g.id)).map((g) => g.id), rules: jitGroups(emu).flatMap((g) => g.rules.filter((r) => !r.egress).map((r) => r.id)) };
}

function interfacesOf(emu: AwsEmulator, instanceId: string) {
  return emu.state.interfacesOf(emu.state.instance(instanceId));
}

async function done(driver: AwsDriver) {
  await driver.destroy();
}

test("a grant opens the port from the requester's prefix only, in the JIT group; expiry through sweep closes it", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false, "closed by the baseline");
    const mark = emu.calls.mark();
    const grant = await s.ask("203.0.113.7");
    assert.equal(grant.state, "active");
    assert.deepEqual(
      emu.calls.list({ since: mark }).map((c) => c.operation).filter((op) => !["GetCallerIdentity", "SimulatePrincipalPolicy"].includes(op)),
      ["DescribeInstances", "AuthorizeSecurityGroupIngress"],
      "the permission check's read of the instance (its tags) places the grant too",
    );
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true);
    for (const other of ["203.0.113.8", "8.8.8.8", "198.51.100.7"]) assert.equal(reachable(emu, s.vm.id, other, 22), false, other);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 3389), false, "only the requested port");
    const [group, ...more] = grantGroups(emu);
    assert.deepEqual(more, []);
    assert.equal(group.name, `jit-${s.vm.id}`);
    const rule = group.rules.find((r) => !r.egress);
    assert.equal(rule?.tags.get(TAG_GRANT), grant.id);
    assert.equal(rule?.tags.get(TAG_EXPIRES_AT), "2030-01-01T01:00:00Z");
    assert.deepEqual(grant.changes.map((c) => [c.kind, c.status]), [["aws-sg-rule", "applied"]]);

    assert.deepEqual((await sweep(s.options)).restored, [], "nothing is due before the end");
    s.clock.t += HOUR;
    const report = await sweep(s.options);
    assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
    assert.deepEqual(report.orphans, []);
    assert.deepEqual(report.baselines, [{ policy: "web", drift: [], repaired: false }]);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false);
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    assert.deepEqual(interfacesOf(emu, s.vm.id)[0].groupIds, [s.web.id, s.jit]);
    assert.deepEqual(fingerprint(emu, s.web.id), s.baseline);
    const after = await s.ledger.getGrant(grant.id);
    assert.equal(after?.state, "expired");
    assert.ok(after?.changes.every((c) => c.status === "removed"));
    await done(s.driver);
  }));

test("early revoke closes the port at once; a port with protocol * opens tcp and udp", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu);
    const grant = await s.ask("198.51.100.9", "PT30M", 3389);
    assert.equal(reachable(emu, s.vm.id, "198.51.100.9", 3389, "udp"), true);
    const revoked = await revokeAccess(grant.id, s.options);
    assert.deepEqual([revoked.state, revoked.reason], ["revoked", "UserRequested"]);
    assert.equal(reachable(emu, s.vm.id, "198.51.100.9", 3389), false);
    assert.equal(reachable(emu, s.vm.id, "198.51.100.9", 3389, "udp"), false);
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    await assert.rejects(revokeAccess(grant.id, s.options), /has already ended/);
    await done(s.driver);
  }));

test("overlapping grants for the same port and source never end each other early", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu);
    const long = await s.ask("203.0.113.7", "PT2H");
    const short = await s.ask("203.0.113.7", "PT1H");
    assert.equal((await s.ledger.getGrant(long.id))?.state, "active", "a shorter newer grant does not supersede a longer one");
    assert.equal(grantGroups(emu).length, 2, "the same rule cannot sit twice in one group: the second goes into a grant group");
    await revokeAccess(short.id, s.options);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true, "the longer grant still holds the port open");
    s.clock.t += HOUR;
    await sweep(s.options);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true);

    // A newer grant covering the older one ends it, with no gap in access.
    const newer = await s.ask("203.0.113.7", "PT2H");
    const older = await s.ledger.getGrant(long.id);
    assert.deepEqual([older?.state, older?.reason], ["revoked", "NewerRequestInitiated"]);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true);
    s.clock.t += 2 * HOUR;
    assert.deepEqual((await sweep(s.options)).restored, [{ grantId: newer.id, state: "expired" }]);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false);
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    await done(s.driver);
  }));

test("20 concurrent requests on one instance all land in its JIT group, with no group made or attached", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu);
    const mark = emu.calls.mark();
    const sources = Array.from({ length: 20 }, (_, i) => `203.0.113.${i + 1}`);
    const grants = await Promise.all(sources.map((source, i) => s.ask(source, `PT${30 + i}M`)));
    assert.ok(grants.every((g) => g.state === "active"));
    for (const source of sources) assert.equal(reachable(emu, s.vm.id, source, 22), true, source);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.21", 22), false);
    const [group, ...more] = grantGroups(emu);
    assert.deepEqual(more, []);
    assert.equal(group.rules.filter((r) => !r.egress).length, 20);
    assert.ok(interfacesOf(emu, s.vm.id).every((n) => n.groupIds.length <= 5));
    emu.calls.expect({ since: mark, operation: "CreateSecurityGroup" }, 0);
    emu.calls.expect({ since: mark, operation: "ModifyNetworkInterfaceAttribute" }, 0);

    await Promise.all(grants.slice(0, 10).map((g) => revokeAccess(g.id, s.options)));
    assert.equal(grantGroups(emu)[0]?.rules.filter((r) => !r.egress).length, 10, "each revoke took only its own rule");
    s.clock.t += 3 * HOUR;
    const report = await sweep(s.options);
    assert.equal(report.restored.length, 10);
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    assert.deepEqual(fingerprint(emu, s.web.id), s.baseline);
    await done(s.driver);
  }));

test("an interface already wearing five groups is refused with CapacityExceeded before anything is written", () =>
  withAws({}, async (emu) => {
    const extra = [1, 2, 3, 4].map((i) => emu.seed.securityGroup({ name: `extra${i}` }).id);
    const s = await setup(emu, { extraGroups: extra });
    const mark = emu.calls.mark();
    await assert.rejects(s.ask("203.0.113.7"), (e: unknown) => isJitError(e, "CapacityExceeded") && /already has 5 security groups, the most it may have \(5\)/.test((e as JitError).message));
    emu.calls.expect({ since: mark, write: true }, 0);
    const [grant] = await s.ledger.listGrants();
    assert.equal(grant.state, "failed");
    await done(s.driver);
  }));

test("an instance named by ARN, with two interfaces: its JIT group is on both, and a grant in it reaches both", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu, { interfaces: 2, vmId: (id) => `arn:aws:ec2:us-east-1:123456789012:instance/${id}` });
    const grant = await s.ask("203.0.113.7");
    const [group] = grantGroups(emu);
    assert.ok(interfacesOf(emu, s.vm.id).every((n) => n.groupIds.includes(group.id) && group.rules.some((r) => !r.egress)));
    await revokeAccess(grant.id, s.options);
    assert.ok(interfacesOf(emu, s.vm.id).every((n) => n.groupIds.join() === [s.web.id, s.jit].join()));
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    await done(s.driver);
  }));

test("with the ledger gone, sweep finds expired grant rules by their tags and leaves unexpired ones", () =>
  withAws({}, async (emu) => {
    const s = await setup(emu);
    await s.ask("203.0.113.7", "PT1H");
    await s.ask("203.0.113.8", "PT2H");
    const lost = { ledger: await openLedger(":memory:"), drivers: { aws: s.driver }, now: () => new Date(START + 90 * 60_000) };
    const early = await sweep({ ...lost, scope: { awsRegions: ["us-east-1"] } });
    assert.deepEqual(early.orphans.map((o) => [o.name.slice(0, 4), o.action, o.expiredAt]), [["sgr-", "removed", "2030-01-01T01:00:00.000Z"]]);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.8", 22), true, "an unknown grant's rule stays until its stamped expiry");
    const late = await sweep({ ...lost, now: () => new Date(START + 2 * HOUR), scope: { awsRegions: ["us-east-1"] } });
    assert.deepEqual(late.orphans.map((o) => o.action), ["removed"], "the last rule; the JIT group stays with its baseline");
    assert.deepEqual(leftovers(emu), { groups: [], rules: [] });
    assert.deepEqual(interfacesOf(emu, s.vm.id)[0].groupIds, [s.web.id, s.jit]);
    await done(s.driver);
  }));

test("a shared group is reported by the policy and untouched by its baseline and its grants", () =>
  withAws({}, async (emu) => {
    const shared = emu.seed.securityGroup({ name: "shared", ingress: [{ port: 22, source: "10.0.0.0/8" }] });
    const vm = emu.seed.instance({ groupIds: [shared.id] });
    const other = emu.seed.instance({ groupIds: [shared.id] });
    const before = fingerprint(emu, shared.id);
    const driver = driverFor(emu);
    const input: PolicyInput = { name: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] };
    const baseline = await driver.applyBaseline(parsePolicy(input), undefined, {});
    assert.match(baseline.warnings[0], new RegExp(`${shared.id} is also used by ${other.id}`));
    assert.equal(baseline.vms[0].status, "exposed");
    const ledger = await openLedger(":memory:");
    await ledger.putPolicy({ policy: input, baseline: baseline.record as never });
    const options = { ledger, drivers: { aws: driver } };
    const grant = await requestAccess({ policy: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] }, options);
    assert.equal(reachable(emu, vm.id, "203.0.113.7", 22), true);
    assert.equal(reachable(emu, other.id, "203.0.113.7", 22), false, "the grant group is on the requested instance only");
    await revokeAccess(grant.id, options);
    assert.deepEqual(fingerprint(emu, shared.id), before);
    await driver.destroy();
  }));
