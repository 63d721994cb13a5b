import type { ChangeJournal, Progress, RestoreReport } from "../driver";
import { ChangeOf, Grant } from "../model";
import { SecurityGroup, SecurityGroupRule, emptiedGroups, planSgGrantRestore } from "../plan";
import { retireGroup } from "./attachment";
import { AwsContext, InstanceTarget, byRegion, instanceLock, targetOf } from "./context";
import type { Ec2Api } from "./ec2";
import { isAwsError } from "./errors";
import { withRetries } from "./retry";

/**
 * Ending a grant on EC2: the groups and rules it recorded are read by their recorded ids (tags
 * can be edited, and a describe by tag can lag a write), and exactly the rules the planner finds
 * still the grant's go, in one RevokeSecurityGroupIngress by rule ids per group. A grant group
 * this grant created is retired once no rule is left in it; a JIT group stays with its baseline,
 * and a grant group another grant created is left for that grant or, once it is over, for sweep.
 * Idempotent: what is already gone is counted and marked removed.
 *
 * Security groups are stateful: removing a rule refuses new connections at once, but a connection
 * EC2 already tracks (an open SSH session) goes on until it closes or idles out.
 */

export async function restoreGrant(ctx: AwsContext, grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<RestoreReport> {
  const report: RestoreReport = { removed: 0, alreadyGone: 0, mismatches: [] };
  const targets = await Promise.all(grant.virtualMachines.map((vm) => targetOf(ctx, vm.id)));
  const ruleChanges = grant.changes.filter((c): c is ChangeOf<"aws-sg-rule"> => c.kind === "aws-sg-rule");
  const created = grant.changes.filter((c): c is ChangeOf<"aws-sg"> => c.kind === "aws-sg" && c.status !== "removed");
  await ctx.locks.with(targets.map(instanceLock), async () => {
    // Changes name groups, not regions: each of the grant's regions is asked for them, and a group is where it is found.
    const where = new Map<string, Ec2Api>();
    const named = new Map<string, SecurityGroup>();
    const rules: SecurityGroupRule[] = [];
    for (const [region, inRegion] of byRegion(targets)) {
      const ec2 = await ctx.clients.ec2(region);
      for (const [name, group] of await createdByName(ec2, created, inRegion)) named.set(name, group);
      const groupIds = [...new Set([...ruleChanges.map((c) => c.groupId), ...created.flatMap((c) => c.groupId ?? named.get(c.groupName)?.GroupId ?? [])])];
      const found = groupIds.length ? await ec2.rules(groupIds) : [];
      for (const r of found) where.set(r.GroupId ?? "", ec2);
      rules.push(...found);
    }
    const open = ruleChanges.filter((c) => c.status !== "removed");
    const plan = planSgGrantRestore({ grantId: grant.id, open, recordedIds: new Set(ruleChanges.flatMap((c) => c.ruleIds)), rules });
    for (const { groupId, ruleIds } of plan.revoke) await revokeRules(ctx, where.get(groupId) as Ec2Api, groupId, ruleIds);
    report.mismatches.push(...plan.mismatches);
    for (const { change, ruleIds } of plan.found) {
      if (ruleIds.length > 0) report.removed += 1;
      else report.alreadyGone += 1;
      await journal.update({ ...change, status: "removed" });
    }
    const emptied = new Set(emptiedGroups([...where.keys()], rules, plan.revoke));
    for (const c of created) {
      const groupId = c.groupId ?? named.get(c.groupName)?.GroupId;
      const ec2 = groupId ? where.get(groupId) : undefined;
      // A group still holding other grants' rules stays for them; sweep deletes it once they and its stamp are over.
      const outcome = !groupId || !ec2 ? "gone" : emptied.has(groupId) ? await retireGroup(ctx, ec2, groupId) : "in-use";
      if (outcome === "stuck") report.mismatches.push(`grant group ${groupId} is the only security group of an interface, so it stays (empty, it allows nothing)`);
      else progress?.(`grant group ${groupId ?? c.groupName}: ${outcome}`);
      if (outcome === "deleted") report.removed += 1;
      else if (outcome === "gone") report.alreadyGone += 1;
      await journal.update({ ...c, ...(groupId ? { groupId } : {}), status: "removed" });
    }
  });
  return report;
}

/** Groups this grant meant to create whose id was never recorded (the answer was lost), by their unique name. */
async function createdByName(ec2: Ec2Api, created: ChangeOf<"aws-sg">[], inRegion: InstanceTarget[]): Promise<Map<string, SecurityGroup>> {
  const lost = created.filter((c) => c.groupId === undefined && c.status !== "removed" && inRegion.some((t) => c.groupName.includes(t.instanceId)));
  if (lost.length === 0) return new Map();
  const groups = await ec2.groups("group-name", lost.map((c) => c.groupName));
  return new Map(lost.flatMap((c) => groups.filter((g) => g.GroupName === c.groupName && (c.vpcId === undefined || g.VpcId === c.vpcId)).map((g) => [c.groupName, g] as const)));
}

/** Revokes rules of one group by id; if one went meanwhile (a sweeper), the call revoked nothing, so the rest are tried again. */
async function revokeRules(ctx: AwsContext, ec2: Ec2Api, groupId: string, ruleIds: string[]): Promise<void> {
  let ids = ruleIds;
  await withRetries(
    ctx.backoff,
    {
      attempts: 3,
      retryable: (err) => isAwsError(err, "InvalidSecurityGroupRuleId.NotFound"),
      beforeRetry: async () => {
        const still = new Set((await ec2.rules([groupId])).map((r) => r.SecurityGroupRuleId));
        ids = ids.filter((id) => still.has(id));
      },
    },
    async () => {
      if (ids.length > 0) await ec2.revokeRules(groupId, ids);
    },
  );
}
