import { test } from "node:test";
import assert from "node:assert/strict";
import { JitError } from "../model";
import { armError, cloudError, isLostRace, isNotFound } from "./errors";

const rest = (statusCode: number, code: string, message = "m") => Object.assign(new Error(message), { name: "RestError", statusCode, code });

test("races are told apart from refusals, from a refused request or from a failed long-running operation", () => {
  for (const err of [rest(409, "AnotherOperationInProgress"), rest(412, "PreconditionFailed"), rest(429, "RetryableError"), rest(400, "SecurityRuleConflict")]) assert.ok(isLostRace(err), armError(err).code);
  assert.ok(isLostRace(new Error("The long-running operation has failed. AnotherOperationInProgress. Another operation is in progress.")));
  assert.ok(isLostRace(new Error("The long-running operation has failed. InternalServerError. Operation was canceledAndSupersededDueToAnotherOperation.")));
  assert.ok(!isLostRace(rest(400, "SecurityRuleInvalidPriority")));
  // A management lock is a 409 too, and no race (azure-cli#16958).
  assert.ok(!isLostRace(rest(409, "ScopeLocked", "The scope '/x' cannot perform delete operation because following scope(s) are locked: '/rg'.")));
  // What @azure/core-lro throws when NRP ends a superseded operation with status Canceled.
  assert.ok(isLostRace(new Error("Operation was canceled")));
  assert.ok(!isLostRace(new Error("The long-running operation has failed. InternalServerError. boom")));
  assert.ok(!isLostRace(new Error("socket hang up")));
  assert.ok(isNotFound(rest(404, "ResourceNotFound")));
  assert.deepEqual(armError(new Error("The long-running operation has failed. Conflict.Detail. x")), { code: "Conflict.Detail", message: "The long-running operation has failed. Conflict.Detail. x" });
});

test("SDK errors become JitErrors that keep ARM's status and code, and the original as cause", () => {
  const err = rest(400, "SecurityRuleInvalidAddressPrefix", "Security rule has invalid Address prefix.");
  const wrapped = cloudError(err, "putting rule r in NSG n");
  assert.equal(wrapped.code, "CloudError");
  assert.equal(wrapped.message, "putting rule r in NSG n failed: HTTP 400 SecurityRuleInvalidAddressPrefix: Security rule has invalid Address prefix.");
  assert.equal(wrapped.cause, err);
  assert.equal(cloudError(rest(400, "SecurityRuleCountLimitReached"), "x").code, "CapacityExceeded");
  assert.equal(cloudError(rest(400, "SecurityRuleAddressesOrPortsPerSecurityGroupLimitReached"), "x").code, "CapacityExceeded");
  const mine = new JitError("Conflict", "already one of ours");
  assert.equal(cloudError(mine, "x"), mine);
});
