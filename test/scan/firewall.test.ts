// The scan counts a classic Azure Firewall in a VM's network as a place for JIT rules, as Defender
// does, read through the real SDK clients from the local Azure endpoint; one under a Firewall
// Policy does not count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { scan } from "../../provider/src/scan";

test("a VM without NSGs behind a classic firewall is applicable; behind a policy-managed one it is not", async () => {
  const az = await startAzureEmulator({ lroPolls: 0 });
  try {
    for (const [rg, firewallPolicy] of [["classic", undefined], ["managed", `/subscriptions/${az.subscriptionId}/resourceGroups/managed/providers/Microsoft.Network/firewallPolicies/central`]] as const) {
      az.seed.typicalVm({ resourceGroup: rg, name: "vm1", subnetNsg: false, nicNsg: false, publicIp: false });
      const subnet = az.seed.subnet(rg, `${rg}-vnet`, "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
      az.seed.publicIp(rg, "fw-ip");
      az.seed.firewall(rg, "fw1", { subnet, publicIp: "fw-ip", ...(firewallPolicy ? { firewallPolicy } : {}) });
    }
    const report = await scan({ policies: [], azure: { subscriptionId: az.subscriptionId, connection: { endpoint: az.endpoint, ca: az.clientOptions.tlsOptions.ca, credential: az.credential as never } } });
    const byGroup = Object.fromEntries(report.results.map((r) => [r.group, r]));
    assert.equal(byGroup.classic.verdict, "Unhealthy");
    assert.match(byGroup.classic.reason, /only Azure Firewall fw1/);
    assert.equal(byGroup.managed.verdict, "NotApplicable");
    assert.match(byGroup.managed.reason, /no classic Azure Firewall in its network/);
  } finally {
    await az.close();
  }
});
