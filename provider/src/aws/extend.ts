import type { ChangeJournal, Progress } from "../driver";
import { Grant, openChanges } from "../model";
import { TAG_EXPIRES_AT, stampTime } from "../plan";
import { AwsContext, targetOf } from "./context";
import type { Ec2Api } from "./ec2";

/**
 * Moves the expiry stamped on a grant's rules and groups to the grant's new ends: a CreateTags per
 * expiry on the rules (and on a grant group the grant made), which replaces the expiry tag's value
 * and touches nothing else, so the rules stay in place throughout. `grant` carries the new ends.
 * The journal's records keep their keys; their ends are already the new ones.
 */
export async function extendGrant(ctx: AwsContext, grant: Grant, _journal: ChangeJournal, progress?: Progress): Promise<void> {
  const regions = [...new Set(await Promise.all(grant.virtualMachines.map(async (vm) => (await targetOf(ctx, vm.id)).region)))];
  const byExpiry = new Map<string, string[]>();
  for (const c of openChanges(grant)) {
    if (c.status !== "applied") continue;
    const until = stampTime(new Date(c.endTimeUtc ?? grant.endTimeUtc));
    const ids = c.kind === "aws-sg-rule" ? c.ruleIds : c.kind === "aws-sg" && c.groupId ? [c.groupId] : [];
    if (ids.length) byExpiry.set(until, [...(byExpiry.get(until) ?? []), ...ids]);
  }
  for (const region of regions) {
    const ec2 = await ctx.clients.ec2(region);
    // A grant's instances may be in several regions: each id is tagged where it exists.
    const groups = await groupIdsIn(ec2, grant);
    const present = new Set([...groups, ...(groups.length ? await ec2.rules(groups) : []).map((r) => r.SecurityGroupRuleId ?? "")]);
    for (const [until, ids] of byExpiry) {
      const mine = ids.filter((id) => present.has(id));
      if (mine.length === 0) continue;
      await ec2.tag(mine, [{ Key: TAG_EXPIRES_AT, Value: until }]);
      progress?.(`${region}: ${mine.length} rule(s) and group(s) of grant ${grant.id} now expire ${until}`);
    }
  }
}

/** The groups the grant's rules are in (or that it made) that exist in this region. */
async function groupIdsIn(ec2: Ec2Api, grant: Grant): Promise<string[]> {
  const ids = [...new Set(openChanges(grant).flatMap((c) => (c.kind === "aws-sg-rule" ? [c.groupId] : c.kind === "aws-sg" && c.groupId ? [c.groupId] : [])))];
  return ids.length ? (await ec2.groups("group-id", ids)).map((g) => g.GroupId ?? "") : [];
}
