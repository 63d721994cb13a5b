import { Grant, NotificationKind, newNotification } from "../model";
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
    ctx.progress(`could not queue the ${kind} notification for grant ${grant.id}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
