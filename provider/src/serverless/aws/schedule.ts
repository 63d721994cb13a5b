import { sweepWith } from "../../access";
import type { SweepReport } from "../../access";
import { awsContext } from "./runtime";

/**
 * The safety-net sweep, run by an EventBridge rule every few minutes (one at a time: the
 * function's reserved concurrency is 1). It closes whatever is due that no expiry event closed
 * (a lost or failed event, a grant from a broker without exact-time expiry), removes orphaned
 * rules and repairs baselines, exactly as `jit sweep`. The event itself carries nothing we need.
 */
export async function handler(_event?: unknown): Promise<SweepReport> {
  const report = await sweepWith(await awsContext());
  // Failures are in the report and the audit log; a failed invocation would only be retried.
  process.stdout.write(`${JSON.stringify({ level: report.failed.length ? "error" : "info", sweep: report })}\n`);
  return report;
}
