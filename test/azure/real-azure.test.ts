import { test } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import { staticToken } from "../../provider/src/azure/connection";
import { superseded } from "../../provider/src/emulator/azure/lro";
import { isJitError, parsePolicy } from "../../provider/src/model";
import { evaluateInbound } from "../../provider/src/plan";
import { scan } from "../../provider/src/scan";
import { allowRules, azureWorld, deployPolicy, pathOf, reaches, rulesOf } from "./support";

/**
 * Behaviours of real Azure that the local ARM endpoint now shows (each as the cloud's documentation
 * or recorded traffic has it), and what pulumi-jit does about them.
 */
const OFFICE = "203.0.113.0/24";
const SSH = [{ number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: OFFICE }];
const ask = (policy: string, vmId: string, source = "203.0.113.7") =>
  ({ policy, virtualMachines: [{ id: vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] });

test("a ReadOnly lock on one NSG: revoke says ScopeLocked at once (no retries as a race), and still closes the port in the other NSG", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "locked", name: "vm1" });
    await deployPolicy(world, { name: "locked", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const grant = await requestAccess(ask("locked", vm.vmId), world.options);
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true);
    // An administrator locks the subnet's NSG (landing zones lock network resource groups). A
    // CanNotDelete lock would not stop a restore: it writes the NSG, and deletes nothing.
    emu.seed.lock(vm.subnetNsgId!, "ReadOnly");
    const mark = emu.calls.mark();
    await assert.rejects(revokeAccess(grant.id, world.options), (err: unknown) => {
      assert.ok(isJitError(err, "CloudError"), String(err));
      assert.match((err as Error).message, /ScopeLocked/);
      assert.match((err as Error).message, /lock/i);
      return true;
    });
    const lockedPath = new RegExp(`^${vm.subnetNsgId!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "i");
    emu.calls.expect({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate", path: lockedPath }, 1, "the locked NSG is asked once, not retried");
    assert.deepEqual(allowRules(emu, [vm.nicNsgId!]), [], "the NIC NSG's allow rule is gone");
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), false, "so the port is closed");
    const left = await world.ledger.getGrant(grant.id);
    assert.equal(left?.changes.filter((c) => c.status !== "removed").length, 1, "the locked NSG's rule stays on record, for a later sweep");
  } finally {
    await world.close();
  }
});

test("a write that NRP cancels because another operation superseded it is a lost race: read again, plan again, and the grant lands", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "superseded", name: "vm1" });
    await deployPolicy(world, { name: "superseded", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    emu.lro.failNext({ operation: "NetworkSecurityGroups_CreateOrUpdate" }, superseded("PutNetworkSecurityGroupOperation"));
    const grant = await requestAccess(ask("superseded", vm.vmId), world.options);
    assert.equal(grant.state, "active");
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true);
  } finally {
    await world.close();
  }
});

async function hardened(rules: (rule: (name: string, priority: number, access: "Allow" | "Deny", extra: Record<string, unknown>) => void, asg: (name: string) => string) => void) {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const asg = (name: string) => `/subscriptions/${emu.subscriptionId}/resourceGroups/hardened/providers/Microsoft.Network/applicationSecurityGroups/${name}`;
    const vm = emu.seed.typicalVm({ resourceGroup: "hardened", name: "web1", applicationSecurityGroups: [asg("asg-web")] });
    rules(
      (name, priority, access, extra) =>
        emu.seed.rule("hardened", "web1-nsg", { name, priority, direction: "Inbound", access, protocol: "*", sourcePortRange: "*", destinationPortRange: "*", ...extra }),
      asg,
    );
    await deployPolicy(world, { name: "hardened", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const grant = await requestAccess(ask("hardened", vm.vmId), world.options);
    assert.equal(grant.state, "active");
    assert.equal(reaches(emu, vm, "203.0.113.7", 22), true, "the grant gets through");
    assert.equal(reaches(emu, vm, "198.51.100.1", 22), false, "nobody else does");
  } finally {
    await world.close();
  }
}

test("a user's catch-all Deny at 4096 leaves room for the deny baseline (a deny after a deny is pointless) and for grants", () =>
  hardened((rule) => {
    rule("allow-https", 200, "Allow", { protocol: "Tcp", sourceAddressPrefix: "*", destinationAddressPrefix: "*", destinationPortRange: "443" });
    rule("DenyAllInbound-custom", 4096, "Deny", { sourceAddressPrefix: "*", destinationAddressPrefix: "*" });
  }));

test("application security groups are evaluated from the NIC's membership: a deny to a group the VM is not in, and an allow from a group, do not block a grant", () =>
  hardened((rule, asg) => {
    rule("deny-to-db-asg", 100, "Deny", { sourceAddressPrefix: "*", destinationApplicationSecurityGroups: [{ id: asg("asg-db") }] });
    rule("deny-vnet-to-web-asg", 110, "Deny", { sourceAddressPrefix: "VirtualNetwork", destinationApplicationSecurityGroups: [{ id: asg("asg-web") }], destinationPortRange: "22" });
    rule("ssh-from-bastion-asg", 150, "Allow", { protocol: "Tcp", sourceApplicationSecurityGroups: [{ id: asg("asg-bastion") }], destinationAddressPrefix: "*", destinationPortRange: "22" });
  }));

test("a dual-stack VM gets one deny rule per protocol and address family (Azure refuses a rule mixing families), and a grant from anywhere one allow rule per family", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    emu.seed.resourceGroup("dual");
    emu.seed.vnet("dual", "vnet", { addressPrefixes: ["10.0.0.0/16", "fd00:db8:deca::/48"] });
    const subnet = emu.seed.subnet("dual", "vnet", "default", { addressPrefixes: ["10.0.0.0/24", "fd00:db8:deca::/64"] });
    const nsg = emu.seed.nsg("dual", "vm1-nsg");
    const nic = emu.seed.nic("dual", "vm1-nic", { subnet, nsg, ipv6: true });
    const vmId = emu.seed.vm("dual", { name: "vm1", os: "Linux", nics: [nic] });
    const [v4, v6] = (emu.state.resource(nic) as { properties: { ipConfigurations: { properties: { privateIPAddress: string } }[] } }).properties.ipConfigurations.map((c) => c.properties.privateIPAddress);
    assert.deepEqual([v4, v6], ["10.0.0.4", "fd00:db8:deca::4"], "the emulator hands out an address of each family");

    await deployPolicy(world, { name: "dual", virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "*" }] }] });
    const denies = rulesOf(emu, nsg).map((r) => [r.destinationAddressPrefix ?? r.destinationAddressPrefixes, r.access]);
    assert.deepEqual(denies.sort(), [["10.0.0.4", "Deny"], ["fd00:db8:deca::4", "Deny"]]);
    const at = (source: string, destination: string) => evaluateInbound(pathOf(emu, { nicNsgId: nsg }), { source, destination, port: 22, protocol: "Tcp" }).allowed;
    assert.equal(at("198.51.100.1", v4), false);
    assert.equal(at("2001:db8::1", v6), false);

    const grant = await requestAccess(ask("dual", vmId, "*"), world.options);
    assert.equal(grant.changes.length, 2, "one allow rule per family");
    assert.equal(at("198.51.100.1", v4), true);
    assert.equal(at("2001:db8::1", v6), true);
    await revokeAccess(grant.id, world.options);
    assert.equal(at("2001:db8::1", v6), false);
  } finally {
    await world.close();
  }
});

test("under ARM's latency (Retry-After: 10 on a write's first poll), a grant through two NSGs writes them side by side: one write's time, not two", async () => {
  const world = await azureWorld({ latency: {} });
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "latency", name: "vm1" });
    await deployPolicy(world, { name: "latency", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const from = emu.latency.now();
    const grant = await requestAccess(ask("latency", vm.vmId), world.options);
    const modelled = emu.latency.now() - from;
    assert.equal(grant.changes.length, 2);
    assert.ok(modelled >= 10_000, `each write waited for its operation (${modelled} ms)`);
    assert.ok(modelled < 20_000, `the two NSGs were written side by side (${modelled} ms modelled)`);
  } finally {
    await world.close();
  }
});

test("a grant through an Azure Firewall that another process is updating (minutes, as real firewall updates take) waits for it instead of giving up after a minute", async () => {
  const world = await azureWorld({ latency: { seconds: { default: 10, AzureFirewall: 600 } } });
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "busyfw", name: "vm1" });
    const subnet = emu.seed.subnet("busyfw", "busyfw-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
    emu.seed.publicIp("busyfw", "fw1-ip");
    emu.seed.firewall("busyfw", "fw1", { subnet, publicIp: "fw1-ip" });
    await deployPolicy(world, { name: "busyfw", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    // Somebody else's firewall update, in flight for ten (virtual) minutes.
    const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
    const current = await network.azureFirewalls.get("busyfw", "fw1");
    const other = network.azureFirewalls.createOrUpdate("busyfw", "fw1", { ...current, tags: { owner: "network-team" } });
    await other.submitted();
    const from = emu.latency.now();
    const grant = await requestAccess(ask("busyfw", vm.vmId), world.options);
    assert.equal(grant.state, "active");
    assert.ok(emu.latency.now() - from >= 600_000, "it waited for the other update to finish");
    assert.equal((await network.azureFirewalls.get("busyfw", "fw1")).tags?.owner, "network-team", "and kept the other writer's change");
  } finally {
    await world.close();
  }
});

test("an Azure Firewall forwards at most 250 external destinations: a grant past that is refused up front with CapacityExceeded, and nothing is written", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "dnat", name: "vm1" });
    const subnet = emu.seed.subnet("dnat", "dnat-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
    const pip = emu.seed.publicIp("dnat", "fw1-ip");
    const address = (emu.state.resource(pip) as { properties: { ipAddress: string } }).properties.ipAddress;
    const forward = (n: number) => ({
      name: "user-dnat",
      priority: 100,
      action: "Dnat",
      rules: Array.from({ length: n }, (_, i) => ({ name: `r${i}`, protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: [address], destinationPorts: [String(40000 + i)], translatedAddress: vm.privateIpAddress, translatedPort: "22" })),
    });
    assert.throws(() => emu.seed.firewall("dnat", "too-many", { subnet, publicIp: "fw1-ip", natRuleCollections: [forward(250)] }), /more than 250 DNAT external destinations/);
    emu.seed.firewall("dnat", "fw1", { subnet, publicIp: "fw1-ip", natRuleCollections: [forward(249)] });
    await deployPolicy(world, { name: "dnat", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const mark = emu.calls.mark();
    await assert.rejects(requestAccess(ask("dnat", vm.vmId), world.options), (err: unknown) => isJitError(err, "CapacityExceeded") && /250/.test((err as Error).message));
    emu.calls.expect({ since: mark, write: true }, 0, "nothing written");
  } finally {
    await world.close();
  }
});

test("a fixed JIT_AZURE_TOKEN that has expired makes a sweep (and so `jit daemon`) fail loudly with Unauthorized, instead of quietly closing nothing", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "expired", name: "vm1" });
    await deployPolicy(world, { name: "expired", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const [head, body, tail] = emu.env().JIT_AZURE_TOKEN.split(".");
    const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    const expired = [head, Buffer.from(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 })).toString("base64url"), tail].join(".");
    const driver = world.driverAs(emu.options.principal, { credential: staticToken(expired) });
    await assert.rejects(sweep({ ...world.options, drivers: { azure: driver } }), (err: unknown) => isJitError(err, "Unauthorized") && /JIT_AZURE_TOKEN expired/.test((err as Error).message));
  } finally {
    await world.close();
  }
});

test("a VM with no NSG behind a Standard public IP is described as it is: closed to the Internet by default, not open", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    emu.seed.resourceGroup("nonsg");
    emu.seed.vnet("nonsg", "vnet");
    const subnet = emu.seed.subnet("nonsg", "vnet", "default");
    emu.seed.publicIp("nonsg", "vm1-ip", { sku: "Standard" });
    const nic = emu.seed.nic("nonsg", "vm1-nic", { subnet, publicIp: "vm1-ip" });
    const vmId = emu.seed.vm("nonsg", { name: "vm1", os: "Linux", nics: [nic] });
    const result = await world.driver.applyBaseline(parsePolicy({ name: "nonsg", virtualMachines: [{ id: vmId, ports: SSH }] }), undefined, {});
    const detail = result.vms[0].detail ?? "";
    assert.equal(result.vms[0].status, "notApplicable");
    assert.doesNotMatch(detail, /open to the Internet/);
    assert.match(detail, /Standard public IP .* admits nothing from the Internet without an NSG rule/);
  } finally {
    await world.close();
  }
});

test("a grant looks for a firewall in its virtual network's resource group (where Azure keeps it), never by listing the subscription", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "fwrg", name: "vm1" });
    const subnet = emu.seed.subnet("fwrg", "fwrg-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
    emu.seed.resourceGroup("elsewhere");
    emu.seed.publicIp("elsewhere", "fw-ip");
    assert.throws(() => emu.seed.firewall("elsewhere", "fw0", { subnet }), /AzureFirewallReferencesSubnetInDifferentResourceGroup/);
    emu.seed.publicIp("fwrg", "fw1-ip");
    emu.seed.firewall("fwrg", "fw1", { subnet, publicIp: "fw1-ip" });
    await deployPolicy(world, { name: "fwrg", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const mark = emu.calls.mark();
    const grant = await requestAccess(ask("fwrg", vm.vmId), world.options);
    assert.ok(grant.changes.some((c) => c.kind === "azure-firewall-nat-rule"), "the grant went through the firewall");
    emu.calls.expect({ since: mark, operation: "AzureFirewalls_ListAll" }, 0, "no subscription-wide listing");
    emu.calls.expect({ since: mark, operation: "AzureFirewalls_List" }, 1, "one listing of the VNet's resource group");
  } finally {
    await world.close();
  }
});

test("an NSG with flushConnection on is reported: status, scan and the grant say that expiry cuts established sessions", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "flush", name: "vm1" });
    // The NIC's NSG written again with flushConnection on (NSG flows are re-evaluated on rule changes).
    emu.seed.nsg("flush", "vm1-nsg", { flushConnection: true });
    const policy = await deployPolicy(world, { name: "flush", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    const status = await world.driver.applyBaseline(policy, undefined, {});
    assert.equal(status.vms[0].status, "protected");
    assert.match(status.vms[0].detail ?? "", /expiry cuts sessions: NSG vm1-nsg has flushConnection on/);

    const said: string[] = [];
    await requestAccess(ask("flush", vm.vmId), { ...world.options, progress: (m: string) => void said.push(m) });
    assert.ok(said.some((m) => /expiry cuts sessions: NSG vm1-nsg/.test(m)), said.join("\n"));

    const report = await scan({ policies: [], azure: { subscriptionId: emu.subscriptionId, connection: { endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential as never } } });
    assert.match((report.results[0].notes ?? []).join(" "), /expiry cuts sessions: NSG vm1-nsg/);

    // An NSG without it says nothing of the kind.
    emu.seed.nsg("flush", "vm1-nsg", { flushConnection: false });
    assert.equal((await world.driver.applyBaseline(policy, undefined, {})).vms[0].detail, undefined);
  } finally {
    await world.close();
  }
});

const scanOf = (emu: { subscriptionId: string; endpoint: string; clientOptions: { tlsOptions: { ca: string } }; credential: unknown }) =>
  scan({ policies: [], azure: { subscriptionId: emu.subscriptionId, connection: { endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential as never } } });

test("VirtualNetwork is the VM's network and its connected peerings, not all of RFC 1918: a grant from a private address outside them gets its own allow rule, and reaches the VM", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "vnettag", name: "vm1" });
    // A user rule lets the network in on SSH, ahead of where the deny baseline goes.
    emu.seed.rule("vnettag", "vm1-nsg", { name: "allow-vnet-ssh", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22" });
    emu.seed.vnet("vnettag", "partner", { addressPrefixes: ["10.50.0.0/16"] });
    emu.seed.peering("vnettag", "vnettag-vnet", "partner");
    assert.equal(reaches(emu, vm, "10.50.3.3", 22), true, "the peered network is inside VirtualNetwork");
    assert.equal(reaches(emu, vm, "192.168.7.7", 22), false, "an on-premises or unpeered address is not");
    await deployPolicy(world, { name: "vnettag", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "*" }] }] });
    assert.equal(reaches(emu, vm, "10.50.3.3", 22), false, "the subnet's deny baseline closes the port to everyone");

    // Reached over a VPN from 192.168.7.7: RFC 1918 but not the VNet's, so the user's rule does not let it in.
    const grant = await requestAccess(ask("vnettag", vm.vmId, "192.168.7.7"), world.options);
    assert.equal(grant.state, "active");
    assert.ok(allowRules(emu, [vm.nicNsgId!]).length > 0, "an allow rule in the NIC's NSG too");
    assert.equal(reaches(emu, vm, "192.168.7.7", 22), true, "the grant gets through");

    // From the peered network, the user's rule already admits it: nothing more is written there.
    const before = allowRules(emu, [vm.nicNsgId!]).length;
    await requestAccess(ask("vnettag", vm.vmId, "10.50.3.3"), world.options);
    assert.equal(allowRules(emu, [vm.nicNsgId!]).length, before);
    assert.equal(reaches(emu, vm, "10.50.3.3", 22), true);
  } finally {
    await world.close();
  }
});

test("scan: a VirtualNetwork rule is as broad as the address spaces it stands for (a peered network addressed from public space is), and is reported", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    emu.seed.typicalVm({ resourceGroup: "broadvnet", name: "vm1" });
    emu.seed.rule("broadvnet", "vm1-nsg", { name: "allow-vnet-ssh", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "VirtualNetwork", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22" });
    const quiet = await scanOf(emu);
    assert.equal(quiet.results[0].verdict, "Healthy", "a private network is not a broad source");
    emu.seed.vnet("broadvnet", "legacy", { addressPrefixes: ["40.64.0.0/13"] });
    emu.seed.peering("broadvnet", "broadvnet-vnet", "legacy");
    const report = await scanOf(emu);
    const result = report.results[0];
    assert.equal(result.verdict, "Unhealthy");
    const ssh = result.exposures.find((e) => e.port === 22);
    assert.equal(ssh?.source, "VirtualNetwork");
    assert.deepEqual(ssh?.exposedBy.map((r) => r.name), ["AllowVnetInBound", "allow-vnet-ssh"]);
  } finally {
    await world.close();
  }
});

test("Virtual Network Manager admin rules, applied before the NSGs, are reported: an AlwaysAllow makes status exposed and scan unhealthy; a Deny is noted", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "avnm", name: "vm1" });
    const policy = await deployPolicy(world, { name: "avnm", virtualMachines: [{ id: vm.vmId, ports: SSH }] });
    assert.equal((await world.driver.applyBaseline(policy, undefined, {})).vms[0].status, "protected");

    emu.seed.adminRule("avnm", [vm.vnetId], { name: "always-ssh", access: "AlwaysAllow", priority: 10, sources: ["Internet"], destinationPortRanges: ["22"] });
    emu.seed.adminRule("avnm", [vm.vnetId], { name: "deny-partner", access: "Deny", priority: 20, sources: ["198.51.100.0/24"], destinationPortRanges: ["20-25"] });
    emu.seed.adminRule("avnm", [vm.vnetId], { name: "always-https", access: "AlwaysAllow", priority: 30, sources: ["*"], destinationPortRanges: ["443"] });
    const status = (await world.driver.applyBaseline(policy, undefined, {})).vms[0];
    assert.equal(status.status, "exposed");
    assert.match(status.detail ?? "", /port 22\/TCP is open to Internet through network manager admin rule always-ssh \(AlwaysAllow, priority 10\), which Azure applies before any NSG/);
    assert.match(status.detail ?? "", /closed to 198\.51\.100\.0\/24 by network manager admin rule deny-partner/);
    assert.doesNotMatch(status.detail ?? "", /always-https/, "a port the policy does not select is not its concern");

    const result = (await scanOf(emu)).results[0];
    assert.equal(result.verdict, "Unhealthy");
    const ssh = result.exposures.find((e) => e.port === 22);
    assert.equal(ssh?.source, "Internet");
    assert.deepEqual(ssh?.exposedBy.map((r) => r.name), ["always-ssh"]);
    assert.equal(ssh?.policy, undefined, "the scan was given no policies");
    assert.match((result.notes ?? []).join(" "), /deny-partner/);
  } finally {
    await world.close();
  }
});

test("scan: a network interface with no NSG behind a Standard public IP is not reported open to *, and a VM without any NSG says what it is open to", async () => {
  const world = await azureWorld();
  const { emu } = world;
  try {
    // vm1 has NSGs on its first NIC; its second NIC, in another subnet, has none and a Standard public IP.
    const vm = emu.seed.typicalVm({ resourceGroup: "mixed", name: "vm1" });
    const bare = emu.seed.subnet("mixed", "mixed-vnet", "bare", { addressPrefix: "10.0.9.0/24" });
    emu.seed.publicIp("mixed", "nic2-ip", { sku: "Standard" });
    const nic2 = emu.seed.nic("mixed", "vm1-nic2", { subnet: bare, publicIp: "nic2-ip" });
    emu.seed.vm("mixed", { name: "vm1", os: "Linux", nics: [vm.nicId, nic2] });
    emu.seed.publicIp("mixed", "basic-ip", { sku: "Basic" });
    const nic3 = emu.seed.nic("mixed", "vm2-nic", { subnet: bare, publicIp: "basic-ip" });
    emu.seed.vm("mixed", { name: "vm2", os: "Linux", nics: [nic3] });
    const results = Object.fromEntries((await scanOf(emu)).results.map((r) => [r.name, r]));
    assert.equal(results.vm1.verdict, "Healthy", results.vm1.exposures.map((e) => e.reason).join("\n"));
    assert.match(results.vm1.details.join("\n"), /port 22 on 10\.0\.9\.\d+: no NSG on its path; its Standard public IP .* admits nothing from the Internet/);
    assert.equal(results.vm2.verdict, "NotApplicable");
    assert.match(results.vm2.reason, /every port is open to the Internet on \d+\.\d+\.\d+\.\d+/);
  } finally {
    await world.close();
  }
});
