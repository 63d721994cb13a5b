import { z } from "zod";
import { Grant, GrantId, epochMs, errorMessage, parseOrThrow } from "../model";
import type { Progress } from "../driver";

/**
 * Exact-time expiry: after a grant opens, the request use case asks the scheduler to deliver an
 * `ExpiryEvent` at each moment a port of the grant ends, and whoever receives it calls
 * `expireGrantWith` (in sweep.ts: it ends the grant as the sweep would). The periodic sweep stays the safety net for an event that is lost, so a
 * scheduler that fails leaves the grant to the sweep rather than failing the request.
 *
 * Implementations: an EventBridge Scheduler one-time schedule (serverless/aws), a Storage queue
 * message hidden until the end (serverless/azure); `jit serve` and the CLI have none and rely on
 * `jit daemon` or `jit sweep`.
 */
export interface ExpiryScheduler {
  /** Arranges for `event` to be delivered at (or just after) `at`; idempotent for the same event and time. */
  schedule(event: ExpiryEvent, at: Date): Promise<void>;
}

/** What an expiry carries: only the grant's id; everything else is read from the ledger when it fires. */
export const ExpiryEvent = z.strictObject({
  grantId: GrantId,
});
export type ExpiryEvent = z.output<typeof ExpiryEvent>;

/** Validates an expiry event from outside (a queue message, a scheduler payload). */
export function parseExpiryEvent(input: unknown): ExpiryEvent {
  return parseOrThrow(ExpiryEvent, input, "expiry event");
}

/** The distinct moments at which ports of `grant` end, earliest first. */
export function expiryTimes(grant: Grant): Date[] {
  const ends = new Set(grant.virtualMachines.flatMap((vm) => vm.ports.map((p) => epochMs(p.endTimeUtc))));
  return [...ends].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/** Schedules the grant's expiries with `scheduler`, if any; a failure is reported, and the sweep remains to close the grant. */
export async function scheduleExpiry(scheduler: ExpiryScheduler | undefined, grant: Grant, progress: Progress): Promise<void> {
  if (!scheduler) return;
  for (const at of expiryTimes(grant)) {
    try {
      await scheduler.schedule({ grantId: grant.id }, at);
    } catch (err) {
      progress(`could not schedule the expiry of grant ${grant.id} at ${at.toISOString()} (${errorMessage(err)}); the sweep will close it`);
    }
  }
}
