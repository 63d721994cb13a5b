import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NetworkManagementClient } from "@azure/arm-network";
import { requestAccess } from "../../provider/src/access";
import { AzureEmulator, TypicalVm, startAzureEmulator } from "../../provider/src/emulator/azure";
import { openLedger } from "../../provider/src/ledger";
import type { PolicyResourceInputs } from "../../provider/src/pulumi/inputs";
import { PolicyResourceOutputs, check, create, diff, read, remove, update } from "../../provider/src/pulumi/runtime";
import { setEnv } from "../support/env";
import { throughWire } from "../support/pulumi";
import { nsgIdsOf, reaches, snapshot } from "./support";

/**
 * The azure.JitPolicy provider's functions (what the serialised shim calls), configured as under the
 * engine: from the environment only, pointed at the local ARM endpoint, with the ledger at $JIT_LEDGER.
 */
describe("azure.JitPolicy through the Pulumi runtime, against the local ARM endpoint", () => {
  let emu: AzureEmulator;
  let vm: TypicalVm;
  let dir: string;
  let original: ReturnType<typeof snapshot>;
  let restoreEnv = () => {};
  const wire = <T>(value: T, label: string): T => throughWire(value as never, label) as T;

  before(async () => {
    // The provider polls at the SDK's own pace (2 s); operations that finish at their first poll keep this quick.
    emu = await startAzureEmulator({ lroPolls: 0 });
    vm = emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
    emu.seed.rule("app", "web1-nsg", { name: "https-in", priority: 500, direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "443" });
    original = snapshot(emu, nsgIdsOf(vm));
    dir = mkdtempSync(join(tmpdir(), "jit-pulumi-"));
    restoreEnv = setEnv({ ...emu.env(), JIT_LEDGER: join(dir, "ledger.db") });
  });
  after(async () => {
    restoreEnv();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const inputs = (ports: number[]): PolicyResourceInputs => ({
    policyName: "web",
    resourceGroupName: "app",
    virtualMachines: [{ id: vm.vmId, ports: ports.map((number) => ({ number, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" })) }],
  });
  let outs: PolicyResourceOutputs;

  it("check accepts the inputs; create places the baseline and registers the policy; an unchanged program diffs clean", async () => {
    assert.deepEqual((await check("azure", wire(inputs([22]), "news"))).failures, []);
    const created = await create("azure", wire(inputs([22]), "inputs"));
    assert.equal(created.id, "web");
    outs = wire(created.outs, "outs");
    assert.deepEqual(outs.vms, [{ vmId: vm.vmId, status: "protected" }]);
    assert.equal(outs.rules.length, 2);
    assert.deepEqual(outs.drift, []);
    assert.equal(reaches(emu, vm, "10.0.0.9", 22), false);
    assert.equal((await diff(outs, wire(inputs([22]), "news"))).changes, false);
    assert.ok(!JSON.stringify(created).includes(emu.env().JIT_AZURE_TOKEN), "no credential in state");
    const ledger = await openLedger();
    assert.deepEqual((await ledger.getPolicy("web"))?.baseline, outs.baseline);
    await ledger.close();
  });

  it("read reports a deny rule deleted behind its back, and the next diff wants an update", async () => {
    const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
    await network.securityRules.delete("app", "web1-nsg", outs.rules[1].name, { updateIntervalInMs: 0 });
    const refreshed = await read("azure", "web", outs);
    outs = wire(refreshed.props, "props");
    assert.equal(refreshed.id, "web");
    assert.deepEqual(outs.drift, [`deny rule ${outs.rules[0].name} is missing from NSG web1-nsg`]);
    assert.equal((await diff(outs, wire(inputs([22]), "news"))).changes, true);
  });

  it("update adds a port, puts the missing rule back, and reports no drift", async () => {
    const news = wire(inputs([22, 3389]), "news");
    assert.deepEqual(await diff(outs, news), { changes: true, replaces: [], deleteBeforeReplace: false });
    outs = wire((await update("azure", outs, news)).outs, "outs");
    assert.deepEqual(outs.drift, []);
    assert.deepEqual(outs.rules.map((r) => r.ports), [[22, 3389], [22, 3389]]);
    assert.equal(reaches(emu, vm, "10.0.0.9", 3389), false);
    assert.equal((await diff(outs, news)).changes, false);
  });

  it("delete with an active grant revokes it, then removes the deny rules: the NSGs are as they were", async () => {
    const grant = await requestAccess({ policy: "web", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] });
    assert.equal(grant.state, "active");
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true);

    await remove("azure", outs);
    assert.deepEqual(snapshot(emu, nsgIdsOf(vm)), original);
    const ledger = await openLedger();
    const ended = await ledger.getGrant(grant.id);
    assert.deepEqual([ended?.state, ended?.reason], ["revoked", "PolicyChanged"]);
    assert.equal(await ledger.getPolicy("web"), undefined);
    await ledger.close();
  });
});
