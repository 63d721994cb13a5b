import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AzureEmulator, startAzureEmulator } from "./index";
import { fast, rawRequest, sdkClients } from "./testing/clients";

/**
 * Behaviours of real ARM that the product must cope with, each checked against what the review of
 * the emulator cites: the REST specification and its examples (specs/azure), and the Azure SDKs'
 * recorded traffic.
 */
describe("the Azure emulator answers as NRP does", () => {
  let emu: AzureEmulator;
  beforeEach(async () => {
    emu = await startAzureEmulator();
    emu.seed.resourceGroup("rg");
  });
  afterEach(() => emu.close());

  it("gives the NSG (and so its rules) a new ETag when a write's operation completes, not only when it is accepted", async () => {
    // azure-sdk-for-python test_network_security_groups recording: the rule PUT answers etag
    // 21e4b4b6… with provisioningState Updating; the final GET, once Succeeded, shows c0406165….
    emu.seed.nsg("rg", "nsg");
    const sdk = sdkClients(emu);
    const written = await sdk.network.securityRules.createOrUpdate(
      "rg",
      "nsg",
      "r1",
      { protocol: "Tcp", access: "Allow", direction: "Inbound", priority: 100, sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22" },
      fast,
    );
    const put = sdk.exchanges.find((e) => e.method === "PUT");
    const accepted = JSON.parse(put?.responseBody ?? "{}") as { etag?: string; properties?: { provisioningState?: string } };
    assert.equal(accepted.properties?.provisioningState, "Updating");
    assert.notEqual(accepted.etag, written.etag, "the ETag of the accepted write is not the one it ends with");
    const nsg = await sdk.network.networkSecurityGroups.get("rg", "nsg");
    assert.equal(nsg.etag, written.etag);
    assert.equal(nsg.securityRules?.[0].etag, nsg.etag);
  });

  it("answers flushConnection when it was set, and by default (false) from api-version 2024-05-01, as recorded and documented", async () => {
    emu.seed.nsg("rg", "plain");
    emu.seed.nsg("rg", "flushing", { flushConnection: true });
    const get = async (name: string, apiVersion: string) => {
      const res = await rawRequest(emu, "GET", `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/${name}?api-version=${apiVersion}`, { as: "admin" });
      assert.equal(res.status, 200, res.body);
      return (JSON.parse(res.body) as { properties: Record<string, unknown> }).properties;
    };
    emu.seed.principal("admin", { actions: ["*"] });
    // NetworkSecurityGroupCreate.json (2024-05-01): a PUT without the field is answered `"flushConnection": false`.
    assert.equal((await get("plain", "2024-05-01")).flushConnection, false);
    assert.equal((await get("flushing", "2024-05-01")).flushConnection, true);
    assert.equal("flushConnection" in (await get("plain", "2021-08-01")), false, "api-versions that do not define it do not answer it");
    // The Go SDK's recorded NSG GET at 2022-07-01 has no flushConnection for an NSG that never set it.
    assert.equal("flushConnection" in (await get("plain", "2022-07-01")), false);
    assert.equal((await get("flushing", "2021-08-01")).flushConnection, true);
    // The SDK reads it through.
    assert.equal((await sdkClients(emu).network.networkSecurityGroups.get("rg", "flushing")).flushConnection, true);
  });

  it("shows a virtual network's peerings with their state and the remote's address space, as the SDK's VirtualNetworkPeering reads them", async () => {
    emu.seed.vnet("rg", "hub", { addressPrefixes: ["10.100.0.0/16"] });
    emu.seed.vnet("rg", "spoke", { addressPrefixes: ["10.1.0.0/16", "100.70.0.0/16"] });
    emu.seed.vnet("rg", "lonely", { addressPrefixes: ["10.9.0.0/16"] });
    emu.seed.peering("rg", "hub", "spoke");
    emu.seed.peering("rg", "hub", "lonely", { oneSided: true });
    const sdk = sdkClients(emu);
    const hub = await sdk.network.virtualNetworks.get("rg", "hub");
    const byName = Object.fromEntries((hub.virtualNetworkPeerings ?? []).map((p) => [p.name, p]));
    assert.equal(byName["peer-spoke"]?.peeringState, "Connected");
    assert.deepEqual(byName["peer-spoke"]?.remoteAddressSpace?.addressPrefixes, ["10.1.0.0/16", "100.70.0.0/16"]);
    assert.deepEqual(byName["peer-spoke"]?.remoteVirtualNetworkAddressSpace?.addressPrefixes, ["10.1.0.0/16", "100.70.0.0/16"]);
    assert.equal(byName["peer-spoke"]?.allowVirtualNetworkAccess, true);
    assert.equal(byName["peer-lonely"]?.peeringState, "Initiated", "until the remote peers back");
    const one = await sdk.network.virtualNetworkPeerings.get("rg", "spoke", "peer-hub");
    assert.equal(one.peeringState, "Connected");
    assert.equal(one.remoteVirtualNetwork?.id, hub.id);
    // A VNet PUT (address space, subnets) keeps the peerings, which have their own API.
    await sdk.network.virtualNetworks.createOrUpdate("rg", "hub", { location: hub.location, addressSpace: { addressPrefixes: ["10.100.0.0/16", "10.101.0.0/16"] }, subnets: [] }, fast);
    const after = await sdk.network.virtualNetworks.get("rg", "spoke");
    assert.deepEqual(after.virtualNetworkPeerings?.[0].remoteAddressSpace?.addressPrefixes, ["10.100.0.0/16", "10.101.0.0/16"]);
  });

  it("lists the network manager's security admin rules in effect on a virtual network, paged by skipToken, as the SDK's listNetworkManagerEffectiveSecurityAdminRules reads them", async () => {
    emu.options.pageSize = 1;
    emu.seed.vnet("rg", "vnet", { addressPrefixes: ["10.0.0.0/16"] });
    emu.seed.vnet("rg", "other", { addressPrefixes: ["10.5.0.0/16"] });
    emu.seed.adminRule("rg", ["vnet"], { name: "always-ssh", access: "AlwaysAllow", priority: 10, sources: ["Internet"], destinationPortRanges: ["22"] });
    emu.seed.adminRule("rg", ["vnet", "other"], { name: "deny-rdp", access: "Deny", priority: 20, sources: ["*"], destinationPortRanges: ["3389"] });
    const sdk = sdkClients(emu);
    const first = await sdk.network.listNetworkManagerEffectiveSecurityAdminRules("rg", "vnet", {});
    assert.equal(first.value?.length, 1);
    assert.ok(first.skipToken, "more to come");
    const rule = first.value![0] as { kind: string; access?: string; priority?: number; sources?: Array<{ addressPrefix?: string; addressPrefixType?: string }>; destinationPortRanges?: string[]; direction?: string; id?: string };
    assert.equal(rule.kind, "Custom");
    assert.deepEqual([rule.access, rule.priority, rule.direction], ["AlwaysAllow", 10, "Inbound"]);
    assert.deepEqual(rule.sources, [{ addressPrefix: "Internet", addressPrefixType: "ServiceTag" }]);
    assert.deepEqual(rule.destinationPortRanges, ["22"]);
    assert.match(rule.id ?? "", /\/networkManagers\/avnm\/securityAdminConfigurations\/.+\/rules\/always-ssh$/);
    const second = await sdk.network.listNetworkManagerEffectiveSecurityAdminRules("rg", "vnet", { skipToken: first.skipToken });
    assert.deepEqual(second.value?.map((r) => (r as { access?: string }).access), ["Deny"]);
    assert.equal(second.skipToken, undefined);
    const call = sdk.exchanges.find((e) => e.url.includes("listNetworkManagerEffectiveSecurityAdminRules"));
    assert.equal(call?.method, "POST");
    // Only the rules deployed to a network apply to it.
    assert.equal((await sdk.network.listNetworkManagerEffectiveSecurityAdminRules("rg", "other", {})).value?.length, 1);
  });
});
