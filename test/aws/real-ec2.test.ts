import { test } from "node:test";
import assert from "node:assert/strict";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import type { AwsEmulator } from "../../provider/src/emulator/aws";
import { openLedger } from "../../provider/src/ledger";
import { JitError, PolicyInput, isJitError, parsePolicy } from "../../provider/src/model";
import { GRANT_GROUP_ROLE, TAG_INSTANCE, TAG_ROLE } from "../../provider/src/plan";
import { scan } from "../../provider/src/scan";
import { afterCall, driverFor, grantGroups, reachable, withAws } from "./support";

/**
 * What real EC2 does that a simpler endpoint would not, each against the behaviour the emulator
 * now has (checked against the EC2 API reference, the VPC quotas and prefix-list pages, and the
 * eventual-consistency guide): ownership that tags cannot forge, revokes in a default VPC,
 * group lists that only a whole write can change, new groups not yet visible, lost answers,
 * prefix lists that count as many rules, groups referenced by other groups' rules.
 */

const START = Date.parse("2030-01-01T00:00:00Z");
const SSH = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" };

async function applied(emu: AwsEmulator, groupIds: string[], options: { baseline?: boolean; maxAttempts?: number } = {}) {
  const vm = emu.seed.instance({ groupIds });
  const driver = driverFor(emu, options.maxAttempts ? { maxAttempts: options.maxAttempts } : {});
  const input: PolicyInput = { name: "web", virtualMachines: [{ id: vm.id, ports: [SSH] }] };
  const policy = parsePolicy(input);
  const baseline = options.baseline === false ? { record: {}, vms: [] } : await driver.applyBaseline(policy, undefined, {});
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: input, baseline: baseline.record as never });
  const clock = { t: START };
  const access = { ledger, drivers: { aws: driver }, now: () => new Date(clock.t) };
  const ask = (source: string, duration = "PT1H") =>
    requestAccess({ policy: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, duration, allowedSourceAddressPrefix: source }] }], justification: "INC-1" }, access);
  return { vm, driver, policy, baseline, ledger, clock, access, ask, eni: emu.state.interfacesOf(vm)[0] };
}

test("a group tagged as a grant group cannot hide an open port: status and scan count it, sweep empties it", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    const s = await applied(emu, [web.id]);
    assert.deepEqual(s.baseline.vms.map((v) => v.status), ["protected"]);
    // Anyone who may tag and attach groups makes a "grant group" open to the world.
    const forged = emu.seed.securityGroup({ name: "backdoor", tags: { [TAG_ROLE]: GRANT_GROUP_ROLE, [TAG_INSTANCE]: s.vm.id }, ingress: [{ protocol: -1, source: "0.0.0.0/0" }] });
    s.eni.groupIds.push(forged.id);
    assert.equal(reachable(emu, s.vm.id, "8.8.8.8", 22), true);

    const inspected = await s.driver.inspectBaseline(s.policy, s.baseline.record);
    assert.equal(inspected.vms[0].status, "exposed");
    assert.match(inspected.vms[0].detail ?? "", new RegExp(`${forged.id} \\(a group for grants\\) allows all traffic from 0.0.0.0/0, which no grant made`));
    const scanned = await scan({ ledger: s.ledger, aws: { region: emu.region, connection: { ...emu.clientConfig, maxAttempts: 1 } } });
    const mine = scanned.results.find((r) => r.vmId === s.vm.id);
    assert.equal(mine?.verdict, "Unhealthy");
    assert.ok(mine?.exposures.some((e) => e.exposedBy.some((r) => r.container === forged.id)));

    const report = await sweep({ ...s.access, scope: { awsRegions: [emu.region] } });
    assert.deepEqual(report.orphans.map((o) => [o.container, o.action, o.grantId]), [[forged.id, "removed", undefined]]);
    assert.equal(reachable(emu, s.vm.id, "8.8.8.8", 22), false);
    assert.deepEqual(emu.state.group(forged.id).rules.filter((r) => !r.egress), []);
    await s.driver.destroy();
  }));

test("a rule forged into the JIT group with grant tags a grant could never have is swept; apply revokes untagged ones", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    const s = await applied(emu, [web.id]);
    const jit = grantGroups(emu).find((g) => s.eni.groupIds.includes(g.id));
    assert.ok(jit, "the baseline attached a JIT group");
    const forever = { "pulumi-jit:grant": "forged", "pulumi-jit:policy": "web", "pulumi-jit:instance": s.vm.id, "pulumi-jit:expires-at": "2099-01-01T00:00:00Z" };
    emu.seed.rules(jit.id, [{ port: 22, source: "8.8.8.0/24", tags: forever }, { port: 23, source: "0.0.0.0/0" }]);
    const report = await sweep({ ...s.access, now: () => new Date(), scope: { awsRegions: [emu.region] }, repairBaselines: false });
    assert.equal(report.orphans.length, 2);
    assert.equal(reachable(emu, s.vm.id, "8.8.8.8", 22), false);

    emu.seed.rules(jit.id, [{ port: 22, source: "1.2.3.4/32" }]);
    assert.match((await s.driver.inspectBaseline(s.policy, s.baseline.record)).drift.join("\n"), new RegExp(`in JIT group ${jit.id} was made by no grant`));
    await s.driver.applyBaseline(s.policy, s.baseline.record, {});
    assert.equal(reachable(emu, s.vm.id, "1.2.3.4", 22), false, "the record owns the JIT group: the apply takes out what no grant made");
    await s.driver.destroy();
  }));

test("in a default VPC, a rule another writer removes mid-apply costs no other rule of the user's", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "10.1.0.0/16" }, { fromPort: 0, toPort: 65535, source: "10.2.0.0/16", description: "office" }] });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const driver = driverFor(emu);
    const policy = parsePolicy({ name: "web", virtualMachines: [{ id: vm.id, ports: [SSH] }] });
    // Right after the first authorize (the narrower office rules), an admin drops "22 from 10.1/16".
    afterCall(emu, "AuthorizeSecurityGroupIngress", 1, () => {
      const group = emu.state.group(web.id);
      group.rules = group.rules.filter((r) => !(r.peer.kind === "ipv4" && r.peer.cidr === "10.1.0.0/16"));
    });
    const { record } = await driver.applyBaseline(policy, undefined, {});
    assert.equal(reachable(emu, vm.id, "10.2.3.4", 22), false);
    assert.equal(reachable(emu, vm.id, "10.2.3.4", 443), true);
    await driver.removeBaseline(policy, record);
    const office = emu.state.group(web.id).rules.filter((r) => !r.egress);
    assert.deepEqual(office.map((r) => [r.protocol, r.fromPort, r.toPort, r.peer, r.description]), [["tcp", 0, 65535, { kind: "ipv4", cidr: "10.2.0.0/16" }, "office"]], "back whole; the rule the admin removed stays removed");
    await driver.destroy();
  }));

test("grants and restores never rewrite an interface's group list: a group another writer adds or removes meanwhile stays so", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    const [theirs, quarantine] = [emu.seed.securityGroup({ name: "theirs" }), emu.seed.securityGroup({ name: "quarantine" })];
    const s = await applied(emu, [web.id, quarantine.id]);
    const mark = emu.calls.mark();
    // Whatever the product reads, another writer changes the list right after: adds one group, removes another.
    const meddle = () => (s.eni.groupIds = [...s.eni.groupIds.filter((g) => g !== quarantine.id), theirs.id]);
    afterCall(emu, "DescribeNetworkInterfaces", 1, meddle);
    afterCall(emu, "DescribeInstances", 1, meddle);
    const grant = await s.ask("203.0.113.7");
    assert.equal(grant.state, "active");
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true);
    await revokeAccess(grant.id, s.access);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false);
    assert.ok(s.eni.groupIds.includes(theirs.id), "the group they added is kept");
    assert.ok(!s.eni.groupIds.includes(quarantine.id), "the group they removed is not put back");
    emu.calls.expect({ since: mark, operation: "ModifyNetworkInterfaceAttribute" }, 0);
    // Direct mode's permission check reads the instance's tags (its simulation's context) besides these.
    emu.calls.expect({ since: mark, operation: /^(?!GetCallerIdentity$|SimulatePrincipalPolicy$)/ }, (n) => n <= 5, "grant and restore: a read and one write each, and the permission check's read");
    await s.driver.destroy();
  }));

test("a group EC2 does not know yet right after creating it does not fail the grant, nor make a second group", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const s = await applied(emu, [web.id], { baseline: false });
    emu.faults.inject({ operation: "ModifyNetworkInterfaceAttribute" }, { kind: "error", status: 400, code: "InvalidGroup.NotFound", message: "The security group 'sg-x' does not exist" }, 1);
    const first = await s.ask("203.0.113.7");
    assert.equal(first.state, "active", first.error);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), true);
    emu.calls.expect({ operation: "CreateSecurityGroup" }, 1);

    // The same from EC2's own lag: the next lookups of a new group do not find it.
    const other = emu.seed.instance({ groupIds: [web.id] });
    emu.state.consistency.newGroupLookups = 3;
    const second = await requestAccess(
      { policy: "web", virtualMachines: [{ id: other.id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.8" }] }] },
      { ...s.access, ledger: await (async () => {
        const ledger = await openLedger(":memory:");
        await ledger.putPolicy({ policy: { name: "web", virtualMachines: [{ id: other.id, ports: [SSH] }] }, baseline: {} as never });
        return ledger;
      })() },
    );
    assert.equal(second.state, "active", second.error);
    assert.equal(reachable(emu, other.id, "203.0.113.8", 22), true);
    emu.calls.expect({ operation: "CreateSecurityGroup" }, 2);
    await s.driver.destroy();
  }));

test("an authorize applied but whose answer was lost (the SDK retries it into a duplicate) is taken as done", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const s = await applied(emu, [web.id], { maxAttempts: 2 });
    emu.faults.inject({ operation: "AuthorizeSecurityGroupIngress" }, { kind: "drop", after: "after-apply" }, 1);
    const grant = await s.ask("203.0.113.7");
    assert.equal(grant.state, "active", grant.error);
    assert.equal(emu.faults.injected, 1);
    const rule = grant.changes.find((c) => c.kind === "aws-sg-rule");
    assert.ok(rule?.kind === "aws-sg-rule" && rule.ruleIds.length === 1, "its rule id is recorded");
    await revokeAccess(grant.id, s.access);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false);
    await s.driver.destroy();
  }));

test("a prefix-list rule counts as the list's size: a split that cannot fit is refused up front, one that fits only revoke-first is made so", () =>
  withAws({}, async (emu) => {
    const cloudfront = emu.seed.prefixList({ name: "com.amazonaws.global.cloudfront.origin-facing", maxEntries: 120, awsManaged: { weight: 55 } });
    const cdn = emu.seed.securityGroup({ name: "cdn", ingress: [{ fromPort: 0, toPort: 65535, source: cloudfront.id }] });
    const vm = emu.seed.instance({ groupIds: [cdn.id] });
    const driver = driverFor(emu);
    const mark = emu.calls.mark();
    await assert.rejects(driver.applyBaseline(parsePolicy({ name: "cdn", virtualMachines: [{ id: vm.id, ports: [SSH] }] }), undefined, {}), (e: unknown) => {
      assert.ok(isJitError(e, "CapacityExceeded"), String(e));
      assert.match((e as JitError).message, /prefix list counts as its maximum entries/);
      return true;
    });
    emu.calls.expect({ since: mark, write: true }, 0, "refused before any write");

    const office = emu.seed.prefixList({ name: "office", maxEntries: 25 });
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 0, toPort: 65535, source: office.id }] });
    const other = emu.seed.instance({ groupIds: [web.id] });
    // 25 now, 50 once split: both at once would be 75 > 60, so the wide rule must go first.
    const result = await driver.applyBaseline(parsePolicy({ name: "web", virtualMachines: [{ id: other.id, ports: [SSH] }] }), undefined, {});
    assert.deepEqual(result.vms.map((v) => v.status), ["protected"]);
    assert.deepEqual(emu.state.group(web.id).rules.filter((r) => !r.egress).map((r) => [r.fromPort, r.toPort]), [[0, 21], [23, 65535]]);
    await driver.destroy();
  }));

test("restore finds the grant's rules by the recorded group id, whatever happened to the group's tags", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web" });
    for (const baseline of [true, false]) {
      const s = await applied(emu, [web.id], { baseline });
      const grant = await s.ask("203.0.113.7");
      const change = grant.changes.find((c) => c.kind === "aws-sg-rule");
      assert.ok(change?.kind === "aws-sg-rule");
      emu.state.group(change.groupId).tags.clear();
      await revokeAccess(grant.id, s.access);
      assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false, baseline ? "JIT group" : "grant group");
      await s.driver.destroy();
    }
  }));

test("a grant group another group's rule refers to is reported at once, not retried for ever", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const s = await applied(emu, [web.id], { baseline: false });
    const grant = await s.ask("203.0.113.7");
    const [group] = grantGroups(emu);
    const db = emu.seed.securityGroup({ name: "db", ingress: [{ port: 5432, source: group.id }] });
    const mark = emu.calls.mark();
    const ended = await revokeAccess(grant.id, s.access).catch((e: unknown) => e);
    assert.equal(reachable(emu, s.vm.id, "203.0.113.7", 22), false, "the grant's rule went");
    emu.calls.expect({ since: mark, operation: "DeleteSecurityGroup" }, 1, "a reference does not pass with time");
    const said = ended instanceof Error ? ended.message : JSON.stringify(await s.ledger.getGrant(grant.id));
    assert.match(said, new RegExp(`${group.id} cannot be deleted: rules of ${db.id} refer to it`));
    await s.driver.destroy();
  }));
