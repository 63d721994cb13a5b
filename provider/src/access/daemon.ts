import { AccessOptions, withContext } from "./context";
import { SweepOptions, SweepReport, sweepWith } from "./sweep";

export interface DaemonOptions extends SweepOptions {
  /** The longest sleep between sweeps, so that orphans and drift are found even with nothing due. Default 5 minutes. */
  maxIntervalMs?: number;
  /** Stops the loop (the CLI wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
  /** Called after each sweep. */
  onSweep?: (report: SweepReport, nextAt: Date) => void;
  /** How to wait until the next sweep (tests pass one that moves a virtual clock). Default: a timer the signal cuts short. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Sweeps, sleeps until the next grant is due (or `maxIntervalMs`), and repeats until stopped. A
 * scheduled grant is due at its start, so the daemon wakes then and the sweep opens it.
 * It keeps no state of its own: everything it needs is in the ledger, so a restarted daemon picks
 * up exactly where the last one stopped, and several daemons can run at once.
 */
export function runDaemon(options: DaemonOptions & AccessOptions = {}): Promise<void> {
  const maxInterval = options.maxIntervalMs ?? 5 * 60_000;
  return withContext(options, async (ctx) => {
    while (!options.signal?.aborted) {
      const report = await sweepWith(ctx, options);
      const now = ctx.now().getTime();
      const next = await ctx.ledger.nextDueAt();
      const wake = Math.min(now + maxInterval, next === undefined ? Infinity : Math.max(next, now + 1000));
      options.onSweep?.(report, new Date(wake));
      await (options.sleep ?? sleep)(wake - now, options.signal);
    }
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
