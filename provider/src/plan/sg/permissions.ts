import type { IpPermission, SecurityGroup, SecurityGroupRule, UserIdGroupPair } from "./types";

/**
 * Ingress permissions taken apart into one entry per source, the unit EC2 authorizes, revokes and
 * counts duplicates by (the description does not count), and put back together.
 */

export type SgSource =
  | { kind: "ipv4"; cidr: string }
  | { kind: "ipv6"; cidr: string }
  | { kind: "group"; pair: Omit<UserIdGroupPair, "Description"> }
  | { kind: "prefixList"; id: string };

export interface SgEntry {
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` or another protocol number. */
  protocol: string;
  /** Ports for TCP/UDP, type and code for ICMP, -1 where the protocol has none. */
  fromPort: number;
  toPort: number;
  source: SgSource;
  description?: string;
}

const PROTOCOL_NAMES: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6" };

export function normaliseProtocol(protocol: string | undefined): string {
  const p = (protocol ?? "-1").toLowerCase();
  return PROTOCOL_NAMES[p] ?? p;
}

export function hasPortRange(protocol: string): boolean {
  return protocol === "tcp" || protocol === "udp";
}

function ports(protocol: string, from: number | undefined, to: number | undefined): [number, number] {
  if (hasPortRange(protocol)) return [from ?? 0, to ?? 65535];
  if (protocol === "icmp" || protocol === "icmpv6") return [from ?? -1, to ?? -1];
  return [-1, -1];
}

export function entriesOfPermission(permission: IpPermission): SgEntry[] {
  const protocol = normaliseProtocol(permission.IpProtocol);
  const [fromPort, toPort] = ports(protocol, permission.FromPort, permission.ToPort);
  const entry = (source: SgSource, description: string | undefined): SgEntry => ({
    protocol,
    fromPort,
    toPort,
    source,
    ...(description === undefined ? {} : { description }),
  });
  return [
    ...(permission.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [entry({ kind: "ipv4", cidr: r.CidrIp }, r.Description)] : [])),
    ...(permission.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [entry({ kind: "ipv6", cidr: r.CidrIpv6 }, r.Description)] : [])),
    ...(permission.UserIdGroupPairs ?? []).map(({ Description, ...pair }) => entry({ kind: "group", pair }, Description)),
    ...(permission.PrefixListIds ?? []).flatMap((p) => (p.PrefixListId ? [entry({ kind: "prefixList", id: p.PrefixListId }, p.Description)] : [])),
  ];
}

export function entriesOfGroup(group: SecurityGroup): SgEntry[] {
  return (group.IpPermissions ?? []).flatMap(entriesOfPermission);
}

/** The entry as a single-source permission, ready for Authorize/RevokeSecurityGroupIngress. */
export function permissionOfEntry(e: SgEntry): IpPermission {
  const described = e.description === undefined ? {} : { Description: e.description };
  const portFields = e.fromPort === -1 && e.toPort === -1 && !e.protocol.startsWith("icmp") ? {} : { FromPort: e.fromPort, ToPort: e.toPort };
  const s = e.source;
  const source: IpPermission =
    s.kind === "ipv4"
      ? { IpRanges: [{ CidrIp: s.cidr, ...described }] }
      : s.kind === "ipv6"
        ? { Ipv6Ranges: [{ CidrIpv6: s.cidr, ...described }] }
        : s.kind === "group"
          ? { UserIdGroupPairs: [{ ...s.pair, ...described }] }
          : { PrefixListIds: [{ PrefixListId: s.id, ...described }] };
  return { IpProtocol: e.protocol, ...portFields, ...source };
}

/** A flat rule (`DescribeSecurityGroupRules`) as a single-source permission, so either view can be planned on. */
export function permissionOfRule(rule: SecurityGroupRule): IpPermission {
  const described = rule.Description === undefined ? {} : { Description: rule.Description };
  const base: IpPermission = { IpProtocol: rule.IpProtocol, FromPort: rule.FromPort, ToPort: rule.ToPort };
  if (rule.CidrIpv4) return { ...base, IpRanges: [{ CidrIp: rule.CidrIpv4, ...described }] };
  if (rule.CidrIpv6) return { ...base, Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6, ...described }] };
  if (rule.PrefixListId) return { ...base, PrefixListIds: [{ PrefixListId: rule.PrefixListId, ...described }] };
  return { ...base, UserIdGroupPairs: [{ ...rule.ReferencedGroupInfo, ...described }] };
}

export function sourceKey(s: SgSource): string {
  switch (s.kind) {
    case "ipv4":
    case "ipv6":
      return `${s.kind}:${s.cidr.toLowerCase()}`;
    case "group":
      return `group:${s.pair.UserId ?? ""}/${s.pair.GroupId ?? s.pair.GroupName ?? ""}`;
    case "prefixList":
      return `prefixList:${s.id}`;
  }
}

/** What EC2 treats as the same rule: protocol, ports and source, not the description. */
export function entryKey(e: SgEntry): string {
  return `${e.protocol}|${e.fromPort}|${e.toPort}|${sourceKey(e.source)}`;
}
