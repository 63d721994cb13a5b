import type { BaselineOptions, BaselineRecord, BaselineResult, BaselineRule, Progress, VmBaselineStatus } from "../driver";
import { JitError, Policy } from "../model";
import { IpPermission, PortSpec, SgGroupChange, TaggedPermission, preserveRuleTags, sgOpenings, sgRuleKeys } from "../plan";
import { AwsContext, targetOf } from "./context";
import type { Ec2Api } from "./ec2";
import { isAwsError } from "./errors";
import { AwsBaselineRecord, GroupRecord, groupRecord, parseRecord } from "./record";
import { GroupDecision, PolicyInstance, Survey, decide, resurvey, survey, tagsIn } from "./survey";

/**
 * The AWS baseline: for every security group the policy's instances wear, the ingress rules that
 * open a selected port are revoked and wider ones replaced by narrower ones (the plan decides
 * which), and what was done is recorded so that it can be undone exactly. Applying again with the
 * record changes only what differs; removing restores the groups without duplicating rules someone
 * re-added meanwhile; inspecting reports how the groups drifted from the record.
 *
 * A write refused because another writer changed the group meanwhile (a rule already there, or
 * already gone) undoes this group's writes, re-reads it and plans again. Any other failure undoes
 * every write of the call before it is reported, so that the record kept by the caller, which
 * is the one from before, still tells the truth.
 */

const CONFLICT_ATTEMPTS = 3;
const CONFLICTS = ["InvalidPermission.Duplicate", "InvalidPermission.NotFound"];

interface Undo {
  ec2: Ec2Api;
  groupId: string;
  authorized?: IpPermission[];
  revoked?: TaggedPermission[];
}

interface Decided {
  survey: Survey;
  decision: GroupDecision;
}

async function policyInstances(ctx: AwsContext, policy: Policy): Promise<PolicyInstance[]> {
  return Promise.all(
    policy.virtualMachines.map(async (vm) => ({ ...(await targetOf(ctx, vm.id)), ports: vm.ports.map((p): PortSpec => ({ number: p.number, protocol: p.protocol })) })),
  );
}

function regionsOf(members: readonly PolicyInstance[], record: AwsBaselineRecord): string[] {
  return [...new Set([...members.map((m) => m.region), ...record.groups.map((g) => g.region)])].sort();
}

/** Surveys each region and plans each group worn by the policy's instances or in the record. */
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
    const s = await survey(await ctx.clients.ec2(region), inRegion, recorded);
    const ids = [...new Set([...s.groups.keys(), ...recorded.map((g) => g.groupId)])].sort();
    for (const groupId of ids) {
      const decision = decide(s, groupId, inRegion, recorded.find((g) => g.groupId === groupId), policy.name, allowShared, ports);
      out.push(await each({ survey: s, decision }));
    }
  }
  return out;
}

export async function applyBaseline(ctx: AwsContext, policy: Policy, previous: BaselineRecord | undefined, options: BaselineOptions, progress?: Progress): Promise<BaselineResult> {
  const before = parseRecord(previous);
  // An apply without an opinion (the reconciler's repair) keeps what the last apply was told.
  const allowShared = options.allowSharedSecurityGroups ?? before.allowSharedSecurityGroups;
  const members = await policyInstances(ctx, policy);
  const undo: Undo[] = [];
  let decided: Decided[];
  try {
    decided = await decideAll(ctx, policy, members, before, allowShared, "policy", (d) => settle(d, policy, members, allowShared, "policy", undo, progress));
  } catch (err) {
    throw await undone(err, undo);
  }
  const record: AwsBaselineRecord = { cloud: "aws", version: 1, allowSharedSecurityGroups: allowShared, groups: newRecords(decided) };
  return {
    record: record as unknown as BaselineRecord,
    vms: statuses(members, decided, "after"),
    rules: rulesOf(record, decided),
    drift: [],
    warnings: warningsOf(decided),
  };
}

export async function removeBaseline(ctx: AwsContext, policy: Policy, baseline: BaselineRecord, progress?: Progress): Promise<void> {
  const record = parseRecord(baseline);
  const undo: Undo[] = [];
  try {
    await decideAll(ctx, policy, [], record, true, "none", async (d) => {
      if (!d.decision.group) progress?.(`security group ${d.decision.groupId} no longer exists; nothing of it to restore`);
      return settle(d, policy, [], true, "none", undo, progress);
    });
  } catch (err) {
    throw await undone(err, undo);
  }
}

export async function inspectBaseline(ctx: AwsContext, policy: Policy, baseline: BaselineRecord): Promise<BaselineResult> {
  const record = parseRecord(baseline);
  const members = await policyInstances(ctx, policy);
  const decided = await decideAll(ctx, policy, members, record, record.allowSharedSecurityGroups, "policy", async (d) => d);
  return {
    record: baseline,
    vms: statuses(members, decided, "now"),
    rules: rulesOf(record, decided),
    drift: decided.flatMap(driftOf),
    warnings: warningsOf(decided),
  };
}

/** Applies one group's plan; on a conflict with another writer, undoes it, re-reads the group and plans again. */
async function settle(d: Decided, policy: Policy, members: readonly PolicyInstance[], allowShared: boolean, ports: "policy" | "none", undo: Undo[], progress?: Progress): Promise<Decided> {
  for (let attempt = 1; ; attempt++) {
    const mark = undo.length;
    try {
      for (const change of d.decision.plan.changes) await write(d.survey.ec2, change, d.decision.known, undo);
      return d;
    } catch (err) {
      if (!isAwsError(err, ...CONFLICTS) || attempt >= CONFLICT_ATTEMPTS) throw err;
      progress?.(`security group ${d.decision.groupId} changed meanwhile; reading it again`);
      await rollback(undo.splice(mark));
      const s = await resurvey(d.survey, d.decision.groupId);
      d = { survey: s, decision: decide(s, d.decision.groupId, members.filter((m) => m.region === s.region), d.decision.record, policy.name, allowShared, ports) };
    }
  }
}

async function write(ec2: Ec2Api, change: SgGroupChange, known: readonly TaggedPermission[], undo: Undo[]): Promise<void> {
  const revoke = async () => {
    if (change.revoke.length === 0) return;
    await ec2.revokePermissions(change.groupId, change.revoke);
    undo.push({ ec2, groupId: change.groupId, revoked: change.revoke.map((permission) => ({ permission, tags: tagsIn(known, permission) })) });
  };
  if (change.order === "revoke-first") await revoke();
  for (const batch of preserveRuleTags(change.authorize, known)) {
    await ec2.authorize(change.groupId, batch.permissions, batch.tags);
    undo.push({ ec2, groupId: change.groupId, authorized: batch.permissions });
  }
  if (change.order === "authorize-first") await revoke();
}

/** Undoes writes, newest first; returns what could not be undone. */
async function rollback(undo: Undo[]): Promise<string[]> {
  const failed: string[] = [];
  for (const u of undo.reverse()) {
    try {
      if (u.authorized) await u.ec2.revokePermissions(u.groupId, u.authorized);
      if (u.revoked) {
        for (const batch of preserveRuleTags([{ permissions: u.revoked.map((r) => r.permission), tags: [] }], u.revoked)) {
          await u.ec2.authorize(u.groupId, batch.permissions, batch.tags);
        }
      }
    } catch (err) {
      failed.push(`${u.groupId}: ${err instanceof Error ? err.message : String(err)}`);
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
    d.group ? d.plan.records.map((r) => groupRecord(s.region, d.group?.VpcId, r, (p) => tagsIn(d.known, p))) : [],
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
    const open = decided
      .filter((d) => d.survey.region === m.region && worn.has(d.decision.groupId) && d.decision.group && (when === "now" || d.decision.leftAlone))
      .flatMap(({ decision: d }) =>
        sgOpenings([d.group ?? {}], m.ports).map((o) => `${d.groupId}${d.leftAlone ? ` (also used by ${outsidersOf(d)}, so left unchanged)` : ""} allows ${describePermission(o.permission)}`),
      );
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
