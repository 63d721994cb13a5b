import type { Progress } from "../driver";
import { GRANT_GROUP_ROLE, TAG_INSTANCE, TAG_POLICY, TAG_ROLE, jitGroupName } from "../plan";
import { attachGroups, deleteGroup, detachGroups } from "./attachment";
import { AwsContext, byRegion } from "./context";
import type { Ec2Api, InterfaceView } from "./ec2";
import { isAwsError } from "./errors";
import type { JitGroupRecord } from "./record";
import { withRetries } from "./retry";
import type { PolicyInstance, Survey } from "./survey";
import { errorMessage } from "../model/errors";

/**
 * Each policy instance's JIT group: one security group per instance and VPC, made and attached to
 * the instance's interfaces there when the baseline is applied, recorded by id in the baseline
 * record (which is what makes it ours), and retired when the policy goes. Grants then only add
 * rules to it and restores only take rules from it, so no request ever rewrites an interface's
 * group list. An interface that already wears as many groups as EC2 allows gets none (a warning
 * says so); its grants fall back to a grant group, which needs a free slot too.
 */

interface Wanted {
  region: string;
  instanceId: string;
  vpcId: string;
  interfaces: InterfaceView[];
}

function wanted(surveys: readonly Survey[], members: readonly PolicyInstance[]): Wanted[] {
  return surveys.flatMap((s) =>
    members.flatMap((m) => {
      const instance = m.region === s.region ? s.instances.get(m.instanceId) : undefined;
      if (!instance) return [];
      return [...new Set(instance.interfaces.map((i) => i.vpcId))].map((vpcId) => ({ region: s.region, instanceId: m.instanceId, vpcId, interfaces: instance.interfaces.filter((i) => i.vpcId === vpcId) }));
    }),
  );
}

const sameSlot = (a: { region: string; instanceId: string; vpcId: string }, b: { region: string; instanceId: string; vpcId: string }) =>
  a.region === b.region && a.instanceId === b.instanceId && a.vpcId === b.vpcId;

export async function ensureJitGroups(
  ctx: AwsContext,
  surveys: readonly Survey[],
  members: readonly PolicyInstance[],
  recorded: readonly JitGroupRecord[],
  policy: string,
  progress?: Progress,
): Promise<{ records: JitGroupRecord[]; warnings: string[] }> {
  const records: JitGroupRecord[] = [];
  const attach: JitGroupRecord[] = [];
  const warnings: string[] = [];
  const slots = wanted(surveys, members);
  for (const slot of slots) {
    const s = surveys.find((x) => x.region === slot.region) as Survey;
    const mine = recorded.find((r) => sameSlot(r, slot));
    let groupId = mine && s.groups.has(mine.groupId) ? mine.groupId : undefined;
    const ids = slot.interfaces.map((i) => i.networkInterfaceId);
    const recordOf = (groupId: string): JitGroupRecord => ({ region: slot.region, instanceId: slot.instanceId, vpcId: slot.vpcId, groupId, networkInterfaceIds: ids });
    if (groupId && slot.interfaces.every((i) => i.groupIds.includes(groupId as string))) {
      records.push(recordOf(groupId));
      continue;
    }
    const full = slot.interfaces.filter((i) => !(groupId && i.groupIds.includes(groupId)) && i.groupIds.length >= ctx.limits.groupsPerInterface);
    if (full.length > 0) {
      warnings.push(
        `instance ${slot.instanceId}: interface ${full.map((i) => i.networkInterfaceId).join(", ")} already wears ${ctx.limits.groupsPerInterface} security groups, the most it may, so it has no JIT group; a grant on it needs a free slot`,
      );
      if (groupId) records.push(recordOf(groupId));
      continue;
    }
    groupId ??= await makeGroup(ctx, s.ec2, slot, policy);
    records.push(recordOf(groupId));
    attach.push(records[records.length - 1]);
  }
  for (const s of surveys) {
    const here = attach.filter((r) => r.region === s.region);
    if (here.length === 0) continue;
    await attachGroups(ctx, s.ec2, here.map((r) => ({ interfaceIds: r.networkInterfaceIds, groupId: r.groupId })));
    for (const r of here) progress?.(`instance ${r.instanceId}: JIT group ${r.groupId} on ${r.networkInterfaceIds.join(", ")}`);
  }
  // Instances that left the policy take their JIT group with them.
  const gone = recorded.filter((r) => !slots.some((w) => sameSlot(r, w)));
  const left = await retireJitGroups(ctx, gone, progress);
  return { records: [...records, ...gone.filter((r) => left.some((l) => l.includes(r.groupId)))], warnings: [...warnings, ...left] };
}

/**
 * Creates the JIT group, or finds the one an earlier apply made whose answer (or record) was lost:
 * the name holds the instance id and is unique in its VPC. Right after the create a describe may
 * not list it yet, so that lookup is retried.
 */
async function makeGroup(ctx: AwsContext, ec2: Ec2Api, slot: Wanted, policy: string): Promise<string> {
  const name = jitGroupName(slot.instanceId);
  try {
    return await ec2.createGroup({
      name,
      description: `pulumi-jit JIT group of ${slot.instanceId} (rules of grants only)`,
      vpcId: slot.vpcId,
      tags: [
        { Key: TAG_ROLE, Value: GRANT_GROUP_ROLE },
        { Key: TAG_INSTANCE, Value: slot.instanceId },
        { Key: TAG_POLICY, Value: policy },
      ],
    });
  } catch (err) {
    if (!isAwsError(err, "InvalidGroup.Duplicate")) throw err;
    return withRetries(ctx.backoff, { attempts: 5, retryable: (e) => e === err }, async () => {
      const [found] = await ec2.groups("group-name", [name], [{ Name: "vpc-id", Values: [slot.vpcId] }]);
      if (!found?.GroupId) throw err;
      return found.GroupId;
    });
  }
}

/**
 * Takes JIT groups off their interfaces (from a fresh read, so a group someone else took off
 * stays off; one read and one write per interface for all of a region's groups) and deletes them,
 * with whatever grant rules are still in them: the policy they belonged to is going. Returns a
 * sentence for each that could not go.
 */
export async function retireJitGroups(ctx: AwsContext, groups: readonly JitGroupRecord[], progress?: Progress): Promise<string[]> {
  const left: string[] = [];
  for (const [region, inRegion] of byRegion(groups)) {
    const ec2 = await ctx.clients.ec2(region);
    let detached: Awaited<ReturnType<typeof detachGroups>>;
    try {
      detached = await detachGroups(ctx, ec2, inRegion.map((g) => g.groupId));
    } catch (err) {
      for (const g of inRegion) left.push(`JIT group ${g.groupId} of ${g.instanceId} could not be taken off its interfaces: ${errorMessage(err)}`);
      continue;
    }
    for (const g of inRegion) {
      const stuck = detached.get(g.groupId)?.stuck ?? [];
      if (stuck.length > 0) {
        left.push(`JIT group ${g.groupId} of ${g.instanceId} stays on ${stuck.join(", ")}, whose only group it is (EC2 requires one); it holds no rule once grants end`);
        continue;
      }
      try {
        const outcome = await deleteGroup(ctx, ec2, g.groupId);
        progress?.(`JIT group ${g.groupId} of ${g.instanceId}: ${outcome}`);
      } catch (err) {
        left.push(`JIT group ${g.groupId} of ${g.instanceId} could not be retired: ${errorMessage(err)}`);
      }
    }
  }
  return left;
}

/** How the recorded JIT groups differ from what the survey found: deleted, or no longer on an interface. */
export function jitGroupDrift(surveys: readonly Survey[], recorded: readonly JitGroupRecord[]): string[] {
  return recorded.flatMap((r) => {
    const s = surveys.find((x) => x.region === r.region);
    if (!s) return [];
    if (!s.groups.has(r.groupId)) return [`JIT group ${r.groupId} of ${r.instanceId} no longer exists; grants on it go into grant groups until the policy is applied again`];
    const instance = s.instances.get(r.instanceId);
    const off = (instance?.interfaces ?? []).filter((i) => i.vpcId === r.vpcId && !i.groupIds.includes(r.groupId));
    return off.length ? [`JIT group ${r.groupId} of ${r.instanceId} is no longer on ${off.map((i) => i.networkInterfaceId).join(", ")}`] : [];
  });
}
