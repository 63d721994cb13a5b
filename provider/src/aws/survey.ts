import { PortSpec, SgSurvey, prefixListWeight } from "../plan";
import type { InstanceTarget } from "./context";
import type { Ec2Api } from "./ec2";
import type { GroupRecord, JitGroupRecord } from "./record";

/**
 * What the baseline needs to know about a region, read in four calls however many instances and
 * groups there are (instances, their groups, the groups' rules with tags, every interface wearing
 * them), plus one for the sizes of any prefix lists the rules reference. Every group an instance
 * wears is read, grant and JIT groups included: what they let in counts. The decisions are the
 * planner's (`decideGroup`).
 */

export interface PolicyInstance extends InstanceTarget {
  ports: PortSpec[];
}

export interface Survey extends SgSurvey {
  ec2: Ec2Api;
}

export async function survey(
  ec2: Ec2Api,
  members: readonly PolicyInstance[],
  recorded: readonly GroupRecord[],
  jitGroups: readonly JitGroupRecord[],
  limits: { rulesPerGroup: number },
): Promise<Survey> {
  const instances = new Map((await ec2.instances(members.map((m) => m.instanceId))).filter((i) => i.interfaces.length > 0).map((i) => [i.instanceId, i]));
  const worn = [...instances.values()].flatMap((i) => i.interfaces.flatMap((n) => n.groupIds));
  const ids = [...new Set([...worn, ...recorded.map((r) => r.groupId), ...jitGroups.map((j) => j.groupId)])];
  const groups = ids.length ? await ec2.groups("group-id", ids) : [];
  const found = groups.map((g) => g.GroupId ?? "");
  const [rules, wearing] = found.length ? await Promise.all([ec2.rules(found), ec2.interfaces("group-id", found)]) : [[], []];
  const lists = [...new Set(rules.flatMap((r) => (r.PrefixListId ? [r.PrefixListId] : [])))];
  const known = lists.length ? await ec2.prefixLists(lists) : [];
  return {
    ec2,
    region: ec2.region,
    instances,
    groups: new Map(groups.map((g) => [g.GroupId ?? "", g])),
    rules: new Map(found.map((id) => [id, rules.filter((r) => r.GroupId === id && !r.IsEgress)])),
    wearers: new Map(found.map((id) => [id, wearing.filter((i) => i.groupIds.includes(id))])),
    jitGroups: new Set(jitGroups.map((j) => j.groupId)),
    // A list that could not be read (deleted, or not shared with us) counts as the whole quota.
    prefixListWeights: new Map(lists.map((id) => [id, prefixListWeight(known.find((l) => l.id === id) ?? { awsManaged: false }, limits.rulesPerGroup)])),
    maxRulesPerGroup: limits.rulesPerGroup,
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
