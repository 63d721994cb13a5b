import { stampTime } from "../nsg/names";
import { parseGrantTags } from "./grant";
import { judgeGrantRule } from "./ownership";
import { TAG_EXPIRES_AT, TAG_GRANT, TAG_POLICY } from "./tags";
import type { SecurityGroup, SecurityGroupRule, Tag } from "./types";

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
  /** The grant it says it belongs to; absent for a rule no grant made. */
  grantId?: string;
  expiresAt?: Date;
  why: "expired" | "ended" | "not a grant's";
  /** For a rule no grant made: how that shows. */
  detail?: string;
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
 * A rule in a grant group goes when its stamped expiry has passed, when its grant is known to have
 * ended, or when no grant made it (no grant tags, or a stamp no grant could have: see
 * `judgeGrantRule`), for a grant group holds grants' rules and nothing else. A rule of a grant the
 * ledger does not know stays until its stamp, at most a day ahead: it may belong to a grant
 * recorded in another ledger. A grant group goes when no rule is left in it and its own stamp is
 * over by the same test; an unstamped group (an instance's JIT group, which its baseline owns, or
 * one we did not make) stays.
 */
export function planSgOrphanSweep(input: SgOrphanSweepInput): SgOrphanSweepPlan {
  const over = (tags: readonly Tag[] | undefined): Pick<SgOrphan, "grantId" | "expiresAt" | "why" | "detail"> | undefined => {
    const verdict = judgeGrantRule(tags, input.now);
    if (verdict.kind === "foreign") return { why: "not a grant's", detail: verdict.why };
    const { grantId, expiresAt } = verdict.info;
    if (verdict.kind === "expired") return { grantId, expiresAt, why: "expired" };
    if (input.grantState(grantId) === "ended") return { grantId, expiresAt, why: "ended" };
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
    // A group's own stamp is judged as a rule's, except that no stamp means "not ours to delete".
    const ending = staying.has(groupId) || !parseGrantTags(group.Tags) ? undefined : over(group.Tags);
    if (!ending) continue;
    plan.deleteGroups.push(groupId);
    plan.orphans.push({ kind: "group", groupId, name: group.GroupName ?? groupId, ...ending });
  }
  return plan;
}
