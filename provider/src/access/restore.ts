import { Grant, GrantReason, GrantState, JitError, isFinalState, newAuditEvent, openChanges, transition } from "../model";
import { AccessContext, AccessOptions, withContext } from "./context";
import type { CloudDriver, RestoreReport } from "../driver";
import { LedgerJournal } from "./journal";
import { announce } from "./announce";

const AUDIT_ACTION = { expired: "grant.expire", revoked: "grant.revoke", failed: "grant.fail" } as const;

/**
 * Finishes a grant that is `restoring`: removes what it changed, then moves it to its final state.
 * The caller has already won the move to `restoring` (compare-and-swap), so only one process
 * restores a grant at a time; a second run after a crash finds the journal and carries on.
 */
export async function restoreWith(
  ctx: AccessContext,
  driver: CloudDriver,
  journal: LedgerJournal,
  final: Extract<GrantState, "expired" | "revoked" | "failed">,
  actor = "pulumi-jit",
): Promise<RestoreReport> {
  return concludeRestore(ctx, journal, final, await driver.restoreGrant(journal.grant, journal, ctx.progress), actor);
}

/** Moves a restored grant to its final state (or `failed`, when its restore left changes in place) and audits it. */
export async function concludeRestore(
  ctx: AccessContext,
  journal: LedgerJournal,
  final: Extract<GrantState, "expired" | "revoked" | "failed">,
  report: RestoreReport,
  actor = "pulumi-jit",
): Promise<RestoreReport> {
  const left = openChanges(journal.grant);
  // Only a verified, complete restore may say the network is back as it was; anything left behind
  // keeps the grant due, so `sweep` tries again.
  const ended = left.length === 0 ? final : "failed";
  const why = left.length === 0 ? undefined : `restore left ${left.length} change(s) in place: ${report.mismatches.join("; ") || "not removed"}`.slice(0, 2000);
  await journal.edit((g) => transition(g, ended, undefined, why));
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor,
      action: AUDIT_ACTION[ended],
      target: { policy: journal.grant.policy, grant: journal.grant.id },
      outcome: left.length ? "failed" : "success",
      message:
        `removed ${report.removed} change(s)` +
        (report.alreadyGone ? `, ${report.alreadyGone} already gone` : "") +
        (report.mismatches.length ? `; left in place because they differ from the record: ${report.mismatches.join("; ")}` : ""),
    }),
  );
  await announce(ctx, ended, journal.grant, { actor, ...(why ? { detail: why } : {}) });
  return report;
}

/** The state a restoring grant ends in, by why it is being restored. */
export function finalStateFor(grant: Grant): Extract<GrantState, "expired" | "revoked" | "failed"> {
  switch (grant.reason) {
    case "Expired":
      return "expired";
    case "Failed":
      return "failed";
    default:
      return "revoked";
  }
}

export interface EndGrantOptions {
  /** Who to name in the audit log. */
  actor?: string;
  /** Why, in words, kept on the grant (a failed apply's error). */
  detail?: string;
  /** When another process took the grant first, leave it to that process and return undefined instead of failing. */
  ifFree?: boolean;
}

/**
 * Ends a grant: takes it by moving it to `restoring` with `reason` (unless it is restoring
 * already, after a crash), then restores it into the final state the reason implies. The move is a
 * compare-and-swap, so of several processes ending one grant only one restores it.
 */
export async function endGrant(
  ctx: AccessContext,
  driver: CloudDriver,
  grant: Grant | LedgerJournal,
  reason: GrantReason,
  options: EndGrantOptions = {},
): Promise<Grant | undefined> {
  const journal = grant instanceof LedgerJournal ? grant : new LedgerJournal(ctx.ledger, grant);
  if (journal.grant.state !== "restoring") {
    try {
      await journal.edit((g) => transition(g, "restoring", reason, options.detail));
    } catch (err) {
      if (options.ifFree) return undefined;
      throw err;
    }
  }
  await restoreWith(ctx, driver, journal, finalStateFor(journal.grant), options.actor);
  return journal.grant;
}

/** Ends a grant now (`UserRequested`): its ports close and the network is back as it was. */
export function revokeAccess(grantId: string, options: AccessOptions & { actor?: string } = {}): Promise<Grant> {
  return withContext(options, (ctx) => revokeWith(ctx, grantId, options.actor));
}

export async function revokeWith(ctx: AccessContext, grantId: string, actor?: string): Promise<Grant> {
  const grant = await ctx.ledger.getGrant(grantId);
  if (!grant) throw new JitError("NotFound", `no grant with id "${grantId}"`, { field: "grantId" });
  if (isFinalState(grant.state)) {
    const open = openChanges(grant).length;
    throw new JitError(
      "InvalidInput",
      `grant ${grantId} has already ended (${grant.state}${grant.reason ? `, ${grant.reason}` : ""})${open ? `; ${open} change(s) may remain: run \`jit sweep\`` : ""}`,
      { field: "grantId" },
    );
  }
  const driver = await ctx.driver(grant.cloud);
  return (await endGrant(ctx, driver, grant, "UserRequested", actor === undefined ? {} : { actor })) as Grant;
}
