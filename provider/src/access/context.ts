import type { Ledger } from "../ledger";
import type { Cloud } from "../model";
import type { CloudDriver, Progress } from "../driver";
import type { ExpiryScheduler } from "./expiry";

/**
 * What every front-door function may be given. Everything has a default, so that
 * `requestAccess(request)` works on a workstation with the cloud's usual credentials; tests and
 * long-running services pass their own ledger, drivers and clock.
 */
export interface AccessOptions {
  /** The record of policies, grants and audit events. Default: the SQLite ledger at `$JIT_LEDGER` or `~/.pulumi-jit/ledger.db`. */
  ledger?: Ledger;
  /** The cloud drivers to use. Default: made from the environment (see `createDriver`). */
  drivers?: Partial<Record<Cloud, CloudDriver>>;
  /** The clock. Default: the system clock. */
  now?: () => Date;
  /** Progress lines for people (the CLI prints them on stderr). */
  progress?: Progress;
  /** Where a grant's exact-time expiry is scheduled once it is open. Default: none (the sweep closes it). */
  expiry?: ExpiryScheduler;
}

export interface AccessContext {
  ledger: Ledger;
  now: () => Date;
  progress: Progress;
  driver(cloud: Cloud): Promise<CloudDriver>;
  expiry?: ExpiryScheduler;
  /** Closes what the context opened itself (not what the caller passed in). */
  close(): Promise<void>;
}

export async function openContext(options: AccessOptions = {}): Promise<AccessContext> {
  const ownLedger = options.ledger === undefined;
  const ledger = options.ledger ?? (await (await import("../ledger")).openLedger());
  const made = new Map<Cloud, Promise<CloudDriver>>();
  return {
    ledger,
    now: options.now ?? (() => new Date()),
    progress: options.progress ?? (() => undefined),
    ...(options.expiry ? { expiry: options.expiry } : {}),
    driver(cloud) {
      const given = options.drivers?.[cloud];
      if (given) return Promise.resolve(given);
      let driver = made.get(cloud);
      if (!driver) {
        driver = import("../clouds").then((m) => m.createDriver(cloud));
        made.set(cloud, driver);
      }
      return driver;
    },
    async close() {
      if (ownLedger) await ledger.close();
    },
  };
}

/** Runs `work` with a context, closing what the context opened however `work` ends. */
export async function withContext<T>(options: AccessOptions, work: (ctx: AccessContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(options);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}
