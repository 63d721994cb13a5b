import { permissionOfRule } from "./permissions";
import { sgRuleKeys } from "./rule-tags";
import { TAG_GRANT } from "./tags";
import type { IpPermission, SecurityGroupRule } from "./types";

/**
 * Ending a grant on EC2: exactly the rules it recorded go, found by the recorded group and rule
 * ids (or, for an intent whose answer was lost, by the grant tag and permission in the recorded
 * group), and only while they still say they are this grant's and are the recorded permission;
 * anything else under a recorded id is somebody's edit, reported and left alone. Rules tagged as
 * the grant's but not in its record are reported too (sweep takes them at their stamp).
 */

export interface RecordedSgRule {
  groupId: string;
  ruleIds: readonly string[];
  permission: IpPermission;
}

export interface SgGrantRestoreInput<C extends RecordedSgRule> {
  grantId: string;
  /** The grant's rule changes still open. */
  open: readonly C[];
  /** Every rule id the grant recorded, open or not. */
  recordedIds: ReadonlySet<string>;
  /** The recorded groups' rules now (DescribeSecurityGroupRules, with tags). */
  rules: readonly SecurityGroupRule[];
}

export interface SgGrantRestorePlan<C extends RecordedSgRule> {
  /** One RevokeSecurityGroupIngress by rule ids per group. */
  revoke: Array<{ groupId: string; ruleIds: string[] }>;
  /** Each open change with the rules of it found (none: already gone). */
  found: Array<{ change: C; ruleIds: string[] }>;
  mismatches: string[];
}

const tagOf = (r: SecurityGroupRule) => r.Tags?.find((t) => t.Key === TAG_GRANT)?.Value;

export function planSgGrantRestore<C extends RecordedSgRule>(input: SgGrantRestoreInput<C>): SgGrantRestorePlan<C> {
  const plan: SgGrantRestorePlan<C> = { revoke: [], found: [], mismatches: [] };
  const taken = new Set<string>();
  for (const change of input.open) {
    const keys = new Set(sgRuleKeys(change.permission));
    const inGroup = input.rules.filter((r) => r.GroupId === change.groupId && !r.IsEgress);
    const ours = inGroup.filter(
      (r) =>
        tagOf(r) === input.grantId &&
        sgRuleKeys(permissionOfRule(r)).every((k) => keys.has(k)) &&
        (change.ruleIds.length === 0 || change.ruleIds.includes(r.SecurityGroupRuleId ?? "")) &&
        !taken.has(r.SecurityGroupRuleId ?? ""),
    );
    for (const r of inGroup.filter((r) => change.ruleIds.includes(r.SecurityGroupRuleId ?? "") && !ours.includes(r))) {
      plan.mismatches.push(`rule ${r.SecurityGroupRuleId} in ${change.groupId} was changed since the grant made it; left in place`);
    }
    const ruleIds = ours.map((r) => r.SecurityGroupRuleId ?? "");
    ruleIds.forEach((id) => taken.add(id));
    plan.found.push({ change, ruleIds });
    if (ruleIds.length === 0) continue;
    const entry = plan.revoke.find((r) => r.groupId === change.groupId) ?? plan.revoke[plan.revoke.push({ groupId: change.groupId, ruleIds: [] }) - 1];
    entry.ruleIds.push(...ruleIds);
  }
  for (const rule of input.rules) {
    if (rule.IsEgress || tagOf(rule) !== input.grantId || input.recordedIds.has(rule.SecurityGroupRuleId ?? "") || taken.has(rule.SecurityGroupRuleId ?? "")) continue;
    plan.mismatches.push(`rule ${rule.SecurityGroupRuleId} in ${rule.GroupId} is tagged as this grant's but is not in its record; left for sweep at its stamped expiry`);
  }
  return plan;
}

/** The groups among `groupIds` with no ingress rule left once `revoke` is done. */
export function emptiedGroups(groupIds: readonly string[], rules: readonly SecurityGroupRule[], revoke: SgGrantRestorePlan<RecordedSgRule>["revoke"]): string[] {
  const going = new Set(revoke.flatMap((r) => r.ruleIds));
  const staying = new Set(rules.filter((r) => !r.IsEgress && !going.has(r.SecurityGroupRuleId ?? "")).map((r) => r.GroupId));
  return groupIds.filter((g) => !staying.has(g));
}
