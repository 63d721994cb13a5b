import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { DEFAULT_REQUEST_ACTIONS, requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import type { TypicalVm } from "../../provider/src/emulator/azure";
import { JitError, openChanges } from "../../provider/src/model";
import { parseJitRule } from "../../provider/src/plan";
import { AzureWorld, allowRules, azureWorld, deployPolicy, nsgIdsOf, reaches, rulesOf, snapshot } from "./support";

const OFFICE = "203.0.113.0/24";
const HOUR = 3_600_000;

/** requestAccess, revokeAccess and sweep (the front door) over the Azure driver and the local ARM endpoint. */
describe("access to Azure VMs through the front door", () => {
  let world: AzureWorld;
  before(async () => (world = await azureWorld()));
  after(() => world.close());

  /** A VM behind a subnet NSG and a NIC NSG, under a policy named after its resource group. */
  async function vmUnderPolicy(rg: string, extra: { requesters?: string[] } = {}): Promise<TypicalVm> {
    const vm = world.emu.seed.typicalVm({ resourceGroup: rg, name: "vm1" });
    await deployPolicy(world, {
      name: rg,
      virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE, maxRequestAccessDuration: "PT3H" }] }],
      ...extra,
    });
    return vm;
  }
  const ask = (policy: string, vm: TypicalVm, port: Record<string, unknown> = {}, options = world.options) =>
    requestAccess({ policy, virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7", ...port }] }], justification: "INC-1" }, options);

  it("a grant opens the port from the requester's prefix only; at expiry the NSGs are as before, plus what others added meanwhile", async () => {
    const { emu } = world;
    const vm = await vmUnderPolicy("grant");
    const ids = nsgIdsOf(vm);
    const baseline = snapshot(emu, ids);

    const grant = await ask("grant", vm);
    assert.equal(grant.state, "active");
    assert.equal(grant.changes.length, 2, "one allow rule in each NSG");
    assert.ok(grant.changes.every((c) => c.status === "applied"));
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true);
    assert.equal(reaches(emu, vm, "203.0.113.8", 22), false, "not the rest of the allowed /24");
    assert.equal(reaches(emu, vm, "198.51.100.1", 22), false);
    assert.equal(reaches(emu, vm, "203.0.113.7", 3389), false, "nor other ports");
    for (const id of ids) {
      const allow = rulesOf(emu, id).find((r) => parseJitRule(r)?.kind === "allow")!;
      assert.deepEqual([allow.priority, allow.sourceAddressPrefix, allow.destinationAddressPrefix, allow.destinationPortRange], [100, "203.0.113.7", vm.privateIpAddress, "22"]);
    }

    // Someone else changes the NSG while the grant is open.
    const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
    await network.securityRules.createOrUpdate("grant", "vm1-nsg", "https-in", { protocol: "Tcp", access: "Allow", direction: "Inbound", priority: 400, sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "443" }, { updateIntervalInMs: 0 });

    assert.deepEqual((await sweep(world.options)).restored, [], "nothing is due before the end");
    world.clock.t += HOUR;
    const report = await sweep(world.options);
    assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
    const added = rulesOf(emu, vm.nicNsgId!).find((r) => r.name === "https-in");
    assert.ok(added, "the other writer's rule is still there");
    assert.deepEqual(snapshot(emu, ids), { ...baseline, [vm.nicNsgId!]: [...baseline[vm.nicNsgId!], added].sort((a, b) => a.name.localeCompare(b.name)) });
    const ended = await world.ledger.getGrant(grant.id);
    assert.deepEqual([ended?.state, ended?.reason, openChanges(ended!).length], ["expired", "Expired", 0]);
    assert.deepEqual((await sweep(world.options)).restored, [], "sweep is idempotent");
  });

  it("refused requests change nothing, make no write, and say why", async () => {
    const { emu } = world;
    const vm = await vmUnderPolicy("refuse");
    const only = await vmUnderPolicy("only", { requesters: ["ana@example.com"] });
    emu.seed.principal("reader", { actions: ["Microsoft.Compute/virtualMachines/read"] });
    // Direct mode writes the rules with the requester's own credentials, so it needs network writes too.
    emu.seed.principal("requester", { actions: [...DEFAULT_REQUEST_ACTIONS.azure, "Microsoft.Network/*"] });
    const as = (principal: string) => ({ ...world.options, drivers: { azure: world.driverAs(principal) } });
    const refusals: Array<[string, () => Promise<unknown>, string, RegExp]> = [
      ["a port not in the policy", () => ask("refuse", vm, { number: 3389 }), "RequestNotAllowed", /port 3389 of VM "vm1" is not in policy "refuse"/],
      ["a duration too long", () => ask("refuse", vm, { duration: "PT4H" }), "RequestNotAllowed", /longer than the PT3H/],
      ["a source outside the allowed prefixes", () => ask("refuse", vm, { allowedSourceAddressPrefix: "198.51.100.1" }), "RequestNotAllowed", /198\.51\.100\.1.*not inside.*203\.0\.113\.0\/24/],
      ["a caller without the permission", () => ask("refuse", vm, {}, as("reader")), "Unauthorized", /reader@example\.com .* lacks Microsoft\.Security\/locations\/jitNetworkAccessPolicies\/initiate\/action on/],
      ["a caller not among the requesters", () => ask("only", only, {}, as("requester")), "Unauthorized", /requester@example\.com .* is not among the requesters of policy "only"/],
    ];
    const before = snapshot(emu, [...nsgIdsOf(vm), ...nsgIdsOf(only)]);
    for (const [what, call, code, message] of refusals) {
      const mark = emu.calls.mark();
      await assert.rejects(call, (e: unknown) => e instanceof JitError && e.code === code && message.test(e.message), what);
      emu.calls.expect({ write: true, since: mark }, 0, what);
    }
    assert.deepEqual(snapshot(emu, [...nsgIdsOf(vm), ...nsgIdsOf(only)]), before);
    assert.deepEqual(await world.ledger.listGrants({ policy: "refuse" }), []);
    const refused = await world.ledger.listAudit({ action: "grant.refuse" });
    assert.equal(refused.length, refusals.length);

    const allowed = await ask("refuse", vm, {}, as("requester"));
    assert.equal(allowed.requester, emu.claimsFor("requester").oid, "the requester is recorded by object id");
    await revokeAccess(allowed.id, world.options);
  });

  it("revoking ends a grant at once; a newer grant for the same port and source supersedes an older one without a gap", async () => {
    const { emu } = world;
    const vm = await vmUnderPolicy("revoke");
    const ids = nsgIdsOf(vm);
    const baseline = snapshot(emu, ids);
    const older = await ask("revoke", vm, { duration: "PT1H" });
    const newer = await ask("revoke", vm, { duration: "PT2H" });
    assert.equal((await world.ledger.getGrant(older.id))?.state, "revoked");
    assert.equal((await world.ledger.getGrant(older.id))?.reason, "NewerRequestInitiated");
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true);
    assert.deepEqual(allowRules(emu, ids).map((r) => r.includes(newer.id)), [true, true], "the newer grant's rules, in both NSGs");

    const revoked = await revokeAccess(newer.id, world.options);
    assert.deepEqual([revoked.state, revoked.reason], ["revoked", "UserRequested"]);
    assert.deepEqual(snapshot(emu, ids), baseline);
    await assert.rejects(revokeAccess(newer.id, world.options), /has already ended/);
  });

  it("the sweeper removes our rules from the cloud itself: expired by their stamp, or of grants the ledger says ended", async () => {
    const { emu } = world;
    const vm = await vmUnderPolicy("orphans");
    const ids = nsgIdsOf(vm);
    const baseline = snapshot(emu, ids);
    const grant = await ask("orphans", vm);
    // The ledger loses track: another ledger, or a restore that never ran.
    const stray = await ask("orphans", vm, { allowedSourceAddressPrefix: "203.0.113.9" });
    await world.ledger.updateGrant(stray.id, stray.version, { ...stray, state: "revoked", reason: "UserRequested", changes: stray.changes.map((c) => ({ ...c, status: "removed" })) });
    const report = await sweep({ ...world.options, repairBaselines: false });
    assert.deepEqual(report.orphans.map((o) => [o.grantId, o.action]), [[stray.id, "removed"], [stray.id, "removed"]]);
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true, "the live grant stays open");

    await world.ledger.updateGrant(grant.id, grant.version, { ...grant, changes: [] });
    world.clock.t += 2 * HOUR;
    const later = await sweep({ ...world.options, repairBaselines: false });
    assert.deepEqual(later.orphans.map((o) => [o.grantId, o.action]), [[grant.id, "removed"], [grant.id, "removed"]], "expired by its stamp");
    assert.deepEqual(snapshot(emu, ids), baseline);
  });
});
