import { GrantStates, OrphanReport, Progress, SweepScope, statesAsked } from "../driver";
import { GRANT_GROUP_ROLE, SgOrphan, TAG_INSTANCE, TAG_ROLE, planSgOrphanSweep } from "../plan";
import { retireGroup } from "./attachment";
import { AwsContext, instanceLock, tagValue } from "./context";

/**
 * Finds grant groups (JIT groups included) straight from EC2, by their tags, in each region of the
 * scope (the default region when none is named), and removes what the plan says is over: rules
 * past their stamped expiry, of grants the ledger says ended, or that no grant made, and grant
 * groups left empty whose own stamp is over. Each removal is reported; a failure is reported and
 * the sweep goes on.
 */
export async function sweepOrphans(
  ctx: AwsContext,
  scope: SweepScope,
  now: Date,
  grantStates: GrantStates,
  progress?: Progress,
): Promise<OrphanReport[]> {
  // "" stands for instances named by bare id: the default region.
  const named = scope.awsRegions?.length ? scope.awsRegions : [""];
  const regions = new Set(await Promise.all(named.map((r) => (r ? Promise.resolve(r) : ctx.clients.defaultRegion()))));
  const out: OrphanReport[] = [];
  for (const region of regions) {
    const ec2 = await ctx.clients.ec2(region);
    const groups = await ec2.groups(`tag:${TAG_ROLE}`, [GRANT_GROUP_ROLE]);
    if (groups.length === 0) continue;
    const rules = await ec2.rules(groups.map((g) => g.GroupId ?? ""));
    const grantState = await statesAsked(grantStates, (state) => planSgOrphanSweep({ groups, rules, now, grantState: state }));
    const plan = planSgOrphanSweep({ groups, rules, now, grantState });
    const instanceOf = new Map(groups.map((g) => [g.GroupId ?? "", tagValue(g.Tags, TAG_INSTANCE) ?? ""]));
    const report = (orphan: SgOrphan, error?: unknown) => {
      out.push({
        cloud: "aws",
        container: orphan.groupId,
        name: orphan.name,
        ...(orphan.grantId ? { grantId: orphan.grantId } : {}),
        ...(orphan.expiresAt ? { expiredAt: orphan.expiresAt.toISOString() } : {}),
        action: error === undefined ? "removed" : "failed",
        ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
      });
    };
    const locks = [...new Set([...plan.revoke.map((r) => r.groupId), ...plan.deleteGroups])].map((g) => instanceLock({ region, instanceId: instanceOf.get(g) ?? g }));
    await ctx.locks.with(locks, async () => {
      const orphans = (kind: SgOrphan["kind"], groupId: string) => plan.orphans.filter((o) => o.kind === kind && o.groupId === groupId);
      for (const { groupId, ruleIds } of plan.revoke) {
        try {
          await ec2.revokeRules(groupId, ruleIds);
          orphans("rule", groupId).forEach((o) => report(o));
          for (const o of orphans("rule", groupId).filter((o) => o.detail)) progress?.(`removed ${o.name} from grant group ${groupId}: no grant made it (${o.detail})`);
          progress?.(`removed ${ruleIds.length} expired, ended or unowned rule(s) from grant group ${groupId}`);
        } catch (err) {
          orphans("rule", groupId).forEach((o) => report(o, err));
        }
      }
      for (const groupId of plan.deleteGroups) {
        const [group] = orphans("group", groupId);
        try {
          const outcome = await retireGroup(ctx, ec2, groupId);
          if (outcome === "stuck") report(group, new Error(`${groupId} is the only security group of an interface`));
          else if (outcome !== "in-use") report(group);
        } catch (err) {
          report(group, err);
        }
      }
    });
  }
  return out;
}
