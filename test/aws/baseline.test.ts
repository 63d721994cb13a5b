import { test } from "node:test";
import assert from "node:assert/strict";
import { sweep } from "../../provider/src/access";
import { openLedger } from "../../provider/src/ledger";
import { parsePolicy } from "../../provider/src/model";
import { dieAfter, driverFor, fingerprint, reachable, withAws } from "./support";

const SSH = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24" };
const policyFor = (ids: string[], ports = [SSH]) => parsePolicy({ name: "web", virtualMachines: ids.map((id) => ({ id, ports })) });

test("the baseline closes 22 to everyone, keeps every other port open, and policy delete restores the groups exactly", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({
      name: "web",
      ingress: [
        { fromPort: 0, toPort: 65535, source: "10.0.0.0/8", description: "office", tags: { owner: "net-team" } },
        { port: 22, source: "0.0.0.0/0", description: "ssh from anywhere" },
      ],
    });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const original = fingerprint(emu, web.id);
    const driver = driverFor(emu);
    const policy = policyFor([vm.id]);

    const applied = await driver.applyBaseline(policy, undefined, {});
    for (const address of ["10.1.2.3", "8.8.8.8", "203.0.113.7"]) assert.equal(reachable(emu, vm.id, address, 22), false, `22 from ${address}`);
    for (const port of [0, 21, 23, 80, 443, 3389, 65535]) assert.equal(reachable(emu, vm.id, "10.1.2.3", port), true, `port ${port} from 10/8`);
    assert.equal(reachable(emu, vm.id, "8.8.8.8", 80), false, "nothing new opened");
    assert.deepEqual(applied.vms, [{ vmId: vm.id, status: "protected" }]);
    assert.deepEqual(
      applied.rules.map((r) => [r.name, r.action, r.ports]),
      [
        ['tcp 0-65535 from 10.0.0.0/8 ("office")', "split", [22]],
        ['tcp 22 from 0.0.0.0/0 ("ssh from anywhere")', "revoked", [22]],
      ],
    );
    const pieces = emu.state.group(web.id).rules.filter((r) => !r.egress);
    assert.deepEqual(pieces.map((r) => [r.fromPort, r.toPort, r.description, r.tags.get("owner")]), [[0, 21, "office", "net-team"], [23, 65535, "office", "net-team"]]);
    assert.deepEqual(JSON.parse(JSON.stringify(applied.record)), applied.record, "the record is plain JSON");

    const mark = emu.calls.mark();
    await driver.removeBaseline(policy, applied.record);
    assert.deepEqual(fingerprint(emu, web.id), original, "rules, descriptions and tags as before");
    emu.calls.expect({ since: mark, write: true, operation: /SecurityGroupIngress$/ }, 3, "an authorize per tag set (the office rule had its own), one revoke");
    assert.deepEqual(emu.state.interfacesOf(vm)[0].groupIds, [web.id], "the JIT group is taken off");
    assert.deepEqual([...emu.state.groups.values()].filter((g) => g.name.startsWith("jit-")), [], "and deleted");
    await driver.destroy();
  }));

test("drift is reported and repaired by applying again, which writes only what differs", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 0, toPort: 65535, source: "10.0.0.0/8" }, { port: 22, source: "0.0.0.0/0" }] });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const original = fingerprint(emu, web.id);
    const driver = driverFor(emu);
    const policy = policyFor([vm.id]);
    const first = await driver.applyBaseline(policy, undefined, {});

    let mark = emu.calls.mark();
    const again = await driver.applyBaseline(policy, first.record, {});
    emu.calls.expect({ since: mark, write: true }, 0, "nothing differs");
    assert.deepEqual(again.record, first.record);

    emu.seed.rules(web.id, [{ port: 22, source: "0.0.0.0/0" }]);
    const split = emu.state.group(web.id).rules.find((r) => r.fromPort === 23);
    emu.state.group(web.id).rules = emu.state.group(web.id).rules.filter((r) => r !== split);
    const inspected = await driver.inspectBaseline(policy, first.record);
    assert.equal(inspected.vms[0].status, "exposed");
    assert.match(inspected.vms[0].detail ?? "", /allows tcp 22 from 0\.0\.0\.0\/0/);
    assert.deepEqual(inspected.drift, [
      `port(s) 22/TCP re-opened: tcp 22 from 0.0.0.0/0 is back in ${web.id} (the baseline had revoked it)`,
      `tcp 23-65535 from 10.0.0.0/8 is missing from ${web.id} (the baseline put it there to keep other ports open)`,
    ]);

    mark = emu.calls.mark();
    const repaired = await driver.applyBaseline(policy, first.record, {});
    emu.calls.expect({ since: mark, write: true }, 2);
    assert.equal(reachable(emu, vm.id, "8.8.8.8", 22), false);
    assert.equal(reachable(emu, vm.id, "10.0.0.1", 8080), true);
    assert.deepEqual((await driver.inspectBaseline(policy, repaired.record)).drift, []);

    // Someone re-adds a revoked rule before the policy goes: restore does not add it twice.
    emu.seed.rules(web.id, [{ port: 22, source: "0.0.0.0/0" }]);
    await driver.removeBaseline(policy, repaired.record);
    assert.deepEqual(fingerprint(emu, web.id), original);
    await driver.destroy();
  }));

test("a policy update changes only the ports that changed, and dropping an instance restores its groups", () =>
  withAws({}, async (emu) => {
    const a = emu.seed.securityGroup({ name: "a", ingress: [{ fromPort: 0, toPort: 65535, source: "10.0.0.0/8" }] });
    const b = emu.seed.securityGroup({ name: "b", ingress: [{ port: 3389, source: "0.0.0.0/0" }] });
    const vm1 = emu.seed.instance({ groupIds: [a.id] });
    const vm2 = emu.seed.instance({ groupIds: [b.id] });
    const [aBefore, bBefore] = [fingerprint(emu, a.id), fingerprint(emu, b.id)];
    const driver = driverFor(emu);
    const rdp = { ...SSH, number: 3389 };
    const v1 = await driver.applyBaseline(policyFor([vm1.id, vm2.id]), undefined, {});

    let mark = emu.calls.mark();
    const v2 = await driver.applyBaseline(parsePolicy({ name: "web", virtualMachines: [{ id: vm1.id, ports: [SSH, rdp] }, { id: vm2.id, ports: [SSH] }] }), v1.record, {});
    assert.deepEqual(
      emu.calls.list({ since: mark, write: true }).map((c) => c.operation),
      ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"],
      "only group a changes: 0-21,23-65535 becomes 0-21,23-3388,3390-65535",
    );
    assert.equal(reachable(emu, vm1.id, "10.0.0.1", 3389), false);
    assert.equal(reachable(emu, vm1.id, "10.0.0.1", 3390), true);
    assert.equal(reachable(emu, vm2.id, "8.8.8.8", 3389), true, "3389 is not selected for vm2");

    const v3 = await driver.applyBaseline(policyFor([vm2.id]), v2.record, {});
    assert.deepEqual(fingerprint(emu, a.id), aBefore, "vm1 left the policy: its group is back as it was");
    await driver.removeBaseline(policyFor([vm2.id]), v3.record);
    assert.deepEqual(fingerprint(emu, b.id), bBefore);
    await driver.destroy();
  }));

test("a group shared with an instance outside the policy is reported and left alone, unless the policy allows it", () =>
  withAws({}, async (emu) => {
    const shared = emu.seed.securityGroup({ name: "shared", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    const own = emu.seed.securityGroup({ name: "own", ingress: [{ port: 22, source: "198.51.100.0/24" }] });
    const vm = emu.seed.instance({ groupIds: [shared.id, own.id] });
    const other = emu.seed.instance({ groupIds: [shared.id] });
    const before = fingerprint(emu, shared.id);
    const driver = driverFor(emu);
    const policy = policyFor([vm.id]);

    const mark = emu.calls.mark();
    const result = await driver.applyBaseline(policy, undefined, {});
    assert.deepEqual(fingerprint(emu, shared.id), before, "untouched");
    assert.deepEqual(
      emu.calls.list({ since: mark, write: true }).map((c) => c.operation),
      ["RevokeSecurityGroupIngress", "CreateSecurityGroup", "ModifyNetworkInterfaceAttribute"],
      "only the policy's own group changed; then the instance's JIT group is made and attached",
    );
    assert.equal(result.vms[0].status, "exposed");
    assert.match(result.vms[0].detail ?? "", new RegExp(`${shared.id} \\(also used by ${other.id}, so left unchanged\\) allows tcp 22 from 0\\.0\\.0\\.0/0`));
    assert.match(result.warnings.join("\n"), new RegExp(`${shared.id} is also used by ${other.id}, outside the policy, and was left unchanged.*allowSharedSecurityGroups`));

    const allowed = await driver.applyBaseline(policy, result.record, { allowSharedSecurityGroups: true });
    assert.equal(allowed.vms[0].status, "protected");
    assert.equal(reachable(emu, other.id, "8.8.8.8", 22), false, "the other instance loses the port too, as the option says");
    assert.match(allowed.warnings.join("\n"), /was changed although .* also use it/);
    const repaired = await driver.applyBaseline(policy, allowed.record, {});
    assert.equal(repaired.record.allowSharedSecurityGroups, true, "an apply without an opinion keeps the last one");
    await driver.removeBaseline(policy, repaired.record);
    assert.deepEqual(fingerprint(emu, shared.id), before);
    await driver.destroy();
  }));

test("an all-traffic rule is narrowed to tcp, udp and icmp around the port, and said so", () =>
  withAws({}, async (emu) => {
    const g = emu.seed.securityGroup({ name: "all", ingress: [{ protocol: "-1", source: "10.0.0.0/8", description: "vpn" }] });
    const vm = emu.seed.instance({ groupIds: [g.id] });
    const before = fingerprint(emu, g.id);
    const driver = driverFor(emu);
    const policy = parsePolicy({ name: "web", virtualMachines: [{ id: vm.id, ports: [{ ...SSH, protocol: "*" }] }] });
    const result = await driver.applyBaseline(policy, undefined, {});
    assert.equal(reachable(emu, vm.id, "10.0.0.9", 22), false);
    assert.equal(reachable(emu, vm.id, "10.0.0.9", 22, "udp"), false);
    assert.equal(reachable(emu, vm.id, "10.0.0.9", 53, "udp"), true);
    assert.equal(reachable(emu, vm.id, "10.0.0.9", 8, "icmp"), true);
    assert.match(result.warnings.join("\n"), /all traffic from 10\.0\.0\.0\/8 \("vpn"\) now lets in TCP, UDP and ICMP only/);
    await driver.removeBaseline(policy, result.record);
    assert.deepEqual(fingerprint(emu, g.id), before);
    await driver.destroy();
  }));

test("many instances sharing a few groups: four reads per region, two writes per group, a JIT group per instance; a missing instance is not applicable", () =>
  withAws({}, async (emu) => {
    const groups = [0, 1, 2, 3].map((i) => emu.seed.securityGroup({ name: `g${i}`, ingress: [{ fromPort: 0, toPort: 65535, source: `10.${i}.0.0/16` }, { port: 22, source: "0.0.0.0/0" }] }));
    const vms = Array.from({ length: 12 }, (_, i) => emu.seed.instance({ groupIds: [groups[i % 4].id, groups[(i + 1) % 4].id] }));
    const driver = driverFor(emu, { pageSize: 5 });
    const gone = "i-0123456789abcdef0";
    const policy = policyFor([...vms.map((v) => v.id), gone]);
    const mark = emu.calls.mark();
    const result = await driver.applyBaseline(policy, undefined, {});
    emu.calls.expect({ since: mark, write: true, operation: /SecurityGroupIngress$/ }, 8);
    emu.calls.expect({ since: mark, operation: "CreateSecurityGroup" }, 12);
    emu.calls.expect({ since: mark, operation: "ModifyNetworkInterfaceAttribute" }, 12, "one write per interface, all after one read");
    emu.calls.expect({ since: mark, write: false }, (n) => n >= 6 && n <= 6 * 3, "four describes, and the interfaces before and after attaching, each a few pages of five");
    assert.deepEqual(result.vms.at(-1), { vmId: gone, status: "notApplicable", detail: `instance ${gone} was not found in us-east-1 (terminated or deleted)` });
    assert.ok(result.vms.slice(0, -1).every((v) => v.status === "protected"));
    assert.ok(vms.every((v) => !reachable(emu, v.id, "8.8.8.8", 22) && reachable(emu, v.id, "10.0.0.1", 80) === [0, 3].includes(vms.indexOf(v) % 4)));
    await driver.destroy();
  }));

test("sweep repairs a re-opened port from the ledger's record; a recorded group that was deleted is reported and dropped", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    const old = emu.seed.securityGroup({ name: "old", ingress: [{ port: 22, source: "10.0.0.0/8" }] });
    const vm = emu.seed.instance({ groupIds: [web.id, old.id] });
    const driver = driverFor(emu);
    const input = { name: "web", virtualMachines: [{ id: vm.id, ports: [SSH] }] };
    const applied = await driver.applyBaseline(parsePolicy(input), undefined, {});
    const ledger = await openLedger(":memory:");
    await ledger.putPolicy({ policy: input, baseline: applied.record as never });

    emu.seed.rules(web.id, [{ port: 22, source: "0.0.0.0/0" }]);
    const report = await sweep({ ledger, drivers: { aws: driver } });
    assert.deepEqual(report.baselines, [{ policy: "web", drift: [`port(s) 22/TCP re-opened: tcp 22 from 0.0.0.0/0 is back in ${web.id} (the baseline had revoked it)`], repaired: true }]);
    assert.equal(reachable(emu, vm.id, "8.8.8.8", 22), false);

    const [eni] = emu.state.interfacesOf(vm);
    eni.groupIds = eni.groupIds.filter((g) => g !== old.id);
    emu.state.groups.delete(old.id);
    const record = (await ledger.getPolicy("web"))?.baseline as never;
    assert.deepEqual((await driver.inspectBaseline(parsePolicy(input), record)).drift, [`security group ${old.id} recorded by the baseline no longer exists`]);
    const again = await driver.applyBaseline(parsePolicy(input), record, {});
    assert.deepEqual(again.warnings, [`security group ${old.id} recorded by the baseline no longer exists; nothing of it can be restored`]);
    assert.deepEqual((again.record as { groups: { groupId: string }[] }).groups.map((g) => g.groupId), [web.id]);
    await driver.destroy();
  }));

test("an apply that fails half-way undoes its writes; one that dies half-way is taken up by the next apply", () =>
  withAws({}, async (emu) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 0, toPort: 65535, source: "10.0.0.0/8", tags: { owner: "net" } }] });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const original = fingerprint(emu, web.id);
    const driver = driverFor(emu);
    const policy = policyFor([vm.id]);

    emu.faults.inject({ operation: "RevokeSecurityGroupIngress" }, { kind: "error", status: 500, code: "InternalError", message: "An internal error has occurred" });
    await assert.rejects(driver.applyBaseline(policy, undefined, {}), /RevokeSecurityGroupIngress on sg-\w+ in us-east-1 failed: InternalError/);
    assert.deepEqual(fingerprint(emu, web.id), original, "the narrower rules it had added are gone again");

    // The process dies right after adding the narrower rules (four reads, then the authorize):
    // nothing undoes them, and no record is kept.
    const revive = dieAfter(emu, 5);
    await assert.rejects(driver.applyBaseline(policy, undefined, {}));
    revive();
    assert.notDeepEqual(fingerprint(emu, web.id), original);
    const taken = await driver.applyBaseline(policy, undefined, {});
    assert.deepEqual(taken.rules.map((r) => r.action), ["split"], "the leftover rules count as the baseline's, not the user's");
    await driver.removeBaseline(policy, taken.record);
    assert.deepEqual(fingerprint(emu, web.id), original);
    await driver.destroy();
  }));
