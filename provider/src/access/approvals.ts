import { Grant, JitError, Policy, Vote, approvalsOf, castVote, epochMs, expireHeld, isJitError, newAuditEvent } from "../model";
import type { Caller } from "./authorize";
import { describe } from "./authorize";
import { AccessContext, AccessOptions, withContext } from "./context";
import type { CloudDriver } from "../driver";
import { announce } from "./announce";
import { openGrant } from "./request";

/** Votes lost to a concurrent vote are re-decided on the newer record; this many times at most. */
const VOTE_ATTEMPTS = 20;

export interface DecideOptions {
  /** Why (a deny's reason, shown to the requester); redacted like a justification. */
  reason?: string;
}

/**
 * Records one approver's vote on a held request, by compare-and-swap, so that concurrent votes
 * never lose each other: a vote that lost the race is decided again on the newer record. The last
 * approval needed opens the grant at once (its window starting then); one deny ends it with nothing
 * written to the cloud. Refusals (the requester's own vote, someone who is not an approver, a
 * request that is no longer waiting) change nothing and are audited.
 */
export async function decideWith(ctx: AccessContext, grantId: string, caller: Caller, decision: Vote["decision"], options: DecideOptions = {}): Promise<Grant> {
  const { principal } = caller;
  const action = decision === "approve" ? "grant.approve" : "grant.deny";
  for (let attempt = 0; attempt < VOTE_ATTEMPTS; attempt++) {
    const grant = await ctx.ledger.getGrant(grantId);
    if (!grant) throw new JitError("NotFound", `no grant with id "${grantId}"`, { field: "grant" });
    const policy = (await ctx.ledger.getPolicy(grant.policy))?.policy;
    const driver = await ctx.driver(grant.cloud);
    const now = ctx.now();
    let decided;
    try {
      if (!policy) throw new JitError("NotFound", `policy "${grant.policy}" of grant ${grant.id} is no longer registered`, { field: "policy" });
      if (caller.cloud !== undefined && caller.cloud !== grant.cloud) {
        throw new JitError("Unauthorized", `${describe(principal)} signed in with ${caller.cloud}, and grant ${grant.id} is on ${grant.cloud}`, { field: "grant" });
      }
      decided = castVote(
        grant,
        { approver: principal.id, ...(principal.name ? { name: principal.name } : {}), decision, ...(options.reason ? { reason: options.reason } : {}) },
        { isApprover: isApprover(driver, policy, caller), now },
      );
    } catch (err) {
      if (grant.state === "awaiting-approval" && grant.approval && epochMs(now) >= epochMs(grant.approval.expiresAt)) await expireApproval(ctx, grant);
      if (err instanceof JitError) {
        await ctx.ledger.appendAudit(
          newAuditEvent({ actor: principal.id, action, target: { policy: grant.policy, grant: grant.id }, outcome: "refused", code: err.code, message: err.message }),
        );
      }
      throw err;
    }
    if (decided.outcome === "duplicate") return grant;
    let stored: Grant;
    try {
      stored = await ctx.ledger.updateGrant(grant.id, grant.version, decided.grant);
    } catch (err) {
      if (isJitError(err, "VersionConflict")) continue;
      throw err;
    }
    const approval = stored.approval!;
    await ctx.ledger.appendAudit(
      newAuditEvent({
        actor: principal.id,
        action,
        target: { policy: stored.policy, grant: stored.id },
        outcome: "success",
        message: decision === "deny" ? `denied${options.reason ? `: ${options.reason}` : ""}` : `${approvalsOf(stored).length} of ${approval.required} approval(s)`,

      }),
    );
    if (decided.outcome === "denied") {
      await announce(ctx, "denied", stored, { actor: principal.id, ...(options.reason ? { detail: options.reason } : {}) });
      return stored;
    }
    if (decided.outcome === "recorded") return stored;
    await announce(ctx, "approved", stored, { actor: principal.id });
    ctx.progress(`grant ${stored.id} approved; opening it until ${stored.endTimeUtc}`);
    return openGrant(ctx, driver, policy!, stored, principal.id);
  }
  throw new JitError("Conflict", `grant ${grantId} kept changing while the vote was being recorded; try again`, { field: "grant" });
}

/** Whether the policy names the caller among its approvers, as the cloud spells identities. */
function isApprover(driver: CloudDriver, policy: Policy, caller: Caller): boolean {
  return (policy.approvers ?? []).some((listed) => driver.isRequester(listed, caller.principal));
}

/**
 * Ends a held request whose approval timed out (`expired`, reason ApprovalExpired); nothing was
 * ever written to the cloud for it. Returns undefined when someone else decided or ended it first.
 */
export async function expireApproval(ctx: AccessContext, held: Grant): Promise<Grant | undefined> {
  let grant: Grant | undefined = held;
  for (let attempt = 0; grant && grant.state === "awaiting-approval" && attempt < VOTE_ATTEMPTS; attempt++) {
    try {
      const expired = await ctx.ledger.updateGrant(grant.id, grant.version, expireHeld(grant));
      await ctx.ledger.appendAudit(
        newAuditEvent({
          actor: "pulumi-jit",
          action: "grant.approval-expire",
          target: { policy: expired.policy, grant: expired.id },
          outcome: "success",
          message: `${approvalsOf(expired).length} of ${expired.approval?.required} approval(s) by ${expired.approval?.expiresAt}`,

        }),
      );
      await announce(ctx, "expired", expired, { detail: "the request was not approved in time" });
      return expired;
    } catch (err) {
      if (!isJitError(err, "VersionConflict")) throw err;
      grant = await ctx.ledger.getGrant(held.id);
    }
  }
  return undefined;
}

/**
 * The held requests the caller may decide now: of policies that name them an approver, not their
 * own, not voted on by them yet, and not past their timeout. Oldest first, so the longest wait is
 * seen first.
 */
export async function pendingFor(ctx: AccessContext, caller: Caller): Promise<Grant[]> {
  const now = ctx.now().getTime();
  const held = await ctx.ledger.listGrants({ state: "awaiting-approval", ...(caller.cloud ? { cloud: caller.cloud } : {}) });
  const policies = new Map<string, Policy | undefined>();
  const out: Grant[] = [];
  for (const grant of held) {
    const key = grant.policy.toLowerCase();
    if (!policies.has(key)) policies.set(key, (await ctx.ledger.getPolicy(grant.policy))?.policy);
    const policy = policies.get(key);
    const id = caller.principal.id.toLowerCase();
    if (!policy || grant.requester.toLowerCase() === id) continue;
    if (!grant.approval || epochMs(grant.approval.expiresAt) <= now) continue;
    if (grant.approval.votes.some((v) => v.approver.toLowerCase() === id)) continue;
    if (isApprover(await ctx.driver(grant.cloud), policy, caller)) out.push(grant);
  }
  return out.reverse();
}

/** The caller in direct mode: the identity of the cloud credentials in the environment. */
async function directCaller(ctx: AccessContext, grantId: string): Promise<Caller> {
  const grant = await ctx.ledger.getGrant(grantId);
  if (!grant) throw new JitError("NotFound", `no grant with id "${grantId}"`, { field: "grant" });
  return { principal: await (await ctx.driver(grant.cloud)).whoAmI(), mode: "direct" };
}

/** Approves a held request as the identity of the cloud credentials in the environment. */
export function approveAccess(grantId: string, options: AccessOptions = {}): Promise<Grant> {
  return withContext(options, async (ctx) => decideWith(ctx, grantId, await directCaller(ctx, grantId), "approve"));
}

/** Denies a held request as the identity of the cloud credentials in the environment. */
export function denyAccess(grantId: string, options: AccessOptions & DecideOptions = {}): Promise<Grant> {
  return withContext(options, async (ctx) => decideWith(ctx, grantId, await directCaller(ctx, grantId), "deny", options.reason ? { reason: options.reason } : {}));
}

/**
 * The held requests the identity of the cloud credentials in the environment may decide, on every
 * cloud that has requests waiting (one sign-in per cloud).
 */
export function pendingApprovals(options: AccessOptions = {}): Promise<Grant[]> {
  return withContext(options, async (ctx) => {
    const held = await ctx.ledger.listGrants({ state: "awaiting-approval" });
    const out: Grant[] = [];
    for (const cloud of [...new Set(held.map((g) => g.cloud))]) {
      const principal = await (await ctx.driver(cloud)).whoAmI();
      out.push(...(await pendingFor(ctx, { principal, mode: "direct", cloud })));
    }
    return out;
  });
}
