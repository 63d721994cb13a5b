import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { armAction, linkedAccess } from "./rbac";
import { startAzureEmulator } from "./index";
import { armError, fast, lastError, rawRequest, sdkClients } from "./testing/clients";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";

describe("Azure RBAC in the emulator", () => {
  it("derives the action from the method and path", () => {
    const nsg = `${SUB}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg`;
    assert.equal(armAction("GET", nsg), "Microsoft.Network/networkSecurityGroups/read");
    assert.equal(armAction("PUT", `${nsg}/securityRules/r1?api-version=1`), "Microsoft.Network/networkSecurityGroups/securityRules/write");
    assert.equal(armAction("DELETE", `${nsg}/securityRules/r1`), "Microsoft.Network/networkSecurityGroups/securityRules/delete");
    assert.equal(armAction("POST", `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/start`), "Microsoft.Compute/virtualMachines/start/action");
    assert.equal(armAction("GET", `${SUB}/providers/Microsoft.Network/locations/westeurope/operations/abc`), "Microsoft.Network/locations/operations/read");
    assert.equal(armAction("GET", `${SUB}/providers/Microsoft.Authorization/permissions`), undefined, "anyone may list their own permissions");
  });

  it("finds the resources a write links to, once each, and not the resource's own children", () => {
    const fw = `${SUB}/resourceGroups/rg/providers/Microsoft.Network/azureFirewalls/fw`;
    const subnet = `${SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/AzureFirewallSubnet`;
    const pip = `${SUB}/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/fw-ip`;
    const body = {
      properties: {
        ipConfigurations: [
          { id: `${fw}/azureFirewallIpConfigurations/c1`, name: "c1", properties: { subnet: { id: subnet }, publicIPAddress: { id: pip } } },
          { name: "c2", properties: { publicIPAddress: { id: pip } } },
        ],
      },
    };
    assert.deepEqual(linkedAccess(fw, body), [
      { action: "Microsoft.Network/virtualNetworks/subnets/join/action", scope: subnet },
      { action: "Microsoft.Network/publicIPAddresses/join/action", scope: pip },
    ]);
  });

  it("refuses an action outside the caller's assignments with ARM's AuthorizationFailed, honouring scope, wildcards and notActions", async () => {
    const emu = await startAzureEmulator({ lroPolls: 0 });
    try {
      const vm = emu.seed.typicalVm({ resourceGroup: "app" });
      emu.seed.typicalVm({ resourceGroup: "other", name: "vm2" });
      emu.seed.principal("ana", { actions: ["Microsoft.Network/networkSecurityGroups/*"], notActions: ["Microsoft.Network/networkSecurityGroups/securityRules/delete"], scope: `${SUB}/resourceGroups/app` });
      // Operation status URLs are at subscription scope, so polling needs its own assignment there.
      emu.seed.principal("ana", { actions: ["Microsoft.Network/locations/operations/read"] });
      const ana = sdkClients(emu, { principal: "ana", maxRetries: 0 });
      const rule = { protocol: "Tcp", access: "Allow", direction: "Inbound", priority: 100, sourceAddressPrefix: "203.0.113.7", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22" } as const;
      await ana.network.securityRules.beginCreateOrUpdateAndWait("app", "vm1-nsg", "ssh", rule, fast);
      assert.equal((await ana.network.networkSecurityGroups.get("app", "vm1-nsg")).securityRules?.length, 1);

      const deleting = await armError(ana.network.securityRules.beginDeleteAndWait("app", "vm1-nsg", "ssh", fast));
      assert.equal(deleting.statusCode, 403);
      const oid = emu.claimsFor("ana").oid;
      assert.deepEqual(lastError(ana.exchanges), {
        code: "AuthorizationFailed",
        message: `The client 'ana@example.com' with object id '${oid}' does not have authorization to perform action 'Microsoft.Network/networkSecurityGroups/securityRules/delete' over scope '${vm.nicNsgId}/securityRules/ssh' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
        details: [],
      });
      const elsewhere = await armError(ana.network.networkSecurityGroups.get("other", "vm2-nsg"));
      assert.deepEqual([elsewhere.statusCode, elsewhere.code], [403, "AuthorizationFailed"], "the assignment is on another resource group");
      await armError(ana.network.networkSecurityGroups.listAll().next());
      assert.match(lastError(ana.exchanges).message, new RegExp(`perform action 'Microsoft.Network/networkSecurityGroups/read' over scope '${SUB}/providers/Microsoft.Network' or`), "a list is authorised at its parent's scope");
      const vmRead = await armError(ana.compute.virtualMachines.get("app", "vm1"));
      assert.equal(vmRead.code, "AuthorizationFailed", "no action matches");
      const missing = await armError(ana.network.networkSecurityGroups.get("app", "nope"));
      assert.equal(missing.code, "ResourceNotFound", "with the right, a missing resource is a 404");
      assert.deepEqual(emu.state.nsgRules("app", "vm1-nsg").map((r) => r.name), ["ssh"], "the refused delete changed nothing");

      const noRights = await rawRequest(emu, "GET", `${vm.nicNsgId}?api-version=2024-05-01`, { as: "nobody" });
      assert.equal(JSON.parse(noRights.body).error.code, "AuthorizationFailed");
      const own = await rawRequest(emu, "GET", `${SUB}/resourceGroups/app/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`, { as: "ana" });
      assert.equal(own.status, 200, "listing one's own permissions needs no right");
      assert.equal(JSON.parse(own.body).value[0].actions[0], "Microsoft.Network/networkSecurityGroups/*");

      emu.options.rbac = false;
      assert.equal((await rawRequest(emu, "GET", `${vm.nicNsgId}?api-version=2024-05-01`, { as: "nobody" })).status, 200, "rbac: false lets any valid token through");
    } finally {
      await emu.close();
    }
  });

  it("a firewall or NIC write needs the join actions of the subnet, public IP and NSG it references: LinkedAuthorizationFailed", async () => {
    const emu = await startAzureEmulator({ lroPolls: 0 });
    try {
      const vm = emu.seed.typicalVm({ resourceGroup: "app" });
      const fwSubnet = emu.seed.subnet("app", "app-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
      const pip = emu.seed.publicIp("app", "fw-ip");
      emu.seed.firewall("app", "fw", { subnet: fwSubnet, publicIp: "fw-ip" });
      const writer = ["Microsoft.Network/azureFirewalls/read", "Microsoft.Network/azureFirewalls/write", "Microsoft.Network/networkInterfaces/*", "Microsoft.Network/locations/operations/read"];
      emu.seed.principal("fw-writer", { actions: writer });
      const clients = sdkClients(emu, { principal: "fw-writer", maxRetries: 0 });
      const fw = await clients.network.azureFirewalls.get("app", "fw");
      const oid = emu.claimsFor("fw-writer").oid;
      const fwId = fw.id!;

      const refused = await armError(clients.network.azureFirewalls.beginCreateOrUpdateAndWait("app", "fw", fw, fast));
      assert.equal(refused.statusCode, 403);
      assert.deepEqual(lastError(clients.exchanges), {
        code: "LinkedAuthorizationFailed",
        message: `The client 'fw-writer@example.com' with object id '${oid}' has permission to perform action 'Microsoft.Network/azureFirewalls/write' on scope '${fwId}'; however, it does not have permission to perform action(s) 'Microsoft.Network/virtualNetworks/subnets/join/action,Microsoft.Network/publicIPAddresses/join/action' on the linked scope(s) '${fwSubnet},${pip}' (respectively) or the linked scope(s) are invalid.`,
        details: [],
      });

      emu.seed.principal("fw-writer", { actions: ["Microsoft.Network/virtualNetworks/subnets/join/action"] });
      await armError(clients.network.azureFirewalls.beginCreateOrUpdateAndWait("app", "fw", fw, fast));
      assert.match(lastError(clients.exchanges).message, /does not have permission to perform action 'Microsoft\.Network\/publicIPAddresses\/join\/action' on the linked scope\(s\) '[^']*fw-ip' or the linked/);
      emu.seed.principal("fw-writer", { actions: ["Microsoft.Network/publicIPAddresses/join/action"] });
      await clients.network.azureFirewalls.beginCreateOrUpdateAndWait("app", "fw", fw, fast);

      const nic = await clients.network.networkInterfaces.get("app", "vm1-nic");
      await armError(clients.network.networkInterfaces.beginCreateOrUpdateAndWait("app", "vm1-nic", nic, fast));
      const nicError = lastError(clients.exchanges);
      assert.equal(nicError.code, "LinkedAuthorizationFailed");
      assert.ok(nicError.message.includes(`'Microsoft.Network/networkSecurityGroups/join/action' on the linked scope(s) '${vm.nicNsgId}'`), nicError.message);
    } finally {
      await emu.close();
    }
  });
});
