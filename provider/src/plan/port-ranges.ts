import { JitError } from "../model/errors";

/** An inclusive range of port numbers. */
export interface PortRange {
  from: number;
  to: number;
}

const MAX_PORT = 65535;
export const ALL_PORTS: PortRange = { from: 0, to: MAX_PORT };

function portNumber(text: string, field: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > MAX_PORT) {
    throw new JitError("InvalidInput", `"${text}" is not a port between 0 and ${MAX_PORT}`, { field });
  }
  return Number(text);
}

/** Parses an NSG port expression: `*`, `22` or `20-25`. A comma list is not one (Azure refuses it too). */
export function parsePortRange(text: string, field = "portRange"): PortRange {
  const s = text.trim();
  if (s === "*") return ALL_PORTS;
  const dash = s.indexOf("-");
  if (dash < 0) {
    const port = portNumber(s, field);
    return { from: port, to: port };
  }
  const from = portNumber(s.slice(0, dash), field);
  const to = portNumber(s.slice(dash + 1), field);
  if (from > to) throw new JitError("InvalidInput", `"${text}" is an empty port range`, { field });
  return { from, to };
}

/** Do the two sets of ranges share a port? */
export function rangesOverlap(a: readonly PortRange[], b: readonly PortRange[]): boolean {
  return a.some((x) => b.some((y) => x.from <= y.to && y.from <= x.to));
}

/** Does some range of `outer` hold each range of `inner`? */
export function rangesCover(outer: readonly PortRange[], inner: readonly PortRange[]): boolean {
  return inner.every((y) => outer.some((x) => x.from <= y.from && y.to <= x.to));
}

/** What is left of `range` once `ports` are taken out, in ascending order. */
export function subtractPorts(range: PortRange, ports: readonly number[]): PortRange[] {
  const pieces: PortRange[] = [];
  let from = range.from;
  for (const port of [...new Set(ports)].sort((a, b) => a - b)) {
    if (port < from || port > range.to) continue;
    if (port > from) pieces.push({ from, to: port - 1 });
    from = port + 1;
  }
  if (from <= range.to) pieces.push({ from, to: range.to });
  return pieces;
}
