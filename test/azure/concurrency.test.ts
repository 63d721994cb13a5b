import { test } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import { parseJitRule } from "../../provider/src/plan";
import { azureWorld, deployPolicy, nsgIdsOf, reaches, rulesOf, snapshot } from "./support";

test("32 concurrent requests on one VM's NSGs, under injected 409 and 429 answers, all land with distinct priorities; then all are restored", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "busy", name: "vm1" });
    await deployPolicy(world, {
      name: "busy",
      virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }],
    });
    const ids = nsgIdsOf(vm);
    const baseline = snapshot(emu, ids);
    emu.faults.random({
      seed: 32,
      probability: 0.5,
      match: { operation: /^NetworkSecurityGroups_CreateOrUpdate$/ },
      actions: [
        { kind: "error", status: 409, code: "AnotherOperationInProgress", message: "Another operation on this or dependent resource is in progress." },
        { kind: "error", status: 429, code: "RetryableError", message: "A retryable error occured.", headers: { "x-ms-retry-after-ms": "5", "Retry-After": "1" } },
      ],
    });

    const sources = Array.from({ length: 32 }, (_, i) => `203.0.113.${i + 1}`);
    const grants = await Promise.all(
      sources.map((source) =>
        requestAccess({ policy: "busy", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] }, world.options),
      ),
    );
    // Plans waiting for one NSG are written together, so there are fewer writes to refuse than grants.
    assert.ok(emu.faults.injected > 0, `faults were injected (${emu.faults.injected})`);
    assert.ok(grants.every((g) => g.state === "active" && g.changes.length === 2 && g.changes.every((c) => c.status === "applied")));
    for (const id of ids) {
      const allows = rulesOf(emu, id).filter((r) => parseJitRule(r)?.kind === "allow");
      assert.equal(allows.length, 32, "none lost");
      assert.equal(new Set(allows.map((r) => r.priority)).size, 32, "distinct priorities");
      assert.deepEqual(new Set(allows.map((r) => r.sourceAddressPrefix)), new Set(sources));
    }
    for (const source of sources) assert.equal(reaches(emu, vm, source, 22), true, source);
    assert.equal(reaches(emu, vm, "203.0.113.200", 22), false);

    const revoked = await Promise.all(grants.map((g) => revokeAccess(g.id, world.options)));
    assert.ok(revoked.every((g) => g.state === "revoked"));
    assert.deepEqual(snapshot(emu, ids), baseline, "back to the baseline");
  } finally {
    emu.faults.clear();
    await world.close();
  }
});

test("a sweep of many due grants on the same VMs writes each NSG once, and ends every grant", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vms = [1, 2, 3].map((i) => emu.seed.typicalVm({ resourceGroup: "due", name: `vm${i}`, subnet: "shared", nicNsg: i === 1 }));
    await deployPolicy(world, {
      name: "due",
      virtualMachines: vms.map((vm) => ({ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] })),
    });
    const ids = [...new Set(vms.flatMap((vm) => nsgIdsOf(vm)))];
    const baseline = snapshot(emu, ids);
    const grants = [];
    for (const [i, vm] of vms.entries()) {
      for (const source of ["203.0.113.1", "203.0.113.2"]) {
        grants.push(await requestAccess({ policy: "due", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: `PT${i + 1}H`, allowedSourceAddressPrefix: source }] }] }, world.options));
      }
    }
    world.clock.t += 4 * 3600_000;
    const mark = emu.calls.mark();
    const report = await sweep({ ...world.options, repairBaselines: false });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(new Set(report.restored.map((r) => r.grantId)), new Set(grants.map((g) => g.id)));
    assert.ok(report.restored.every((r) => r.state === "expired"));
    const writes = emu.calls.list({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" });
    assert.equal(writes.length, ids.length, `one write per NSG (${ids.length}), not one per grant (${grants.length})`);
    assert.deepEqual(snapshot(emu, ids), baseline, "back to the baseline");
  } finally {
    await world.close();
  }
});

test("a sweep's one write of an NSG that another writer changed since the read is refused (412): it reads again, plans again, keeps the other writer's rule, and ends every grant", async () => {
  let raced = false;
  let emu: Awaited<ReturnType<typeof azureWorld>>["emu"] | undefined;
  // Another writer adds a rule to the NSG just before the sweep's write reaches ARM.
  const otherWriter: PipelinePolicy = {
    name: "otherWriter",
    sendRequest: (request, next) => {
      if (!raced && request.method === "PUT" && /\/networkSecurityGroups\/[^/]+\?/.test(request.url)) {
        raced = true;
        emu!.seed.rule("race", "race-vnet-default-nsg", { name: "ops-https", priority: 4000, direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "443" });
      }
      return next(request);
    },
  };
  const world = await azureWorld({ connection: { policies: [otherWriter] } });
  emu = world.emu;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "race", name: "vm1", nicNsg: false });
    await deployPolicy(world, { name: "race", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });
    const grants = [];
    for (const source of ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) {
      grants.push(await requestAccess({ policy: "race", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] }, world.options));
    }
    raced = false;
    world.clock.t += 2 * 3600_000;
    const mark = emu.calls.mark();
    const report = await sweep({ ...world.options, repairBaselines: false });
    assert.deepEqual(report.failed, []);
    assert.deepEqual(new Set(report.restored.map((r) => r.grantId)), new Set(grants.map((g) => g.id)));
    assert.deepEqual(emu.calls.list({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" }).map((c) => c.status), [412, 200], "the stale write refused, the fresh one landed");
    const rules = rulesOf(emu, vm.subnetNsgId!);
    assert.ok(rules.some((r) => r.name === "ops-https"), "the other writer's rule is kept");
    assert.deepEqual(rules.filter((r) => parseJitRule(r)?.kind === "allow"), [], "every grant's rule is gone");
    for (const g of grants) assert.equal((await world.ledger.getGrant(g.id))!.state, "expired");
  } finally {
    await world.close();
  }
});

test("a grant reads only the NSGs it writes while the policy's recorded placement holds, and reads the VMs again once it does not", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "placed", name: "vm1" });
    await deployPolicy(world, { name: "placed", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });
    const ask = (source: string) => requestAccess({ policy: "placed", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] }, world.options);
    let mark = emu.calls.mark();
    await ask("203.0.113.1");
    assert.deepEqual(emu.calls.byOperation({ since: mark, write: false }), { Permissions_ListForResource: 1, NetworkSecurityGroups_Get: 2, AsyncOperation_Get: 4 }, "no VM, NIC or subnet read; each operation answers \"in progress\" once here");

    // Somebody removes the policy's deny rule from the NIC's NSG: the record no longer matches what is there.
    const nsgName = vm.nicNsgId!.split("/").pop()!;
    const deny = emu.state.nsgRules("placed", nsgName).find((r) => parseJitRule(r)?.kind === "deny")!;
    const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
    await network.securityRules.delete("placed", nsgName, deny.name, { updateIntervalInMs: 0 });
    mark = emu.calls.mark();
    const second = await ask("203.0.113.2");
    assert.equal(second.state, "active");
    assert.ok(emu.calls.count({ since: mark, operation: "VirtualMachines_Get" }) === 1, "the VM was read again");
    assert.equal(reaches(emu, vm, "203.0.113.2", 22), true);
  } finally {
    await world.close();
  }
});
