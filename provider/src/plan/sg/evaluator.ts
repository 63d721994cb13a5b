import { parsePrefix, prefixContains } from "../../model/address";
import { memoized } from "../memo";
import { entriesOfGroup, hasPortRange, normaliseProtocol, permissionOfEntry, type SgEntry } from "./permissions";
import type { IpPermission, SecurityGroup } from "./types";

/** Where traffic comes from: an address, members of a security group, or a managed prefix list. */
export type SgFlowSource = { address: string } | { groupId: string } | { prefixListId: string };

export interface SgFlow {
  source: SgFlowSource;
  /** `tcp`, `udp`, `icmp`, `icmpv6` or a protocol number. */
  protocol: string;
  /** The port for TCP/UDP, the type for ICMP. */
  port?: number;
}

export interface SgMatch {
  groupId: string;
  permission: IpPermission;
}

const prefix = memoized((text) => parsePrefix(text));

function portMatches(e: SgEntry, protocol: string, port: number | undefined): boolean {
  if (e.protocol === "-1") return true;
  if (e.protocol !== protocol) return false;
  if (port === undefined) return true;
  if (hasPortRange(protocol)) return e.fromPort <= port && port <= e.toPort;
  return e.fromPort === -1 || e.fromPort === port;
}

/**
 * Security groups only allow, and an interface's groups add up: a flow gets in when any ingress
 * entry of any of the groups matches it. Decides many flows against the same groups, reading them
 * once; returns the entries that let the flow in (none: it is blocked).
 */
export function sgEvaluator(groups: readonly SecurityGroup[]): (flow: SgFlow) => SgMatch[] {
  const entries = groups.flatMap((g) =>
    entriesOfGroup(g).map((e) => ({ groupId: g.GroupId ?? "", e, prefix: e.source.kind === "ipv4" || e.source.kind === "ipv6" ? prefix(e.source.cidr) : undefined })),
  );
  return (flow) => {
    const protocol = normaliseProtocol(flow.protocol);
    const s = flow.source;
    const address = "address" in s ? prefix(s.address) : undefined;
    return entries
      .filter(({ e, prefix }) => {
        if (!portMatches(e, protocol, flow.port)) return false;
        if ("address" in s) return prefix !== undefined && address !== undefined && prefixContains(prefix, address);
        if ("groupId" in s) return e.source.kind === "group" && e.source.pair.GroupId === s.groupId;
        return e.source.kind === "prefixList" && e.source.id === s.prefixListId;
      })
      .map(({ groupId, e }) => ({ groupId, permission: permissionOfEntry(e) }));
  };
}

export function sgAllows(groups: readonly SecurityGroup[], flow: SgFlow): boolean {
  return sgEvaluator(groups)(flow).length > 0;
}
