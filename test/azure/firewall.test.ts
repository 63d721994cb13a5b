import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import { grantTable } from "../../provider/src/cli/commands/list";
import type { SeedCollection, TypicalVm } from "../../provider/src/emulator/azure";
import { JitError, isFinalState, isJitError, openChanges, parsePolicy, toDefenderRequest } from "../../provider/src/model";
import { Firewall, allowCollectionName, denyCollectionName, denyRuleName, dnatCollectionName, parseJitRule } from "../../provider/src/plan";
import { AzureWorld, azureWorld, deployPolicy, dieAfter, firewallOf, nsgIdsOf, reaches, reachesThrough, rulesOf, snapshot } from "./support";

const OFFICE = "203.0.113.0/24";
const REQUESTER = "203.0.113.7";
const HOUR = 3_600_000;
const FIREWALL_SUBNET = "10.0.1.0/26";
const sortedByName = <T extends { name: string }>(list: readonly T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

/** The collections of a firewall in a comparable order. */
function collections(fw: Firewall) {
  return { nat: sortedByName(fw.natRuleCollections), network: sortedByName(fw.networkRuleCollections) };
}

/**
 * A typical VM whose VNet also holds a classic firewall (in AzureFirewallSubnet, with a public
 * IP) that already forwards 2222 on its public address to the VM's SSH, for anyone.
 */
function firewalled(world: AzureWorld, rg: string, options: { firewallPolicy?: string } = {}): { vm: TypicalVm; firewall: { id: string; address: string; name: string } } {
  const { emu } = world;
  const vm = emu.seed.typicalVm({ resourceGroup: rg, name: "vm1" });
  const subnet = emu.seed.subnet(rg, `${rg}-vnet`, "AzureFirewallSubnet", { addressPrefix: FIREWALL_SUBNET });
  const publicIp = emu.seed.publicIp(rg, "fw1-ip");
  const address = (emu.state.resource(publicIp) as { properties: { ipAddress: string } }).properties.ipAddress;
  const userDnat: SeedCollection = {
    name: "user-dnat",
    priority: 100,
    action: "Dnat",
    rules: [{ name: "ssh-vm1", protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: [address], destinationPorts: ["2222"], translatedAddress: vm.privateIpAddress, translatedPort: "22" }],
  };
  const userNetwork: SeedCollection = { name: "web", priority: 200, action: "Allow", rules: [{ name: "https", protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.0/24"], destinationPorts: ["443"] }] };
  const id = emu.seed.firewall(rg, "fw1", { subnet, publicIp: "fw1-ip", natRuleCollections: [userDnat], networkRuleCollections: [userNetwork], ...options });
  return { vm, firewall: { id, address, name: "fw1" } };
}

/**
 * Azure Firewall (classic rules) in front of VMs, against the local ARM endpoint through the real
 * SDK clients: baseline, grants through DNAT, expiry, refusal of policy-managed firewalls, the
 * sweeper, and many grants at once through one firewall.
 */
describe("Azure Firewall in front of VMs", () => {
  let world: AzureWorld;
  before(async () => (world = await azureWorld()));
  after(() => world.close());

  const policyFor = (name: string, vmId: string, extra: { publicIpAddress?: string } = {}) =>
    parsePolicy({ name, virtualMachines: [{ id: vmId, ports: [22, 3389].map((number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: OFFICE })), ...extra }] });
  const ask = (policy: string, vm: TypicalVm, source = REQUESTER, options = world.options) =>
    requestAccess({ policy, virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }], justification: "INC-7" }, options);
  const sdk = () => new NetworkManagementClient(world.emu.credential, world.emu.subscriptionId, world.emu.clientOptions);

  it("the baseline closes what a DNAT rule forwards: a deny collection in the firewall, deny rules in the NSGs; drift is found and repaired; removal is exact", async () => {
    const { emu, driver } = world;
    const { vm, firewall } = firewalled(world, "base");
    const ids = nsgIdsOf(vm);
    const [firewallBefore, nsgsBefore] = [firewallOf(emu, firewall.id), snapshot(emu, ids)];
    assert.equal(reachesThrough(emu, firewall, vm, "198.51.100.7", 2222), true, "anyone reaches SSH through the user's DNAT rule");

    const mark = emu.calls.mark();
    const policy = policyFor("base", vm.vmId, { publicIpAddress: firewall.address });
    const result = await driver.applyBaseline(policy, undefined, {});
    emu.calls.expect({ since: mark, operation: "AzureFirewalls_CreateOrUpdate" }, 1, "the firewall is written once, whole");
    const deny = firewallOf(emu, firewall.id).networkRuleCollections.find((c) => c.name === denyCollectionName("base"));
    assert.deepEqual(deny, {
      name: denyCollectionName("base"),
      priority: 10000,
      action: "Deny",
      rules: [
        { name: denyRuleName("base", "vm1", "TCP"), description: "jit-deny p=base v=vm1", protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: [vm.privateIpAddress], destinationPorts: ["22", "3389"] },
      ],
    });
    assert.deepEqual(
      result.rules.filter((r) => r.container === firewall.id),
      [{ container: firewall.id, name: `${denyCollectionName("base")}/${denyRuleName("base", "vm1", "TCP")}`, priority: 10000, ports: [22, 3389], action: "deny" }],
    );
    assert.deepEqual(result.vms, [{ vmId: vm.vmId, status: "protected" }]);
    assert.equal(reachesThrough(emu, firewall, vm, "198.51.100.7", 2222), false, "the explicit deny overrides the DNAT rule's implicit allow");
    assert.deepEqual(collections(firewallOf(emu, firewall.id)).nat, collections(firewallBefore).nat, "the user's DNAT rule is left as it was");
    assert.deepEqual((await driver.inspectBaseline(policy, result.record)).drift, []);

    // Someone rewrites the firewall without our deny collection, and lets the VNet in on SSH.
    const read = await sdk().azureFirewalls.get("base", "fw1");
    await sdk().azureFirewalls.createOrUpdate("base", "fw1", { ...read, networkRuleCollections: read.networkRuleCollections?.filter((c) => c.name !== deny?.name) }, { updateIntervalInMs: 0 });
    emu.seed.rule("base", "vm1-nsg", { name: "vnet-ssh", priority: 500, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", destinationPortRange: "22" });
    emu.seed.rule("base", "base-vnet-default-nsg", { name: "vnet-ssh", priority: 500, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", destinationPortRange: "22" });
    const inspected = await driver.inspectBaseline(policy, result.record);
    assert.deepEqual(inspected.drift, [`deny rule ${denyRuleName("base", "vm1", "TCP")} is missing from collection ${denyCollectionName("base")} of Azure Firewall fw1`]);
    assert.equal(inspected.vms[0].status, "exposed");
    assert.match(inspected.vms[0].detail ?? "", /port 22\/TCP is open through DNAT rule ssh-vm1 \(collection user-dnat, priority 100\) of Azure Firewall fw1/);
    const repaired = await driver.applyBaseline(policy, result.record, {});
    assert.deepEqual(repaired.warnings, [`repaired: deny rule ${denyRuleName("base", "vm1", "TCP")} is missing from collection ${denyCollectionName("base")} of Azure Firewall fw1`]);
    assert.deepEqual(repaired.record, result.record);
    assert.equal(reachesThrough(emu, firewall, vm, "198.51.100.7", 2222), false);

    await driver.removeBaseline(policy, repaired.record);
    assert.deepEqual(collections(firewallOf(emu, firewall.id)), collections(firewallBefore), "the firewall is as it was");
    const nsgsAfter = snapshot(emu, ids);
    for (const id of ids) assert.deepEqual(nsgsAfter[id].filter((r) => r.name !== "vnet-ssh"), nsgsBefore[id]);
  });

  it("a grant forwards a mapped port from the requester only, and the NSGs admit the firewall's subnet, never the requester; at expiry all is as before, plus what others added", async () => {
    const { emu } = world;
    const { vm, firewall } = firewalled(world, "grant");
    const ids = nsgIdsOf(vm);
    await deployPolicy(world, { name: "grant", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] }] });
    const [firewallBefore, nsgsBefore] = [firewallOf(emu, firewall.id), snapshot(emu, ids)];

    const grant = await ask("grant", vm);
    assert.equal(grant.state, "active");
    assert.deepEqual(grant.changes.map((c) => [c.kind, c.status]).sort(), [["azure-firewall-nat-rule", "applied"], ["azure-nsg-rule", "applied"], ["azure-nsg-rule", "applied"]]);
    const nat = grant.changes.find((c) => c.kind === "azure-firewall-nat-rule");
    assert.ok(nat?.kind === "azure-firewall-nat-rule");
    assert.deepEqual([nat.firewallId, nat.vmId, nat.port, nat.mappedPort, nat.collectionName], [firewall.id, vm.vmId, 22, 50022, dnatCollectionName(grant.id)]);

    const fw = firewallOf(emu, firewall.id);
    const dnat = fw.natRuleCollections.find((c) => c.name === dnatCollectionName(grant.id));
    assert.deepEqual(
      dnat?.rules.map((r) => [r.sourceAddresses, r.destinationAddresses, r.destinationPorts, r.translatedAddress, r.translatedPort]),
      [[[REQUESTER], [firewall.address], ["50022"], vm.privateIpAddress, "22"]],
    );
    assert.ok(dnat && parseJitRule(dnat.rules[0])?.kind === "allow", "stamped with the grant and its expiry");
    assert.equal(fw.networkRuleCollections.find((c) => c.name === allowCollectionName(grant.id))?.priority, 100, "the translated traffic is allowed ahead of the deny at 10000");

    for (const id of ids) {
      const allow = rulesOf(emu, id).find((r) => parseJitRule(r)?.kind === "allow");
      assert.deepEqual([allow?.sourceAddressPrefix, allow?.destinationAddressPrefix, allow?.destinationPortRange], [FIREWALL_SUBNET, vm.privateIpAddress, "22"], "the NSG admits the firewall's subnet");
      for (const r of rulesOf(emu, id)) assert.ok(![r.sourceAddressPrefix, ...(r.sourceAddressPrefixes ?? [])].includes(REQUESTER), `the requester's address is in no NSG rule (${r.name})`);
    }
    assert.equal(reachesThrough(emu, firewall, vm, REQUESTER, 50022), true, "the requester gets in through the firewall");
    assert.equal(reachesThrough(emu, firewall, vm, "203.0.113.8", 50022), false, "nobody else");
    // The firewall's network rules cannot tell which DNAT rule translated a connection, so the grant's
    // allow rule also lets the requester (and only the requester) through other forwards to this port.
    assert.equal(reachesThrough(emu, firewall, vm, REQUESTER, 2222), true, "the same access, through the user's forward");
    assert.equal(reachesThrough(emu, firewall, vm, "198.51.100.7", 2222), false, "which stays closed to everyone else");
    assert.equal(reaches(emu, vm, REQUESTER, 22), false, "nor past the firewall, straight to the VM");

    assert.equal(toDefenderRequest(grant).virtualMachines[0].ports[0].mappedPort, 50022);
    const table = grantTable([grant], new Date(world.clock.t));
    assert.match(table.split("\n")[0], /SOURCE\s+CONNECT TO\s+REQUESTER/);
    assert.match(table, new RegExp(`${REQUESTER.replace(/\./g, "\\.")}\\s+${firewall.address.replace(/\./g, "\\.")}:50022\\s`));

    // Another writer adds a collection to the firewall while the grant is open.
    const read = await sdk().azureFirewalls.get("grant", "fw1");
    const smtp = { name: "smtp", priority: 700, action: { type: "Allow" }, rules: [{ name: "smtp", protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.0/24"], destinationPorts: ["25"] }] };
    await sdk().azureFirewalls.createOrUpdate("grant", "fw1", { ...read, networkRuleCollections: [...(read.networkRuleCollections ?? []), smtp] }, { updateIntervalInMs: 0 });

    assert.deepEqual((await sweep(world.options)).restored, [], "nothing is due before the end");
    world.clock.t += HOUR;
    const report = await sweep(world.options);
    assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
    const ended = await world.ledger.getGrant(grant.id);
    assert.deepEqual([ended?.state, openChanges(ended!).length], ["expired", 0]);
    const added = firewallOf(emu, firewall.id).networkRuleCollections.find((c) => c.name === "smtp");
    assert.ok(added, "the other writer's collection is still there");
    assert.deepEqual(collections(firewallOf(emu, firewall.id)), collections({ ...firewallBefore, networkRuleCollections: [...firewallBefore.networkRuleCollections, added] }));
    assert.deepEqual(snapshot(emu, ids), nsgsBefore);
    assert.equal(reachesThrough(emu, firewall, vm, REQUESTER, 50022), false);
  });

  it("refuses a firewall under a Firewall Policy, and a firewall address that is not in front of the VM, with nothing written", async () => {
    const { emu, driver } = world;
    const central = `/subscriptions/${emu.subscriptionId}/resourceGroups/managed/providers/Microsoft.Network/firewallPolicies/central`;
    const { vm } = firewalled(world, "managed", { firewallPolicy: central });
    const policy = policyFor("managed", vm.vmId);
    const unsupported = (e: unknown) =>
      isJitError(e, "Unsupported") && /Azure Firewall fw1 .* is managed by Firewall Policy central \(Azure Firewall Manager\).*classic rule collections only.*nothing was changed\. Move the firewall to classic rules/.test((e as JitError).message);

    let mark = emu.calls.mark();
    await assert.rejects(driver.applyBaseline(policy, undefined, {}), unsupported);
    emu.calls.expect({ since: mark, write: true }, 0, "the baseline writes nothing");

    await world.ledger.putPolicy({ policy, baseline: {} as never });
    mark = emu.calls.mark();
    await assert.rejects(ask("managed", vm), unsupported);
    emu.calls.expect({ since: mark, write: true }, 0, "the request writes nothing");
    const [failed] = await world.ledger.listGrants({ policy: "managed" });
    assert.deepEqual([failed.state, failed.changes], ["failed", []]);

    const { vm: other } = firewalled(world, "elsewhere");
    mark = emu.calls.mark();
    await assert.rejects(driver.applyBaseline(policyFor("elsewhere", other.vmId, { publicIpAddress: "192.0.2.99" }), undefined, {}), (e: unknown) =>
      isJitError(e, "InvalidInput") && /puts VM vm1 behind the Azure Firewall with public IP 192\.0\.2\.99, but the firewalls in its virtual network are fw1 \(/.test((e as Error).message),
    );
    emu.calls.expect({ since: mark, write: true }, 0);
  });

  it("the sweeper finds a grant's firewall rules from the firewall alone, once their stamped expiry has passed", async () => {
    const { emu } = world;
    const { vm, firewall } = firewalled(world, "orphans");
    await deployPolicy(world, { name: "orphans", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] }] });
    const firewallBefore = firewallOf(emu, firewall.id);
    const grant = await ask("orphans", vm);
    // The ledger loses the grant's journal.
    await world.ledger.updateGrant(grant.id, grant.version, { ...grant, changes: [] });
    world.clock.t += 2 * HOUR;
    const report = await sweep({ ...world.options, repairBaselines: false });
    const here = report.orphans.filter((o) => o.container === firewall.id);
    assert.deepEqual(here.map((o) => [o.grantId, o.action, o.name]).sort(), [
      [grant.id, "removed", `${allowCollectionName(grant.id)}/${grant.changes.find((c) => c.kind === "azure-firewall-nat-rule")?.ruleName}`],
      [grant.id, "removed", `${dnatCollectionName(grant.id)}/${grant.changes.find((c) => c.kind === "azure-firewall-nat-rule")?.ruleName}`],
    ]);
    assert.deepEqual(collections(firewallOf(emu, firewall.id)), collections(firewallBefore));
  });

  it("ten grants at once through one firewall, under injected 412 and 429 answers and another writer, all land with distinct mapped ports; then all are revoked", async () => {
    const { emu } = world;
    const { vm, firewall } = firewalled(world, "busy");
    await deployPolicy(world, { name: "busy", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] }] });
    const firewallBefore = firewallOf(emu, firewall.id);

    // Another writer changes the firewall right before some of our writes reach it: their ETag is then stale.
    const take = emu.faults.take.bind(emu.faults);
    const interleaved: string[] = [];
    let puts = 0;
    emu.faults.take = (req) => {
      if (req.operation === "AzureFirewalls_CreateOrUpdate" && [2, 5, 9].includes(++puts)) {
        const current = firewallOf(emu, firewall.id);
        const name = `other-${puts}`;
        interleaved.push(name);
        const seedCollections = (list: Firewall["natRuleCollections"] | Firewall["networkRuleCollections"]) => list.map((c) => ({ name: c.name, priority: c.priority, action: c.action, rules: c.rules as never[] }));
        emu.seed.firewall("busy", "fw1", {
          subnet: `${vm.vnetId}/subnets/AzureFirewallSubnet`,
          publicIp: "fw1-ip",
          natRuleCollections: seedCollections(current.natRuleCollections),
          networkRuleCollections: [...seedCollections(current.networkRuleCollections), { name, priority: 20000 + puts, action: "Allow", rules: [{ name, protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.0/24"], destinationPorts: ["8080"] }] }],
        });
        // Served as it is, so that the endpoint itself refuses the stale ETag.
        return undefined;
      }
      return take(req);
    };
    emu.faults.random({
      seed: 412,
      probability: 0.3,
      match: { operation: /^(AzureFirewalls_CreateOrUpdate|NetworkSecurityGroups_CreateOrUpdate)$/ },
      actions: [
        { kind: "error", status: 412, code: "PreconditionFailed", message: "The condition specified using HTTP conditional header(s) is not met." },
        { kind: "error", status: 429, code: "RetryableError", message: "A retryable error occured.", headers: { "x-ms-retry-after-ms": "5", "Retry-After": "1" } },
      ],
    });
    try {
      const sources = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 10}`);
      const started = Date.now();
      const grants = await Promise.all(sources.map((source) => ask("busy", vm, source)));
      const took = Date.now() - started;
      const genuine = emu.calls.list({ operation: "AzureFirewalls_CreateOrUpdate", faulted: false }).filter((c) => c.status === 412).length;
      assert.ok(emu.faults.injected > 5, `faults were injected (${emu.faults.injected})`);
      assert.equal(genuine, 3, "each write the other writer got in before was refused by the endpoint itself, on its stale ETag");
      assert.ok(grants.every((g) => g.state === "active" && g.changes.every((c) => c.status === "applied")));
      const mapped = grants.map((g) => g.changes.find((c) => c.kind === "azure-firewall-nat-rule")).map((c) => (c?.kind === "azure-firewall-nat-rule" ? c.mappedPort : -1));
      assert.equal(new Set(mapped).size, 10, `distinct mapped ports: ${mapped.join(", ")}`);
      assert.ok(mapped.every((p) => p >= 50022 && p <= 50031), mapped.join(", "));
      const fw = firewallOf(emu, firewall.id);
      assert.equal(fw.natRuleCollections.filter((c) => c.name.startsWith("jit-dnat-")).length, 10, "none lost");
      for (const name of interleaved) assert.ok(fw.networkRuleCollections.some((c) => c.name === name), `the other writer's ${name} is kept`);
      sources.forEach((source, i) => {
        assert.equal(reachesThrough(emu, firewall, vm, source, mapped[i]), true, source);
        assert.equal(reachesThrough(emu, firewall, vm, sources[(i + 1) % 10], mapped[i]), false, `${sources[(i + 1) % 10]} on ${mapped[i]}`);
      });

      const revoked = await Promise.all(grants.map((g) => revokeAccess(g.id, world.options)));
      assert.ok(revoked.every((g) => g.state === "revoked"));
      const others = firewallOf(emu, firewall.id).networkRuleCollections.filter((c) => interleaved.includes(c.name));
      assert.deepEqual(collections(firewallOf(emu, firewall.id)), collections({ ...firewallBefore, networkRuleCollections: [...firewallBefore.networkRuleCollections, ...others] }), "back to the baseline, plus the other writer's collections");
      assert.ok(took < 60_000, `took ${took} ms`);
    } finally {
      emu.faults.take = take;
      emu.faults.clear();
    }
  });
});

/**
 * Crash safety through a firewall: the process dies right after its Nth cloud call, for every N a
 * grant through the firewall makes (see `dieAfter`), and a sweep afterwards leaves the firewall and
 * the NSGs exactly as the baseline left them, and every grant in a final state.
 */
describe("crash safety of grants through an Azure Firewall", () => {
  let world: AzureWorld;
  before(async () => (world = await azureWorld({ connection: { retryOptions: { maxRetries: 0 } } })));
  after(() => world.close());

  it("a grant interrupted after any of its cloud calls is undone by the next sweep", async () => {
    const { emu } = world;
    const { vm, firewall } = firewalled(world, "crash");
    await deployPolicy(world, { name: "crash", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE }] }] });
    const ids = nsgIdsOf(vm);
    const [firewallBefore, nsgsBefore] = [collections(firewallOf(emu, firewall.id)), snapshot(emu, ids)];
    const request = (ledger = world.ledger) =>
      requestAccess({ policy: "crash", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: REQUESTER }] }] }, { ...world.options, ledger });

    const mark = emu.calls.mark();
    await revokeAccess((await request()).id, world.options);
    const calls = emu.calls.count({ since: mark });
    for (let n = 1; n <= calls; n++) {
      const dying = dieAfter(world, n);
      // It may die before the grant is open (the request fails) or after (it succeeds): either way, the sweep below tidies up.
      await request(dying.ledger).catch(() => undefined);
      dying.revive();
      const why = `died after call ${n} of ${calls}`;
      const report = await sweep({ ...world.options, abandonedAfterMs: 0 });
      // A grant that got all the way through before the process died is still live: revoke it.
      for (const g of await world.ledger.listGrants({ policy: "crash", state: "active" })) await revokeAccess(g.id, world.options);
      assert.deepEqual(report.failed, [], why);
      assert.deepEqual(collections(firewallOf(emu, firewall.id)), firewallBefore, `${why}: the firewall is as the baseline left it`);
      assert.deepEqual(snapshot(emu, ids), nsgsBefore, `${why}: so are the NSGs`);
      for (const g of await world.ledger.listGrants({ policy: "crash" })) assert.ok(isFinalState(g.state) && openChanges(g).length === 0, `${why}: grant ${g.id} is ${g.state}`);
    }
  });
});
