import type { ChangeJournal, Progress } from "../driver";
import { ChangeOf, CheckedVm, Grant, IpPermission as RecordedPermission, JitError, isJitError, utc } from "../model";
import {
  GRANT_GROUP_ROLE,
  GrantIngress,
  IpPermission,
  TAG_EXPIRES_AT,
  TAG_GRANT,
  TAG_INSTANCE,
  TAG_ROLE,
  Tag,
  grantGroupStamp,
  jitGroupOn,
  permissionOfRule,
  planGrantPlacement,
  planSgGrantIngress,
  sgRuleKeys,
} from "../plan";
import { attachGroup, retireGroup } from "./attachment";
import { AwsContext, InstanceTarget, instanceLock, tagValue, targetOf } from "./context";
import type { Ec2Api, InterfaceView } from "./ec2";
import { awsErrorName, isAwsError } from "./errors";
import { withRetries } from "./retry";

/**
 * Opening a grant's ports on EC2: the grant's rules (the ports from the requester's prefix, tagged
 * with grant, policy, instance and expiry) go into the instance's JIT group, which its baseline
 * attached to its interfaces: one AuthorizeSecurityGroupIngress after one DescribeInstances, and
 * no interface's group list is rewritten. Where that cannot be (no JIT group: an instance whose
 * baseline predates them or had no room; the same rule already there for an overlapping grant;
 * the group full), the rules go into a grant group of the instance that has room and holds none
 * of the same rules, or into a new one, which is then put on every interface of the instance in
 * that VPC. Every change is journalled before it is made and again once it is, so that a crash
 * anywhere leaves a record restore can finish.
 */

const PLACEMENT_ATTEMPTS = 4;

/**
 * EC2 answers that mean another writer changed the instance's grant groups between our read and
 * our write (a rule of the same kind, a full group, a deleted group, a full interface), or that
 * EC2 has not caught up with our own write yet (a group just created not found): read again,
 * wait, and place again.
 */
const RACES = ["InvalidPermission.Duplicate", "RulesPerSecurityGroupLimitExceeded", "InvalidGroup.NotFound", "SecurityGroupsPerInterfaceLimitExceeded"];

/** A new group could not go on the interfaces, which filled up meanwhile: it was taken away again, so place again. */
class InterfaceFilled extends Error {}

/** How old a read of the instance a grant's first placement may start from: long enough for the request's own permission check to serve. */
const RECENT_READ_MS = 2_000;

/** Answers from the JIT group that send the rules to a grant group instead. */
const JIT_FULL = ["InvalidPermission.Duplicate", "RulesPerSecurityGroupLimitExceeded"];

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
  let interfaces = await readInstance(ec2, target, RECENT_READ_MS);
  for (const vpcId of new Set(interfaces.map((i) => i.vpcId))) {
    const inVpc = interfaces.filter((i) => i.vpcId === vpcId);
    const jit = jitGroupOn(target.instanceId, inVpc.map((i) => ({ groups: i.groupIds.map((id, n) => ({ id, name: i.groupNames?.[n] })) })));
    if (jit && (await intoJitGroup(ec2, grant, jit, ingress, journal, progress))) continue;
    const placed: Placed = {};
    await withRetries(
      ctx.backoff,
      {
        attempts: PLACEMENT_ATTEMPTS,
        retryable: (err) => err instanceof InterfaceFilled || isAwsError(err, ...RACES),
        beforeRetry: async (err) => {
          progress?.(`${target.instanceId}: its grant groups changed meanwhile (${awsErrorName(err) ?? "an interface filled up"}); placing grant ${grant.id} again`);
          interfaces = await readInstance(ec2, target);
        },
      },
      () => placeInVpc(ctx, ec2, grant, target, vpcId, interfaces.filter((i) => i.vpcId === vpcId), ingress, journal, placed),
    ).catch((err: unknown) => {
      throw err instanceof InterfaceFilled ? (err.cause as Error) : err;
    });
  }
}

/**
 * The rules into the JIT group; false when they must go elsewhere (the group holds one of them
 * for another grant, or is full), having written nothing. A duplicate can also be our own rule
 * whose answer was lost (the SDK's retry of an authorize that had been applied): the group's
 * rules then carry this grant's tags, and are taken as ours.
 */
async function intoJitGroup(ec2: Ec2Api, grant: Grant, groupId: string, ingress: GrantIngress, journal: ChangeJournal, progress?: Progress): Promise<boolean> {
  try {
    await authorizeRules(ec2, grant, groupId, ingress, journal);
    return true;
  } catch (err) {
    if (!(err instanceof Unauthorized) || !isAwsError(err.cause, ...JIT_FULL)) throw err instanceof Unauthorized ? err.cause : err;
    const mine = isAwsError(err.cause, "InvalidPermission.Duplicate") ? await adoptOwn(ec2, grant, groupId, err.pending, journal) : undefined;
    if (mine) return true;
    for (const c of err.pending) await journal.update({ ...c, status: "removed" });
    progress?.(`JIT group ${groupId}: ${awsErrorName(err.cause)}; grant ${grant.id} goes into a grant group`);
    return false;
  }
}

/** If every pending change's rules are already in the group, tagged as this grant's, they are journalled as applied and returned. */
async function adoptOwn(ec2: Ec2Api, grant: Grant, groupId: string, pending: ChangeOf<"aws-sg-rule">[], journal: ChangeJournal): Promise<ChangeOf<"aws-sg-rule">[] | undefined> {
  const rules = (await ec2.rules([groupId])).filter((r) => !r.IsEgress && tagValue(r.Tags, TAG_GRANT) === grant.id);
  const found = pending.map((change) => {
    const keys = new Set(sgRuleKeys(change.permission));
    return { change, ruleIds: rules.filter((r) => sgRuleKeys(permissionOfRule(r)).some((k) => keys.has(k))).map((r) => r.SecurityGroupRuleId ?? "") };
  });
  if (found.some((f) => f.ruleIds.length < sgRuleKeys(f.change.permission).length)) return undefined;
  const applied = found.map((f): ChangeOf<"aws-sg-rule"> => ({ ...f.change, status: "applied", ruleIds: f.ruleIds }));
  for (const c of applied) await journal.update(c);
  return applied;
}

/** The instance's interfaces and their groups: read afresh, or read at most `maxAgeMs` ago (such as by the request's permission check). */
async function readInstance(ec2: Ec2Api, target: InstanceTarget, maxAgeMs = 0): Promise<InterfaceView[]> {
  const [instance] = maxAgeMs > 0 ? await ec2.recentInstances([target.instanceId], maxAgeMs) : await ec2.instances([target.instanceId]);
  if (!instance || instance.interfaces.length === 0) {
    throw new JitError("NotFound", `instance ${target.instanceId} ${instance ? `is ${instance.state} and has no network interface` : `was not found in ${target.region}`}`);
  }
  return instance.interfaces;
}

/** The grant groups of an instance: ours by tag, whoever made them. */
export function grantGroupsOf(ec2: Ec2Api, instanceIds: readonly string[]) {
  return ec2.groups(`tag:${TAG_INSTANCE}`, instanceIds, [{ Name: `tag:${TAG_ROLE}`, Values: [GRANT_GROUP_ROLE] }]);
}

/** What earlier tries of one placement made, so that a retry finishes it instead of starting again. */
interface Placed {
  groupId?: string;
  created?: ChangeOf<"aws-sg">;
  rules?: ChangeOf<"aws-sg-rule">[];
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
  placed: Placed,
): Promise<void> {
  const interfaceIds = interfaces.map((i) => i.networkInterfaceId);
  if (placed.groupId === undefined) {
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
    if (placement.kind === "existing") {
      placed.groupId = placement.groupId;
    } else {
      const intent: ChangeOf<"aws-sg"> = { kind: "aws-sg", status: "intended", groupName: placement.groupName, vpcId, networkInterfaceIds: interfaceIds };
      await journal.intend([intent]);
      const groupId = await createGroup(ec2, placement.groupName, placement.description, vpcId, [
        ...placement.tags,
        ...grantGroupStamp(grant.id, grant.policy, new Date(grant.endTimeUtc)),
      ]);
      placed.created = { ...intent, status: "applied", groupId };
      await journal.update(placed.created);
      placed.groupId = groupId;
    }
  }
  const groupId = placed.groupId;

  if (placed.rules === undefined) {
    try {
      placed.rules = await authorizeRules(ec2, grant, groupId, ingress, journal);
    } catch (err) {
      if (!(err instanceof Unauthorized)) throw err;
      const mine = isAwsError(err.cause, "InvalidPermission.Duplicate") ? await adoptOwn(ec2, grant, groupId, err.pending, journal) : undefined;
      if (mine) {
        placed.rules = mine;
      } else {
        // Nothing was made: the intents are dropped. A group of our own making stays chosen (it
        // may only not be visible yet); anyone else's is chosen afresh.
        for (const c of err.pending) await journal.update({ ...c, status: "removed" });
        if (!placed.created) placed.groupId = undefined;
        throw err.cause;
      }
    }
  }
  try {
    await attachGroup(ctx, ec2, interfaceIds, groupId);
  } catch (err) {
    if (!placed.created || !isJitError(err, "CapacityExceeded")) throw err;
    await discard(ctx, ec2, groupId, placed.created, placed.rules, journal);
    placed.groupId = placed.created = placed.rules = undefined;
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

/** An authorize that failed, with the changes of its batch and later ones, journalled as intended but not made. */
class Unauthorized extends Error {
  constructor(
    override readonly cause: unknown,
    readonly pending: ChangeOf<"aws-sg-rule">[],
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
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
    let rules;
    try {
      rules = await ec2.authorize(groupId, batch.permissions, batch.tags);
    } catch (err) {
      // Batches already made stay applied: the caller's restore of the grant takes them.
      if (i === 0) throw new Unauthorized(err, planned.flat());
      throw err;
    }
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
