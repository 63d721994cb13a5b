import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { parsePolicy } from "../../provider/src/model";
import { allowRuleDescription, allowRuleName, denyRuleDescription, denyRuleName, parseJitRule, sharedDenyRuleName } from "../../provider/src/plan";
import { AzureWorld, azureWorld, nsgIdsOf, reaches, rulesOf, snapshot } from "./support";

const OFFICE = "203.0.113.0/24";

/** The deny baseline against the local ARM endpoint, through the real SDK clients. */
describe("the Azure deny baseline", () => {
  let world: AzureWorld;
  before(async () => (world = await azureWorld()));
  after(() => world.close());

  const policyFor = (name: string, vmId: string, ports = [22, 3389]) =>
    parsePolicy({ name, virtualMachines: [{ id: vmId, ports: ports.map((number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: OFFICE })) }] });

  it("closes the ports in the subnet's NSG and the NIC's, to the Internet and the VNet alike", async () => {
    const { emu, driver } = world;
    const vm = emu.seed.typicalVm({ resourceGroup: "plain", name: "vm1" });
    assert.equal(reaches(emu, vm, "198.51.100.9", 22), false, "the default rules already keep the Internet out");
    assert.equal(reaches(emu, vm, "10.0.0.9", 22), true, "but not the VNet");

    const result = await driver.applyBaseline(policyFor("plain", vm.vmId), undefined, {});
    assert.deepEqual(result.vms, [{ vmId: vm.vmId, status: "protected" }]);
    assert.deepEqual(result.rules.map((r) => [r.container, r.name, r.priority, r.ports]), nsgIdsOf(vm).map((id) => [id, sharedDenyRuleName("plain", "22.3389-1000", "TCP"), 1000, [22, 3389]]));
    for (const source of ["198.51.100.9", "10.0.0.9", "203.0.113.7"]) {
      for (const port of [22, 3389]) assert.equal(reaches(emu, vm, source, port), false, `${source} → ${port}`);
    }
    assert.equal(reaches(emu, vm, "10.0.0.9", 443), true, "other ports are left alone");
    for (const id of nsgIdsOf(vm)) {
      const [deny] = rulesOf(emu, id);
      assert.deepEqual([deny.access, deny.sourceAddressPrefix, deny.destinationAddressPrefix], ["Deny", "*", vm.privateIpAddress]);
    }
  });

  it("keeps a user rule for the port ahead of the deny rule and reports the exposure, naming it", async () => {
    const { emu, driver } = world;
    const vm = emu.seed.typicalVm({ resourceGroup: "exposed", name: "vm1" });
    for (const [nsg, rule] of [[`${vm.vmId.split("/")[4]}-vnet-default-nsg`, "ssh-from-anywhere"], ["vm1-nsg", "ssh-from-anywhere-too"]]) {
      emu.seed.rule("exposed", nsg, { name: rule, priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "Internet", destinationPortRange: "22" });
    }
    const result = await driver.applyBaseline(policyFor("exposed", vm.vmId), undefined, {});
    const [status] = result.vms;
    assert.equal(status.status, "exposed");
    assert.match(status.detail ?? "", /port 22\/TCP is open through rule ssh-from-anywhere \(priority 300\) of NSG exposed-vnet-default-nsg and rule ssh-from-anywhere-too \(priority 300\) of NSG vm1-nsg/);
    assert.doesNotMatch(status.detail ?? "", /3389/);
    assert.equal(reaches(emu, vm, "198.51.100.9", 22), true, "the user's rule keeps precedence, as in Defender");
    assert.equal(reaches(emu, vm, "198.51.100.9", 3389), false);
    for (const id of nsgIdsOf(vm)) {
      const rules = rulesOf(emu, id);
      assert.ok(rules.find((r) => parseJitRule(r)?.kind === "deny")!.priority > 300, "the deny rule goes behind the user rule");
      assert.deepEqual(rules.find((r) => r.name.startsWith("ssh-"))?.priority, 300, "the user rule is not renumbered");
    }
  });

  it("says a VM without any NSG is not applicable, and how open it is", async () => {
    const { emu, driver } = world;
    const vm = emu.seed.typicalVm({ resourceGroup: "bare", name: "vm1", subnetNsg: false, nicNsg: false });
    const result = await driver.applyBaseline(policyFor("bare", vm.vmId), undefined, {});
    assert.equal(result.vms[0].status, "notApplicable");
    assert.match(result.vms[0].detail ?? "", new RegExp(`no NSG on its subnet or network interface.*open to the Internet on ${vm.publicIpAddress!.replace(/\./g, "\\.")}`));
    assert.deepEqual(result.rules, []);
  });

  it("inspects drift, and re-applying puts back only what is missing", async () => {
    const { emu, driver } = world;
    const vm = emu.seed.typicalVm({ resourceGroup: "drift", name: "vm1" });
    const policy = policyFor("drift", vm.vmId);
    const { record } = await driver.applyBaseline(policy, undefined, {});
    assert.deepEqual((await driver.inspectBaseline(policy, record)).drift, []);

    const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
    const name = sharedDenyRuleName("drift", "22.3389-1000", "TCP");
    await network.securityRules.delete("drift", "vm1-nsg", name, { updateIntervalInMs: 0 });
    const subnetNsg = vm.subnetNsgId!.split("/").pop()!;
    const edited = await network.securityRules.get("drift", subnetNsg, name);
    await network.securityRules.createOrUpdate("drift", subnetNsg, name, { ...edited, destinationPortRanges: ["3389"] }, { updateIntervalInMs: 0 });

    const inspected = await driver.inspectBaseline(policy, record);
    assert.equal(inspected.drift.length, 2, inspected.drift.join("\n"));
    assert.match(inspected.drift.join("\n"), new RegExp(`deny rule ${name} in NSG ${subnetNsg} was changed \\(destinationPorts\\)`));
    assert.match(inspected.drift.join("\n"), new RegExp(`deny rule ${name} is missing from NSG vm1-nsg`));
    assert.equal(inspected.vms[0].status, "protected", "the subnet's NSG still closes 22, and the NIC's default rules the rest");

    const mark = emu.calls.mark();
    const repaired = await driver.applyBaseline(policy, record, {});
    emu.calls.expect({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" }, 2, "one write per NSG: a rewrite in one, a re-creation in the other");
    assert.deepEqual(repaired.drift, []);
    assert.equal(repaired.warnings.filter((w) => w.startsWith("repaired: ")).length, 2);
    assert.deepEqual(repaired.record, record);
    assert.deepEqual((await driver.inspectBaseline(policy, repaired.record)).drift, []);
  });

  it("an update adds and removes only what differs, and leaves user rules and grants' rules alone; removal deletes exactly its rules", async () => {
    const { emu, driver } = world;
    const vm1 = emu.seed.typicalVm({ resourceGroup: "upd", name: "vm1" });
    const vm2 = emu.seed.typicalVm({ resourceGroup: "upd", name: "vm2" });
    const ids = [...new Set([...nsgIdsOf(vm1), ...nsgIdsOf(vm2)])];
    emu.seed.rule("upd", "vm1-nsg", { name: "https", priority: 500, direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "443" });
    // An active grant's allow rule, as a grant of another process left it.
    const grantRule = { name: allowRuleName("g1", "vm1", 22, "TCP"), description: allowRuleDescription("g1", "upd", "vm1", new Date("2030-01-01T01:00:00Z")) };
    emu.seed.rule("upd", "vm1-nsg", { ...grantRule, priority: 100, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "203.0.113.7", destinationAddressPrefix: vm1.privateIpAddress, destinationPortRange: "22" });
    const original = snapshot(emu, ids);
    const both = parsePolicy({
      name: "upd",
      virtualMachines: [vm1, vm2].map((vm) => ({ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] })),
    });
    const first = await driver.applyBaseline(both, undefined, {});
    assert.equal(first.rules.length, 3, "the VMs share one deny rule in the subnet NSG, and each has one in its own NIC's");
    assert.deepEqual(rulesOf(emu, vm1.subnetNsgId!).find((r) => parseJitRule(r)?.kind === "deny")?.destinationAddressPrefixes, [vm1.privateIpAddress, vm2.privateIpAddress].sort());

    const mark = emu.calls.mark();
    const changed = parsePolicy({ ...both, virtualMachines: [{ ...both.virtualMachines[0], ports: [...both.virtualMachines[0].ports, { number: 3389, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] }] });
    const second = await driver.applyBaseline(changed, first.record, {});
    const ops = emu.calls.byOperation({ since: mark, write: true });
    assert.deepEqual(ops, { NetworkSecurityGroups_CreateOrUpdate: 3 }, "one write per NSG that changes: the shared subnet NSG, and each VM's own");
    assert.deepEqual(second.rules.map((r) => r.ports), [[22, 3389], [22, 3389]]);
    assert.equal(reaches(emu, vm2, "10.0.0.9", 22), true, "vm2 left the policy: its port is as before");
    assert.equal(reaches(emu, vm1, "10.0.0.9", 3389), false);
    assert.ok(rulesOf(emu, vm1.nicNsgId!).some((r) => r.name === grantRule.name && r.priority === 100), "the grant's rule is untouched");

    await driver.removeBaseline(changed, second.record);
    assert.deepEqual(snapshot(emu, ids), original);
  });

  it("a VM that is gone is not applicable, and the next apply removes its deny rules", async () => {
    const { emu, driver } = world;
    const vm1 = emu.seed.typicalVm({ resourceGroup: "gone", name: "vm1" });
    const vm2 = emu.seed.typicalVm({ resourceGroup: "gone", name: "vm2" });
    const ids = [...new Set([...nsgIdsOf(vm1), ...nsgIdsOf(vm2)])];
    const original = snapshot(emu, ids);
    const policy = parsePolicy({ name: "gone", virtualMachines: [vm1, vm2].map((vm) => ({ id: vm.vmId, ports: [{ number: 22, protocol: "TCP" }] })) });
    const { record } = await driver.applyBaseline(policy, undefined, {});
    // vm2 is deleted: ARM answers 404 for it from now on.
    emu.faults.inject({ operation: "VirtualMachines_Get", path: /\/vm2$/ }, { kind: "error", status: 404, code: "ResourceNotFound", message: "The Resource 'Microsoft.Compute/virtualMachines/vm2' under resource group 'gone' was not found." }, Infinity);
    try {
      const inspected = await driver.inspectBaseline(policy, record);
      assert.deepEqual(inspected.vms.map((v) => v.status), ["protected", "notApplicable"]);
      assert.match(inspected.vms[1].detail ?? "", /does not exist/);
      assert.deepEqual(
        inspected.drift.map((d) => d.replace(/jit-deny-gone-22-1000-tcp-\w+/, "R")),
        ["deny rule R in NSG gone-vnet-default-nsg is out of date", "deny rule R in NSG vm2-nsg is no longer needed"],
        "the subnet's shared rule shrinks to vm1; vm2's own NSG loses its rule",
      );
      const applied = await driver.applyBaseline(policy, record, {});
      assert.deepEqual(applied.warnings, [`VM ${vm2.vmId} does not exist: there is nothing to protect`]);
      assert.deepEqual(applied.rules.map((r) => r.name.replace(/-\w+$/, "")), ["jit-deny-gone-22-1000-tcp", "jit-deny-gone-22-1000-tcp"]);
      assert.deepEqual(rulesOf(emu, vm1.subnetNsgId!).find((r) => parseJitRule(r)?.kind === "deny")?.destinationAddressPrefix, vm1.privateIpAddress);
      assert.deepEqual(snapshot(emu, ids)[vm2.nicNsgId!], original[vm2.nicNsgId!], "vm2's NSG is as it was");
    } finally {
      emu.faults.clear();
    }
  });

  it("replaces the one-per-VM deny rules of an earlier apply with shared ones, in one write per NSG, and records those", async () => {
    const { emu, driver } = world;
    const vms = [1, 2, 3].map((i) => emu.seed.typicalVm({ resourceGroup: "legacy", name: `vm${i}`, nicNsg: false }));
    const subnetNsgId = vms[0].subnetNsgId!;
    const policy = parsePolicy({ name: "legacy", virtualMachines: vms.map((vm) => ({ id: vm.vmId, ports: [{ number: 22, protocol: "TCP" }] })) });
    // What an earlier version placed: a deny rule per VM, and a user rule put behind vm2's since.
    const legacy = vms.map((vm, i) => ({
      name: denyRuleName("legacy", `vm${i + 1}`, "TCP"),
      description: denyRuleDescription("legacy", `vm${i + 1}`),
      priority: 1000 + i,
      direction: "Inbound" as const,
      access: "Deny" as const,
      protocol: "Tcp" as const,
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefix: vm.privateIpAddress,
      destinationPortRange: "22",
    }));
    for (const rule of legacy) emu.seed.rule("legacy", subnetNsgId.split("/").pop()!, rule);
    emu.seed.rule("legacy", subnetNsgId.split("/").pop()!, { name: "ssh-late", priority: 1500, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "*", destinationAddressPrefix: vms[1].privateIpAddress, destinationPortRange: "22" });
    const record = { denyRules: legacy.map((rule) => ({ nsgId: subnetNsgId, rule })) };

    const mark = emu.calls.mark();
    const applied = await driver.applyBaseline(policy, record, {});
    assert.deepEqual(emu.calls.byOperation({ since: mark, write: true }), { NetworkSecurityGroups_CreateOrUpdate: 1 });
    const name = sharedDenyRuleName("legacy", "22-1000", "TCP");
    assert.deepEqual(applied.rules.map((r) => [r.name, r.priority]), [[name, 1000]], "the number the old rules held is free again");
    assert.deepEqual(rulesOf(emu, subnetNsgId).filter((r) => parseJitRule(r)).map((r) => r.name), [name]);
    assert.deepEqual(applied.vms.map((v) => v.status), ["protected", "protected", "protected"], "ssh-late stays behind vm2's deny rule");
    assert.equal(reaches(emu, vms[1], "10.0.0.9", 22), false);
    assert.deepEqual(applied.warnings, []);
    assert.deepEqual((await driver.inspectBaseline(policy, applied.record)).drift, []);
    await driver.removeBaseline(policy, applied.record);
    assert.deepEqual(rulesOf(emu, subnetNsgId).map((r) => r.name), ["ssh-late"]);
  });
});
