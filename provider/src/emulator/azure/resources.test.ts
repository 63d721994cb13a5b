import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AzureEmulator, startAzureEmulator } from "./index";
import { armError, fast, rawRequest, sdkClients } from "./testing/clients";

/** The resources around a VM, read and written through the SDK clients, and the permissions API. */
describe("the Azure emulator's resources", () => {
  let emu: AzureEmulator;
  let sdk: ReturnType<typeof sdkClients>;

  beforeEach(async () => {
    emu = await startAzureEmulator({ lroPolls: 0 });
    sdk = sdkClients(emu, { maxRetries: 0 });
  });
  afterEach(() => emu.close());

  it("a typical VM resolves VM → NIC → NSGs (NIC and subnet) → private and public IP, with consistent back-references", async () => {
    const vm = emu.seed.typicalVm({ resourceGroup: "app", name: "web", os: "Windows", location: "eastus" });
    const machine = await sdk.compute.virtualMachines.get("app", "web");
    assert.equal(machine.storageProfile?.osDisk?.osType, "Windows");
    assert.deepEqual(machine.networkProfile?.networkInterfaces?.map((n) => [n.id, n.primary]), [[vm.nicId, true]]);

    const nic = await sdk.network.networkInterfaces.get("app", "web-nic");
    assert.equal(nic.virtualMachine?.id, vm.vmId);
    assert.equal(nic.primary, true);
    assert.equal(nic.networkSecurityGroup?.id, vm.nicNsgId);
    assert.match(nic.macAddress ?? "", /^00-0D-3A(-[0-9A-F]{2}){3}$/);
    const [ipConfig] = nic.ipConfigurations ?? [];
    assert.deepEqual([ipConfig.privateIPAddress, ipConfig.subnet?.id, ipConfig.publicIPAddress?.id, ipConfig.primary], [vm.privateIpAddress, vm.subnetId, vm.publicIpId, true]);
    assert.equal(vm.privateIpAddress, "10.0.0.4", "Azure hands out the first host after the four it keeps");

    const subnet = await sdk.network.subnets.get("app", "app-vnet", "default");
    assert.equal(subnet.networkSecurityGroup?.id, vm.subnetNsgId);
    assert.deepEqual(subnet.ipConfigurations?.map((c) => c.id), [ipConfig.id]);

    const pip = await sdk.network.publicIPAddresses.get("app", "web-ip");
    assert.equal(pip.ipAddress, vm.publicIpAddress);
    assert.equal(pip.ipConfiguration?.id, ipConfig.id);

    const nicNsg = await sdk.network.networkSecurityGroups.get("app", "web-nsg");
    assert.deepEqual(nicNsg.networkInterfaces?.map((n) => n.id), [vm.nicId]);
    assert.equal(nicNsg.subnets, undefined);
    const subnetNsg = await sdk.network.networkSecurityGroups.get("app", "app-vnet-default-nsg");
    assert.deepEqual(subnetNsg.subnets?.map((s) => s.id), [vm.subnetId]);
    assert.deepEqual(subnetNsg.defaultSecurityRules?.map((r) => `${r.name} ${r.priority} ${r.direction}`), [
      "AllowVnetInBound 65000 Inbound",
      "AllowAzureLoadBalancerInBound 65001 Inbound",
      "DenyAllInBound 65500 Inbound",
      "AllowVnetOutBound 65000 Outbound",
      "AllowInternetOutBound 65001 Outbound",
      "DenyAllOutBound 65500 Outbound",
    ]);

    const second = emu.seed.typicalVm({ resourceGroup: "app", name: "db", location: "eastus" });
    assert.equal(second.subnetId, vm.subnetId, "VMs share the VNet and subnet");
    assert.equal(second.privateIpAddress, "10.0.0.5");
    assert.notEqual(second.publicIpAddress, vm.publicIpAddress);
  });

  it("a NIC or subnet PUT sets or replaces its one NSG; the NSGs' back-references and ETags follow", async () => {
    const vm = emu.seed.typicalVm({ resourceGroup: "rg" });
    const other = emu.seed.nsg("rg", "other");
    const before = { nic: emu.state.etag(vm.nicNsgId!), other: emu.state.etag(other) };

    const nic = await sdk.network.networkInterfaces.get("rg", "vm1-nic");
    const updated = await sdk.network.networkInterfaces.createOrUpdate("rg", "vm1-nic", { ...nic, networkSecurityGroup: { id: other } }, fast);
    assert.equal(updated.networkSecurityGroup?.id, other);
    assert.deepEqual((await sdk.network.networkSecurityGroups.get("rg", "other")).networkInterfaces?.map((n) => n.id), [vm.nicId]);
    assert.equal((await sdk.network.networkSecurityGroups.get("rg", "vm1-nsg")).networkInterfaces, undefined);
    assert.notEqual(emu.state.etag(vm.nicNsgId!), before.nic);
    assert.notEqual(emu.state.etag(other), before.other);

    const subnet = await sdk.network.subnets.get("rg", "rg-vnet", "default");
    await sdk.network.subnets.createOrUpdate("rg", "rg-vnet", "default", { ...subnet, networkSecurityGroup: { id: other } }, fast);
    const both = await sdk.network.networkSecurityGroups.get("rg", "other");
    assert.deepEqual([both.networkInterfaces?.length, both.subnets?.map((s) => s.id)], [1, [vm.subnetId]]);
    assert.equal((await sdk.network.networkSecurityGroups.get("rg", "rg-vnet-default-nsg")).subnets, undefined);

    await sdk.network.subnets.createOrUpdate("rg", "rg-vnet", "default", { ...subnet, networkSecurityGroup: undefined }, fast);
    await sdk.network.networkInterfaces.createOrUpdate("rg", "vm1-nic", { ...nic, networkSecurityGroup: undefined }, fast);
    const detached = await sdk.network.networkSecurityGroups.get("rg", "other");
    assert.deepEqual([detached.networkInterfaces, detached.subnets], [undefined, undefined]);
    await sdk.network.networkSecurityGroups.delete("rg", "other", fast);
  });

  it("a VM can be created through the compute client, as a long-running operation of Microsoft.Compute", async () => {
    const vm = emu.seed.typicalVm({ resourceGroup: "rg" });
    const nic = emu.seed.nic("rg", "spare-nic", { subnet: vm.subnetId, privateIp: "10.0.0.100" });
    const poller = sdk.compute.virtualMachines.createOrUpdate(
      "rg",
      "vm2",
      { location: "westeurope", storageProfile: { osDisk: { osType: "Linux", createOption: "FromImage" } }, networkProfile: { networkInterfaces: [{ id: nic }] } },
      fast,
    );
    await poller.submitted();
    const put = sdk.exchanges.find((e) => e.method === "PUT")!;
    assert.equal(put.status, 201);
    assert.match(put.responseHeaders["azure-asyncoperation"], /\/providers\/Microsoft\.Compute\/locations\/westeurope\/operations\//);
    const created = await poller;
    assert.equal(created.provisioningState, "Succeeded");
    const names: string[] = [];
    for await (const v of sdk.compute.virtualMachines.list("rg")) names.push(v.name!);
    assert.deepEqual(names, ["vm1", "vm2"]);
    assert.equal((await sdk.network.networkInterfaces.get("rg", "spare-nic")).virtualMachine?.id, created.id);
  });

  it("Azure Firewall classic rule collections are written by a PUT of the whole firewall and read back", async () => {
    emu.seed.resourceGroup("rg");
    emu.seed.vnet("rg", "hub", { addressPrefixes: ["10.1.0.0/16"] });
    const subnet = emu.seed.subnet("rg", "hub", "AzureFirewallSubnet", { addressPrefix: "10.1.0.0/26" });
    const pip = emu.seed.publicIp("rg", "fw-ip", { ipAddress: "20.1.2.3" });
    emu.seed.firewall("rg", "fw", {
      subnet,
      publicIp: pip,
      networkRuleCollections: [{ name: "baseline", priority: 200, action: "Deny", rules: [{ name: "deny-ssh", protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.4"], destinationPorts: ["22"] }] }],
    });
    const fw = await sdk.network.azureFirewalls.get("rg", "fw");
    assert.equal(fw.ipConfigurations?.[0].privateIPAddress, "10.1.0.4");
    assert.equal(fw.ipConfigurations?.[0].publicIPAddress?.id, pip);
    assert.equal((await sdk.network.publicIPAddresses.get("rg", "fw-ip")).ipConfiguration?.id, fw.ipConfigurations?.[0].id);

    const dnat = {
      name: "jit-dnat",
      priority: 100,
      action: { type: "Dnat" },
      rules: [{ name: "grant-1", sourceAddresses: ["203.0.113.7"], destinationAddresses: ["20.1.2.3"], destinationPorts: ["50022"], protocols: ["TCP"], translatedAddress: "10.0.0.4", translatedPort: "22" }],
    };
    const updated = await sdk.network.azureFirewalls.createOrUpdate("rg", "fw", { ...fw, natRuleCollections: [dnat] }, { ...fast, requestOptions: { headers: { "If-Match": fw.etag! } } });
    assert.equal(updated.natRuleCollections?.[0].rules?.[0].translatedPort, "22");
    assert.equal(updated.networkRuleCollections?.[0].name, "baseline");
    assert.equal(updated.ipConfigurations?.[0].privateIPAddress, "10.1.0.4", "a firewall keeps its address across updates");
    const lost = await armError(sdk.network.azureFirewalls.createOrUpdate("rg", "fw", { ...fw, natRuleCollections: [] }, { ...fast, requestOptions: { headers: { "If-Match": fw.etag! } } }));
    assert.equal(lost.statusCode, 412, "a read-modify-write with the old ETag cannot drop the new collection");

    const policy = `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/policy1`;
    emu.seed.firewall("rg", "managed", { subnet, firewallPolicy: policy });
    assert.equal((await sdk.network.azureFirewalls.get("rg", "managed")).firewallPolicy?.id, policy);
  });

  it("Microsoft.Authorization/permissions answers the calling principal's permissions at subscription, resource group and resource scope", async () => {
    const vm = emu.seed.typicalVm({ resourceGroup: "app" });
    emu.seed.resourceGroup("other");
    emu.seed.principal("alice", { actions: ["Microsoft.Network/networkSecurityGroups/*", "Microsoft.Compute/virtualMachines/read"], notActions: ["Microsoft.Network/networkSecurityGroups/delete"], scope: "/subscriptions/" + emu.subscriptionId + "/resourceGroups/app" });
    emu.seed.principal("bob", { actions: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"], scope: vm.vmId });
    const as = (principal: string) => sdkClients(emu, { principal, maxRetries: 0 }).authorization.permissions;
    const list = async <T>(items: AsyncIterable<T>) => {
      const out: T[] = [];
      for await (const item of items) out.push(item);
      return out;
    };

    const aliceRg = await list(as("alice").listForResourceGroup("app"));
    assert.deepEqual(aliceRg, [{ actions: ["Microsoft.Network/networkSecurityGroups/*", "Microsoft.Compute/virtualMachines/read"], notActions: ["Microsoft.Network/networkSecurityGroups/delete"], dataActions: [], notDataActions: [] }]);
    assert.deepEqual(await list(as("alice").listForResourceGroup("other")), [], "alice's assignment is on another resource group");
    assert.deepEqual(await list(as("bob").listForResourceGroup("app")), [], "bob's assignment is below the resource group");
    const bobVm = await list(as("bob").listForResource("app", "Microsoft.Compute", "", "virtualMachines", "vm1"));
    assert.deepEqual(bobVm.map((p) => p.actions), [["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"]]);
    assert.equal((await list(as("alice").listForResource("app", "Microsoft.Compute", "", "virtualMachines", "vm1"))).length, 1, "alice's resource-group assignment reaches the VM");
    assert.deepEqual(await list(as("carol").listForResource("app", "Microsoft.Compute", "", "virtualMachines", "vm1")), []);
    assert.deepEqual((await list(sdk.authorization.permissions.listForResourceGroup("app"))).map((p) => p.actions), [["*"]], "the emulator's own credential is Owner-like");
    assert.equal((await armError(list(as("alice").listForResourceGroup("nope")))).code, "ResourceGroupNotFound");

    const subscription = await rawRequest(emu, "GET", `/subscriptions/${emu.subscriptionId}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, { as: "alice" });
    assert.deepEqual(JSON.parse(subscription.body), { value: [] }, "nothing of alice's is at subscription scope");
    assert.deepEqual(
      emu.calls.list({ operation: /^Permissions_/ }).map((c) => `${c.operation} ${c.principal}`).slice(0, 3),
      ["Permissions_ListForResourceGroup alice", "Permissions_ListForResourceGroup alice", "Permissions_ListForResourceGroup bob"],
    );
    emu.calls.expect({ operation: "Permissions_ListForSubscription" }, 1);
  });

  it("seeding and state reads are not API calls", async () => {
    const vm = emu.seed.typicalVm();
    emu.seed.rule("rg", "vm1-nsg", { name: "user-ssh", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "198.51.100.0/24", destinationPortRange: "22" });
    assert.deepEqual(emu.state.nsgRules("rg", "vm1-nsg").map((r) => [r.name, r.priority, r.sourceAddressPrefix, r.destinationAddressPrefix]), [["user-ssh", 300, "198.51.100.0/24", "*"]]);
    assert.equal((emu.state.resource(vm.vmId) as { name: string }).name, "vm1");
    assert.throws(() => emu.seed.rule("rg", "vm1-nsg", { name: "clash", priority: 300, direction: "Inbound", access: "Deny", protocol: "*" }), /cannot seed security rule clash: 400 .*SecurityRuleConflict/);
    emu.calls.expect({}, 0);
  });
});
