import type { PortStatus } from "./deny-baseline";
import type { Nsg, RuleRef } from "./types";

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

/** A public IP in front of a network interface: its address, and whether it admits nothing by itself (Standard SKU). */
export interface PublicIpView {
  address?: string;
  closedByDefault: boolean;
}

/**
 * What a network interface with no NSG anywhere on its path is open to, said truthfully for each
 * kind of public IP: a Basic one forwards everything from the Internet; a Standard one is "secure by
 * default and closed to inbound traffic ... NSGs are required to allow inbound traffic" (Azure's
 * public IP overview); the virtual network always gets in.
 */
export function describeUnfiltered(pips: readonly PublicIpView[]): string {
  const open = pips.filter((p) => !p.closedByDefault && p.address).map((p) => p.address);
  const closed = pips.filter((p) => p.closedByDefault && p.address).map((p) => p.address);
  return [
    open.length ? `every port is open to the Internet on ${open.join(", ")}` : "",
    closed.length ? `its Standard public IP ${closed.join(", ")} admits nothing from the Internet without an NSG rule, so no grant can open it until an NSG is attached` : "",
    "every port is open to the virtual network",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The public addresses through which the Internet reaches an interface that has no NSG (Basic SKU IPs). */
export function openToInternet(pips: readonly PublicIpView[]): string[] {
  return pips.filter((p) => !p.closedByDefault && p.address).map((p) => p.address as string);
}
