import ipaddr from "ipaddr.js";
import { AwsError } from "./errors";
import type { QueryNode } from "./query";
import type { Peer, RuleSpec, SecurityGroupRule } from "./state";
import { tagsXml } from "./tags";
import type { XmlObject } from "./xml";

/**
 * Security group rules as EC2 reads and shows them: a request's `IpPermissions` (one protocol/port
 * tuple with many sources) become one rule per source; `DescribeSecurityGroups` groups them back
 * into permissions, `DescribeSecurityGroupRules` and the Authorize/Revoke results list them flat.
 */

const protocolNumbers: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6" };
const portedProtocols = new Set(["tcp", "udp", "icmp", "icmpv6"]);

export function normaliseProtocol(value: string): string {
  const lower = value.toLowerCase();
  if (portedProtocols.has(lower) || lower === "-1") return lower;
  if (/^\d{1,3}$/.test(value) && Number(value) <= 255) return protocolNumbers[String(Number(value))] ?? String(Number(value));
  throw new AwsError("InvalidParameterValue", `Invalid value '${value}' for IP protocol. Unknown protocol.`);
}

export function portRange(protocol: string, from: number | undefined, to: number | undefined): [number, number] {
  if (protocol === "tcp" || protocol === "udp") {
    if (from === undefined || to === undefined) {
      throw new AwsError("InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange. Must specify both from and to ports with TCP/UDP.");
    }
    if (from < 0 || to > 65535 || from > to) throw new AwsError("InvalidParameterValue", `Invalid value '${from}-${to}' for portRange. The port range is invalid.`);
    return [from, to];
  }
  if (protocol === "icmp" || protocol === "icmpv6") {
    const [type, code] = [from ?? -1, to ?? -1];
    if (type < -1 || type > 255 || code < -1 || code > 255 || (type === -1 && code !== -1)) {
      throw new AwsError("InvalidParameterValue", `Invalid value '${type}:${code}' for ICMP type and code. If you specify all ICMP types, you must specify all codes.`);
    }
    return [type, code];
  }
  // All protocols, or one without ports: EC2 ignores any ports given.
  return [-1, -1];
}

/** EC2 accepts a CIDR with host bits set and stores its network address (10.0.0.28/29 → 10.0.0.24/29). */
export function normaliseCidr(text: string, family: "ipv4" | "ipv6"): string {
  const valid = family === "ipv4" ? ipaddr.IPv4.isValidCIDRFourPartDecimal(text) : ipaddr.IPv6.isValidCIDR(text) && !ipaddr.IPv4.isValidCIDR(text);
  if (!valid) throw new AwsError("InvalidParameterValue", `CIDR block ${text} is malformed`);
  const bits = text.slice(text.indexOf("/") + 1);
  const network = family === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text).toString() : ipaddr.IPv6.networkAddressFromCIDR(text).toRFC5952String();
  return `${network}/${Number(bits)}`;
}

const textPattern = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
/** The SDK model's pattern for `PrefixListId` and `UserIdGroupPair` descriptions lacks the `&` the others allow. */
const referenceTextPattern = /^[a-zA-Z0-9. _\-:/()#,@[\]+=;{}!$*]*$/;

/** Descriptions and group names: at most 255 characters from the set EC2 allows (`&` not in descriptions of references). */
export function checkText(value: string, parameter: string, reference = false): string {
  if (value.length > 255 || !(reference ? referenceTextPattern : textPattern).test(value)) {
    const set = reference ? "a-zA-Z0-9. _-:/()#,@[]+=;{}!$*" : "a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*";
    throw new AwsError("InvalidParameterValue", `Invalid ${parameter}. Valid values are strings less than 256 characters from the following set: ${set}`);
  }
  return value;
}

export interface GroupReference {
  groupId?: string;
  groupName?: string;
  userId?: string;
}

interface Source {
  peer: Peer;
  description?: string;
}

export interface PeerResolvers {
  group: (ref: GroupReference) => Peer;
  /** Checks that the list exists (EC2 refuses a reference to one it does not know). */
  prefixList: (id: string) => Peer;
}

function sourcesOf(permission: QueryNode, resolve: PeerResolvers): Source[] {
  const described = (node: QueryNode, peer: Peer): Source => {
    const description = node.str("Description");
    const reference = peer.kind === "group" || peer.kind === "prefixList";
    return { peer, description: description === undefined ? undefined : checkText(description, "rule description", reference) };
  };
  const sources = [
    ...permission.list("IpRanges").map((r) => described(r, { kind: "ipv4", cidr: normaliseCidr(r.required("CidrIp"), "ipv4") })),
    ...permission.list("Ipv6Ranges").map((r) => described(r, { kind: "ipv6", cidr: normaliseCidr(r.required("CidrIpv6"), "ipv6") })),
    ...permission
      .list("Groups")
      .map((g) => described(g, resolve.group({ groupId: g.str("GroupId"), groupName: g.str("GroupName"), userId: g.str("UserId") }))),
    ...permission.list("PrefixListIds").map((p) => described(p, resolve.prefixList(p.required("PrefixListId")))),
  ];
  // The flat, older form of the request: `IpProtocol`, `FromPort`, `ToPort`, `CidrIp` at the top.
  const cidr = permission.str("CidrIp");
  if (cidr !== undefined) sources.push({ peer: { kind: "ipv4", cidr: normaliseCidr(cidr, "ipv4") } });
  return sources;
}

/** The rules a request's `IpPermissions` (or flat `IpProtocol`/`CidrIp` parameters) stand for, one per source. */
export function readPermissions(req: QueryNode, egress: boolean, resolve: PeerResolvers): RuleSpec[] {
  const permissions = req.str("IpProtocol") !== undefined ? [req, ...req.list("IpPermissions")] : req.list("IpPermissions");
  return permissions.flatMap((permission) => {
    const protocol = normaliseProtocol(permission.required("IpProtocol"));
    const [fromPort, toPort] = portRange(protocol, permission.int("FromPort"), permission.int("ToPort"));
    return sourcesOf(permission, resolve).map((s) => ({ egress, protocol, fromPort, toPort, ...s }));
  });
}

export function peerKey(peer: Peer): string {
  switch (peer.kind) {
    case "ipv4":
    case "ipv6":
      return peer.cidr;
    case "group":
      return peer.groupId;
    case "prefixList":
      return peer.prefixListId;
  }
}

/** What makes two rules the same rule: everything but the description (and the id and tags). */
export function ruleKey(rule: RuleSpec): string {
  return [rule.egress ? "egress" : "ingress", rule.protocol, rule.fromPort, rule.toPort, rule.peer.kind, peerKey(rule.peer)].join("|");
}

/** EC2's own wording, e.g. `peer: 1.2.3.4/32, TCP, from port: 22, to port: 22, ALLOW`. */
export function describeRule(rule: RuleSpec): string {
  const ports = portedProtocols.has(rule.protocol) ? `, from port: ${rule.fromPort}, to port: ${rule.toPort}` : "";
  const protocol = rule.protocol === "-1" ? "ALL" : rule.protocol.toUpperCase();
  return `peer: ${peerKey(rule.peer)}, ${protocol}${ports}, ALLOW`;
}

/**
 * Rules count against the limit per address family: a CIDR in its own family, a group reference in
 * both, and a prefix list reference in both as its weight (`prefixListWeight`: the list's maximum
 * entries, or an AWS-managed list's published weight).
 */
export function rulesPerFamily(rules: RuleSpec[], prefixListWeight: (id: string) => number): { ipv4: number; ipv6: number } {
  let ipv4 = 0;
  let ipv6 = 0;
  for (const { peer } of rules) {
    const weight = peer.kind === "prefixList" ? prefixListWeight(peer.prefixListId) : 1;
    if (peer.kind !== "ipv6") ipv4 += weight;
    if (peer.kind !== "ipv4") ipv6 += weight;
  }
  return { ipv4, ipv6 };
}

/** The grouped view: one `IpPermission` per protocol and port range, its sources listed by kind. */
export function ipPermissionsXml(rules: RuleSpec[]): XmlObject[] {
  const byTuple = new Map<string, RuleSpec[]>();
  for (const rule of rules) {
    const key = `${rule.protocol}|${rule.fromPort}|${rule.toPort}`;
    byTuple.set(key, [...(byTuple.get(key) ?? []), rule]);
  }
  return [...byTuple.values()].map((tuple) => {
    const [{ protocol, fromPort, toPort }] = tuple;
    const ported = portedProtocols.has(protocol);
    const of = <K extends Peer["kind"]>(kind: K) => tuple.filter((r): r is RuleSpec & { peer: Extract<Peer, { kind: K }> } => r.peer.kind === kind);
    return {
      ipProtocol: protocol,
      fromPort: ported ? fromPort : undefined,
      toPort: ported ? toPort : undefined,
      groups: of("group").map((r) => ({ description: r.description, userId: r.peer.userId, groupId: r.peer.groupId })),
      ipRanges: of("ipv4").map((r) => ({ cidrIp: r.peer.cidr, description: r.description })),
      ipv6Ranges: of("ipv6").map((r) => ({ cidrIpv6: r.peer.cidr, description: r.description })),
      prefixListIds: of("prefixList").map((r) => ({ prefixListId: r.peer.prefixListId, description: r.description })),
    };
  });
}

/** A referenced group is a structure in `SecurityGroupRule` and a bare id in `RevokedSecurityGroupRule`. */
function peerXml(peer: Peer, groupAsId: boolean): XmlObject {
  switch (peer.kind) {
    case "ipv4":
      return { cidrIpv4: peer.cidr };
    case "ipv6":
      return { cidrIpv6: peer.cidr };
    case "group":
      return groupAsId ? { referencedGroupId: peer.groupId } : { referencedGroupInfo: { groupId: peer.groupId, userId: peer.userId } };
    case "prefixList":
      return { prefixListId: peer.prefixListId };
  }
}

/** The flat view of one rule (`SecurityGroupRule`). */
export function ruleXml(rule: SecurityGroupRule, accountId: string, region: string): XmlObject {
  return {
    securityGroupRuleId: rule.id,
    groupId: rule.groupId,
    groupOwnerId: accountId,
    isEgress: rule.egress,
    ipProtocol: rule.protocol,
    fromPort: rule.fromPort,
    toPort: rule.toPort,
    ...peerXml(rule.peer, false),
    description: rule.description,
    tagSet: tagsXml(rule.tags),
    securityGroupRuleArn: `arn:aws:ec2:${region}:${accountId}:security-group-rule/${rule.id}`,
  };
}

/** The shorter flat view RevokeSecurityGroupIngress returns (`RevokedSecurityGroupRule`). */
export function revokedRuleXml(rule: SecurityGroupRule): XmlObject {
  return {
    securityGroupRuleId: rule.id,
    groupId: rule.groupId,
    isEgress: rule.egress,
    ipProtocol: rule.protocol,
    fromPort: rule.fromPort,
    toPort: rule.toPort,
    ...peerXml(rule.peer, true),
    description: rule.description,
  };
}
