import type { ChangeJournal, Progress, RestoreReport } from "../driver";
import { ChangeOf, Grant } from "../model";
import { SecurityGroup, SecurityGroupRule, TAG_GRANT, permissionOfRule, sgRuleKeys } from "../plan";
import { retireGroup } from "./attachment";
import { AwsContext, byRegion, instanceLock, tagValue, targetOf } from "./context";
import type { Ec2Api } from "./ec2";
import { isAwsError } from "./errors";
import { grantGroupsOf } from "./grant";

/**
 * Ending a grant on EC2: exactly the rules it recorded go, found in its instances' grant groups by
 * id (or, for an intent whose answer was lost, by its grant tag and permission), and only while
 * they still say they are this grant's; a grant group with no rule left in it that this grant
 * used is taken off the interfaces and deleted, whichever grant created it (the last one out).
 * Idempotent: what is already gone is counted and marked removed.
 *
 * Security groups are stateful: removing a rule refuses new connections at once, but a connection
 * EC2 already tracks (an open SSH session) goes on until it closes or idles out.
 */

interface RegionState {
  ec2: Ec2Api;
  groups: SecurityGroup[];
  rules: SecurityGroupRule[];
}

export async function restoreGrant(ctx: AwsContext, grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<RestoreReport> {
  const report: RestoreReport = { removed: 0, alreadyGone: 0, mismatches: [] };
  const targets = await Promise.all(grant.virtualMachines.map((vm) => targetOf(ctx, vm.id)));
  await ctx.locks.with(targets.map(instanceLock), async () => {
    const regions: RegionState[] = [];
    for (const [region, inRegion] of byRegion(targets)) {
      const ec2 = await ctx.clients.ec2(region);
      const groups = await grantGroupsOf(ec2, inRegion.map((t) => t.instanceId));
      regions.push({ ec2, groups, rules: groups.length ? await ec2.rules(groups.map((g) => g.GroupId ?? "")) : [] });
    }
    const regionOf = (groupId: string | undefined) => regions.find((r) => r.groups.some((g) => g.GroupId === groupId));

    const ruleChanges = grant.changes.filter((c): c is ChangeOf<"aws-sg-rule"> => c.kind === "aws-sg-rule");
    const open = ruleChanges.filter((c) => c.status !== "removed");
    const found = open.map((change) => {
      const where = regionOf(change.groupId);
      return { change, where, rules: where ? recordedRules(where, grant.id, change, report) : [] };
    });
    for (const where of regions) {
      for (const groupId of new Set(found.filter((f) => f.where === where && f.rules.length).map((f) => f.change.groupId))) {
        await revokeIn(where, groupId, found.filter((f) => f.change.groupId === groupId).flatMap((f) => f.rules));
      }
    }
    for (const { change, rules } of found) {
      if (rules.length > 0) report.removed += 1;
      else report.alreadyGone += 1;
      await journal.update({ ...change, status: "removed" });
    }
    for (const r of regions) {
      const recorded = new Set(ruleChanges.flatMap((c) => c.ruleIds));
      const strays = r.rules.filter((rule) => !rule.IsEgress && tagValue(rule.Tags, TAG_GRANT) === grant.id && !recorded.has(rule.SecurityGroupRuleId ?? ""));
      for (const rule of strays) report.mismatches.push(`rule ${rule.SecurityGroupRuleId} in ${rule.GroupId} is tagged as this grant's but is not in its record; left for sweep at its stamped expiry`);
    }

    // The groups this grant used: those it created, and those its rules went into.
    const created = grant.changes.filter((c): c is ChangeOf<"aws-sg"> => c.kind === "aws-sg");
    const used = new Map<string, RegionState>();
    for (const c of [...ruleChanges, ...created]) {
      const groupId = c.kind === "aws-sg" ? (c.groupId ?? byName(regions, c)?.GroupId) : c.groupId;
      const where = regionOf(groupId);
      if (groupId && where) used.set(groupId, where);
    }
    const retired = new Map<string, string>();
    for (const [groupId, where] of used) {
      if (where.rules.some((r) => r.GroupId === groupId && !r.IsEgress)) continue;
      const outcome = await retireGroup(ctx, where.ec2, groupId);
      retired.set(groupId, outcome);
      if (outcome === "stuck") report.mismatches.push(`grant group ${groupId} is the only security group of an interface, so it stays (empty, it allows nothing)`);
      else progress?.(`grant group ${groupId}: ${outcome}`);
    }
    for (const c of created.filter((c) => c.status !== "removed")) {
      const groupId = c.groupId ?? byName(regions, c)?.GroupId;
      // A group still holding other grants' rules stays for them; the last of them deletes it.
      if (groupId && retired.get(groupId) === "deleted") report.removed += 1;
      else if (!groupId || !used.has(groupId) || retired.get(groupId) === "gone") report.alreadyGone += 1;
      await journal.update({ ...c, ...(groupId ? { groupId } : {}), status: "removed" });
    }
  });
  return report;
}

function byName(regions: RegionState[], c: ChangeOf<"aws-sg">): SecurityGroup | undefined {
  return regions.flatMap((r) => r.groups).find((g) => g.GroupName === c.groupName && (c.vpcId === undefined || g.VpcId === c.vpcId));
}

/**
 * The rules of one recorded change. A rule qualifies only if it is still tagged as this grant's
 * and still is the recorded permission (and, once its ids are recorded, has one of them);
 * anything else under a recorded id is somebody's edit, reported and left alone.
 */
function recordedRules(where: RegionState, grantId: string, change: ChangeOf<"aws-sg-rule">, report: RestoreReport): SecurityGroupRule[] {
  const keys = new Set(sgRuleKeys(change.permission));
  const inGroup = where.rules.filter((r) => r.GroupId === change.groupId && !r.IsEgress);
  const ours = inGroup.filter(
    (r) =>
      tagValue(r.Tags, TAG_GRANT) === grantId &&
      sgRuleKeys(permissionOfRule(r)).every((k) => keys.has(k)) &&
      (change.ruleIds.length === 0 || change.ruleIds.includes(r.SecurityGroupRuleId ?? "")),
  );
  for (const r of inGroup.filter((r) => change.ruleIds.includes(r.SecurityGroupRuleId ?? "") && !ours.includes(r))) {
    report.mismatches.push(`rule ${r.SecurityGroupRuleId} in ${change.groupId} was changed since the grant made it; left in place`);
  }
  return ours;
}

/** Revokes rules of one group in one call, and drops them from `where.rules`. */
async function revokeIn(where: RegionState, groupId: string, rules: SecurityGroupRule[]): Promise<void> {
  let ids = rules.map((r) => r.SecurityGroupRuleId ?? "");
  for (let attempt = 1; ids.length > 0; attempt++) {
    try {
      await where.ec2.revokeRules(groupId, ids);
      break;
    } catch (err) {
      // One of them went meanwhile (a sweeper), so the call revoked nothing: try the rest.
      if (!isAwsError(err, "InvalidSecurityGroupRuleId.NotFound") || attempt >= 3) throw err;
      const still = new Set((await where.ec2.rules([groupId])).map((r) => r.SecurityGroupRuleId));
      ids = ids.filter((id) => still.has(id));
    }
  }
  const gone = new Set(rules);
  where.rules = where.rules.filter((r) => !gone.has(r));
}
