import { test } from "node:test";
import assert from "node:assert/strict";
import { approvalsOf, autoApproveMatch, castVote, checkBreakGlass, expireHeld, holdGrant, routeRequest } from "./approval";
import { restoreDueAt } from "./grant";
import { PolicyInput, approvalsRequiredFor, parsePolicy } from "./policy";
import { checkRequest } from "./request";
import { assertJitError } from "./testing/assert";
import { AZURE_VM, NOW, azurePolicyInput, sampleGrant } from "./testing/fixtures";

const APPROVERS = ["bo@contoso.com", "cy@contoso.com", "di@contoso.com"];
const MINUTE = 60_000;

function policy(extra: Partial<PolicyInput> = {}, port22: Record<string, unknown> = {}) {
  const input = azurePolicyInput();
  input.virtualMachines[0].ports[0] = { ...input.virtualMachines[0].ports[0], ...port22 };
  return parsePolicy({ ...input, approvers: APPROVERS, ...extra });
}

function request(p = policy(), options: { duration?: string; source?: string; port?: number; justification?: string } = {}) {
  return checkRequest(
    p,
    {
      virtualMachines: [{ id: AZURE_VM, ports: [{ number: options.port ?? 22, duration: options.duration ?? "PT1H", allowedSourceAddressPrefix: options.source ?? "203.0.113.7" }] }],
      requester: "ana@contoso.com",
      ...(options.justification ? { justification: options.justification } : {}),
    },
    { now: NOW },
  );
}

const held = (required = 2) => holdGrant(sampleGrant({ policy: policy() }), required, new Date(NOW + 60 * MINUTE).toISOString());

test("policy: approval fields validate, name the key, and approvalsRequired needs approvers", () => {
  const p = policy({ approvalsRequired: 2, approvalTimeout: "PT30M", autoApprove: [{ sourceWithin: ["203.0.113.0/28"], maxDuration: "PT15M" }], breakGlass: { principals: ["oncall@contoso.com"] } });
  assert.equal(p.breakGlass?.maxRequestAccessDuration, "PT1H", "break-glass maximum defaults to PT1H");
  const bad = (extra: Record<string, unknown>, field: string, message: RegExp, port22: Record<string, unknown> = {}) => {
    const input = { ...azurePolicyInput(), ...extra };
    input.virtualMachines[0].ports[0] = { ...input.virtualMachines[0].ports[0], ...port22 };
    assertJitError(() => parsePolicy(input), "InvalidInput", field, message);
  };
  bad({ approvalsRequired: 1 }, "approvalsRequired", /needs approvers/);
  bad({}, "virtualMachines[0].ports[0].approvalsRequired", /needs approvers/, { approvalsRequired: 2 });
  bad({ approvers: APPROVERS, approvalsRequired: 11 }, "approvalsRequired", /from 0 to 10/);
  bad({ approvers: APPROVERS, approvalsRequired: 1.5 }, "approvalsRequired", /whole number/);
  bad({ approvers: APPROVERS, approvalTimeout: "P30D" }, "approvalTimeout", /outside the allowed range PT1M to P7D/);
  bad({ approvers: APPROVERS, autoApprove: [{}] }, "autoApprove[0]", /give sourceWithin, maxDuration or both/);
  bad({ approvers: APPROVERS, autoApprove: [{ sourceWithin: ["10.0.0.1/8"] }] }, "autoApprove[0].sourceWithin[0]", /host bits/);
  bad({ breakGlass: { principals: ["on call"] } }, "breakGlass.principals[0]", /"on call" is not an Azure object id/);
  bad({ breakGlass: { principals: ["oncall@contoso.com"], maxRequestAccessDuration: "P2D" } }, "breakGlass.maxRequestAccessDuration", /PT5M to P1D/);
});

test("approvalsRequiredFor: default 1 with approvers and 0 without; a port's own count wins; the strictest port decides", () => {
  const ssh = [{ vmId: AZURE_VM, number: 22 }];
  const both = [...ssh, { vmId: AZURE_VM, number: 3389 }];
  assert.equal(approvalsRequiredFor(parsePolicy(azurePolicyInput()), both), 0);
  assert.equal(approvalsRequiredFor(policy(), ssh), 1);
  assert.equal(approvalsRequiredFor(policy({ approvalsRequired: 2 }), ssh), 2);
  assert.equal(approvalsRequiredFor(policy({ approvalsRequired: 2 }, { approvalsRequired: 0 }), ssh), 0);
  assert.equal(approvalsRequiredFor(policy({ approvalsRequired: 2 }, { approvalsRequired: 0 }), both), 2, "RDP still needs the policy's 2");
  assert.equal(approvalsRequiredFor(policy({ approvalsRequired: 0 }, { approvalsRequired: 3 }), both), 3);
});

test("routeRequest: held with the timeout from the request's time, or open at once (no approval, auto-approve, break-glass)", () => {
  assert.deepEqual(routeRequest(policy({ approvalsRequired: 2 }), request()), { kind: "hold", required: 2, expiresAt: "2030-01-01T13:00:00.000Z" });
  assert.deepEqual(routeRequest(policy({ approvalTimeout: "PT10M" }), request()), { kind: "hold", required: 1, expiresAt: "2030-01-01T12:10:00.000Z" });
  assert.deepEqual(routeRequest(parsePolicy(azurePolicyInput()), request(parsePolicy(azurePolicyInput()))), { kind: "open" });
  assert.deepEqual(routeRequest(policy(), request(), { breakGlass: true }), { kind: "open", breakGlass: true });
  const auto = policy({ autoApprove: [{ maxDuration: "PT15M" }, { sourceWithin: ["203.0.113.0/28"], maxDuration: "PT30M" }] });
  assert.deepEqual(routeRequest(auto, request(auto, { duration: "PT15M" })), { kind: "open", autoApproved: 0 });
  assert.deepEqual(routeRequest(auto, request(auto, { duration: "PT30M" })), { kind: "open", autoApproved: 1 });
  assert.equal(routeRequest(auto, request(auto, { duration: "PT30M", source: "203.0.113.200" })).kind, "hold", "outside the /28");
  assert.equal(routeRequest(auto, request(auto, { duration: "PT31M" })).kind, "hold", "longer than either rule");
});

test("autoApproveMatch: every port must match one rule; '*' is inside only '*'; a /24 request is not inside a /28", () => {
  const p = policy({ autoApprove: [{ sourceWithin: ["203.0.113.0/24"] }] });
  assert.equal(autoApproveMatch(p, request(p, { source: "203.0.113.0/24" })), 0);
  assert.equal(autoApproveMatch(p, request(p, { source: "203.0.113.9" })), 0);
  const narrow = policy({ autoApprove: [{ sourceWithin: ["203.0.113.0/28"] }] });
  assert.equal(autoApproveMatch(narrow, request(narrow, { source: "203.0.113.0/24" })), undefined);
  const anyRdp = policy({ autoApprove: [{ sourceWithin: ["203.0.113.0/24"] }] });
  assert.equal(autoApproveMatch(anyRdp, request(anyRdp, { port: 3389, source: "*" })), undefined);
  const star = policy({ autoApprove: [{ sourceWithin: ["*"] }] });
  assert.equal(autoApproveMatch(star, request(star, { port: 3389, source: "*" })), 0);
});

test("checkBreakGlass: the policy must have it, the requester be an emergency principal, a justification given, the duration within its maximum", () => {
  const matches = (id: string) => (listed: string) => listed === id;
  const p = policy({ breakGlass: { principals: ["ana@contoso.com"], maxRequestAccessDuration: "PT30M" } });
  checkBreakGlass(p, request(p, { duration: "PT30M", justification: "INC-9 outage" }), matches("ana@contoso.com"));
  assertJitError(() => checkBreakGlass(policy(), request(), matches("ana@contoso.com")), "RequestNotAllowed", "breakGlass", /has no break-glass access/);
  assertJitError(() => checkBreakGlass(p, request(p, { justification: "x" }), matches("eve@contoso.com")), "Unauthorized", "breakGlass", /not among the emergency principals/);
  assertJitError(() => checkBreakGlass(p, request(p, { duration: "PT30M" }), matches("ana@contoso.com")), "RequestNotAllowed", "justification", /needs a justification/);
  assertJitError(() => checkBreakGlass(p, request(p, { duration: "PT31M", justification: "INC-9" }), matches("ana@contoso.com")), "RequestNotAllowed", "virtualMachines[0].ports[0].duration", /at most PT30M/);
});

test("castVote: 2 of 3 opens only at the second distinct approver, and the window starts then with the length asked", () => {
  const grant = held(2);
  const at = NOW + 20 * MINUTE;
  const first = castVote(grant, { approver: "bo@contoso.com", decision: "approve" }, { isApprover: true, now: at });
  assert.equal(first.outcome, "recorded");
  assert.equal(first.grant.state, "awaiting-approval");
  const again = castVote(first.grant, { approver: "BO@contoso.com", decision: "approve" }, { isApprover: true, now: at + MINUTE });
  assert.equal(again.outcome, "duplicate", "the same approver twice counts once");
  assert.equal(again.grant, first.grant);
  const second = castVote(first.grant, { approver: "cy@contoso.com", name: "Cy", decision: "approve" }, { isApprover: true, now: at + 5 * MINUTE });
  assert.equal(second.outcome, "approved");
  assert.equal(second.grant.state, "applying");
  assert.deepEqual(approvalsOf(second.grant), ["bo@contoso.com", "cy@contoso.com"]);
  assert.equal(second.grant.approval?.decidedAt, new Date(at + 5 * MINUTE).toISOString());
  assert.equal(second.grant.endTimeUtc, new Date(at + 5 * MINUTE + 60 * MINUTE).toISOString(), "an hour from the last approval");
  assert.equal(second.grant.virtualMachines[0].ports[0].endTimeUtc, second.grant.endTimeUtc);
  assert.equal(second.grant.approval?.votes[1].name, "Cy");
});

test("castVote refusals change nothing: own request, not an approver, not held, timed out; a deny ends it at once", () => {
  const grant = held(2);
  const at = NOW + MINUTE;
  assertJitError(() => castVote(grant, { approver: "ANA@contoso.com", decision: "approve" }, { isApprover: true, now: at }), "Unauthorized", "grant", /requested grant .* and may not approve it/);
  assertJitError(() => castVote(grant, { approver: "eve@contoso.com", decision: "approve" }, { isApprover: false, now: at }), "Unauthorized", "grant", /not among the approvers of policy "web"/);
  assertJitError(() => castVote(sampleGrant(), { approver: "bo@contoso.com", decision: "approve" }, { isApprover: true, now: at }), "Conflict", "grant", /is pending, not awaiting approval/);
  assertJitError(() => castVote(grant, { approver: "bo@contoso.com", decision: "approve" }, { isApprover: true, now: NOW + 60 * MINUTE }), "RequestNotAllowed", "grant", /has expired/);
  const denied = castVote(grant, { approver: "di@contoso.com", decision: "deny", reason: "not in a change window" }, { isApprover: true, now: at });
  assert.equal(denied.outcome, "denied");
  assert.equal(denied.grant.state, "denied");
  assert.equal(denied.grant.reason, "Denied");
  assert.equal(denied.grant.approval?.votes[0].reason, "not in a change window");
  assert.equal(restoreDueAt(denied.grant), undefined, "nothing to restore");
  assertJitError(() => castVote(denied.grant, { approver: "bo@contoso.com", decision: "approve" }, { isApprover: true, now: at }), "Conflict", "grant", /is denied \(Denied\)/);
});

test("a held grant is due at its timeout, and expires with reason ApprovalExpired", () => {
  const grant = held(1);
  assert.equal(restoreDueAt(grant), NOW + 60 * MINUTE);
  const expired = expireHeld(grant);
  assert.equal(expired.state, "expired");
  assert.equal(expired.reason, "ApprovalExpired");
});
