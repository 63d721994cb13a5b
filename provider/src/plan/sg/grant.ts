import { parsePrefix, toCidr } from "../../model/address";
import { JitError } from "../../model/errors";
import { stampTime } from "../nsg/names";
import { ec2Protocols } from "../protocols";
import { MAX_RULES_PER_GROUP } from "./baseline";
import { entriesOfGroup, entriesOfPermission, entryKey } from "./permissions";
import { GRANT_GROUP_ROLE, TAG_EXPIRES_AT, TAG_GRANT, TAG_INSTANCE, TAG_POLICY, TAG_ROLE } from "./tags";
import type { IpPermission, SecurityGroup, Tag } from "./types";
import type { GrantPort } from "../types";

/**
 * Grants on AWS. Security groups only add up, so a grant's rules (the requested ports from the
 * requester's prefix) sit in a grant group attached to the instance's interfaces next to its own
 * groups, and change nothing else. Each rule carries the grant, policy, instance and expiry in its
 * tags, so a sweeper finds expired ones without the ledger.
 *
 * Interfaces take 5 groups and groups 60 rules per address family, so grants share grant groups:
 * a grant goes into an existing grant group of the instance that has room and holds none of the
 * same rules, else into a new one. Overlapping grants (same port and source) thus always land in
 * different groups, and revoking one grant's rules never ends another's access. A grant group left
 * without rules is detached and deleted.
 *
 * A policy port with protocol `*` becomes a tcp and a udp rule; a `*` source 0.0.0.0/0 and ::/0.
 */

export { GRANT_GROUP_ROLE, TAG_EXPIRES_AT, TAG_GRANT, TAG_INSTANCE, TAG_POLICY, TAG_ROLE } from "./tags";
/** EC2's default limit of security groups per network interface. */
export const MAX_GROUPS_PER_INTERFACE = 5;

export interface SgGrantInput {
  grantId: string;
  policy: string;
  instanceId: string;
  ports: readonly GrantPort[];
}

/** Authorize calls for a grant, one per expiry, each with its TagSpecifications `security-group-rule`. */
export type GrantIngress = Array<{ permissions: IpPermission[]; tags: Tag[] }>;

function sources(source: string, description: string): Pick<IpPermission, "IpRanges" | "Ipv6Ranges"> {
  const p = parsePrefix(source, "source");
  if (p.kind === "any") return { IpRanges: [{ CidrIp: "0.0.0.0/0", Description: description }], Ipv6Ranges: [{ CidrIpv6: "::/0", Description: description }] };
  return p.family === 4 ? { IpRanges: [{ CidrIp: toCidr(p), Description: description }] } : { Ipv6Ranges: [{ CidrIpv6: toCidr(p), Description: description }] };
}

export function planSgGrantIngress(input: SgGrantInput): GrantIngress {
  const batches = new Map<string, { permissions: IpPermission[]; tags: Tag[] }>();
  for (const port of input.ports) {
    const until = stampTime(port.expiresAt);
    const batch = batches.get(until) ?? {
      permissions: [],
      tags: [
        { Key: TAG_GRANT, Value: input.grantId },
        { Key: TAG_POLICY, Value: input.policy },
        { Key: TAG_INSTANCE, Value: input.instanceId },
        { Key: TAG_EXPIRES_AT, Value: until },
      ],
    };
    batches.set(until, batch);
    for (const protocol of ec2Protocols(port.protocol)) {
      batch.permissions.push({ IpProtocol: protocol, FromPort: port.number, ToPort: port.number, ...sources(port.source, `jit grant ${input.grantId} until ${until}`) });
    }
  }
  return [...batches.values()];
}

export interface GrantPlacementInput {
  grantId: string;
  instanceId: string;
  ingress: GrantIngress;
  /** The instance's interfaces and the groups each has now. */
  interfaces: ReadonlyArray<{ networkInterfaceId: string; groupIds: readonly string[] }>;
  /** The instance's grant groups (tagged with its id and the grant-group role), with their rules. */
  grantGroups: readonly SecurityGroup[];
  maxRulesPerGroup?: number;
  maxGroupsPerInterface?: number;
}

/**
 * The name of an instance's JIT group in a VPC: the group its baseline attaches to the instance's
 * interfaces there once, which grants then only add rules to and restores only take rules from,
 * so that no grant rewrites an interface's group list. Names are unique per VPC and never change.
 */
export function jitGroupName(instanceId: string): string {
  return `jit-${instanceId}`;
}

/** The instance's JIT group, if every one of these interfaces (those in one VPC) wears it. */
export function jitGroupOn(instanceId: string, interfaces: ReadonlyArray<{ groups: ReadonlyArray<{ id: string; name?: string }> }>): string | undefined {
  const name = jitGroupName(instanceId);
  const [first, ...rest] = interfaces.map((i) => i.groups.find((g) => g.name === name)?.id);
  return first !== undefined && rest.every((id) => id === first) ? first : undefined;
}

export type GrantPlacement =
  | { kind: "existing"; groupId: string }
  /** Create this group, then attach it to every interface (see `groupsWith`). */
  | { kind: "new"; groupName: string; description: string; tags: Tag[] };

function familyCounts(permissions: readonly IpPermission[]): [number, number] {
  const entries = permissions.flatMap(entriesOfPermission);
  return [entries.filter((e) => e.source.kind !== "ipv6").length, entries.filter((e) => e.source.kind !== "ipv4").length];
}

/** Where a grant's rules go: the first grant group (by id) with room and none of the same rules, else a new one. */
export function planGrantPlacement(input: GrantPlacementInput): GrantPlacement {
  const limit = input.maxRulesPerGroup ?? MAX_RULES_PER_GROUP;
  const permissions = input.ingress.flatMap((b) => b.permissions);
  const wanted = new Set(permissions.flatMap(entriesOfPermission).map(entryKey));
  const [need4, need6] = familyCounts(permissions);
  if (need4 > limit || need6 > limit) {
    throw new JitError("CapacityExceeded", `grant ${input.grantId} needs ${Math.max(need4, need6)} rules; a security group holds ${limit} per address family`);
  }
  const attachedEverywhere = (id: string) => input.interfaces.every((i) => i.groupIds.includes(id));
  const fits = (g: SecurityGroup) => {
    const [has4, has6] = familyCounts(g.IpPermissions ?? []);
    return has4 + need4 <= limit && has6 + need6 <= limit && !entriesOfGroup(g).some((e) => wanted.has(entryKey(e)));
  };
  const reuse = [...input.grantGroups]
    .filter((g) => g.GroupId && attachedEverywhere(g.GroupId) && fits(g))
    .sort((a, b) => (a.GroupId ?? "").localeCompare(b.GroupId ?? ""))[0];
  if (reuse?.GroupId) return { kind: "existing", groupId: reuse.GroupId };
  for (const i of input.interfaces) assertRoomForGroup(i.groupIds, i.networkInterfaceId, input.maxGroupsPerInterface);
  return {
    kind: "new",
    groupName: `jit-${input.instanceId}-${input.grantId}`,
    description: `pulumi-jit grant group for ${input.instanceId}`,
    tags: [
      { Key: TAG_INSTANCE, Value: input.instanceId },
      { Key: TAG_ROLE, Value: GRANT_GROUP_ROLE },
    ],
  };
}

/**
 * An interface's group list with `groupId` added. ModifyNetworkInterfaceAttribute replaces the whole
 * list, so the adapter re-reads it right before and checks it right after; it is the one write of
 * a list that is left (attaching a JIT group once, or a grant group when the JIT group has no room).
 */
export function groupsWith(current: readonly string[], groupId: string, networkInterfaceId: string, limit = MAX_GROUPS_PER_INTERFACE): string[] {
  if (current.includes(groupId)) return [...current];
  assertRoomForGroup(current, networkInterfaceId, limit);
  return [...current, groupId];
}

function assertRoomForGroup(current: readonly string[], networkInterfaceId: string, limit = MAX_GROUPS_PER_INTERFACE): void {
  if (current.length >= limit) {
    throw new JitError(
      "CapacityExceeded",
      `network interface ${networkInterfaceId} already has ${current.length} security groups, the most it may have (${limit}); end a grant or raise the quota`,
    );
  }
}

/** An interface's group list without these groups (written from a fresh read, so nothing else changes). */
export function groupsWithout(current: readonly string[], ...groupIds: string[]): string[] {
  return current.filter((g) => !groupIds.includes(g));
}

export interface GrantRuleInfo {
  grantId: string;
  policy: string;
  instanceId: string;
  expiresAt: Date;
}

/** What a grant rule says about itself in its tags, or `undefined` for anybody else's rule. */
export function parseGrantTags(tags: readonly Tag[] | undefined): GrantRuleInfo | undefined {
  const value = (key: string) => tags?.find((t) => t.Key === key)?.Value;
  const [grantId, policy, instanceId, expiry] = [value(TAG_GRANT), value(TAG_POLICY), value(TAG_INSTANCE), value(TAG_EXPIRES_AT)];
  const expiresAt = new Date(expiry ?? "");
  if (!grantId || !policy || !instanceId || Number.isNaN(expiresAt.getTime())) return undefined;
  return { grantId, policy, instanceId, expiresAt };
}
