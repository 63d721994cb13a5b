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

  it("answers flushConnection from api-version 2022-01-01 on (false unless set), and before that only when it was set", async () => {
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
    assert.equal((await get("flushing", "2021-08-01")).flushConnection, true);
    // The SDK reads it through.
    assert.equal((await sdkClients(emu).network.networkSecurityGroups.get("rg", "flushing")).flushConnection, true);
  });
});
