import { JitError } from "../model";
import { groupsWith, groupsWithout } from "../plan";
import type { AwsContext } from "./context";
import type { Ec2Api, InterfaceView } from "./ec2";
import { isAwsError } from "./errors";
import { withRetries } from "./retry";

/**
 * Putting a group on an instance's interfaces and taking it off again. EC2 can only replace an
 * interface's whole group list, with no version check, so this is kept to the few writes that
 * remain (a JIT group attached once by the baseline, a grant group where the JIT group has no
 * room) and each one re-reads the list just before writing it and changes only our entry, so
 * that the window in which another writer's change could be lost is one round trip; a detach
 * never writes back a group someone else took off meanwhile. A read after the write verifies it;
 * if another writer replaced the list in between, our entry is missing (or back) and we go round
 * again, after a jittered wait (a describe may also lag the write).
 */

const ATTEMPTS = 5;

class NotYet extends Error {}

const notYet = (err: unknown) => err instanceof NotYet || isAwsError(err, "InvalidGroup.NotFound");

export async function attachGroup(ctx: AwsContext, ec2: Ec2Api, interfaceIds: readonly string[], groupId: string): Promise<void> {
  await attachGroups(ctx, ec2, [{ interfaceIds, groupId }]);
}

/** Several groups, each onto its interfaces, with one read before and one after the writes however many there are. */
export async function attachGroups(ctx: AwsContext, ec2: Ec2Api, wants: ReadonlyArray<{ interfaceIds: readonly string[]; groupId: string }>): Promise<void> {
  const all = [...new Set(wants.flatMap((w) => w.interfaceIds))];
  const missing = async () => {
    const read = await ec2.interfaces("network-interface-id", all);
    return wants.flatMap((w) => read.filter((i) => w.interfaceIds.includes(i.networkInterfaceId) && !i.groupIds.includes(w.groupId)).map((i) => ({ i, groupId: w.groupId })));
  };
  try {
    await withRetries(ctx.backoff, { attempts: ATTEMPTS, retryable: notYet }, async () => {
      // This read is the one right before the writes: the lists we replace are as fresh as EC2 lets them be.
      const before = await missing();
      if (before.length === 0) return;
      const lists = new Map<string, string[]>();
      for (const { i, groupId } of before) {
        const current = lists.get(i.networkInterfaceId) ?? i.groupIds;
        lists.set(i.networkInterfaceId, groupsWith(current, groupId, i.networkInterfaceId, ctx.limits.groupsPerInterface));
      }
      for (const [interfaceId, groupIds] of lists) await ec2.setInterfaceGroups(interfaceId, groupIds);
      if ((await missing()).length > 0) throw new NotYet();
    });
  } catch (err) {
    if (!(err instanceof NotYet)) throw err;
    const groups = wants.map((w) => `${w.groupId} (${w.interfaceIds.join(", ")})`).join(", ");
    throw new JitError("Conflict", `security groups did not stay on their interfaces, ${groups}: another writer keeps replacing their group lists`);
  }
}

/**
 * Takes the group off every interface wearing it. Returns the interfaces it was taken off, and
 * those it must stay on because it is their only group (EC2 requires one).
 */
export async function detachGroup(ctx: AwsContext, ec2: Ec2Api, groupId: string): Promise<{ detached: string[]; stuck: string[] }> {
  return (await detachGroups(ctx, ec2, [groupId])).get(groupId) ?? { detached: [], stuck: [] };
}

/** Several groups off every interface wearing any of them, with one read before and one after the writes however many there are. */
export async function detachGroups(ctx: AwsContext, ec2: Ec2Api, groupIds: readonly string[]): Promise<Map<string, { detached: string[]; stuck: string[] }>> {
  const ours = new Set(groupIds);
  const out = new Map(groupIds.map((g) => [g, { detached: new Set<string>(), stuck: [] as string[] }]));
  const wearers = () => ec2.interfaces("group-id", groupIds);
  // An interface must keep one group: if ours are all it has, the first of them stays.
  const keep = (i: InterfaceView) => groupsWithout(i.groupIds, ...groupIds);
  const movable = (wearing: InterfaceView[]) => wearing.filter((i) => keep(i).length > 0);
  try {
    return await withRetries(ctx.backoff, { attempts: ATTEMPTS, retryable: (e) => e instanceof NotYet }, async () => {
      let wearing = await wearers();
      let wrote = false;
      for (const i of movable(wearing)) {
        // Written from the read just made, never from an older one: a group someone took off stays off.
        await ec2.setInterfaceGroups(i.networkInterfaceId, keep(i));
        wrote = true;
        for (const g of i.groupIds.filter((g) => ours.has(g))) out.get(g)?.detached.add(i.networkInterfaceId);
      }
      if (wrote) wearing = await wearers();
      if (movable(wearing).length > 0) throw new NotYet();
      for (const g of groupIds) {
        const entry = out.get(g);
        if (entry) entry.stuck = wearing.filter((i) => i.groupIds.includes(g)).map((i) => i.networkInterfaceId);
      }
      return new Map([...out].map(([g, e]) => [g, { detached: [...e.detached], stuck: e.stuck }]));
    });
  } catch (err) {
    if (!(err instanceof NotYet)) throw err;
    throw new JitError("Conflict", `security groups ${groupIds.join(", ")} keep coming back on interfaces: another writer keeps replacing their group lists`);
  }
}

export type Retirement = "deleted" | "gone" | "in-use" | "stuck";

/**
 * Deletes a group that is off every interface. EC2 refuses while it is still attached (which,
 * right after a detach, it can say for a while: retried with backoff) or while another group's
 * rule references it, which does not pass with time: that is reported at once, naming the
 * referencing groups, and not retried.
 */
export async function deleteGroup(ctx: AwsContext, ec2: Ec2Api, groupId: string): Promise<"deleted" | "gone"> {
  return withRetries(ctx.backoff, { attempts: ATTEMPTS + 1, retryable: (e) => isAwsError(e, "DependencyViolation") }, async () => {
    try {
      await ec2.deleteGroup(groupId);
      return "deleted";
    } catch (err) {
      if (isAwsError(err, "InvalidGroup.NotFound")) return "gone";
      if (!isAwsError(err, "DependencyViolation")) throw err;
      const referencing = [
        ...(await ec2.groups("ip-permission.group-id", [groupId])),
        ...(await ec2.groups("egress.ip-permission.group-id", [groupId])),
      ].filter((g) => g.GroupId !== groupId);
      if (referencing.length === 0) throw err;
      const names = [...new Set(referencing.map((g) => g.GroupId))].join(", ");
      throw new JitError("Conflict", `security group ${groupId} cannot be deleted: rules of ${names} refer to it; remove those rules and run sweep again`, { cause: err });
    }
  });
}

/**
 * Retires a grant group that holds no rules: off every interface, then deleted. If a rule shows
 * up in it meanwhile (a grant in another process chose it), it goes back on the interfaces it was
 * on and stays.
 */
export async function retireGroup(ctx: AwsContext, ec2: Ec2Api, groupId: string): Promise<Retirement> {
  const { detached, stuck } = await detachGroup(ctx, ec2, groupId);
  if (stuck.length > 0) return "stuck";
  const rules = await ec2.rules([groupId]);
  if (rules.some((r) => !r.IsEgress)) {
    if (detached.length > 0) await attachGroup(ctx, ec2, detached, groupId);
    return "in-use";
  }
  return deleteGroup(ctx, ec2, groupId);
}
