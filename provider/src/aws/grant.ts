import type { ChangeJournal, Progress } from "../driver";
import { ChangeOf, CheckedVm, Grant, IpPermission as RecordedPermission, JitError, isJitError, utc } from "../model";
import {
  GRANT_GROUP_ROLE,
  GrantIngress,
  IpPermission,
  TAG_EXPIRES_AT,
  TAG_INSTANCE,
  TAG_ROLE,
  Tag,
  grantGroupStamp,
  permissionOfRule,
  planGrantPlacement,
  planSgGrantIngress,
  sgRuleKeys,
} from "../plan";
import { attachGroup, retireGroup } from "./attachment";
import { AwsContext, InstanceTarget, instanceLock, tagValue, targetOf } from "./context";
import type { Ec2Api, InterfaceView } from "./ec2";
import { awsErrorName, isAwsError } from "./errors";

/**
 * Opening a grant's ports on EC2, following the plan's placement: the grant's rules (the ports
 * from the requester's prefix, tagged with grant, policy, instance and expiry) go into a grant
 * group of the instance that has room and holds none of the same rules, or into a new one, which
 * is then put on every interface of the instance in that VPC. Every change is journalled before
 * it is made and again once it is, so that a crash anywhere leaves a record restore can finish.
 */

const PLACEMENT_ATTEMPTS = 4;

/**
 * EC2 answers that mean another writer changed the instance's grant groups between our read and
 * our write (a rule of the same kind, a full group, a deleted group, a full interface): read again
 * and place again.
 */
const RACES = ["InvalidPermission.Duplicate", "RulesPerSecurityGroupLimitExceeded", "InvalidGroup.NotFound", "SecurityGroupsPerInterfaceLimitExceeded"];

/** A new group could not go on the interfaces, which filled up meanwhile: it was taken away again, so place again. */
class InterfaceFilled extends Error {}

export async function applyGrant(ctx: AwsContext, grant: Grant, journal: ChangeJournal, progress?: Progress): Promise<void> {
  for (const vm of grant.virtualMachines) {
    const target = await targetOf(ctx, vm.id);
    await ctx.locks.with([instanceLock(target)], () => openOnInstance(ctx, grant, vm, target, journal, progress));
  }
}

async function openOnInstance(ctx: AwsContext, grant: Grant, vm: CheckedVm, target: InstanceTarget, journal: ChangeJournal, progress?: Progress): Promise<void> {
  const ec2 = await ctx.clients.ec2(target.region);
  const ingress = planSgGrantIngress({
    grantId: grant.id,
    policy: grant.policy,
    instanceId: target.instanceId,
    ports: vm.ports.map((p) => ({ number: p.number, protocol: p.protocol, source: p.sourceAddressPrefix, expiresAt: new Date(p.endTimeUtc) })),
  });
  let interfaces = await readInstance(ec2, target);
  for (const vpcId of new Set(interfaces.map((i) => i.vpcId))) {
    for (let attempt = 1; ; attempt++) {
      try {
        await placeInVpc(ctx, ec2, grant, target, vpcId, interfaces.filter((i) => i.vpcId === vpcId), ingress, journal);
        break;
      } catch (err) {
        const race = err instanceof InterfaceFilled || isAwsError(err, ...RACES);
        if (!race || attempt >= PLACEMENT_ATTEMPTS) throw err instanceof InterfaceFilled ? (err.cause as Error) : err;
        progress?.(`${target.instanceId}: its grant groups changed meanwhile (${awsErrorName(err) ?? "an interface filled up"}); placing grant ${grant.id} again`);
        interfaces = await readInstance(ec2, target);
      }
    }
  }
}

async function readInstance(ec2: Ec2Api, target: InstanceTarget): Promise<InterfaceView[]> {
  const [instance] = await ec2.instances([target.instanceId]);
  if (!instance || instance.interfaces.length === 0) {
    throw new JitError("NotFound", `instance ${target.instanceId} ${instance ? `is ${instance.state} and has no network interface` : `was not found in ${target.region}`}`);
  }
  return instance.interfaces;
}

/** The grant groups of an instance: ours by tag, whoever made them. */
export function grantGroupsOf(ec2: Ec2Api, instanceIds: readonly string[]) {
  return ec2.groups(`tag:${TAG_INSTANCE}`, instanceIds, [{ Name: `tag:${TAG_ROLE}`, Values: [GRANT_GROUP_ROLE] }]);
}

async function placeInVpc(
  ctx: AwsContext,
  ec2: Ec2Api,
  grant: Grant,
  target: InstanceTarget,
  vpcId: string,
  interfaces: InterfaceView[],
  ingress: GrantIngress,
  journal: ChangeJournal,
): Promise<void> {
  const interfaceIds = interfaces.map((i) => i.networkInterfaceId);
  const grantGroups = (await grantGroupsOf(ec2, [target.instanceId])).filter((g) => g.VpcId === vpcId);
  const placement = planGrantPlacement({
    grantId: grant.id,
    instanceId: target.instanceId,
    ingress,
    interfaces: interfaces.map((i) => ({ networkInterfaceId: i.networkInterfaceId, groupIds: i.groupIds })),
    grantGroups,
    maxRulesPerGroup: ctx.limits.rulesPerGroup,
    maxGroupsPerInterface: ctx.limits.groupsPerInterface,
  });

  let groupId: string;
  let created: ChangeOf<"aws-sg"> | undefined;
  if (placement.kind === "existing") {
    groupId = placement.groupId;
  } else {
    created = { kind: "aws-sg", status: "intended", groupName: placement.groupName, vpcId, networkInterfaceIds: interfaceIds };
    await journal.intend([created]);
    groupId = await createGroup(ec2, placement.groupName, placement.description, vpcId, [
      ...placement.tags,
      ...grantGroupStamp(grant.id, grant.policy, new Date(grant.endTimeUtc)),
    ]);
    created = { ...created, status: "applied", groupId };
    await journal.update(created);
  }

  const changes = await authorizeRules(ec2, grant, groupId, ingress, journal);
  try {
    await attachGroup(ctx, ec2, interfaceIds, groupId);
  } catch (err) {
    if (!created || !isJitError(err, "CapacityExceeded")) throw err;
    await discard(ctx, ec2, groupId, created, changes, journal);
    throw new InterfaceFilled(err.message, { cause: err });
  }
}

async function createGroup(ec2: Ec2Api, name: string, description: string, vpcId: string, tags: Tag[]): Promise<string> {
  try {
    return await ec2.createGroup({ name, description, vpcId, tags });
  } catch (err) {
    if (!isAwsError(err, "InvalidGroup.Duplicate")) throw err;
    // The name holds this grant's id: an earlier try of ours made it and its answer was lost.
    const [mine] = await ec2.groups("group-name", [name], [{ Name: "vpc-id", Values: [vpcId] }]);
    if (!mine?.GroupId) throw err;
    return mine.GroupId;
  }
}

/** The permission as the ledger records it (the model's strict schema, no undefined fields). */
function recorded(permission: IpPermission): RecordedPermission {
  return JSON.parse(JSON.stringify(permission)) as RecordedPermission;
}

/** One journalled authorize per expiry; each change gets the ids of the rules EC2 made for it. */
async function authorizeRules(ec2: Ec2Api, grant: Grant, groupId: string, ingress: GrantIngress, journal: ChangeJournal): Promise<ChangeOf<"aws-sg-rule">[]> {
  const planned = ingress.map((batch) => {
    const until = utc(tagValue(batch.tags, TAG_EXPIRES_AT) ?? grant.endTimeUtc);
    return batch.permissions.map(
      (permission): ChangeOf<"aws-sg-rule"> => ({
        kind: "aws-sg-rule",
        status: "intended",
        groupId,
        ruleIds: [],
        permission: recorded(permission),
        ...(Date.parse(until) < Date.parse(grant.endTimeUtc) ? { endTimeUtc: until } : {}),
      }),
    );
  });
  await journal.intend(planned.flat());
  const applied: ChangeOf<"aws-sg-rule">[] = [];
  for (const [i, batch] of ingress.entries()) {
    const rules = await ec2.authorize(groupId, batch.permissions, batch.tags);
    for (const change of planned[i]) {
      const keys = new Set(sgRuleKeys(change.permission));
      const ruleIds = rules.filter((r) => sgRuleKeys(permissionOfRule(r)).some((k) => keys.has(k))).map((r) => r.SecurityGroupRuleId ?? "");
      const done: ChangeOf<"aws-sg-rule"> = { ...change, status: "applied", ruleIds };
      await journal.update(done);
      applied.push(done);
    }
  }
  return applied;
}

/** Takes back a new group that could not be attached: its rules, then the group. */
async function discard(ctx: AwsContext, ec2: Ec2Api, groupId: string, created: ChangeOf<"aws-sg">, rules: ChangeOf<"aws-sg-rule">[], journal: ChangeJournal): Promise<void> {
  const ruleIds = rules.flatMap((c) => c.ruleIds);
  if (ruleIds.length) await ec2.revokeRules(groupId, ruleIds);
  for (const c of rules) await journal.update({ ...c, status: "removed" });
  await retireGroup(ctx, ec2, groupId);
  await journal.update({ ...created, status: "removed" });
}
