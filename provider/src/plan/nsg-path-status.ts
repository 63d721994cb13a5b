import type { PortStatus } from "./nsg-deny-baseline";
import type { Nsg, RuleRef } from "./nsg-types";

/** A selected port on one path into a VM: closed, or open through these rules (none: no NSG stands in the way). */
export type PathPortStatus = { exposed: false } | { exposed: true; exposedBy: RuleRef[] };

/**
 * Whether a selected port is closed on one path into a VM: a network interface's addresses behind
 * its subnet's NSG, then its own. Inbound traffic must pass both, so the port is open on the path
 * only when every level lets it through: a level whose NSG is `exposed` (some user rule admits
 * it), or a level without an NSG (`undefined`), which lets everything through. The rules named are
 * those of every level; a path without any NSG is open through no rule at all.
 */
export function pathPortStatus(levels: ReadonlyArray<PortStatus | undefined>): PathPortStatus {
  if (levels.some((l) => l?.status === "protected")) return { exposed: false };
  return { exposed: true, exposedBy: levels.flatMap((l) => (l?.status === "exposed" ? l.exposedBy : [])) };
}

/**
 * What ending access does to sessions already open through these NSGs, when any of them has
 * `flushConnection` (established flows are re-evaluated on every rule change): said once for all,
 * since without it Azure lets established sessions run on after the allow rule is gone.
 */
export function sessionsCutNote(nsgs: ReadonlyArray<Nsg | undefined>): string | undefined {
  const flushing = [...new Set(nsgs.flatMap((n) => (n?.flushConnection ? [n.id.split("/").pop() ?? n.id] : [])))];
  if (flushing.length === 0) return undefined;
  return `expiry cuts sessions: NSG ${flushing.join(", ")} ${flushing.length > 1 ? "have" : "has"} flushConnection on, so established connections are re-evaluated when a grant's allow rules are removed and end with it`;
}
