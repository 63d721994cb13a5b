import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AzureEmulator, startAzureEmulator } from "./index";
import { armError, fast, lastError, sdkClients } from "./testing/clients";

/**
 * Every operation of every resource type the endpoint serves, each made through the real SDK
 * clients, with the cloud's synchronous-or-long-running answer per operation. The last test checks
 * that the operations made are exactly the list below.
 */
const SERVED = [
  "NetworkSecurityGroups_CreateOrUpdate", "NetworkSecurityGroups_Get", "NetworkSecurityGroups_List", "NetworkSecurityGroups_ListAll",
  "NetworkSecurityGroups_UpdateTags", "NetworkSecurityGroups_Delete",
  "SecurityRules_CreateOrUpdate", "SecurityRules_Get", "SecurityRules_List", "SecurityRules_Delete",
  "DefaultSecurityRules_Get", "DefaultSecurityRules_List",
  "VirtualNetworks_CreateOrUpdate", "VirtualNetworks_Get", "VirtualNetworks_List", "VirtualNetworks_ListAll",
  "VirtualNetworks_UpdateTags", "VirtualNetworks_Delete",
  "Subnets_CreateOrUpdate", "Subnets_Get", "Subnets_List", "Subnets_Delete",
  "NetworkInterfaces_CreateOrUpdate", "NetworkInterfaces_Get", "NetworkInterfaces_List", "NetworkInterfaces_ListAll",
  "NetworkInterfaces_UpdateTags", "NetworkInterfaces_Delete",
  "NetworkInterfaceIPConfigurations_List", "NetworkInterfaceIPConfigurations_Get", "NetworkInterfaceLoadBalancers_List",
  "PublicIPAddresses_CreateOrUpdate", "PublicIPAddresses_Get", "PublicIPAddresses_List", "PublicIPAddresses_ListAll",
  "PublicIPAddresses_UpdateTags", "PublicIPAddresses_Delete",
  "AzureFirewalls_CreateOrUpdate", "AzureFirewalls_Get", "AzureFirewalls_List", "AzureFirewalls_ListAll",
  "AzureFirewalls_UpdateTags", "AzureFirewalls_Delete",
  "VirtualMachines_CreateOrUpdate", "VirtualMachines_Get", "VirtualMachines_List", "VirtualMachines_ListAll",
  "VirtualMachines_Update", "VirtualMachines_Delete",
];

async function all<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iter) out.push(item);
  return out;
}

describe("every operation the Azure endpoint serves, through the SDK clients", () => {
  let emu: AzureEmulator;
  let sdk: ReturnType<typeof sdkClients>;
  const location = "westeurope";

  before(async () => {
    emu = await startAzureEmulator({ lroPolls: 1, location });
    sdk = sdkClients(emu, { maxRetries: 0 });
    emu.seed.resourceGroup("ops", { location });
  });
  after(() => emu.close());

  /** The first answer to the last write: its status and which polling headers it carried. */
  const lastWrite = () => {
    const write = [...sdk.exchanges].reverse().find((e) => e.method !== "GET");
    assert.ok(write);
    const h = write.responseHeaders;
    return { status: write.status, async: "azure-asyncoperation" in h, location: "location" in h, body: write.responseBody ? JSON.parse(write.responseBody) : undefined };
  };

  it("virtual networks and subnets: create, read, list, tag at once, delete long-running", async () => {
    const vnet = await sdk.network.virtualNetworks.beginCreateOrUpdateAndWait("ops", "net", { location, addressSpace: { addressPrefixes: ["10.1.0.0/16"] } }, fast);
    assert.equal(vnet.provisioningState, "Succeeded");
    assert.deepEqual(lastWrite().status, 201);
    await sdk.network.subnets.beginCreateOrUpdateAndWait("ops", "net", "a", { addressPrefix: "10.1.0.0/24" }, fast);
    await sdk.network.subnets.beginCreateOrUpdateAndWait("ops", "net", "b", { addressPrefix: "10.1.1.0/24" }, fast);
    assert.equal((await sdk.network.subnets.get("ops", "net", "a")).addressPrefix, "10.1.0.0/24");
    assert.deepEqual((await all(sdk.network.subnets.list("ops", "net"))).map((s) => s.name), ["a", "b"]);
    assert.deepEqual((await all(sdk.network.virtualNetworks.list("ops"))).map((v) => v.name), ["net"]);
    assert.deepEqual((await all(sdk.network.virtualNetworks.listAll())).map((v) => v.name), ["net"]);

    const tagged = await sdk.network.virtualNetworks.updateTags("ops", "net", { tags: { env: "test" } });
    assert.deepEqual(tagged.tags, { env: "test" });
    assert.deepEqual(lastWrite(), { ...lastWrite(), status: 200, async: false, location: false }, "tags are answered at once, no operation to poll");
    assert.equal(tagged.provisioningState, "Succeeded");

    await sdk.network.subnets.beginDeleteAndWait("ops", "net", "b", fast);
    assert.deepEqual([lastWrite().status, lastWrite().async, lastWrite().location], [202, true, true], "accepted, with both polling URLs");
    assert.deepEqual((await all(sdk.network.subnets.list("ops", "net"))).map((s) => s.name), ["a"]);
    assert.equal((await armError(sdk.network.subnets.get("ops", "net", "b"))).statusCode, 404);
    // Deleting what is not there is a success at once.
    await sdk.network.subnets.beginDeleteAndWait("ops", "net", "b", fast);
    assert.deepEqual(emu.calls.list({ operation: "Subnets_Delete" }).map((c) => c.status), [202, 204]);
  });

  it("public IPs and NICs: a NIC is created Succeeded at once (201 with an operation that is already over); tags at once; in-use refusals", async () => {
    const pip = await sdk.network.publicIPAddresses.beginCreateOrUpdateAndWait("ops", "ip", { location, sku: { name: "Standard" }, publicIPAllocationMethod: "Static" }, fast);
    assert.ok(pip.ipAddress);
    const subnetId = `${(await sdk.network.virtualNetworks.get("ops", "net")).id}/subnets/a`;
    const poller = await sdk.network.networkInterfaces.beginCreateOrUpdate(
      "ops",
      "nic",
      { location, ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnetId }, publicIPAddress: { id: pip.id } }] },
      fast,
    );
    const first = lastWrite();
    assert.deepEqual([first.status, first.async, first.body.properties.provisioningState], [201, true, "Succeeded"]);
    assert.equal(sdk.exchanges.at(-1)?.responseHeaders["retry-after"], undefined, "nothing to wait for");
    const nic = await poller.pollUntilDone();
    assert.equal(nic.ipConfigurations?.[0].privateIPAddress, "10.1.0.4");
    assert.equal(emu.lro.list().find((o) => o.name === "PutNicOperation")?.status, "Succeeded", "the NIC's operation holds no lock");
    // The NIC's write completed before the answer: a second write right away is not refused as busy.
    await sdk.network.networkInterfaces.beginCreateOrUpdateAndWait("ops", "nic", { ...nic, tags: { a: "1" } }, fast);

    assert.equal((await sdk.network.networkInterfaces.get("ops", "nic")).name, "nic");
    assert.deepEqual((await all(sdk.network.networkInterfaces.list("ops"))).map((n) => n.name), ["nic"]);
    assert.deepEqual((await all(sdk.network.networkInterfaces.listAll())).map((n) => n.name), ["nic"]);
    assert.deepEqual((await sdk.network.networkInterfaces.updateTags("ops", "nic", { tags: { b: "2" } })).tags, { b: "2" });
    assert.deepEqual([lastWrite().status, lastWrite().async], [200, false]);
    assert.deepEqual((await all(sdk.network.networkInterfaceIPConfigurations.list("ops", "nic"))).map((c) => c.privateIPAddress), ["10.1.0.4"]);
    assert.equal((await sdk.network.networkInterfaceIPConfigurations.get("ops", "nic", "ipconfig1")).publicIPAddress?.id, pip.id);
    assert.equal((await armError(sdk.network.networkInterfaceIPConfigurations.get("ops", "nic", "nope"))).statusCode, 404);
    assert.deepEqual(await all(sdk.network.networkInterfaceLoadBalancers.list("ops", "nic")), []);

    assert.equal((await sdk.network.publicIPAddresses.get("ops", "ip")).ipConfiguration?.id, nic.ipConfigurations?.[0].id);
    assert.deepEqual((await all(sdk.network.publicIPAddresses.list("ops"))).map((p) => p.name), ["ip"]);
    assert.deepEqual((await all(sdk.network.publicIPAddresses.listAll())).map((p) => p.name), ["ip"]);
    assert.deepEqual((await sdk.network.publicIPAddresses.updateTags("ops", "ip", { tags: { c: "3" } })).tags, { c: "3" });
    assert.deepEqual([lastWrite().status, lastWrite().async], [200, false]);

    // Still in use: refused, and nothing changes.
    await armError(sdk.network.publicIPAddresses.beginDeleteAndWait("ops", "ip", fast));
    assert.equal(lastError(sdk.exchanges).code, "PublicIPAddressInUse");
    await armError(sdk.network.subnets.beginDeleteAndWait("ops", "net", "a", fast));
    assert.equal(lastError(sdk.exchanges).code, "InUseSubnetCannotBeDeleted");
    await armError(sdk.network.virtualNetworks.beginDeleteAndWait("ops", "net", fast));
    assert.equal(lastError(sdk.exchanges).code, "InUseSubnetCannotBeDeleted");
    assert.equal((await sdk.network.publicIPAddresses.get("ops", "ip")).provisioningState, "Succeeded");
  });

  it("NSGs, their rules and default rules", async () => {
    const nsg = await sdk.network.networkSecurityGroups.beginCreateOrUpdateAndWait("ops", "nsg", { location }, fast);
    assert.equal(nsg.defaultSecurityRules?.length, 6);
    const rule = { protocol: "Tcp", access: "Deny", direction: "Inbound", priority: 4000, sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22" };
    await sdk.network.securityRules.beginCreateOrUpdateAndWait("ops", "nsg", "deny-ssh", rule, fast);
    assert.equal((await sdk.network.securityRules.get("ops", "nsg", "deny-ssh")).destinationPortRange, "22");
    assert.deepEqual((await all(sdk.network.securityRules.list("ops", "nsg"))).map((r) => r.name), ["deny-ssh"]);
    assert.equal((await sdk.network.defaultSecurityRules.get("ops", "nsg", "DenyAllInBound")).priority, 65500);
    assert.equal((await all(sdk.network.defaultSecurityRules.list("ops", "nsg"))).length, 6);
    assert.deepEqual((await all(sdk.network.networkSecurityGroups.list("ops"))).map((n) => n.name), ["nsg"]);
    assert.deepEqual((await all(sdk.network.networkSecurityGroups.listAll())).map((n) => n.name), ["nsg"]);
    assert.deepEqual((await sdk.network.networkSecurityGroups.updateTags("ops", "nsg", { tags: { d: "4" } })).tags, { d: "4" });
    await sdk.network.securityRules.beginDeleteAndWait("ops", "nsg", "deny-ssh", fast);
    assert.deepEqual(emu.calls.list({ operation: "SecurityRules_Delete" }).map((c) => c.status), [202]);
    await sdk.network.networkSecurityGroups.beginDeleteAndWait("ops", "nsg", fast);
    assert.equal((await armError(sdk.network.networkSecurityGroups.get("ops", "nsg"))).statusCode, 404);
  });

  it("Azure Firewalls: tags and delete are long-running", async () => {
    emu.seed.firewall("ops", "fw", { location });
    assert.equal((await sdk.network.azureFirewalls.get("ops", "fw")).name, "fw");
    assert.deepEqual((await all(sdk.network.azureFirewalls.list("ops"))).map((f) => f.name), ["fw"]);
    assert.deepEqual((await all(sdk.network.azureFirewalls.listAll())).map((f) => f.name), ["fw"]);
    const current = await sdk.network.azureFirewalls.get("ops", "fw");
    await sdk.network.azureFirewalls.beginCreateOrUpdateAndWait("ops", "fw", { ...current, threatIntelMode: "Deny" }, fast);
    const tagged = await sdk.network.azureFirewalls.beginUpdateTagsAndWait("ops", "fw", { tags: { e: "5" } }, fast);
    assert.deepEqual(tagged.tags, { e: "5" });
    assert.deepEqual(emu.calls.list({ operation: "AzureFirewalls_UpdateTags" }).map((c) => c.status), [200]);
    assert.ok(sdk.exchanges.some((e) => e.method === "PATCH" && "azure-asyncoperation" in e.responseHeaders));
    await sdk.network.azureFirewalls.beginDeleteAndWait("ops", "fw", fast);
    assert.equal((await armError(sdk.network.azureFirewalls.get("ops", "fw"))).statusCode, 404);
  });

  it("virtual machines: update and delete are long-running; a NIC is free once its VM is gone", async () => {
    const nicId = (await sdk.network.networkInterfaces.get("ops", "nic")).id!;
    const vm = await sdk.compute.virtualMachines.beginCreateOrUpdateAndWait(
      "ops",
      "vm",
      { location, hardwareProfile: { vmSize: "Standard_B1s" }, storageProfile: { osDisk: { osType: "Linux", createOption: "FromImage" } }, networkProfile: { networkInterfaces: [{ id: nicId }] } },
      fast,
    );
    assert.equal(vm.provisioningState, "Succeeded");
    assert.equal((await sdk.compute.virtualMachines.get("ops", "vm")).name, "vm");
    assert.deepEqual((await all(sdk.compute.virtualMachines.list("ops"))).map((v) => v.name), ["vm"]);
    assert.deepEqual((await all(sdk.compute.virtualMachines.listAll())).map((v) => v.name), ["vm"]);
    const updated = await sdk.compute.virtualMachines.beginUpdateAndWait("ops", "vm", { tags: { f: "6" } }, fast);
    assert.deepEqual([updated.tags, updated.networkProfile?.networkInterfaces?.[0].id], [{ f: "6" }, nicId]);

    await armError(sdk.network.networkInterfaces.beginDeleteAndWait("ops", "nic", fast));
    assert.equal(lastError(sdk.exchanges).code, "NicInUse");
    await sdk.compute.virtualMachines.beginDeleteAndWait("ops", "vm", fast);
    assert.equal((await armError(sdk.compute.virtualMachines.get("ops", "vm"))).statusCode, 404);

    await sdk.network.networkInterfaces.beginDeleteAndWait("ops", "nic", fast);
    assert.deepEqual(emu.calls.list({ operation: "NetworkInterfaces_Delete" }).map((c) => c.status), [400, 200], "a NIC's DELETE answers 200 with its polling URLs, as recorded");
    await sdk.network.publicIPAddresses.beginDeleteAndWait("ops", "ip", fast);
    await sdk.network.virtualNetworks.beginDeleteAndWait("ops", "net", fast);
    assert.deepEqual(await all(sdk.network.virtualNetworks.listAll()), []);
    assert.deepEqual(await all(sdk.network.publicIPAddresses.listAll()), []);
    assert.deepEqual(await all(sdk.network.networkInterfaces.listAll()), []);
  });

  it("every served operation was made above", () => {
    const called = Object.keys(emu.calls.byOperation()).filter((op) => !["AsyncOperation_Get", "Location_Get", "OpenIdConnect"].includes(op));
    assert.deepEqual(new Set(called), new Set(SERVED));
  });
});
