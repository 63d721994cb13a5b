import type { BaselineOptions, BaselineRecord, BaselineResult, BaselineRule, Progress, VmBaselineStatus } from "../driver";
import { JitError, Policy, errorMessage } from "../model";
import {
  GroupDecision,
  IpPermission,
  PortSpec,
  SgGroupChange,
  TaggedPermission,
  decideGroup,
  permissionOfRule,
  preserveRuleTags,
  sgOpenings,
  sgRuleKeys,
  tagsIn,
  untrackedOpenings,
} from "../plan";
import { AwsContext, targetOf } from "./context";
import type { Ec2Api } from "./ec2";
import { isAwsError, refusedByEc2 } from "./errors";
import { ensureJitGroups, jitGroupDrift, retireJitGroups } from "./jit-groups";
import { AwsBaselineRecord, GroupRecord, groupRecord, parseRecord } from "./record";
import { withRetries } from "./retry";
import { PolicyInstance, Survey, resurvey, survey } from "./survey";

/**
 * The AWS baseline: for every security group the policy's instances wear, the ingress rules that
 * open a selected port are revoked and wider ones replaced by narrower ones (the planner decides,
 * `decideGroup`), and what was done is recorded so that it can be undone exactly. Each instance
 * also gets its JIT group, attached once, into which grants put their rules. Applying again with
 * the record changes only what differs; removing restores the groups without duplicating rules
 * someone re-added meanwhile and retires the JIT groups; inspecting reports how the groups drifted
 * from the record.
 *
 * Rules are revoked by their ids (read in the survey), never by permissions: in a default VPC a
 * revoke by permissions that partly matches revokes the matching part without failing. What is
 * about to be revoked is written into the undo list before the call, so that whatever the answer
 * (or none), the undo puts back exactly what is missing. A write refused because another writer
 * changed the group meanwhile (a rule already there, or already gone) undoes this group's writes,
 * re-reads it and plans again. Any other failure undoes every write of the call before it is
 * reported, so that the record kept by the caller, which is the one from before, still tells the
 * truth.
 */

const CONFLICT_ATTEMPTS = 3;
const CONFLICTS = ["InvalidPermission.Duplicate", "InvalidPermission.NotFound", "InvalidSecurityGroupRuleId.NotFound"];

interface Undo {
  ec2: Ec2Api;
  groupId: string;
  /** Rule ids this apply authorized. */
  authorized?: string[];
  /** Rules it revoked (or was about to), as they were. */
  revoked?: TaggedPermission[];
}

interface Decided {
  survey: Survey;
  decision: GroupDecision<PolicyInstance>;
}

async function policyInstances(ctx: AwsContext, policy: Policy): Promise<PolicyInstance[]> {
  return Promise.all(
    policy.virtualMachines.map(async (vm) => ({ ...(await targetOf(ctx, vm.id)), ports: vm.ports.map((p): PortSpec => ({ number: p.number, protocol: p.protocol })) })),
  );
}

function regionsOf(members: readonly PolicyInstance[], record: AwsBaselineRecord): string[] {
  return [...new Set([...members.map((m) => m.region), ...record.groups.map((g) => g.region), ...record.jitGroups.map((j) => j.region)])].sort();
}

/** Surveys each region, and plans each group worn by the policy's instances or in the record. */
async function decideAll(
  ctx: AwsContext,
  policy: Policy,
  members: readonly PolicyInstance[],
  record: AwsBaselineRecord,
  allowShared: boolean,
  ports: "policy" | "none",
  each: (d: Decided) => Promise<Decided>,
): Promise<Decided[]> {
  const out: Decided[] = [];
  for (const region of regionsOf(members, record)) {
    const inRegion = members.filter((m) => m.region === region);
    const recorded = record.groups.filter((g) => g.region === region);
    const s = await survey(await ctx.clients.ec2(region), inRegion, recorded, record.jitGroups.filter((j) => j.region === region), ctx.limits);
    const ids = [...new Set([...s.groups.keys(), ...recorded.map((g) => g.groupId)])].sort();
    for (const groupId of ids) {
      const decision = decideGroup(s, groupId, inRegion, recorded.find((g) => g.groupId === groupId), policy.name, allowShared, ports);
      out.push(await each({ survey: s, decision }));
    }
  }
  return out;
}

function surveysOf(decided: readonly Decided[]): Survey[] {
  return [...new Set(decided.map((d) => d.survey))];
}

export async function applyBaseline(ctx: AwsContext, policy: Policy, previous: BaselineRecord | undefined, options: BaselineOptions, progress?: Progress): Promise<BaselineResult> {
  const before = parseRecord(previous);
  // An apply without an opinion (the reconciler's repair) keeps what the last apply was told.
  const allowShared = options.allowSharedSecurityGroups ?? before.allowSharedSecurityGroups;
  const members = await policyInstances(ctx, policy);
  const undo: Undo[] = [];
  let decided: Decided[];
  try {
    decided = await decideAll(ctx, policy, members, before, allowShared, "policy", (d) => settle(ctx, d, policy, members, allowShared, "policy", undo, progress));
  } catch (err) {
    throw await undone(err, undo);
  }
  const jit = await ensureJitGroups(ctx, surveysOf(decided), members, before.jitGroups, policy.name, progress);
  const record: AwsBaselineRecord = { cloud: "aws", version: 1, allowSharedSecurityGroups: allowShared, groups: newRecords(decided), jitGroups: jit.records };
  return {
    record: record as unknown as BaselineRecord,
    vms: statuses(members, decided, "after"),
    rules: rulesOf(record, decided),
    drift: [],
    warnings: [...warningsOf(decided), ...jit.warnings],
  };
}

export async function removeBaseline(ctx: AwsContext, policy: Policy, baseline: BaselineRecord, progress?: Progress): Promise<void> {
  const record = parseRecord(baseline);
  const undo: Undo[] = [];
  try {
    await decideAll(ctx, policy, [], record, true, "none", async (d) => {
      if (!d.decision.group) progress?.(`security group ${d.decision.groupId} no longer exists; nothing of it to restore`);
      return settle(ctx, d, policy, [], true, "none", undo, progress);
    });
  } catch (err) {
    throw await undone(err, undo);
  }
  const left = await retireJitGroups(ctx, record.jitGroups, progress);
  if (left.length > 0) throw new JitError("Conflict", `the baseline's rules were restored, but ${left.join("; ")}`);
}

export async function inspectBaseline(ctx: AwsContext, policy: Policy, baseline: BaselineRecord): Promise<BaselineResult> {
  const record = parseRecord(baseline);
  const members = await policyInstances(ctx, policy);
  const decided = await decideAll(ctx, policy, members, record, record.allowSharedSecurityGroups, "policy", async (d) => d);
  return {
    record: baseline,
    vms: statuses(members, decided, "now"),
    rules: rulesOf(record, decided),
    drift: [...decided.flatMap(driftOf), ...jitGroupDrift(surveysOf(decided), record.jitGroups)],
    warnings: warningsOf(decided),
  };
}

/** Applies one group's plan; on a conflict with another writer, undoes it, re-reads the group and plans again. */
async function settle(
  ctx: AwsContext,
  d: Decided,
  policy: Policy,
  members: readonly PolicyInstance[],
  allowShared: boolean,
  ports: "policy" | "none",
  undo: Undo[],
  progress?: Progress,
): Promise<Decided> {
  let current = d;
  let mark = undo.length;
  return withRetries(
    ctx.backoff,
    {
      attempts: CONFLICT_ATTEMPTS,
      retryable: (err) => isAwsError(err, ...CONFLICTS),
      beforeRetry: async () => {
        progress?.(`security group ${current.decision.groupId} changed meanwhile; reading it again`);
        const failed = await rollback(undo.splice(mark));
        if (failed.length > 0) throw new JitError("Conflict", `security group ${current.decision.groupId} changed meanwhile, and undoing this apply's writes to it failed: ${failed.join("; ")}`);
        const s = await resurvey(current.survey, current.decision.groupId);
        const { decision } = current;
        current = { survey: s, decision: decideGroup(s, decision.groupId, members.filter((m) => m.region === s.region), decision.record, policy.name, allowShared, ports) };
      },
    },
    async () => {
      mark = undo.length;
      for (const change of current.decision.plan.changes) await write(current, change, undo);
      return current;
    },
  );
}

/** The ids of the rules `permissions` stand for, as the survey read them. */
function ruleIdsOf(d: Decided, permissions: readonly IpPermission[]): string[] {
  const keys = new Set(permissions.flatMap(sgRuleKeys));
  return (d.survey.rules.get(d.decision.groupId) ?? []).filter((r) => sgRuleKeys(permissionOfRule(r)).some((k) => keys.has(k))).map((r) => r.SecurityGroupRuleId ?? "");
}

async function write(d: Decided, change: SgGroupChange, undo: Undo[]): Promise<void> {
  const { ec2 } = d.survey;
  const revoke = async () => {
    if (change.revoke.length === 0) return;
    const ids = ruleIdsOf(d, change.revoke);
    // Not in the survey: gone meanwhile, which is another writer's change.
    if (ids.length < change.revoke.length) throw Object.assign(new Error(`a rule of ${change.groupId} went meanwhile`), { name: "InvalidSecurityGroupRuleId.NotFound" });
    const entry: Undo = { ec2, groupId: change.groupId, revoked: change.revoke.map((permission) => ({ permission, tags: tagsIn(d.decision.known, permission) })) };
    undo.push(entry);
    try {
      await ec2.revokeRules(change.groupId, ids);
    } catch (err) {
      // A refusal revoked nothing (revokes by id are all or nothing), so there is nothing to put
      // back, and a rule another writer removed meanwhile must stay removed. Without an answer
      // the entry stays, and the undo puts back whatever of them is missing.
      if (refusedByEc2(err)) undo.splice(undo.indexOf(entry), 1);
      throw err;
    }
  };
  if (change.order === "revoke-first") await revoke();
  for (const batch of preserveRuleTags(change.authorize, d.decision.known)) {
    const made = await ec2.authorize(change.groupId, batch.permissions, batch.tags);
    undo.push({ ec2, groupId: change.groupId, authorized: made.map((r) => r.SecurityGroupRuleId ?? "") });
  }
  if (change.order === "authorize-first") await revoke();
}

/**
 * Undoes writes, newest first; returns what could not be undone. A revoke is undone by putting
 * back those of its rules the group no longer has, whether the revoke went through, went partly,
 * or never happened.
 */
async function rollback(undo: Undo[]): Promise<string[]> {
  const failed: string[] = [];
  for (const u of undo.reverse()) {
    try {
      if (u.authorized?.length) {
        const still = new Set((await u.ec2.rules([u.groupId])).map((r) => r.SecurityGroupRuleId));
        const ids = u.authorized.filter((id) => still.has(id));
        if (ids.length) await u.ec2.revokeRules(u.groupId, ids);
      }
      if (u.revoked?.length) {
        const present = new Set((await u.ec2.rules([u.groupId])).filter((r) => !r.IsEgress).flatMap((r) => sgRuleKeys(permissionOfRule(r))));
        const missing = u.revoked.filter((r) => !sgRuleKeys(r.permission).every((k) => present.has(k)));
        for (const batch of preserveRuleTags([{ permissions: missing.map((r) => r.permission), tags: [] }], missing)) {
          if (batch.permissions.length) await u.ec2.authorize(u.groupId, batch.permissions, batch.tags);
        }
      }
    } catch (err) {
      failed.push(`${u.groupId}: ${errorMessage(err)}`);
    }
  }
  return failed;
}

async function undone(err: unknown, undo: Undo[]): Promise<unknown> {
  const failed = await rollback(undo);
  if (failed.length === 0 || !(err instanceof Error)) return err;
  return new JitError(
    err instanceof JitError ? err.code : "CloudError",
    `${err.message}; undoing the writes made so far also failed, so these groups may differ from the recorded baseline until it is applied again: ${failed.join("; ")}`,
    { cause: err },
  );
}

function newRecords(decided: readonly Decided[]): GroupRecord[] {
  return decided.flatMap(({ survey: s, decision: d }) =>
    d.group && !d.holdsGrants ? d.plan.records.map((r) => groupRecord(s.region, d.group?.VpcId, r, (p) => tagsIn(d.known, p))) : [],
  );
}

function sourceOf(p: IpPermission): string {
  return p.IpRanges?.[0]?.CidrIp ?? p.Ipv6Ranges?.[0]?.CidrIpv6 ?? p.UserIdGroupPairs?.[0]?.GroupId ?? p.PrefixListIds?.[0]?.PrefixListId ?? "?";
}

/** `tcp 0-65535 from 10.0.0.0/8 ("office")`. */
function describePermission(p: IpPermission): string {
  const all = p.IpProtocol === "-1";
  const ports = all ? "" : p.FromPort === p.ToPort ? ` ${p.FromPort}` : ` ${p.FromPort}-${p.ToPort}`;
  const description = p.IpRanges?.[0]?.Description ?? p.Ipv6Ranges?.[0]?.Description ?? p.UserIdGroupPairs?.[0]?.Description ?? p.PrefixListIds?.[0]?.Description;
  return `${all ? "all traffic" : p.IpProtocol}${ports} from ${sourceOf(p)}${description ? ` ("${description}")` : ""}`;
}

function portList(ports: readonly PortSpec[]): string {
  return ports.map((p) => `${p.number}/${p.protocol}`).join(", ");
}

function outsidersOf(d: GroupDecision): string {
  return [...new Set(d.outsiders.map((i) => i.instanceId ?? `${i.networkInterfaceId}${i.description ? ` (${i.description})` : ""}`))].join(", ");
}

/** Per VM: which rules still admit a selected port, after the apply or as things are now. */
function statuses(members: readonly PolicyInstance[], decided: readonly Decided[], when: "after" | "now"): VmBaselineStatus[] {
  return members.map((m) => {
    const s = decided.find((d) => d.survey.region === m.region)?.survey;
    const instance = s?.instances.get(m.instanceId);
    if (!instance) return { vmId: m.vmId, status: "notApplicable", detail: `instance ${m.instanceId} was not found in ${m.region} (terminated or deleted)` };
    const worn = new Set(instance.interfaces.flatMap((n) => n.groupIds));
    const here = decided.filter((d) => d.survey.region === m.region && worn.has(d.decision.groupId) && d.decision.group).map((d) => d.decision);
    const open = [
      ...here
        .filter((d) => !d.holdsGrants && (when === "now" || d.leftAlone))
        .flatMap((d) =>
          sgOpenings([d.group ?? {}], m.ports).map((o) => `${d.groupId}${d.leftAlone ? ` (also used by ${outsidersOf(d)}, so left unchanged)` : ""} allows ${describePermission(o.permission)}`),
        ),
      // Grants' own rules are the access the policy gives; anything else in a group holding them counts like any rule.
      ...here
        .filter((d) => d.holdsGrants && (when === "now" || d.leftAlone))
        .flatMap((d) => untrackedOpenings(d, m.ports).map((p) => `${d.groupId} (a group for grants) allows ${describePermission(p)}, which no grant made`)),
    ];
    if (open.length === 0) return { vmId: m.vmId, status: "protected" };
    return { vmId: m.vmId, status: "exposed", detail: `${portList(m.ports)} still reachable: ${open.join("; ")}` };
  });
}

function rulesOf(record: AwsBaselineRecord, decided: readonly Decided[]): BaselineRule[] {
  return record.groups.flatMap((g) => {
    const closing = decided.find((d) => d.decision.groupId === g.groupId && d.survey.region === g.region)?.decision.ports ?? [];
    return g.revoked.map(({ permission }): BaselineRule => {
      const ports = [...new Set(closing.filter((p) => sgOpenings([{ GroupId: g.groupId, IpPermissions: [permission] }], [p]).length > 0).map((p) => p.number))];
      const width = permission.IpProtocol === "-1" ? Infinity : (permission.ToPort ?? 0) - (permission.FromPort ?? 0) + 1;
      return { container: g.groupId, name: describePermission(permission), ports, action: width > ports.length ? "split" : "revoked" };
    });
  });
}

function warningsOf(decided: readonly Decided[]): string[] {
  return decided.flatMap(({ decision: d }) => {
    const out: string[] = [];
    if (d.holdsGrants) {
      const stray = untrackedOpenings(d, d.ports);
      if (d.leftAlone && stray.length > 0) out.push(`grant group ${d.groupId} holds ${stray.map(describePermission).join(", ")}, which no grant made; sweep removes it`);
      return out;
    }
    if (!d.group && d.record) out.push(`security group ${d.groupId} recorded by the baseline no longer exists; nothing of it can be restored`);
    if (d.leftAlone && d.group && sgOpenings([d.group], d.ports).length > 0) {
      out.push(`security group ${d.groupId} is also used by ${outsidersOf(d)}, outside the policy, and was left unchanged, so it still opens ${portList(d.ports)}; set allowSharedSecurityGroups to let the policy change it`);
    }
    if (!d.leftAlone && d.outsiders.length > 0 && d.plan.changes.length > 0) {
      out.push(`security group ${d.groupId} was changed although ${outsidersOf(d)}, outside the policy, also use it (allowSharedSecurityGroups)`);
    }
    for (const n of d.plan.narrowed) {
      out.push(`security group ${d.groupId}: ${describePermission(n.permission)} now lets in TCP, UDP and ICMP only; other IP protocols from that source stay closed until the policy is removed`);
    }
    for (const m of d.members) {
      const extra = d.ports.filter((p) => !m.ports.some((q) => q.number === p.number && q.protocol === p.protocol));
      if (extra.length > 0 && d.plan.changes.length > 0) {
        out.push(`closing ${portList(extra)} in ${d.groupId} for other instances also closes it on ${m.instanceId}, which the policy does not select it for`);
      }
    }
    return out;
  });
}

/** How the groups differ from what the record says the baseline left. */
function driftOf({ decision: d }: Decided): string[] {
  if (d.holdsGrants) {
    return d.leftAlone ? [] : d.untracked.map((u) => `rule ${u.ruleId} (${describePermission(u.permission)}) in JIT group ${d.groupId} was made by no grant`);
  }
  if (!d.group) return d.record ? [`security group ${d.groupId} recorded by the baseline no longer exists`] : [];
  if (d.record && d.members.length === 0) return [`security group ${d.groupId} is no longer used by the policy's instances; applying again restores the rules the baseline revoked from it`];
  const revoked = new Set((d.record?.revoked ?? []).flatMap((r) => sgRuleKeys(r.permission)));
  return d.plan.changes.flatMap((c) => [
    ...c.revoke.map((p) =>
      sgRuleKeys(p).some((k) => revoked.has(k))
        ? `port(s) ${portList(d.ports)} re-opened: ${describePermission(p)} is back in ${d.groupId} (the baseline had revoked it)`
        : `${describePermission(p)} in ${d.groupId} opens ${portList(d.ports)} (added after the baseline)`,
    ),
    ...c.authorize.flatMap((b) => b.permissions).map((p) => `${describePermission(p)} is missing from ${d.groupId} (the baseline put it there to keep other ports open)`),
  ]);
}
