import { parsePrefix, prefixContains } from "./address";
import { DEFAULT_APPROVAL_TIMEOUT, DEFAULT_BREAK_GLASS_DURATION, Policy, approvalsRequiredFor } from "./policy";
import { parseDuration } from "./duration";
import { JitError } from "./errors";
import { ApprovalVote, Grant, parseGrant, transition } from "./grant";
import type { CheckedRequest } from "./request";
import { epochMs, utc } from "./time";

/**
 * The pure decisions of approvals: whether a request must wait, whether a low-risk rule lets it
 * through, who may vote, and what a vote does to a held grant. No I/O here: `access/approvals.ts`
 * reads, decides with these, and writes by compare-and-swap.
 */

/** How a checked request proceeds: at once (no approval needed, auto-approved, or break-glass) or held for `required` approvals. */
export type ApprovalRoute =
  | { kind: "open"; autoApproved?: number; breakGlass?: true }
  | { kind: "hold"; required: number; expiresAt: string };

function portsOf(request: Pick<CheckedRequest, "virtualMachines">) {
  return request.virtualMachines.flatMap((vm) => vm.ports.map((p) => ({ vmId: vm.id, ...p })));
}

/**
 * The index of the first `autoApprove` rule that every requested port satisfies (its source inside
 * one of the rule's prefixes, its length at most the rule's `maxDuration`), or undefined.
 */
export function autoApproveMatch(policy: Policy, request: Pick<CheckedRequest, "virtualMachines" | "startTimeUtc">): number | undefined {
  const start = epochMs(request.startTimeUtc);
  const ports = portsOf(request);
  const index = (policy.autoApprove ?? []).findIndex((rule) =>
    ports.every((p) => {
      const source = parsePrefix(p.sourceAddressPrefix);
      const inside = rule.sourceWithin === undefined || rule.sourceWithin.some((prefix) => prefixContains(parsePrefix(prefix), source));
      const shortEnough = rule.maxDuration === undefined || epochMs(p.endTimeUtc) - start <= parseDuration(rule.maxDuration);
      return inside && shortEnough;
    }),
  );
  return index < 0 ? undefined : index;
}

/**
 * Whether a request opens now or waits. Break-glass (already checked by `checkBreakGlass`) and a
 * matching auto-approve rule open at once; otherwise the strictest port decides how many approvals,
 * and the policy's `approvalTimeout` (else `defaultTimeout`, else PT1H) how long they may take.
 */
export function routeRequest(policy: Policy, request: CheckedRequest, options: { breakGlass?: boolean; defaultTimeout?: string } = {}): ApprovalRoute {
  if (options.breakGlass) return { kind: "open", breakGlass: true };
  const required = approvalsRequiredFor(policy, portsOf(request));
  if (required === 0) return { kind: "open" };
  const autoApproved = autoApproveMatch(policy, request);
  if (autoApproved !== undefined) return { kind: "open", autoApproved };
  const expiresAt = utc(epochMs(request.startTimeUtc) + parseDuration(policy.approvalTimeout ?? options.defaultTimeout ?? DEFAULT_APPROVAL_TIMEOUT));
  return { kind: "hold", required, expiresAt };
}

/**
 * Refuses a break-glass request unless the policy has break-glass, the requester is one of its
 * emergency principals (`isEmergencyPrincipal` matches as the cloud spells identities), a
 * justification is given, and no port is asked for longer than the break-glass maximum.
 */
export function checkBreakGlass(policy: Policy, request: CheckedRequest, isEmergencyPrincipal: (listed: string) => boolean): void {
  const glass = policy.breakGlass;
  if (!glass) throw new JitError("RequestNotAllowed", `policy "${policy.name}" has no break-glass access`, { field: "breakGlass" });
  if (!glass.principals.some(isEmergencyPrincipal)) {
    throw new JitError("Unauthorized", `${request.requester ?? "the caller"} is not among the emergency principals of policy "${policy.name}"`, { field: "breakGlass" });
  }
  if (!request.justification?.trim()) throw new JitError("RequestNotAllowed", "break-glass access needs a justification: say what the emergency is", { field: "justification" });
  const max = parseDuration(glass.maxRequestAccessDuration ?? DEFAULT_BREAK_GLASS_DURATION);
  const start = epochMs(request.startTimeUtc);
  request.virtualMachines.forEach((vm, i) =>
    vm.ports.forEach((p, j) => {
      if (epochMs(p.endTimeUtc) - start > max) {
        throw new JitError("RequestNotAllowed", `break-glass access lasts at most ${glass.maxRequestAccessDuration} on policy "${policy.name}"`, {
          field: `virtualMachines[${i}].ports[${j}].duration`,
        });
      }
    }),
  );
}

/** A new grant held for approval: nothing will change in the cloud until it is approved. */
export function holdGrant(grant: Grant, required: number, expiresAt: string): Grant {
  return parseGrant({ ...grant, state: "awaiting-approval", approval: { required, expiresAt, votes: [] } });
}

export interface Vote {
  approver: string;
  name?: string;
  decision: ApprovalVote["decision"];
  reason?: string;
}

export type VoteOutcome =
  /** The vote was counted; more approvals are needed. */
  | "recorded"
  /** This approver had already approved: counted once. */
  | "duplicate"
  /** The last approval needed: the grant is `applying`, its window starting now. */
  | "approved"
  | "denied";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Distinct approvers who approved. */
export function approvalsOf(grant: Grant): string[] {
  const seen = new Set<string>();
  for (const v of grant.approval?.votes ?? []) if (v.decision === "approve") seen.add(v.approver.toLowerCase());
  return [...seen];
}

/**
 * What a vote does to a held grant, at `now`. Refused (nothing changes): a grant not awaiting
 * approval (`Conflict`), past its timeout (`RequestNotAllowed`), the requester's own vote and a
 * voter who is not an approver (`Unauthorized`). An approver who approved before is counted once.
 * The last approval needed starts the access window: each port keeps the length it was asked for,
 * counted from now, so no port ever gets more than the policy's maximum.
 */
export function castVote(grant: Grant, vote: Vote, context: { isApprover: boolean; now: Date | number }): { grant: Grant; outcome: VoteOutcome } {
  const now = epochMs(context.now);
  const approval = grant.approval;
  if (grant.state !== "awaiting-approval" || !approval) {
    throw new JitError("Conflict", `grant ${grant.id} is ${grant.state}${grant.reason ? ` (${grant.reason})` : ""}, not awaiting approval`, { field: "grant" });
  }
  if (now >= epochMs(approval.expiresAt)) {
    throw new JitError("RequestNotAllowed", `grant ${grant.id} waited for approval until ${approval.expiresAt} and has expired; ask again`, { field: "grant" });
  }
  if (same(vote.approver, grant.requester)) {
    throw new JitError("Unauthorized", `${vote.name ?? vote.approver} requested grant ${grant.id} and may not ${vote.decision} it; another approver must`, { field: "grant" });
  }
  if (!context.isApprover) {
    throw new JitError("Unauthorized", `${vote.name ?? vote.approver} is not among the approvers of policy "${grant.policy}"`, { field: "grant" });
  }
  if (vote.decision === "approve" && approvalsOf(grant).includes(vote.approver.toLowerCase())) return { grant, outcome: "duplicate" };
  const time = utc(now);
  const cast: ApprovalVote = {
    approver: vote.approver,
    ...(vote.name && vote.name !== vote.approver ? { name: vote.name } : {}),
    decision: vote.decision,
    time,
    ...(vote.reason ? { reason: vote.reason } : {}),
  };
  const voted: Grant = { ...grant, approval: { ...approval, votes: [...approval.votes, cast] } };
  if (vote.decision === "deny") {
    return { grant: transition({ ...voted, approval: { ...voted.approval!, decidedAt: time } }, "denied", "Denied"), outcome: "denied" };
  }
  if (approvalsOf(voted).length < approval.required) return { grant: parseGrant(voted), outcome: "recorded" };
  return { grant: transition(startWindow({ ...voted, approval: { ...voted.approval!, decidedAt: time } }, now), "applying"), outcome: "approved" };
}

/** Moves every port's end so that its window, as long as asked, starts at `start`. */
function startWindow(grant: Grant, start: number): Grant {
  const created = epochMs(grant.createdAt);
  const virtualMachines = grant.virtualMachines.map((vm) => ({ ...vm, ports: vm.ports.map((p) => ({ ...p, endTimeUtc: utc(start + epochMs(p.endTimeUtc) - created) })) }));
  const endTimeUtc = utc(Math.max(...virtualMachines.flatMap((vm) => vm.ports.map((p) => epochMs(p.endTimeUtc)))));
  return { ...grant, virtualMachines, endTimeUtc };
}

/** A held grant whose timeout passed, as the reconciler ends it: `expired`, reason ApprovalExpired. */
export function expireHeld(grant: Grant): Grant {
  return transition(grant, "expired", "ApprovalExpired");
}
