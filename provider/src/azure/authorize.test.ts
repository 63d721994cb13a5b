import { test } from "node:test";
import assert from "node:assert/strict";
import { actionMatches, missingActions } from "./authorize";

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
