import { Grant, epochMs, findPolicyVm, isJitError, transition } from "../model";
import type { AccessContext } from "./context";
import { LedgerJournal } from "./journal";
import { openGrant } from "./request";
import { endGrant } from "./restore";

const ACTOR = "pulumi-jit scheduler";

/**
 * Opens a scheduled grant whose start has come (never before: an earlier call does nothing and
 * returns undefined). A grant whose whole window passed unopened (no daemon ran) ends as expired
 * without touching the cloud; one whose policy no longer has its ports ends as revoked
 * (PolicyChanged). Of several daemons, the one that moves the grant to `applying` first opens it;
 * the others return undefined. Returns the state the grant is left in.
 */
export async function openScheduled(ctx: AccessContext, grant: Grant): Promise<string | undefined> {
  const now = ctx.now().getTime();
  if (grant.state !== "scheduled" || epochMs(grant.createdAt) > now) return undefined;
  const driver = await ctx.driver(grant.cloud);
  if (epochMs(grant.endTimeUtc) <= now) {
    ctx.progress(`grant ${grant.id} was scheduled until ${grant.endTimeUtc}, which has passed: ending it unopened`);
    return (await endGrant(ctx, driver, grant, "Expired", { actor: ACTOR, ifFree: true }))?.state;
  }
  const policy = await ctx.ledger.getPolicy(grant.policy);
  const fits = policy !== undefined && grant.virtualMachines.every((vm) => vm.ports.every((p) => findPolicyVm(policy.policy, vm.id)?.ports.some((r) => r.number === p.number && r.protocol === p.protocol)));
  if (!fits) {
    ctx.progress(`grant ${grant.id}: policy "${grant.policy}" no longer allows what it scheduled; cancelling it`);
    return (await endGrant(ctx, driver, grant, "PolicyChanged", { actor: ACTOR, detail: "the policy changed before the scheduled start", ifFree: true }))?.state;
  }
  const journal = new LedgerJournal(ctx.ledger, grant);
  try {
    await journal.edit((g) => transition(g, "applying"));
  } catch (err) {
    if (isJitError(err, "Conflict")) return undefined;
    throw err;
  }
  ctx.progress(`grant ${grant.id}: its start ${grant.createdAt} has come`);
  return (await openGrant(ctx, driver, journal, policy.policy, ACTOR)).state;
}
