import { seededRandom } from "./random";

/**
 * Fault injection shared by both emulators. A test says "the next N requests matching this fail
 * like so"; each emulator renders an `error` fault in its own cloud's wire format.
 */
export interface FaultMatch {
  method?: string;
  path?: string | RegExp;
  operation?: string | RegExp;
}

export type FaultAction =
  /** Answer with this status and error code instead of serving the request. */
  | { kind: "error"; status: number; code: string; message?: string; headers?: Record<string, string> }
  /** Wait, then serve the request normally. */
  | { kind: "delay"; ms: number }
  /** Close the connection without answering (after the request was, or was not, applied). */
  | { kind: "drop"; after?: "before-apply" | "after-apply" };

export interface RequestInfo {
  method: string;
  path: string;
  operation: string;
}

interface Rule {
  match: FaultMatch;
  action: FaultAction;
  remaining: number;
}

interface RandomMode {
  match: FaultMatch;
  probability: number;
  actions: FaultAction[];
  next: () => number;
}

function test(value: string, pattern: string | RegExp | undefined): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === "string" ? value === pattern : pattern.test(value);
}

export function faultMatches(req: RequestInfo, m: FaultMatch): boolean {
  return (
    (m.method === undefined || m.method.toUpperCase() === req.method.toUpperCase()) &&
    test(req.path, m.path) &&
    test(req.operation, m.operation)
  );
}

export class FaultInjector {
  private rules: Rule[] = [];
  private randomMode: RandomMode | undefined;
  private slowMs = 0;
  /** How many faults were served, for assertions that the faults really happened. */
  injected = 0;

  /** The next `times` requests that match fail (or are delayed, or dropped) as `action` says. */
  inject(match: FaultMatch, action: FaultAction, times = 1): void {
    this.rules.push({ match, action, remaining: times });
  }

  /** Each matching request fails with `probability`, the action drawn from `actions` by a seeded PRNG. */
  random(options: { seed: number; probability: number; actions: FaultAction[]; match?: FaultMatch }): void {
    if (options.actions.length === 0) throw new Error("random faults need at least one action");
    this.randomMode = {
      match: options.match ?? {},
      probability: options.probability,
      actions: options.actions,
      next: seededRandom(options.seed),
    };
  }

  /** Every request waits this long before it is served (0 turns it off). */
  slowDown(ms: number): void {
    this.slowMs = ms;
  }

  get latencyMs(): number {
    return this.slowMs;
  }

  clear(): void {
    this.rules = [];
    this.randomMode = undefined;
    this.slowMs = 0;
  }

  /** Pending scripted faults (not random ones). */
  get pending(): number {
    return this.rules.reduce((n, r) => n + r.remaining, 0);
  }

  /** The fault to apply to this request, if any; consumes one use of a scripted rule. */
  take(req: RequestInfo): FaultAction | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && faultMatches(req, r.match));
    if (rule) {
      rule.remaining -= 1;
      this.rules = this.rules.filter((r) => r.remaining > 0);
      this.injected += 1;
      return rule.action;
    }
    const rnd = this.randomMode;
    if (rnd && faultMatches(req, rnd.match) && rnd.next() < rnd.probability) {
      this.injected += 1;
      return rnd.actions[Math.floor(rnd.next() * rnd.actions.length)];
    }
    return undefined;
  }
}
