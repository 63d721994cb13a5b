/**
 * The call log: every request an emulator answers, in order. Tests and benchmarks count cloud API
 * calls through it, because calls (not milliseconds) are what cost in the real cloud.
 */
export interface CallRecord {
  /** 1-based order of arrival across the emulator's lifetime. */
  seq: number;
  method: string;
  /** URL path without the query string (Azure), or "/" (EC2 Query API). */
  path: string;
  /** The operation, as the emulator names it: "NetworkSecurityGroups_Get", "AuthorizeSecurityGroupIngress", ... */
  operation: string;
  /** True when the call would change state in the real cloud. */
  write: boolean;
  status: number;
  /** True when an injected fault answered instead of the emulator. */
  faulted: boolean;
  /** The principal the call was made as, when the emulator can tell. */
  principal?: string;
}

export interface CallFilter {
  method?: string | string[];
  path?: string | RegExp;
  operation?: string | RegExp;
  write?: boolean;
  faulted?: boolean;
  /** Only calls after this mark (from `calls.mark()`). */
  since?: number;
}

function matches(value: string, pattern: string | RegExp): boolean {
  return typeof pattern === "string" ? value === pattern : pattern.test(value);
}

export function callMatches(c: CallRecord, f: CallFilter): boolean {
  if (f.since !== undefined && c.seq <= f.since) return false;
  if (f.method !== undefined) {
    const methods = Array.isArray(f.method) ? f.method : [f.method];
    if (!methods.includes(c.method)) return false;
  }
  if (f.path !== undefined && !matches(c.path, f.path)) return false;
  if (f.operation !== undefined && !matches(c.operation, f.operation)) return false;
  if (f.write !== undefined && c.write !== f.write) return false;
  if (f.faulted !== undefined && c.faulted !== f.faulted) return false;
  return true;
}

export class CallLog {
  readonly records: CallRecord[] = [];

  record(entry: Omit<CallRecord, "seq">): CallRecord {
    const rec = { seq: this.records.length + 1, ...entry };
    this.records.push(rec);
    return rec;
  }

  /** A mark to count from: `count({ since: mark })`. */
  mark(): number {
    return this.records.length;
  }

  list(filter: CallFilter = {}): CallRecord[] {
    return this.records.filter((c) => callMatches(c, filter));
  }

  count(filter: CallFilter = {}): number {
    return this.list(filter).length;
  }

  /** Calls per operation name, for benchmark tables. */
  byOperation(filter: CallFilter = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.list(filter)) out[c.operation] = (out[c.operation] ?? 0) + 1;
    return out;
  }

  /**
   * Throws, listing the calls that were made, when the count differs. `expected` may be a number or
   * a predicate such as `(n) => n <= 4`.
   */
  expect(filter: CallFilter, expected: number | ((n: number) => boolean), why = ""): void {
    const found = this.list(filter);
    const ok = typeof expected === "number" ? found.length === expected : expected(found.length);
    if (!ok) {
      const want = typeof expected === "number" ? String(expected) : "a count satisfying the predicate";
      const lines = found.map((c) => `  #${c.seq} ${c.method} ${c.path} ${c.operation} -> ${c.status}`);
      throw new Error(
        `expected ${want} call(s) matching ${describeFilter(filter)}${why ? ` (${why})` : ""}, got ${found.length}` +
          (lines.length ? `:\n${lines.join("\n")}` : ""),
      );
    }
  }
}

function describeFilter(f: CallFilter): string {
  const parts = Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v instanceof RegExp ? v.toString() : JSON.stringify(v)}`);
  return parts.length ? `{${parts.join(", ")}}` : "{any}";
}
