import { Grant, NotificationKind, epochMs, errorMessage, isJitError, newNotification } from "../model";
import type { AccessContext } from "./context";

/**
 * Puts a notification for a step of a grant's life in the ledger's outbox. It never fails the step
 * it reports: the step already happened, and a lost notification is a smaller harm than an access
 * that stops halfway; a store that refuses the outbox write is reported as progress.
 */
export async function announce(ctx: AccessContext, kind: NotificationKind, grant: Grant, options: { actor?: string; detail?: string } = {}): Promise<void> {
  try {
    await ctx.ledger.enqueueNotification(newNotification(kind, grant, { ...options, time: ctx.now() }));
  } catch (err) {
    ctx.progress(`could not queue the ${kind} notification for grant ${grant.id}: ${errorMessage(err)}`);
  }
}

/** How long before its end a grant is announced as expiring, by default. */
export const EXPIRING_WITHIN_MS = 10 * 60_000;

/**
 * Queues "expiring" for each active grant that ends within `withinMs`, once per grant: the mark on
 * the grant is written by compare-and-swap first, so two brokers never both announce it. Reads the
 * due index, not the grants' history.
 */
export async function announceExpiring(ctx: AccessContext, withinMs = EXPIRING_WITHIN_MS): Promise<number> {
  const now = ctx.now().getTime();
  let count = 0;
  for (const grant of await ctx.ledger.dueForRestore(now + withinMs)) {
    if (grant.state !== "active" || grant.expiryAnnounced || epochMs(grant.endTimeUtc) <= now) continue;
    let marked: Grant;
    try {
      marked = await ctx.ledger.updateGrant(grant.id, grant.version, { ...grant, expiryAnnounced: true });
    } catch (err) {
      if (isJitError(err, "VersionConflict")) continue;
      throw err;
    }
    await announce(ctx, "expiring", marked, { detail: `ends ${marked.endTimeUtc}` });
    count++;
  }
  return count;
}
