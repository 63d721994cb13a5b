import { stampTime } from "./nsg-names";
import { parseGrantTags } from "./sg-grant";
import { TAG_EXPIRES_AT, TAG_GRANT, TAG_POLICY } from "./sg-tags";
import type { SecurityGroup, SecurityGroupRule, Tag } from "./sg-types";

/**
 * Finding what is ours in EC2 without the ledger. Grant rules say in their tags which grant they
 * belong to and when they expire; so does a grant group, stamped by the grant that created it,
 * because between its creation and its first rule an empty group is indistinguishable from an
 * abandoned one.
 */

/** The tags a grant group carries besides the placement's (instance and role): who made it, and until when. */
export function grantGroupStamp(grantId: string, policy: string, expiresAt: Date): Tag[] {
  return [
    { Key: TAG_GRANT, Value: grantId },
    { Key: TAG_POLICY, Value: policy },
    { Key: TAG_EXPIRES_AT, Value: stampTime(expiresAt) },
  ];
}

/** What the ledger says of a grant found in the cloud. */
export type SweptGrantState = "live" | "ended" | "unknown";

export interface SgOrphanSweepInput {
  /** Grant groups (tagged with the grant-group role), with their tags. */
  groups: readonly SecurityGroup[];
  /** Their rules (DescribeSecurityGroupRules), with tags. */
  rules: readonly SecurityGroupRule[];
  now: Date;
  grantState: (grantId: string) => SweptGrantState;
}

export interface SgOrphan {
  kind: "rule" | "group";
  groupId: string;
  /** The rule id, or the group's name for a group. */
  name: string;
  grantId: string;
  expiresAt: Date;
  why: "expired" | "ended";
}

export interface SgOrphanSweepPlan {
  /** RevokeSecurityGroupIngress by rule ids, per group. */
  revoke: Array<{ groupId: string; ruleIds: string[] }>;
  /** Groups to detach from every interface and delete: no rules left, and their stamp says they are over. */
  deleteGroups: string[];
  /** Each rule and group removed, and why. */
  orphans: SgOrphan[];
}

/**
 * A rule goes when its stamped expiry has passed or its grant is known to have ended; a rule of a
 * grant the ledger does not know stays until its expiry, as it may belong to a grant recorded
 * elsewhere. A grant group goes when no rule is left in it and its own stamp is over by the same
 * test; an unstamped group is not one we made, and stays.
 */
export function planSgOrphanSweep(input: SgOrphanSweepInput): SgOrphanSweepPlan {
  const over = (tags: readonly Tag[] | undefined): Pick<SgOrphan, "grantId" | "expiresAt" | "why"> | undefined => {
    const info = parseGrantTags(tags);
    if (!info) return undefined;
    if (info.expiresAt.getTime() <= input.now.getTime()) return { grantId: info.grantId, expiresAt: info.expiresAt, why: "expired" };
    if (input.grantState(info.grantId) === "ended") return { grantId: info.grantId, expiresAt: info.expiresAt, why: "ended" };
    return undefined;
  };
  const groupIds = new Set(input.groups.map((g) => g.GroupId ?? ""));
  const ingress = input.rules.filter((r) => !r.IsEgress && r.GroupId !== undefined && groupIds.has(r.GroupId) && r.SecurityGroupRuleId);
  const plan: SgOrphanSweepPlan = { revoke: [], deleteGroups: [], orphans: [] };
  const staying = new Set<string>();
  for (const rule of ingress) {
    const ending = over(rule.Tags);
    if (!ending) {
      staying.add(rule.GroupId ?? "");
      continue;
    }
    const groupId = rule.GroupId ?? "";
    const entry = plan.revoke.find((r) => r.groupId === groupId) ?? plan.revoke[plan.revoke.push({ groupId, ruleIds: [] }) - 1];
    entry.ruleIds.push(rule.SecurityGroupRuleId ?? "");
    plan.orphans.push({ kind: "rule", groupId, name: rule.SecurityGroupRuleId ?? "", ...ending });
  }
  for (const group of input.groups) {
    const groupId = group.GroupId ?? "";
    const ending = staying.has(groupId) ? undefined : over(group.Tags);
    if (!ending) continue;
    plan.deleteGroups.push(groupId);
    plan.orphans.push({ kind: "group", groupId, name: group.GroupName ?? groupId, ...ending });
  }
  return plan;
}
