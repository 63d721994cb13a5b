import { Grant, GrantId, JitError, epochMs, errorMessage, isFinalState, newAuditEvent, openChanges, parseVmId, policyCloud, transition } from "../model";
import { AccessContext, AccessOptions, withContext } from "./context";
import type { BaselineRecord, GrantStates, OrphanReport, RestoreReport, SweepScope } from "../driver";
import { LedgerJournal } from "./journal";
import { applyPolicyWith } from "./policy";
import { concludeRestore, finalStateFor } from "./restore";
import { expireApproval } from "./approvals";
import { openScheduled } from "./schedule";
import { mapLimit } from "../util/parallel";
import type { ExpiryEvent } from "./expiry";

export interface SweepOptions extends AccessOptions {
  /** Where to look for orphaned rules and groups. Default: the subscriptions and regions of the ledger's policies. */
  scope?: SweepScope;
  /**
   * A grant still `pending` or `applying` this long after it was made has lost the process that
   * was opening it; sweep undoes it. Default 15 minutes.
   */
  abandonedAfterMs?: number;
  /** Re-place missing or altered deny rules of registered policies. Default true. */
  repairBaselines?: boolean;
}

export interface SweepReport {
  /** Grants this sweep finished, with the state each ended in. */
  restored: { grantId: string; state: string }[];
  /** Scheduled grants whose start had come, opened by this sweep. */
  opened: { grantId: string; state: string }[];
  failed: { grantId: string; error: string }[];
  orphans: OrphanReport[];
  baselines: { policy: string; drift: string[]; repaired: boolean; error?: string }[];
}

export const DEFAULT_ABANDONED_AFTER_MS = 15 * 60_000;

/**
 * The reconciler: ends every grant that is due (expired, interrupted, abandoned), removes our rules
 * that no live grant owns, and puts back missing deny rules. Idempotent, and safe to run from
 * several places at once: each grant is taken by compare-and-swap, and every cloud removal checks
 * what it removes.
 */
export function sweep(options: SweepOptions = {}): Promise<SweepReport> {
  return withContext(options, (ctx) => sweepWith(ctx, options));
}

export async function sweepWith(ctx: AccessContext, options: SweepOptions = {}): Promise<SweepReport> {
  const now = ctx.now();
  const report: SweepReport = { restored: [], opened: [], failed: [], orphans: [], baselines: [] };
  const abandonedBefore = now.getTime() - (options.abandonedAfterMs ?? DEFAULT_ABANDONED_AFTER_MS);
  const abandoned = (await ctx.ledger.listGrants({ state: ["pending", "applying"] })).filter((g) => epochMs(g.createdAt) <= abandonedBefore);
  const abandonedIds = new Set(abandoned.map((g) => g.id));
  const due = new Map<string, Grant>([...(await ctx.ledger.dueForRestore(now)), ...abandoned].map((g) => [g.id, g]));

  // Claims go side by side, a few at a time: each is a round trip to a shared store, and ten
  // thousand due grants one after another would take that many round trips' time. Outcomes are
  // reported in due order, whatever order the claims land in.
  const claims = await mapLimit([...due.values()], CLAIMS_AT_ONCE, (grant) => claimDue(ctx, grant, abandonedIds.has(grant.id), now));
  const restoring: Restoring[] = [];
  for (const claim of claims) {
    if (claim.restoring) restoring.push(claim.restoring);
    if (claim.opened) report.opened.push(claim.opened);
    if (claim.restored) report.restored.push(claim.restored);
    if (claim.failed) report.failed.push(claim.failed);
  }
  await restoreTogether(ctx, restoring, report);

  report.orphans = await sweepOrphans(ctx, options.scope, now);
  if (options.repairBaselines !== false) report.baselines = await repairBaselines(ctx);

  if (report.restored.length || report.opened.length || report.failed.length || report.orphans.length || report.baselines.some((b) => b.repaired || b.error)) {
    await ctx.ledger.appendAudit(
      newAuditEvent({
        actor: "pulumi-jit sweep",
        action: "grant.sweep",
        target: {},
        outcome: report.failed.length || report.orphans.some((o) => o.action === "failed") ? "failed" : "success",
        message: summarise(report),
      }),
    );
  }
  return report;
}

/** Due grants claimed at once by one sweep. */
const CLAIMS_AT_ONCE = 16;

/** What a sweep's claim on one due grant came to: at most one of taken for restore, opened, ended, or failed. */
interface Claim {
  restoring?: Restoring;
  opened?: SweepReport["opened"][number];
  restored?: SweepReport["restored"][number];
  failed?: SweepReport["failed"][number];
}

/** Claims one due grant for this sweep; never throws (a failure is the claim's outcome). */
async function claimDue(ctx: AccessContext, grant: Grant, abandoned: boolean, now: Date): Promise<Claim> {
  try {
    if (grant.state === "scheduled") {
      const state = await openScheduled(ctx, grant);
      if (state === "active") return { opened: { grantId: grant.id, state } };
      return state ? { restored: { grantId: grant.id, state } } : {};
    }
    if (grant.state === "awaiting-approval") {
      // A request still waiting for approval when its timeout passed: nothing is in the cloud to undo.
      const state = (await expireApproval(ctx, grant))?.state;
      return state ? { restored: { grantId: grant.id, state } } : {};
    }
    const taken = await takeGrant(ctx, grant, abandoned && epochMs(grant.endTimeUtc) > now.getTime());
    return taken ? { restoring: taken } : {};
  } catch (err) {
    return { failed: { grantId: grant.id, error: errorMessage(err) } };
  }
}

/**
 * Handles one expiry event: closes the ports of the grant that have ended by now, and ends the
 * grant once all have. An event for a grant that is gone, already ended, or not yet due (a grant
 * superseded or revoked early, a duplicate delivery) changes nothing. Returns the state the grant
 * ended in, "partly ended", or undefined when there was nothing to do.
 */
export async function expireGrantWith(ctx: AccessContext, event: ExpiryEvent): Promise<string | undefined> {
  const grant = await ctx.ledger.getGrant(event.grantId);
  if (!grant) return undefined;
  // A restoring grant is being ended by whoever moved it there; the sweep finishes it if they crashed.
  if (grant.state !== "active" && grant.state !== "applying") return undefined;
  return finishGrant(ctx, grant, false);
}

/**
 * Ends one due grant now (the exact-time expiry of a serverless broker): as the sweep would, for
 * this grant alone. Returns the state it ended in, or undefined if another process had it.
 */
async function finishGrant(ctx: AccessContext, grant: Grant, abandonedEarly: boolean): Promise<string | undefined> {
  if (grant.state === "awaiting-approval") return (await expireApproval(ctx, grant))?.state;
  const taken = await takeGrant(ctx, grant, abandonedEarly);
  if (!taken) return undefined;
  const driver = await ctx.driver(taken.cloud);
  return taken.finish(await driver.restoreGrant(taken.grant, taken.journal, ctx.progress));
}

/** A due grant this sweep has taken: what to restore of it, and how to finish once that is done. */
interface Restoring {
  cloud: Grant["cloud"];
  grant: Grant;
  journal: LedgerJournal;
  /** Returns the state the grant ended in. */
  finish(report: RestoreReport): Promise<string>;
}

/** What is to be restored of a due grant, taken from other sweeps by compare-and-swap; undefined if another process had it. */
async function takeGrant(ctx: AccessContext, grant: Grant, abandonedEarly: boolean): Promise<Restoring | undefined> {
  const journal = new LedgerJournal(ctx.ledger, grant);
  const restoring = (g: Grant, finish: Restoring["finish"]): Restoring => ({ cloud: grant.cloud, grant: g, journal, finish });
  if (isFinalState(grant.state)) {
    // A failed apply or restore left changes behind: remove them; the grant's state stays.
    return restoring(grant, async () => grant.state);
  }
  const now = ctx.now().getTime();
  if ((grant.state === "active" || grant.state === "applying") && !abandonedEarly && epochMs(grant.endTimeUtc) > now) {
    // Some ports of the grant ended before others: close those, and keep the grant for the rest.
    const ended = openChanges(grant).filter((c) => c.endTimeUtc !== undefined && epochMs(c.endTimeUtc) <= now);
    if (ended.length === 0) return undefined;
    ctx.progress(`closing ${ended.length} ended port(s) of grant ${grant.id}`);
    return restoring({ ...grant, changes: ended }, async () => "partly ended");
  }
  if (grant.state !== "restoring") {
    try {
      await journal.edit((g) => {
        // Read again after a conflict: a grant extended since the due list was read is no longer due.
        if (!abandonedEarly && epochMs(g.endTimeUtc) > now) throw new JitError("Conflict", `grant ${g.id} was extended to ${g.endTimeUtc}`);
        return transition(g, "restoring", abandonedEarly ? "Failed" : "Expired");
      });
    } catch {
      return undefined; // another process took it first, and restores it
    }
  }
  ctx.progress(`restoring grant ${grant.id}`);
  return restoring(journal.grant, async (report) => {
    await concludeRestore(ctx, journal, finalStateFor(journal.grant), report, "pulumi-jit sweep");
    return journal.grant.state;
  });
}

/**
 * Restores the taken grants together, per cloud: a driver that can restore many at once (Azure:
 * one write per NSG for all of them) gets them all; otherwise one by one. Each grant succeeds or
 * fails on its own. The removals are written to the ledger with each grant's final state (see
 * `holdRemovals`), and the grants are finished side by side, a few at a time.
 */
async function restoreTogether(ctx: AccessContext, restoring: readonly Restoring[], report: SweepReport): Promise<void> {
  for (const cloud of new Set(restoring.map((r) => r.cloud))) {
    const mine = restoring.filter((r) => r.cloud === cloud);
    for (const r of mine) r.journal.holdRemovals();
    const driver = await ctx.driver(cloud);
    const outcomes: Array<RestoreReport | Error> = driver.restoreGrants
      ? await driver.restoreGrants(mine.map((r) => ({ grant: r.grant, journal: r.journal })), ctx.progress)
      : await Promise.all(mine.map((r) => driver.restoreGrant(r.grant, r.journal, ctx.progress).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))))));
    const ended = await mapLimit(
      mine.map((r, i) => ({ r, outcome: outcomes[i] })),
      FINISHES_AT_ONCE,
      ({ r, outcome }) => finishRestored(ctx, r, outcome),
    );
    for (const e of ended) {
      if ("error" in e) report.failed.push(e);
      else report.restored.push(e);
    }
  }
}

/** Grants of a sweep finished at once: each is a few writes to the ledger, a round trip each to a shared store. */
const FINISHES_AT_ONCE = 16;

/** Moves a restored grant to its final state, or records what its failed restore did remove; never throws. */
async function finishRestored(ctx: AccessContext, r: Restoring, outcome: RestoreReport | Error): Promise<SweepReport["restored"][number] | SweepReport["failed"][number]> {
  const error = (err: unknown) => ({ grantId: r.grant.id, error: errorMessage(err) });
  if (outcome instanceof Error) {
    // What was removed before the failure; if even that cannot be written, the next restore finds it gone.
    await r.journal.flush().catch((err: unknown) => ctx.progress(`grant ${r.grant.id}: could not record its removed rules: ${error(err).error}`));
    return error(outcome);
  }
  try {
    const state = await r.finish(outcome);
    await r.journal.flush();
    return { grantId: r.grant.id, state };
  } catch (err) {
    return error(err);
  }
}

/** Grants looked up at once by the orphan check. */
const LOOKUPS_AT_ONCE = 16;

async function sweepOrphans(ctx: AccessContext, given: SweepScope | undefined, now: Date): Promise<OrphanReport[]> {
  const policies = await ctx.ledger.listPolicies();
  const refs = policies.flatMap((r) => r.policy.virtualMachines.map((vm) => parseVmId(vm.id)));
  const scope: SweepScope = given ?? {
    azureSubscriptions: unique(refs.flatMap((ref) => (ref.cloud === "azure" ? [ref.subscriptionId] : []))),
    awsRegions: unique(refs.flatMap((ref) => (ref.cloud === "aws" ? [ref.region ?? ""] : []))),
  };
  // The grants that found rules name, looked up by id: the ledger's history is never listed.
  const grantStates: GrantStates = async (ids) => {
    // A stamp that names no possible grant id names no grant of this ledger.
    const found = await mapLimit(ids.filter((id) => GrantId.safeParse(id).success), LOOKUPS_AT_ONCE, (id) => ctx.ledger.getGrant(id));
    const states = new Map(found.flatMap((g) => (g ? [[g.id, isFinalState(g.state) ? ("ended" as const) : ("live" as const)]] : [])));
    return (id) => states.get(id) ?? "unknown";
  };
  const out: OrphanReport[] = [];
  if (scope.azureSubscriptions?.length) out.push(...(await (await ctx.driver("azure")).sweepOrphans({ azureSubscriptions: scope.azureSubscriptions }, now, grantStates, ctx.progress)));
  if (scope.awsRegions?.length) out.push(...(await (await ctx.driver("aws")).sweepOrphans({ awsRegions: scope.awsRegions }, now, grantStates, ctx.progress)));
  return out;
}

async function repairBaselines(ctx: AccessContext): Promise<SweepReport["baselines"]> {
  const out: SweepReport["baselines"] = [];
  for (const record of await ctx.ledger.listPolicies()) {
    const { policy } = record;
    try {
      const driver = await ctx.driver(policyCloud(policy));
      const baseline = record.baseline as BaselineRecord;
      const inspected = await driver.inspectBaseline(policy, baseline);
      if (inspected.drift.length === 0) {
        out.push({ policy: policy.name, drift: [], repaired: false });
        continue;
      }
      ctx.progress(`policy ${policy.name}: ${inspected.drift.join("; ")}; repairing`);
      await applyPolicyWith(ctx, { policy, previous: baseline, mode: "repair", expectedVersion: record.version });
      out.push({ policy: policy.name, drift: inspected.drift, repaired: true });
    } catch (err) {
      out.push({ policy: policy.name, drift: [], repaired: false, error: errorMessage(err) });
    }
  }
  return out;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function summarise(r: SweepReport): string {
  return [
    `${r.restored.length} grant(s) restored`,
    r.opened.length ? `${r.opened.length} scheduled grant(s) opened` : "",
    r.failed.length ? `${r.failed.length} failed` : "",
    `${r.orphans.filter((o) => o.action === "removed").length} orphan(s) removed`,
    `${r.baselines.filter((b) => b.repaired).length} baseline(s) repaired`,
  ]
    .filter(Boolean)
    .join(", ");
}
