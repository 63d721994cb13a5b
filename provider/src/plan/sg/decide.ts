import { planSgBaseline, planSgRestore, SgBaselinePlan, SgBaselineRecord } from "./baseline";
import { sgOpenings } from "./exposure";
import { parseGrantTags } from "./grant";
import { permissionOfRule } from "./permissions";
import { sgRuleKeys, TaggedPermission } from "./rule-tags";
import { BASELINE_SPLIT_ROLE, GRANT_GROUP_ROLE, TAG_POLICY, TAG_ROLE } from "./tags";
import type { IpPermission, SecurityGroup, SecurityGroupRule, Tag } from "./types";
import type { PortSpec } from "../types";

/**
 * What the AWS baseline decides for one security group, from a survey of the region (the policy's
 * instances, the groups they wear, the groups' rules with tags, every interface wearing them):
 * which ports it must keep closed (those of every policy instance wearing it), whether it may
 * touch it (not when an interface outside the policy wears it, unless the policy allows shared
 * groups), and what to authorize and revoke.
 *
 * Groups holding grants (the instances' JIT groups, which the record owns, and grant groups found
 * by their tag) are not the baseline's to narrow, but they count: a rule in one without a grant's
 * tags is `untracked`, keeps its port open in the VMs' status, and in a JIT group of the record is
 * revoked by the apply. (Rules with grant tags are the sweep's to judge, against the ledger and
 * the clock: see `planSgOrphanSweep`.)
 */

export interface SgInterface {
  networkInterfaceId: string;
  vpcId: string;
  groupIds: string[];
  /** Names, in the order of `groupIds`, where the read gave them. */
  groupNames?: string[];
  instanceId?: string;
  description?: string;
}

export interface SgInstance {
  instanceId: string;
  state: string;
  interfaces: SgInterface[];
}

export interface SgMember {
  instanceId: string;
  ports: PortSpec[];
}

/** A group's part of the baseline record: the rules revoked (with their tags) and the narrower ones added. */
export interface SgGroupRecord {
  groupId: string;
  revoked: Array<{ permission: IpPermission; tags: readonly Tag[] }>;
  added: IpPermission[];
}

export interface SgSurvey {
  region: string;
  /** Policy instances that exist, by id. */
  instances: Map<string, SgInstance>;
  /** Groups worn by policy instances or recorded, as they are now. */
  groups: Map<string, SecurityGroup>;
  /** Their ingress rules, one source each, with tags. */
  rules: Map<string, SecurityGroupRule[]>;
  /** Every interface wearing each group. */
  wearers: Map<string, SgInterface[]>;
  /** The instances' JIT groups the record owns. */
  jitGroups: ReadonlySet<string>;
  /** What a reference to each prefix list the groups use counts as against the quota. */
  prefixListWeights?: ReadonlyMap<string, number>;
  maxRulesPerGroup?: number;
}

export interface GroupDecision<M extends SgMember = SgMember> {
  groupId: string;
  /** Absent when the group no longer exists. */
  group?: SecurityGroup;
  record?: SgGroupRecord;
  /** Policy instances wearing it, and the union of their ports. */
  members: M[];
  ports: PortSpec[];
  /** Interfaces outside the policy wearing it. */
  outsiders: SgInterface[];
  leftAlone: boolean;
  /** A group holding grants: a JIT group of the record, or a grant group by its tag. */
  holdsGrants: boolean;
  /** Ingress rules of a group holding grants that no grant made, with their ids. */
  untracked: Array<{ ruleId: string; permission: IpPermission }>;
  plan: SgBaselinePlan;
  /** Every rule known with its tags: as read now, and as recorded when revoked. */
  known: TaggedPermission[];
}

function wears(instance: SgInstance | undefined, groupId: string): boolean {
  return instance?.interfaces.some((n) => n.groupIds.includes(groupId)) ?? false;
}

function uniquePorts(ports: PortSpec[]): PortSpec[] {
  return [...new Map(ports.map((p) => [`${p.number}/${p.protocol}`, p])).values()];
}

/**
 * Narrower rules of ours that the record does not list were left by an apply that stopped
 * between authorizing them and recording them: they count as the record's, so they are not
 * mistaken for the user's (and are taken away on restore).
 */
export function adoptStrays(rules: readonly SecurityGroupRule[], groupId: string, record: SgGroupRecord | undefined, policy: string): SgGroupRecord | undefined {
  const listed = new Set((record?.added ?? []).flatMap(sgRuleKeys));
  const strays = rules
    .filter((r) => r.Tags?.some((t) => t.Key === TAG_ROLE && t.Value === BASELINE_SPLIT_ROLE) && r.Tags?.some((t) => t.Key === TAG_POLICY && t.Value === policy))
    .map(permissionOfRule)
    .filter((p) => !sgRuleKeys(p).some((k) => listed.has(k)));
  if (strays.length === 0) return record;
  const base: SgGroupRecord = record ?? { groupId, revoked: [], added: [] };
  return { ...base, added: [...base.added, ...strays] };
}

function plannerRecord(group: SgGroupRecord): SgBaselineRecord {
  return { groupId: group.groupId, revoked: group.revoked.map((r) => r.permission), added: group.added };
}

const EMPTY_PLAN: SgBaselinePlan = { changes: [], records: [], narrowed: [], leftOpen: [], missing: [] };

export function decideGroup<M extends SgMember>(
  s: SgSurvey,
  groupId: string,
  members: readonly M[],
  record: SgGroupRecord | undefined,
  policy: string,
  allowShared: boolean,
  ports: "policy" | "none" = "policy",
): GroupDecision<M> {
  const group = s.groups.get(groupId);
  const rules = s.rules.get(groupId) ?? [];
  const wearing = members.filter((m) => wears(s.instances.get(m.instanceId), groupId));
  const inPolicy = new Set(members.map((m) => m.instanceId));
  const outsiders = (s.wearers.get(groupId) ?? []).filter((i) => !i.instanceId || !inPolicy.has(i.instanceId));
  const closing = ports === "none" ? [] : uniquePorts(wearing.flatMap((m) => m.ports));
  const known: TaggedPermission[] = [...rules.map((r) => ({ permission: permissionOfRule(r), tags: r.Tags ?? [] })), ...(record?.revoked ?? [])];
  const base = { groupId, ...(group ? { group } : {}), ...(record ? { record } : {}), members: wearing, ports: closing, outsiders, known };

  const ownJit = s.jitGroups.has(groupId);
  const tagged = group?.Tags?.some((t) => t.Key === TAG_ROLE && t.Value === GRANT_GROUP_ROLE) ?? false;
  if (ownJit || tagged) {
    const untracked = rules.filter((r) => !parseGrantTags(r.Tags)).map((r) => ({ ruleId: r.SecurityGroupRuleId ?? "", permission: permissionOfRule(r) }));
    // Only the record makes a group ours to change; a grant group found by its tag is reported, and sweep empties it.
    const revoke = ownJit && ports === "policy" ? untracked.map((u) => u.permission) : [];
    const plan = revoke.length ? { ...EMPTY_PLAN, changes: [{ groupId, authorize: [], revoke, order: "revoke-first" as const }] } : EMPTY_PLAN;
    return { ...base, leftAlone: !ownJit, holdsGrants: true, untracked, plan };
  }

  // Only closing needs consent: putting back what the baseline revoked is always allowed.
  const leftAlone = outsiders.length > 0 && !allowShared && closing.length > 0;
  const working = adoptStrays(rules, groupId, record, policy);
  const common = { policy, groups: group ? [group] : [], records: working ? [plannerRecord(working)] : [], prefixListWeights: s.prefixListWeights, maxRulesPerGroup: s.maxRulesPerGroup };
  const plan = ports === "none" ? planSgRestore(common) : planSgBaseline({ ...common, ports: closing, leaveAlone: leftAlone ? [groupId] : [] });
  return { ...base, leftAlone, holdsGrants: false, untracked: [], plan };
}

/** The tags a rule had, as the decision knows them. */
export function tagsIn(known: readonly TaggedPermission[], permission: IpPermission): TaggedPermission["tags"] {
  const keys = new Set(sgRuleKeys(permission));
  return known.find((k) => sgRuleKeys(k.permission).some((key) => keys.has(key)))?.tags ?? [];
}

/** The rules of a group holding grants that no grant made and that open one of `ports`. */
export function untrackedOpenings(d: GroupDecision, ports: readonly PortSpec[]): IpPermission[] {
  return d.untracked.filter((u) => sgOpenings([{ GroupId: d.groupId, IpPermissions: [u.permission] }], ports).length > 0).map((u) => u.permission);
}
