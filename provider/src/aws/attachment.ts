import { JitError } from "../model";
import { groupsWith, groupsWithout } from "../plan";
import type { AwsContext } from "./context";
import type { Ec2Api } from "./ec2";
import { isAwsError, sleep } from "./errors";

/**
 * Putting a grant group on an instance's interfaces and taking it off again. EC2 can only replace
 * an interface's whole group list, without any version check, so each change re-reads the list
 * just before writing it, changes only our entry, and reads it again to verify: if another writer
 * replaced the list in between, our entry is missing (or back) and we go round again.
 */

const ATTEMPTS = 5;

export async function attachGroup(ctx: AwsContext, ec2: Ec2Api, interfaceIds: readonly string[], groupId: string): Promise<void> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const missing = (await ec2.interfaces("network-interface-id", interfaceIds)).filter((i) => !i.groupIds.includes(groupId));
    if (missing.length === 0) return;
    for (const i of missing) {
      await ec2.setInterfaceGroups(i.networkInterfaceId, groupsWith(i.groupIds, groupId, i.networkInterfaceId, ctx.limits.groupsPerInterface));
    }
  }
  throw new JitError("Conflict", `security group ${groupId} did not stay on interfaces ${interfaceIds.join(", ")}: another writer keeps replacing their group lists`);
}

/**
 * Takes the group off every interface wearing it. Returns the interfaces it was taken off, and
 * those it must stay on because it is their only group (EC2 requires one).
 */
async function detachGroup(ec2: Ec2Api, groupId: string): Promise<{ detached: string[]; stuck: string[] }> {
  const detached = new Set<string>();
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const wearing = await ec2.interfaces("group-id", [groupId]);
    const movable = wearing.filter((i) => groupsWithout(i.groupIds, groupId).length > 0);
    if (movable.length === 0) return { detached: [...detached], stuck: wearing.map((i) => i.networkInterfaceId) };
    for (const i of movable) {
      await ec2.setInterfaceGroups(i.networkInterfaceId, groupsWithout(i.groupIds, groupId));
      detached.add(i.networkInterfaceId);
    }
  }
  throw new JitError("Conflict", `security group ${groupId} keeps coming back on interfaces: another writer keeps replacing their group lists`);
}

type Retirement = "deleted" | "gone" | "in-use" | "stuck";

/**
 * Retires a grant group that holds no rules: off every interface, then deleted. If a rule shows
 * up in it meanwhile (a grant in another process chose it), it goes back on the interfaces it was
 * on and stays. EC2 refuses to delete a group that is still attached or referenced, and after a
 * detach it can say so for a while: `DependencyViolation` is retried with doubling waits.
 */
export async function retireGroup(ctx: AwsContext, ec2: Ec2Api, groupId: string): Promise<Retirement> {
  const { detached, stuck } = await detachGroup(ec2, groupId);
  if (stuck.length > 0) return "stuck";
  const rules = await ec2.rules([groupId]);
  if (rules.some((r) => !r.IsEgress)) {
    if (detached.length > 0) await attachGroup(ctx, ec2, detached, groupId);
    return "in-use";
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await ec2.deleteGroup(groupId);
      return "deleted";
    } catch (err) {
      if (isAwsError(err, "InvalidGroup.NotFound")) return "gone";
      if (!isAwsError(err, "DependencyViolation") || attempt >= ATTEMPTS + 1) throw err;
      await sleep(ctx.backoffMs * 2 ** (attempt - 1));
    }
  }
}
