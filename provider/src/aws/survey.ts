import {
  BASELINE_SPLIT_ROLE,
  IpPermission,
  PortSpec,
  SecurityGroup,
  SecurityGroupRule,
  SgBaselinePlan,
  TAG_POLICY,
  TAG_ROLE,
  TaggedPermission,
  permissionOfRule,
  planSgBaseline,
  sgRuleKeys,
} from "../plan";
import { InstanceTarget, isGrantGroup, tagValue } from "./context";
import type { Ec2Api, InstanceView, InterfaceView } from "./ec2";
import { GroupRecord, plannerRecord } from "./record";

/**
 * What the baseline needs to know about a region, read in four calls however many instances and
 * groups there are (instances, their groups, the groups' rules with tags, every interface wearing
 * them), and the plan for each group: the adapter's whole decision is which ports each group must
 * keep closed (those of every policy instance wearing it) and whether it may touch it (not when an
 * interface outside the policy wears it, unless the policy allows shared groups).
 */

export interface PolicyInstance extends InstanceTarget {
  ports: PortSpec[];
}

export interface Survey {
  ec2: Ec2Api;
  region: string;
  /** Policy instances that exist, by id. */
  instances: Map<string, InstanceView>;
  /** Groups (grant groups excluded) worn by policy instances or recorded, as they are now. */
  groups: Map<string, SecurityGroup>;
  /** Their ingress rules, one source each, with tags. */
  rules: Map<string, SecurityGroupRule[]>;
  /** Every interface wearing each group. */
  wearers: Map<string, InterfaceView[]>;
}

export interface GroupDecision {
  groupId: string;
  /** Absent when the group no longer exists. */
  group?: SecurityGroup;
  record?: GroupRecord;
  /** Policy instances wearing it, and the union of their ports. */
  members: PolicyInstance[];
  ports: PortSpec[];
  /** Interfaces outside the policy wearing it. */
  outsiders: InterfaceView[];
  leftAlone: boolean;
  plan: SgBaselinePlan;
  /** Every rule known with its tags: as read now, and as recorded when revoked. */
  known: TaggedPermission[];
}

export async function survey(ec2: Ec2Api, members: readonly PolicyInstance[], recorded: readonly GroupRecord[]): Promise<Survey> {
  const instances = new Map((await ec2.instances(members.map((m) => m.instanceId))).filter((i) => i.interfaces.length > 0).map((i) => [i.instanceId, i]));
  const worn = [...instances.values()].flatMap((i) => i.interfaces.flatMap((n) => n.groupIds));
  const ids = [...new Set([...worn, ...recorded.map((r) => r.groupId)])];
  const groups = (await ec2.groups("group-id", ids)).filter((g) => !isGrantGroup(g));
  const found = groups.map((g) => g.GroupId ?? "");
  const [rules, wearing] = await Promise.all([ec2.rules(found), ec2.interfaces("group-id", found)]);
  return {
    ec2,
    region: ec2.region,
    instances,
    groups: new Map(groups.map((g) => [g.GroupId ?? "", g])),
    rules: new Map(found.map((id) => [id, rules.filter((r) => r.GroupId === id && !r.IsEgress)])),
    wearers: new Map(found.map((id) => [id, wearing.filter((i) => i.groupIds.includes(id))])),
  };
}

/** Re-reads one group (after another writer got in the way), keeping what else the survey knows. */
export async function resurvey(s: Survey, groupId: string): Promise<Survey> {
  const [group] = await s.ec2.groups("group-id", [groupId]);
  const rules = group ? (await s.ec2.rules([groupId])).filter((r) => !r.IsEgress) : [];
  const groups = new Map(s.groups);
  if (group) groups.set(groupId, group);
  else groups.delete(groupId);
  return { ...s, groups, rules: new Map(s.rules).set(groupId, rules) };
}

function wears(instance: InstanceView | undefined, groupId: string): boolean {
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
function adoptStrays(s: Survey, groupId: string, record: GroupRecord | undefined, policy: string): GroupRecord | undefined {
  const listed = new Set((record?.added ?? []).flatMap(sgRuleKeys));
  const strays = (s.rules.get(groupId) ?? [])
    .filter((r) => tagValue(r.Tags, TAG_ROLE) === BASELINE_SPLIT_ROLE && tagValue(r.Tags, TAG_POLICY) === policy)
    .map(permissionOfRule)
    .filter((p) => !sgRuleKeys(p).some((k) => listed.has(k)));
  if (strays.length === 0) return record;
  const base: GroupRecord = record ?? { region: s.region, groupId, revoked: [], added: [] };
  return { ...base, added: [...base.added, ...(strays as GroupRecord["added"])] };
}

export function decide(
  s: Survey,
  groupId: string,
  members: readonly PolicyInstance[],
  record: GroupRecord | undefined,
  policy: string,
  allowShared: boolean,
  ports: "policy" | "none" = "policy",
): GroupDecision {
  const group = s.groups.get(groupId);
  const rules = s.rules.get(groupId) ?? [];
  const wearing = members.filter((m) => wears(s.instances.get(m.instanceId), groupId));
  const inPolicy = new Set(members.map((m) => m.instanceId));
  const outsiders = (s.wearers.get(groupId) ?? []).filter((i) => !i.instanceId || !inPolicy.has(i.instanceId));
  const closing = ports === "none" ? [] : uniquePorts(wearing.flatMap((m) => m.ports));
  // Only closing needs consent: putting back what the baseline revoked is always allowed.
  const leftAlone = outsiders.length > 0 && !allowShared && closing.length > 0;
  const working = adoptStrays(s, groupId, record, policy);
  const plan = planSgBaseline({
    policy,
    groups: group ? [group] : [],
    ports: closing,
    records: working ? [plannerRecord(working)] : [],
    leaveAlone: leftAlone ? [groupId] : [],
  });
  const known: TaggedPermission[] = [...rules.map((r) => ({ permission: permissionOfRule(r), tags: r.Tags ?? [] })), ...(record?.revoked ?? [])];
  return { groupId, ...(group ? { group } : {}), ...(record ? { record } : {}), members: wearing, ports: closing, outsiders, leftAlone, plan, known };
}

/** The tags a rule had, as the decision knows them. */
export function tagsIn(known: readonly TaggedPermission[], permission: IpPermission): TaggedPermission["tags"] {
  const keys = new Set(sgRuleKeys(permission));
  return known.find((k) => sgRuleKeys(k.permission).some((key) => keys.has(key)))?.tags ?? [];
}
