import { test } from "node:test";
import assert from "node:assert/strict";
import { startAzureEmulator } from "../emulator/azure";
import { actionMatches, callerMissingPermissions, missingActions } from "./authorize";
import { AzureClients } from "./clients";
import { resolveConnection } from "./connection";

const INITIATE = "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";
const VM_READ = "Microsoft.Compute/virtualMachines/read";

test("actions match ARM's way: case-insensitively, with * for any run of characters", () => {
  assert.ok(actionMatches("*", INITIATE));
  assert.ok(actionMatches("microsoft.security/*", INITIATE));
  assert.ok(actionMatches("Microsoft.Security/locations/jitNetworkAccessPolicies/*/action", INITIATE));
  assert.ok(actionMatches("*/read", VM_READ));
  assert.ok(actionMatches("Microsoft.Compute/*/read", VM_READ));
  assert.ok(!actionMatches("Microsoft.Compute/virtualMachines/write", VM_READ));
  assert.ok(!actionMatches("Microsoft.Compute/virtualMachines", VM_READ), "a pattern matches the whole action, not a prefix");
  assert.ok(!actionMatches("Microsoft.Compute/virtualMachines/read.", "Microsoft.Compute/virtualMachines/readx"), "dots are literal");
});

test("an action is allowed when one block grants it and that same block does not take it away", () => {
  const owner = [{ actions: ["*"], notActions: [] }];
  assert.deepEqual(missingActions(owner, [INITIATE, VM_READ]), []);
  const contributor = [{ actions: ["*"], notActions: ["Microsoft.Security/*"] }];
  assert.deepEqual(missingActions(contributor, [INITIATE, VM_READ]), [INITIATE]);
  const twoRoles = [...contributor, { actions: [INITIATE], notActions: [] }];
  assert.deepEqual(missingActions(twoRoles, [INITIATE, VM_READ]), [], "another assignment grants what one role's notActions leave out");
  assert.deepEqual(missingActions([{ actions: ["Microsoft.Compute/*/read"] }], [INITIATE, VM_READ]), [INITIATE]);
  assert.deepEqual(missingActions([], [VM_READ]), [VM_READ]);
});

test("several VMs of one resource group: the group's permissions read once, a VM the group leaves short asked about on its own", async () => {
  const emu = await startAzureEmulator();
  try {
    const vms = [1, 2, 3].map((i) => emu.seed.typicalVm({ resourceGroup: "team", name: `vm${i}` }).vmId);
    const group = `/subscriptions/${emu.subscriptionId}/resourceGroups/team`;
    emu.seed.principal("alice", { scope: group, actions: [VM_READ] });
    emu.seed.principal("alice", { scope: vms[1], actions: [INITIATE] });
    const clients = new AzureClients(resolveConnection({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor("alice") }));
    const mark = emu.calls.mark();
    const missing = await callerMissingPermissions(clients, vms, [VM_READ, INITIATE]);
    assert.deepEqual([...missing.values()], [[INITIATE], [], [INITIATE]], "initiate only where assigned, read everywhere");
    assert.deepEqual(emu.calls.byOperation({ since: mark }), { Permissions_ListForResourceGroup: 1, Permissions_ListForResource: 3 });

    emu.seed.principal("bob", { scope: group, actions: [VM_READ, INITIATE] });
    const bob = new AzureClients(resolveConnection({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor("bob") }));
    const since = emu.calls.mark();
    assert.deepEqual([...(await callerMissingPermissions(bob, vms, [VM_READ, INITIATE])).values()], [[], [], []]);
    assert.deepEqual(emu.calls.byOperation({ since }), { Permissions_ListForResourceGroup: 1 }, "allowed on the group: no VM asked about");
  } finally {
    await emu.close();
  }
});
