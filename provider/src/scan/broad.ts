import { isPrefix, parsePrefix, prefixContains, type Prefix } from "../model/address";
import { JitError } from "../model/errors";
import { RFC1918 } from "../plan";

/**
 * Which sources count as "broad": where a management port open to them is open to the Internet
 * for practical purposes. `*`, `Any` and `Internet` are; so is a prefix reaching public address
 * space with at most `v4` (IPv4) or `v6` (IPv6) prefix bits (default /16 and /32: 65,536 IPv4
 * addresses or an ISP's IPv6 allocation are nobody's office). A prefix wholly inside private,
 * shared, loopback or link-local space is never broad, whatever its size: 10.0.0.0/8 reaches no
 * one from outside. Azure service tags other than `VirtualNetwork` and `AzureLoadBalancer` stand
 * for public ranges we cannot enumerate (AzureCloud, Storage.WestEurope) and count as broad;
 * application security groups and EC2 group references or prefix lists name known peers and do not.
 */
export interface BroadThreshold {
  v4: number;
  v6: number;
}

export const DEFAULT_BROAD_THRESHOLD: BroadThreshold = { v4: 16, v6: 32 };

const NOT_PUBLIC: readonly Prefix[] = [...RFC1918, "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1"].map((p) => parsePrefix(p));

const NARROW_TAGS = new Set(["virtualnetwork", "virtual_network", "azureloadbalancer", "azure_loadbalancer"]);
const ANY_TAGS = new Set(["*", "any", "internet"]);

export function checkThreshold(threshold: Partial<BroadThreshold> = {}): BroadThreshold {
  const t = { ...DEFAULT_BROAD_THRESHOLD, ...threshold };
  for (const [family, max] of [["v4", 32], ["v6", 128]] as const) {
    if (!Number.isInteger(t[family]) || t[family] < 0 || t[family] > max) {
      throw new JitError("InvalidInput", `the ${family === "v4" ? "IPv4" : "IPv6"} broad-source prefix length must be a whole number from 0 to ${max}`, { field: `broadPrefix.${family}` });
    }
  }
  return t;
}

/** Is `source` (an NSG rule source or an EC2 CIDR) broad? */
export function isBroadSource(source: string, threshold: BroadThreshold = DEFAULT_BROAD_THRESHOLD): boolean {
  const text = source.trim().toLowerCase();
  if (ANY_TAGS.has(text)) return true;
  if (NARROW_TAGS.has(text)) return false;
  if (!isPrefix(source)) return !source.startsWith("/"); // a service tag; an ASG id starts with "/"
  const prefix = parsePrefix(source);
  if (prefix.kind === "any") return true;
  if (NOT_PUBLIC.some((np) => prefixContains(np, prefix))) return false;
  return prefix.bits <= (prefix.family === 4 ? threshold.v4 : threshold.v6);
}
