import type { PortStatus } from "./nsg-deny-baseline";
import type { RuleRef } from "./nsg-types";

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
