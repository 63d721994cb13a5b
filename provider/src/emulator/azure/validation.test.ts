import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SecurityRule } from "@azure/arm-network";
import { AzureEmulator, startAzureEmulator } from "./index";
import { Exchange, armError, fast, lastError, rawRequest, sdkClients } from "./testing/clients";

/** Azure's validation, provoked through the real SDK clients: status, ARM error code, and message where it matters. */
describe("the Azure emulator validates as Azure does", () => {
  let emu: AzureEmulator;
  let network: ReturnType<typeof sdkClients>["network"];
  let compute: ReturnType<typeof sdkClients>["compute"];
  let exchanges: Exchange[];
  const ssh: SecurityRule = {
    protocol: "Tcp",
    access: "Allow",
    direction: "Inbound",
    priority: 200,
    sourceAddressPrefix: "203.0.113.0/24",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.0.4",
    destinationPortRange: "22",
  };
  const putRule = (rule: SecurityRule, name = "r1", nsg = "nsg") => network.securityRules.createOrUpdate("rg", nsg, name, rule, fast);
  const rejects = async (rule: SecurityRule, status: number, code: string, name?: string) => {
    const err = await armError(putRule(rule, name));
    assert.equal(err.statusCode, status, err.message);
    assert.equal(err.code, code, err.message);
    return err;
  };

  before(async () => {
    emu = await startAzureEmulator({ lroPolls: 0 });
    emu.seed.resourceGroup("rg");
    emu.seed.nsg("rg", "nsg");
    ({ network, compute, exchanges } = sdkClients(emu, { maxRetries: 0 }));
  });
  after(() => emu.close());

  it("priority: 100 to 4096, and missing counts as 0", async () => {
    for (const priority of [99, 4097, 0]) {
      const err = await rejects({ ...ssh, priority }, 400, "SecurityRuleInvalidPriority");
      assert.equal(err.message, `Security rule has invalid Priority. Value provided: ${priority} Allowed range 100-4096.`);
    }
    await rejects({ ...ssh, priority: undefined }, 400, "SecurityRuleInvalidPriority");
    for (const priority of [100, 4096]) await putRule({ ...ssh, priority }, `edge${priority}`);
  });

  it("priority is unique per direction", async () => {
    await putRule({ ...ssh, priority: 300 }, "first");
    const err = await rejects({ ...ssh, priority: 300 }, 400, "SecurityRuleConflict", "second");
    assert.equal(err.message, "Security rule second conflicts with rule first. Rules cannot have the same Priority and Direction.");
    await putRule({ ...ssh, priority: 300, direction: "Outbound" }, "second");
    await putRule({ ...ssh, priority: 300, destinationPortRange: "3389" }, "first");
  });

  it("port ranges: an integer, a-b, or * within 0-65535; no lists in the singular field", async () => {
    for (const destinationPortRange of ["636, 389", "70000", "5-3", "22-", "ssh"]) {
      const err = await rejects({ ...ssh, destinationPortRange }, 400, "SecurityRuleInvalidPortRange");
      assert.match(err.message, new RegExp(`Value provided: ${destinationPortRange}\\. Value should be an integer OR integer range`));
    }
    await rejects({ ...ssh, destinationPortRange: undefined, destinationPortRanges: ["22", "abc"] }, 400, "SecurityRuleInvalidPortRange");
    await putRule({ ...ssh, destinationPortRange: undefined, destinationPortRanges: ["22", "3389", "5985-5986"] }, "ports");
    await putRule({ ...ssh, destinationPortRange: "0-65535", priority: 201 }, "allports");
  });

  it("address prefixes: IP, CIDR without host bits, service tag or *", async () => {
    for (const sourceAddressPrefix of ["any", "50.206.209.68/27", "10.0.0.0/33", "300.1.1.1"]) {
      const err = await rejects({ ...ssh, sourceAddressPrefix }, 400, "SecurityRuleInvalidAddressPrefix");
      assert.match(err.message, new RegExp(`has invalid Address prefix\\. Value provided: ${sourceAddressPrefix.replace(/\./g, "\\.")}`));
    }
    for (const [i, sourceAddressPrefix] of ["Internet", "virtualnetwork", "Storage.EastUS", "2001:db8::/32", "*"].entries()) {
      // An IPv6 source needs a destination of its own family (or none in particular).
      await putRule({ ...ssh, sourceAddressPrefix, ...(sourceAddressPrefix.includes(":") ? { destinationAddressPrefix: "*" } : {}), priority: 400 + i }, `tag${i}`);
    }
  });

  it("plural address prefixes refuse service tags and *", async () => {
    for (const tag of ["VirtualNetwork", "*", "AzureLoadBalancer"]) {
      const err = await rejects({ ...ssh, sourceAddressPrefix: undefined, sourceAddressPrefixes: ["10.0.0.0/8", tag] }, 400, "SecurityRuleParameterContainsUnsupportedValue");
      assert.match(err.message, new RegExp(`Unsupported value used: ${tag.replace("*", "\\*")}\\.$`));
    }
    await rejects({ ...ssh, sourceAddressPrefix: undefined, sourceAddressPrefixes: ["10.0.0.1/8"] }, 400, "SecurityRuleInvalidAddressPrefix");
    await putRule({ ...ssh, sourceAddressPrefix: undefined, sourceAddressPrefixes: ["10.0.0.0/8", "192.0.2.7"], priority: 450 }, "plural");
  });

  it("singular and plural together are refused by default, and accepted when switched", async () => {
    const both: SecurityRule = { ...ssh, sourceAddressPrefixes: ["192.0.2.0/24"], priority: 500 };
    const err = await rejects(both, 400, "InvalidRequestFormat", "both");
    assert.match(err.message, /both SourceAddressPrefix and SourceAddressPrefixes/);
    await rejects({ ...ssh, destinationPortRanges: ["80"], priority: 500 }, 400, "InvalidRequestFormat", "both");
    emu.options.singularAndPlural = "accept";
    try {
      const rule = await putRule(both, "both");
      assert.deepEqual([rule.sourceAddressPrefix, rule.sourceAddressPrefixes], ["203.0.113.0/24", ["192.0.2.0/24"]]);
    } finally {
      emu.options.singularAndPlural = "reject";
    }
  });

  it("protocol, access and direction are enums, read case-insensitively", async () => {
    const err = await rejects({ ...ssh, protocol: "Gre" }, 400, "InvalidRequestFormat");
    assert.match(err.message, /Cannot parse the request/);
    const [detail] = lastError(exchanges).details;
    assert.equal(detail.code, "InvalidJson");
    assert.match(detail.message, /SecurityRuleProtocol'\. Path 'properties\.protocol'/);
    await rejects({ ...ssh, access: "Permit" }, 400, "InvalidRequestFormat");
    await rejects({ ...ssh, direction: "Sideways" }, 400, "InvalidRequestFormat");
    const rule = await putRule({ ...ssh, protocol: "tcp", access: "deny", direction: "inbound", priority: 600 }, "lower");
    assert.deepEqual([rule.protocol, rule.access, rule.direction], ["Tcp", "Deny", "Inbound"]);
    for (const [i, protocol] of ["Udp", "Icmp", "Esp", "Ah", "*"].entries()) await putRule({ ...ssh, protocol, priority: 610 + i }, `p${i}`);
  });

  it("required parameters", async () => {
    const err = await rejects({ ...ssh, protocol: undefined }, 400, "SecurityRuleParameterMissing");
    assert.match(err.message, /^Required security rule parameter Protocol is missing for security rule with Id: \/subscriptions\/.*\/securityRules\/r1\.$/);
    await rejects({ ...ssh, destinationPortRange: undefined }, 400, "SecurityRuleParameterMissing");
    const missing = await rejects({ ...ssh, sourceAddressPrefix: undefined }, 400, "SecurityRuleParametersMissing");
    assert.match(missing.message, /must specify SourceAddressPrefixes, SourceAddressPrefix, or SourceApplicationSecurityGroups\.$/);
  });

  it("rule names: at most 80 characters, word character first, word character or _ last, . - _ inside", async () => {
    for (const name of ["-jit", "jit-", "jit.", "a".repeat(81), "jit rule", "jit/1"]) {
      const err = await rejects({ ...ssh, priority: 700 }, 400, "InvalidResourceName", name);
      assert.match(err.message, /The name can be up to 80 characters long/);
    }
    for (const [i, name] of ["a", "jit_", "jit.v1-x_y", "a".repeat(80), "Zugriff-für-Jörg"].entries()) await putRule({ ...ssh, priority: 700 + i }, name);
  });

  it("description: at most 140 characters", async () => {
    await rejects({ ...ssh, description: "x".repeat(141), priority: 800 }, 400, "InvalidRequestFormat");
    await putRule({ ...ssh, description: "x".repeat(140), priority: 800 }, "described");
  });

  it("at most 1,000 rules per NSG, in an NSG PUT and rule by rule", async () => {
    const rules = (n: number): SecurityRule[] => Array.from({ length: n }, (_, i) => ({ ...ssh, name: `r${i}`, priority: 100 + i }));
    const err = await armError(network.networkSecurityGroups.createOrUpdate("rg", "full", { location: "westeurope", securityRules: rules(1001) }, fast));
    assert.deepEqual([err.statusCode, err.code, err.message], [400, "SecurityRuleCountLimitReached", "A security group cannot have more than 1000 security rules."]);
    await network.networkSecurityGroups.createOrUpdate("rg", "full", { location: "westeurope", securityRules: rules(1000) }, fast);
    assert.equal(emu.state.nsgRules("rg", "full").length, 1000);
    const one = await armError(network.securityRules.createOrUpdate("rg", "full", "r1000", { ...ssh, priority: 1100 }, fast));
    assert.equal(one.code, "SecurityRuleCountLimitReached");
    await network.securityRules.createOrUpdate("rg", "full", "r999", { ...ssh, priority: 1099, destinationPortRange: "3389" }, fast);
  });

  it("at most 4,000 source and destination addresses and ports over an NSG's rules, in an NSG PUT and rule by rule", async () => {
    const hosts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `10.3.${(from + i) >> 8}.${(from + i) & 255}`);
    // Each rule: one source, one source port, one destination port, and its destinations.
    const wide = (name: string, priority: number, destinations: string[]): SecurityRule => ({ ...ssh, name, priority, destinationAddressPrefix: undefined, destinationAddressPrefixes: destinations });
    const err = await armError(network.networkSecurityGroups.createOrUpdate("rg", "wide", { location: "westeurope", securityRules: [wide("a", 100, hosts(2000)), wide("b", 101, hosts(1995, 2000))] }, fast));
    assert.deepEqual([err.statusCode, err.code], [400, "SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached"]);
    assert.match(err.message, /cannot have more than 4000 source and destination addresses and ports/);
    await network.networkSecurityGroups.createOrUpdate("rg", "wide", { location: "westeurope", securityRules: [wide("a", 100, hosts(2000)), wide("b", 101, hosts(1994, 2000))] }, fast);
    const one = await armError(network.securityRules.createOrUpdate("rg", "wide", "c", { ...ssh, priority: 102 }, fast));
    assert.equal(one.code, "SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached");
  });

  it("an NSG PUT validates every rule in it", async () => {
    const err = await armError(
      network.networkSecurityGroups.createOrUpdate(
        "rg",
        "nsg2",
        { location: "westeurope", securityRules: [{ ...ssh, name: "a" }, { ...ssh, name: "b" }] },
        fast,
      ),
    );
    assert.equal(err.code, "SecurityRuleConflict");
    assert.equal(emu.state.nsg("rg", "nsg2"), undefined, "a refused PUT changes nothing");
  });

  it("missing things: ResourceGroupNotFound, ResourceNotFound for resources, NotFound for child resources", async () => {
    const rg = await armError(network.networkSecurityGroups.get("nope", "nsg"));
    assert.deepEqual([rg.statusCode, rg.code, rg.message], [404, "ResourceGroupNotFound", "Resource group 'nope' could not be found."]);
    const nsg = await armError(network.networkSecurityGroups.get("rg", "ghost"));
    assert.deepEqual([nsg.statusCode, nsg.code], [404, "ResourceNotFound"]);
    assert.match(nsg.message, /^The Resource 'Microsoft.Network\/networkSecurityGroups\/ghost' under resource group 'rg' was not found/);
    const rule = await armError(network.securityRules.get("rg", "nsg", "ghost"));
    assert.deepEqual([rule.statusCode, rule.code], [404, "NotFound"]);
    assert.equal((await armError(network.defaultSecurityRules.get("rg", "nsg", "ghost"))).code, "NotFound");
    assert.equal((await armError(network.securityRules.createOrUpdate("rg", "ghost", "r", ssh, fast))).code, "ResourceNotFound");
    assert.equal((await armError(compute.virtualMachines.get("rg", "ghost"))).code, "ResourceNotFound");
    assert.equal((await armError(network.networkInterfaces.get("rg", "ghost"))).code, "ResourceNotFound");
    const other = sdkClients({ ...emu, subscriptionId: "11111111-1111-1111-1111-111111111111" }, { maxRetries: 0 });
    const sub = await armError(other.network.networkSecurityGroups.get("rg", "nsg"));
    assert.deepEqual([sub.statusCode, sub.code], [404, "SubscriptionNotFound"]);
    // Deleting what is not there succeeds, as in ARM.
    await network.networkSecurityGroups.delete("rg", "ghost", fast);
    await network.securityRules.delete("rg", "nsg", "ghost", fast);
  });

  it("one NSG per NIC and per subnet; an NSG in use cannot be deleted", async () => {
    const vm = emu.seed.typicalVm({ resourceGroup: "rg", name: "inuse" });
    const err = await armError(network.networkSecurityGroups.delete("rg", "inuse-nsg", fast));
    assert.deepEqual([err.statusCode, err.code], [400, "InUseNetworkSecurityGroupCannotBeDeleted"]);
    assert.ok(err.message.includes(vm.nicId));
    const missing = `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/ghost`;
    const nic = await network.networkInterfaces.get("rg", "inuse-nic");
    const ref = await armError(network.networkInterfaces.createOrUpdate("rg", "inuse-nic", { ...nic, networkSecurityGroup: { id: missing } }, fast));
    assert.deepEqual([ref.statusCode, ref.code], [400, "InvalidResourceReference"]);
  });

  it("resource-level checks: location required and fixed, names, subnet ranges, IP addresses, SKUs, NICs in use", async () => {
    assert.equal((await armError(network.networkSecurityGroups.createOrUpdate("rg", "nowhere", {}, fast))).code, "LocationRequired");
    assert.equal((await armError(network.networkSecurityGroups.createOrUpdate("rg", "nsg", { location: "eastus" }, fast))).code, "InvalidResourceLocation");
    assert.equal((await armError(network.networkSecurityGroups.createOrUpdate("rg", "bad name", { location: "westeurope" }, fast))).code, "InvalidResourceName");
    const vm = emu.seed.typicalVm({ resourceGroup: "rg", name: "checks", vnet: "checks-vnet" });
    const outside = await armError(network.subnets.createOrUpdate("rg", "checks-vnet", "far", { addressPrefix: "192.168.0.0/24" }, fast));
    assert.equal(outside.code, "NetcfgSubnetRangeOutsideVnet");
    const vnet = await network.virtualNetworks.get("rg", "checks-vnet");
    const emptied = await armError(network.virtualNetworks.createOrUpdate("rg", "checks-vnet", { ...vnet, subnets: [] }, fast));
    assert.equal(emptied.code, "InUseSubnetCannotBeDeleted");
    const taken = await armError(
      network.networkInterfaces.createOrUpdate(
        "rg",
        "second-nic",
        { location: "westeurope", ipConfigurations: [{ name: "ipconfig1", subnet: { id: vm.subnetId }, privateIPAllocationMethod: "Static", privateIPAddress: vm.privateIpAddress }] },
        fast,
      ),
    );
    assert.equal(taken.code, "PrivateIPAddressInUse");
    const dynamic = await armError(network.publicIPAddresses.createOrUpdate("rg", "pip", { location: "westeurope", sku: { name: "Standard" }, publicIPAllocationMethod: "Dynamic" }, fast));
    assert.equal(dynamic.code, "StandardSkuPublicIPAddressesCannotHaveDynamicAllocation");
    const nicInUse = await armError(
      compute.virtualMachines.createOrUpdate("rg", "thief", { location: "westeurope", networkProfile: { networkInterfaces: [{ id: vm.nicId }] } }, fast),
    );
    assert.deepEqual([nicInUse.statusCode, nicInUse.code], [400, "NicInUse"]);
  });

  it("Azure Firewall: collection names, priorities 100-65000, action types", async () => {
    emu.seed.vnet("rg", "hub", { addressPrefixes: ["10.9.0.0/16"] });
    const subnet = emu.seed.subnet("rg", "hub", "AzureFirewallSubnet", { addressPrefix: "10.9.0.0/26" });
    const firewall = (natRuleCollections: object[]) =>
      network.azureFirewalls.createOrUpdate("rg", "fw", { location: "westeurope", ipConfigurations: [{ name: "ipc", subnet: { id: subnet } }], natRuleCollections }, fast);
    const nat = (name: string, priority: number, type: string) => ({ name, priority, action: { type }, rules: [] });
    assert.equal((await armError(firewall([nat("bad name", 100, "Dnat")]))).code, "InvalidResourceName");
    assert.equal((await armError(firewall([nat("jit", 99, "Dnat")]))).code, "InvalidRequestFormat");
    assert.equal((await armError(firewall([nat("jit", 65001, "Dnat")]))).code, "InvalidRequestFormat");
    assert.equal((await armError(firewall([nat("jit", 100, "Allow")]))).code, "InvalidRequestFormat");
    const fw = await firewall([nat("jit", 65000, "dnat")]);
    assert.equal(fw.natRuleCollections?.[0].action?.type, "Dnat");
    assert.equal(fw.ipConfigurations?.[0].privateIPAddress, "10.9.0.4");
  });

  it("requests the SDKs never make: no token, no api-version, malformed JSON", async () => {
    const nsgPath = `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg`;
    const noToken = await rawRequest(emu, "GET", `${nsgPath}?api-version=2024-05-01`);
    assert.deepEqual([noToken.status, JSON.parse(noToken.body).error.code], [401, "AuthenticationFailed"]);
    const noVersion = await rawRequest(emu, "GET", nsgPath, { as: "owner" });
    assert.deepEqual([noVersion.status, JSON.parse(noVersion.body).error.code], [400, "MissingApiVersionParameter"]);
    const malformed = await rawRequest(emu, "PUT", `${nsgPath}?api-version=2024-05-01`, { as: "owner", body: "{not json" });
    const body = JSON.parse(malformed.body);
    assert.deepEqual([malformed.status, body.error.code, body.error.details[0].code], [400, "InvalidRequestFormat", "InvalidJson"]);
    const unknown = await rawRequest(emu, "GET", `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/loadBalancers/lb?api-version=1`, { as: "owner" });
    assert.equal(unknown.status, 404);
  });
});
