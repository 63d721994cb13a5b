/**
 * Benchmarks measure what costs in the real cloud (API calls, and of them the writes) beside wall
 * time. Each `*.bench.ts` module exports `scenarios`; `npm run bench` runs them all and prints one
 * table. A scenario returns the counts it measured; the harness times it.
 */
export interface Measured {
  /** Cloud API calls made by the measured work (long-running-operation polls included). */
  calls: number;
  /** Of those, calls that change state. */
  writes: number;
  /** How many units of work the counts cover (grants, VMs, ...): the table shows per-unit figures too. */
  units?: number;
  /** Critical-path time of the work on the emulators' virtual clock (the cloud's own durations), in seconds. */
  modelledSeconds?: number;
  note?: string;
}

export interface Scenario {
  /** Which cloud API the calls are counted on: "ARM" or "EC2". */
  api: string;
  name: string;
  run(): Promise<Measured>;
}

export interface Row extends Measured {
  api: string;
  name: string;
  ms: number;
}

export async function runScenario(s: Scenario): Promise<Row> {
  const start = process.hrtime.bigint();
  const measured = await s.run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { api: s.api, name: s.name, ms, ...measured };
}

export function formatRows(rows: Row[]): string {
  const header = ["api", "scenario", "calls", "writes", "units", "calls/unit", "modelled s", "ms", "note"];
  const body = rows.map((r) => {
    const units = r.units ?? 1;
    const modelled = r.modelledSeconds === undefined ? "-" : r.modelledSeconds.toFixed(0);
    return [r.api, r.name, String(r.calls), String(r.writes), String(units), (r.calls / units).toFixed(1), modelled, r.ms.toFixed(0), r.note ?? ""];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 7 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The rows as JSON, one object per scenario, with the same fields whatever a scenario measured (so figures compare across commits). */
export function jsonRows(rows: Row[]): string {
  const out = rows.map((r) => ({
    api: r.api,
    scenario: r.name,
    calls: r.calls,
    writes: r.writes,
    units: r.units ?? 1,
    modelledSeconds: r.modelledSeconds ?? null,
    ms: Math.round(r.ms * 10) / 10,
    ...(r.note ? { note: r.note } : {}),
  }));
  return JSON.stringify(out, null, 2);
}
