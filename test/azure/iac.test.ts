import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient, SecurityRule } from "@azure/arm-network";
import { requestAccess, sweep } from "../../provider/src/access";
import type { TypicalVm } from "../../provider/src/emulator/azure";
import { parseJitRule } from "../../provider/src/plan";
import { AzureWorld, azureWorld, deployPolicy, reaches, rulesOf } from "./support";

const fast = { updateIntervalInMs: 0 };
const ssh = (priority: number, source: string): SecurityRule => ({
  protocol: "Tcp",
  access: "Allow",
  direction: "Inbound",
  priority,
  sourceAddressPrefix: source,
  sourcePortRange: "*",
  destinationAddressPrefix: "*",
  destinationPortRange: "22",
});

/**
 * How JIT rules fare when another tool (Pulumi, Terraform, Bicep) manages the same NSG. The tool is
 * played here by the SDK, making the calls such a tool makes. See docs/iac-coexistence.md.
 */
describe("JIT rules and infrastructure as code on the same NSG", () => {
  let world: AzureWorld;
  let network: NetworkManagementClient;
  before(async () => {
    world = await azureWorld();
    network = new NetworkManagementClient(world.emu.credential, world.emu.subscriptionId, world.emu.clientOptions);
  });
  after(() => world.close());

  async function protectedVm(rg: string): Promise<TypicalVm> {
    const vm = world.emu.seed.typicalVm({ resourceGroup: rg, name: "vm1", subnetNsg: false });
    await deployPolicy(world, { name: rg, virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });
    return vm;
  }
  const grant = (rg: string, vm: TypicalVm) =>
    requestAccess({ policy: rg, virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] }, world.options);
  const ours = (vm: TypicalVm) => rulesOf(world.emu, vm.nicNsgId!).flatMap((r) => parseJitRule(r)?.kind ?? []);

  it("an NSG declared with inline rules is PUT whole: JIT's rules go, inspection reports it, and sweep puts the deny rule back", async () => {
    const vm = await protectedVm("inline");
    const declared = { location: "westeurope", securityRules: [{ name: "ssh-bastion", ...ssh(300, "10.1.0.0/24") }] };
    // `pulumi up` creates the NSG's rules as declared; JIT's rules arrive after.
    await network.networkSecurityGroups.createOrUpdate("inline", "vm1-nsg", declared, fast);
    const policy = (await world.ledger.getPolicy("inline"))!;
    await sweep(world.options);
    const active = await grant("inline", vm);
    assert.deepEqual(ours(vm).sort(), ["allow", "deny"]);

    // The next `pulumi up` corrects "drift": the NSG is PUT with the declared rules only.
    await network.networkSecurityGroups.createOrUpdate("inline", "vm1-nsg", declared, fast);
    assert.deepEqual(ours(vm), [], "the deny rule and the grant's allow rule are gone");
    assert.equal(reaches(world.emu, vm, "10.0.0.9", 22), true, "port 22 is open to the VNet again: the exposure the issue trackers describe");

    const inspected = await world.driver.inspectBaseline(policy.policy, policy.baseline as never);
    assert.equal(inspected.drift.length, 1);
    assert.match(inspected.drift[0], /^deny rule jit-deny-inline-22-1000-tcp-\w+ is missing from NSG vm1-nsg$/);

    const report = await sweep(world.options);
    assert.deepEqual(report.baselines.find((b) => b.policy === "inline"), { policy: "inline", drift: inspected.drift, repaired: true });
    assert.deepEqual(ours(vm), ["deny"], "the deny rule is back; the grant's allow rule is not (the grant lost its access)");
    assert.equal(reaches(world.emu, vm, "10.0.0.9", 22), false);
    assert.equal(reaches(world.emu, vm, "203.0.113.7", 22), false);
    assert.equal((await world.ledger.getGrant(active.id))?.state, "active", "the grant runs on, and its restore will find its rule already gone");
  });

  it("user rules managed as separate rule resources leave JIT's rules untouched", async () => {
    const vm = await protectedVm("child");
    await network.securityRules.createOrUpdate("child", "vm1-nsg", "ssh-bastion", ssh(300, "10.1.0.0/24"), fast);
    const active = await grant("child", vm);
    const before = rulesOf(world.emu, vm.nicNsgId!).filter((r) => parseJitRule(r) !== undefined);

    // `pulumi up` with rule resources: create one, change one, delete one; never a PUT of the NSG.
    await network.securityRules.createOrUpdate("child", "vm1-nsg", "https-in", { ...ssh(400, "*"), destinationPortRange: "443" }, fast);
    await network.securityRules.createOrUpdate("child", "vm1-nsg", "ssh-bastion", ssh(300, "10.2.0.0/24"), fast);
    await network.securityRules.delete("child", "vm1-nsg", "https-in", fast);

    assert.deepEqual(rulesOf(world.emu, vm.nicNsgId!).filter((r) => parseJitRule(r) !== undefined), before);
    assert.equal(reaches(world.emu, vm, "203.0.113.7", 22), true, "the grant still works");
    const { policy, baseline } = (await world.ledger.getPolicy("child"))!;
    assert.deepEqual((await world.driver.inspectBaseline(policy, baseline as never)).drift, []);

    world.clock.t += 3_600_000;
    await sweep(world.options);
    assert.equal((await world.ledger.getGrant(active.id))?.state, "expired");
    const users = rulesOf(world.emu, vm.nicNsgId!).filter((r) => parseJitRule(r) === undefined);
    assert.deepEqual(users.map((r) => [r.name, r.sourceAddressPrefix]), [["ssh-bastion", "10.2.0.0/24"]], "the user's rule as the tool left it");
    assert.deepEqual(ours(vm), ["deny"]);
  });
});
