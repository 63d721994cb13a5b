import type { BaselineRecord, BaselineResult, BaselineRule, Progress, VmBaselineStatus } from "../driver";
import { JitError, Policy, PolicyVm, isJitError } from "../model";
import {
  AddedRule,
  Nsg,
  NsgChange,
  PortSpec,
  PortStatus,
  adminRulesAt,
  describeAdminFinding,
  baselinePortStatuses,
  evaluateInbound,
  flowProtocols,
  nsgProtocol,
  parseJitRule,
  pathPortStatus,
  sessionsCutNote,
  planBaselineRemoval,
  planDenyBaseline,
  ruleDifferences,
} from "../plan";
import type { AzureClients } from "./clients";
import {
  FirewallExposure,
  FirewallSeen,
  applyFirewallBaseline,
  firewallExposures,
  firewallOutputRule,
  firewallPlanDrift,
  firewallRecordDrift,
  firewallTargets,
  placedFirewallDenyRules,
  readFirewalls,
  removeFirewallBaseline,
} from "./firewall-baseline";
import { FirewallFinder } from "./firewall-resolve";
import type { Drift } from "./drift";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { mapLimit } from "../util/parallel";
import { baselineRecord, recordedDenyRules, recordedFirewallDenyRules } from "./record";
import { NicPath, ResolvedVm, Resolver } from "./resolve";

/**
 * The deny baseline: a rule denying the policy's ports to each VM's private addresses, in every
 * NSG on the VM's inbound path (its subnet's and its network interface's), placed by
 * `planDenyBaseline` so that user rules for those ports keep precedence; and in the classic Azure
 * Firewall in front of the VM, a Deny network collection (see firewall-baseline.ts). Firewalls are
 * found, and a firewall pulumi-jit cannot use is refused, before anything is written.
 */

/** NSGs written side by side: each has its own lock in ARM, so they do not slow each other down. */
const NSG_CONCURRENCY = 4;

/**
 * One NSG and the policy's VMs behind it (none: the NSG only holds deny rules from an earlier
 * apply), with the paths through it and what `VirtualNetwork` stands for there (see `withVirtualNetworks`).
 */
interface Target {
  id: string;
  vms: Array<{ name: string; addresses: string[]; ports: PortSpec[]; applicationSecurityGroups: Record<string, string[]> }>;
  paths: NicPath[];
  virtualNetwork?: string[];
}

/** Each NSG on the policy's VMs' paths, with what each VM looks like from it; and the NSGs the record names. */
function targetsOf(policy: Policy, resolved: readonly ResolvedVm[], recorded: readonly AddedRule[]): Target[] {
  const names = new Map<string, string>();
  const targets = new Map<string, Target>();
  resolved.forEach((vm, i) => {
    const earlier = names.get(vm.name.toLowerCase());
    if (earlier !== undefined) {
      throw new JitError("InvalidInput", `VMs ${earlier} and ${vm.id} share the name ${vm.name}, which names their rules; a policy's VMs need distinct names`, { field: `virtualMachines[${i}].id` });
    }
    names.set(vm.name.toLowerCase(), vm.id);
    const ports = policy.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol }));
    for (const path of vm.paths) {
      for (const nsgId of [path.subnetNsgId, path.nicNsgId]) {
        if (nsgId === undefined) continue;
        const target = targets.get(idKey(nsgId)) ?? { id: nsgId, vms: [], paths: [] };
        targets.set(idKey(nsgId), target);
        target.paths.push(path);
        let behind = target.vms.find((v) => v.name === vm.name);
        if (!behind) target.vms.push((behind = { name: vm.name, addresses: [], ports, applicationSecurityGroups: {} }));
        for (const address of path.addresses) if (!behind.addresses.includes(address)) behind.addresses.push(address);
        for (const [group, addresses] of Object.entries(path.applicationSecurityGroups)) (behind.applicationSecurityGroups[group] ??= []).push(...addresses);
      }
    }
  });
  for (const { nsgId } of recorded) if (!targets.has(idKey(nsgId))) targets.set(idKey(nsgId), { id: nsgId, vms: [], paths: [] });
  return [...targets.values()];
}

/**
 * Each target with the prefixes `VirtualNetwork` stands for behind it, read from the networks of
 * its VMs (one NSG may serve subnets of several: their union, which errs towards a user rule
 * touching the policy's ports, so that the deny goes after it and status reports it).
 */
function withVirtualNetworks(resolver: Resolver, targets: readonly Target[]): Promise<Target[]> {
  return Promise.all(targets.map(async (t) => (t.paths.length ? { ...t, virtualNetwork: await resolver.virtualNetworkOf(t.paths) } : t)));
}

/** What the deny baseline planner is given for a target. */
const baselineInput = (policy: Policy, nsg: Nsg, t: Target) => ({ policy: policy.name, nsg, vms: t.vms, ...(t.virtualNetwork ? { virtualNetwork: t.virtualNetwork } : {}) });

const noChange = (nsgId: string): NsgChange => ({ nsgId, put: [], delete: [] });

function policyDenyRules(policy: string, nsg: Nsg): AddedRule[] {
  return nsg.securityRules
    .filter((r) => {
      const info = parseJitRule(r);
      return info?.kind === "deny" && info.policy === policy;
    })
    .map((rule) => ({ nsgId: nsg.id, rule }));
}

function outputRule({ nsgId, rule }: AddedRule): BaselineRule {
  const ports = [...(rule.destinationPortRanges ?? []), ...(rule.destinationPortRange === undefined ? [] : [rule.destinationPortRange])];
  return { container: nsgId, name: rule.name, priority: rule.priority, ports: ports.map(Number), action: "deny" };
}

/** An NSG as found: its rules, or undefined when it no longer exists. */
interface Seen extends Target {
  nsg?: Nsg;
}

export async function applyBaseline(clients: AzureClients, policy: Policy, previous: BaselineRecord | undefined, progress: Progress): Promise<BaselineResult> {
  const resolver = new Resolver(clients);
  const writer = new NsgWriter(clients, progress);
  const recorded = recordedDenyRules(previous);
  const recordedFirewalls = recordedFirewallDenyRules(previous);
  const resolved = await resolver.vms(policy.virtualMachines.map((vm) => vm.id));
  const targets = await withVirtualNetworks(resolver, targetsOf(policy, resolved, recorded));
  const firewallsFound = await firewallTargets(new FirewallFinder(clients, resolver), policy, resolved, recordedFirewalls);
  const warnings = resolved.filter((vm) => !vm.exists).map((vm) => `VM ${vm.id} does not exist: there is nothing to protect`);
  const written = await mapLimit(targets, NSG_CONCURRENCY, async (target): Promise<{ before?: Seen; after: Seen }> => {
    try {
      const { before, after } = await writer.apply(target.id, (nsg) => planDenyBaseline(baselineInput(policy, nsg, target)).change, {
        afterPut: async (rule) => progress(`NSG ${shortName(target.id)}: deny rule ${rule.name} at priority ${rule.priority}`),
        afterDelete: async (name) => progress(`NSG ${shortName(target.id)}: removed deny rule ${name}, no longer needed`),
      });
      return { before: { ...target, nsg: before }, after: { ...target, nsg: after } };
    } catch (err) {
      if (!isJitError(err, "NotFound") || target.vms.length > 0) throw err;
      warnings.push(`NSG ${target.id}, where an earlier apply placed deny rules, no longer exists`);
      return { after: target };
    }
  });
  const firewalls = await applyFirewallBaseline(clients, policy, firewallsFound, progress);
  warnings.push(...firewalls.warnings);
  const repaired = [...recordDrift(recorded, written.flatMap((w) => (w.before ? [w.before] : []))), ...firewallRecordDrift(recordedFirewalls, firewalls.before)];
  warnings.push(...repaired.map((d) => `repaired: ${d.message}`));
  const seen = written.map((w) => w.after);
  const placed = seen.flatMap((s) => (s.nsg ? policyDenyRules(policy.name, s.nsg) : []));
  const placedInFirewalls = placedFirewallDenyRules(policy, firewalls.after);
  const behindFirewall = new Set(firewallsFound.flatMap((f) => f.vms.map((vm) => vm.name)));
  const placements = resolved.filter((vm) => vm.exists && !behindFirewall.has(vm.name)).map((vm) => ({ vmId: vm.id, name: vm.name, paths: vm.paths }));
  return {
    record: baselineRecord(placed, placedInFirewalls, placements),
    rules: [...placed.map(outputRule), ...placedInFirewalls.map(firewallOutputRule)],
    vms: await vmStatuses(policy, resolver, seen, firewalls.after),
    // What was found wrong has just been put right: nothing is left for the next `pulumi up` to do.
    drift: [],
    warnings,
  };
}

export async function inspectBaseline(clients: AzureClients, policy: Policy, baseline: BaselineRecord): Promise<BaselineResult> {
  const resolver = new Resolver(clients);
  const writer = new NsgWriter(clients);
  const recorded = recordedDenyRules(baseline);
  const recordedFirewalls = recordedFirewallDenyRules(baseline);
  const resolved = await resolver.vms(policy.virtualMachines.map((vm) => vm.id));
  const targets = await withVirtualNetworks(resolver, targetsOf(policy, resolved, recorded));
  const firewalls = await readFirewalls(clients, await firewallTargets(new FirewallFinder(clients, resolver), policy, resolved, recordedFirewalls));
  const seen = await mapLimit(targets, clients.connection.readConcurrency, async (target): Promise<Seen> => {
    try {
      return { ...target, nsg: (await writer.read(target.id)).nsg };
    } catch (err) {
      if (isJitError(err, "NotFound")) return target;
      throw err;
    }
  });
  const drift = [...recordDrift(recorded, seen), ...firewallRecordDrift(recordedFirewalls, firewalls)];
  const explained = new Set(drift.map((d) => d.key));
  drift.push(...planDrift(policy, seen, explained), ...firewallPlanDrift(policy, firewalls, explained));
  return {
    record: baseline,
    rules: [...seen.flatMap((s) => (s.nsg ? policyDenyRules(policy.name, s.nsg) : [])).map(outputRule), ...placedFirewallDenyRules(policy, firewalls).map(firewallOutputRule)],
    vms: await vmStatuses(policy, resolver, seen, firewalls),
    drift: drift.map((d) => d.message),
    warnings: [],
  };
}

/**
 * Deletes exactly the deny rules the record lists, each while it still says it is this policy's;
 * one somebody re-labelled is left where it is, and said so. Firewalls first, then NSGs; nothing
 * is looked up beyond the record, so a firewall since put under a Firewall Policy does not stop it.
 */
export async function removeBaseline(clients: AzureClients, policy: Policy, baseline: BaselineRecord, progress: Progress): Promise<void> {
  await removeFirewallBaseline(clients, policy, recordedFirewallDenyRules(baseline), progress);
  const writer = new NsgWriter(clients, progress);
  const byNsg = new Map<string, AddedRule[]>();
  for (const r of recordedDenyRules(baseline)) byNsg.set(idKey(r.nsgId), [...(byNsg.get(idKey(r.nsgId)) ?? []), r]);
  await mapLimit([...byNsg.values()], NSG_CONCURRENCY, async (rules) => {
    const nsgId = rules[0].nsgId;
    const plan = (nsg: Nsg) => planBaselineRemoval(policy.name, rules, [nsg]);
    try {
      const { after } = await writer.apply(nsgId, (nsg) => plan(nsg).changes[0] ?? noChange(nsgId), {
        afterDelete: async (name) => progress(`NSG ${shortName(nsgId)}: removed deny rule ${name}`),
      });
      for (const { current } of plan(after).kept) {
        progress(`NSG ${shortName(nsgId)}: left rule ${current.name} in place; it no longer says it is policy ${policy.name}'s deny rule`);
      }
    } catch (err) {
      if (!isJitError(err, "NotFound")) throw err;
    }
  });
}

const ruleKey = (nsgId: string, name: string) => `${idKey(nsgId)}|${name.toLowerCase()}`;

/** Recorded deny rules that are missing or were changed since they were placed, and recorded NSGs that are gone. */
function recordDrift(recorded: readonly AddedRule[], seen: readonly Seen[]): Drift[] {
  const byId = new Map(seen.map((s) => [idKey(s.id), s]));
  const out: Drift[] = [];
  for (const { nsgId, rule } of recorded) {
    const s = byId.get(idKey(nsgId));
    if (!s) continue;
    const key = ruleKey(nsgId, rule.name);
    if (!s.nsg) {
      if (!out.some((d) => d.key === idKey(nsgId))) out.push({ key: idKey(nsgId), message: `NSG ${nsgId}, which held deny rules of this policy, no longer exists` });
      continue;
    }
    const current = s.nsg.securityRules.find((r) => r.name === rule.name);
    const differences = current && ruleDifferences(rule, current);
    if (!current) out.push({ key, message: `deny rule ${rule.name} is missing from NSG ${shortName(nsgId)}` });
    else if (differences?.length) out.push({ key, message: `deny rule ${rule.name} in NSG ${shortName(nsgId)} was changed (${differences.join(", ")})` });
  }
  return out;
}

/**
 * What applying the policy now would change that the record does not already explain: an NSG or
 * address new on a VM's path, a VM that left an NSG's path, a policy changed outside Pulumi.
 */
function planDrift(policy: Policy, seen: readonly Seen[], explained: ReadonlySet<string>): Drift[] {
  return seen.flatMap((s) => {
    const nsg = s.nsg;
    if (!nsg) return [];
    const { change } = planDenyBaseline(baselineInput(policy, nsg, s));
    const about = (name: string) => ruleKey(s.id, name);
    const where = `NSG ${shortName(s.id)}`;
    return [
      ...change.put.map((r) => ({
        key: about(r.name),
        message: nsg.securityRules.some((c) => c.name === r.name) ? `deny rule ${r.name} in ${where} is out of date` : `${where} lacks deny rule ${r.name}`,
      })),
      ...change.delete.map((name) => ({ key: about(name), message: `deny rule ${name} in ${where} is no longer needed` })),
    ].filter((d) => !explained.has(d.key));
  });
}

/** Per VM: protected, exposed (through which rule, or because nothing is in the way), or not applicable. */
async function vmStatuses(policy: Policy, resolver: Resolver, seen: readonly Seen[], firewalls: readonly FirewallSeen[]): Promise<VmBaselineStatus[]> {
  const statuses = new Map<string, PortStatus>();
  for (const s of seen) {
    if (!s.nsg || s.vms.length === 0) continue;
    for (const p of baselinePortStatuses(baselineInput(policy, s.nsg, s))) statuses.set(`${idKey(s.id)}|${p.vm}|${p.port}|${p.protocol}`, p);
  }
  const nsgs = new Map(seen.flatMap((s) => (s.nsg ? [[idKey(s.id), s.nsg] as const] : [])));
  const throughFirewalls = firewallExposures(policy, firewalls);
  const behindFirewall = new Set(firewalls.flatMap((f) => f.vms.map((vm) => vm.name)));
  return Promise.all(
    policy.virtualMachines.map(async (policyVm) => {
      const vm = await resolver.vm(policyVm.id);
      const firewall = behindFirewall.has(vm.name) ? (throughFirewalls.get(vm.name) ?? []).filter((e) => nsgsAdmit(vm, nsgs, e)) : undefined;
      const admin = await adminFindings(policyVm, vm, resolver);
      const notes = [sessionsCutNote(vm.paths.flatMap((p) => [p.subnetNsgId, p.nicNsgId]).map((id) => (id === undefined ? undefined : nsgs.get(idKey(id))))), ...admin.closes];
      return vmStatus(policyVm, vm, resolver, statuses, firewall?.map((e) => e.message), admin.opens, notes.filter((n) => n !== undefined));
    }),
  );
}

/**
 * The network manager's admin rules that decide a selected port before the NSGs do: those that
 * open it (`AlwaysAllow`: the baseline does not hold for their sources) and those that close it
 * (`Deny`: grants from their sources cannot get through).
 */
async function adminFindings(policyVm: PolicyVm, vm: ResolvedVm, resolver: Resolver): Promise<{ opens: string[]; closes: string[] }> {
  if (!vm.exists) return { opens: [], closes: [] };
  const rules = await resolver.adminRulesOf(vm.paths);
  if (rules.length === 0) return { opens: [], closes: [] };
  const virtualNetwork = await resolver.virtualNetworkOf(vm.paths);
  const found = new Map<string, { effect: "opens" | "closes"; message: string }>();
  for (const destination of vm.paths.flatMap((p) => p.addresses)) {
    for (const port of policyVm.ports) {
      for (const f of adminRulesAt(rules, { destination, port: port.number, protocol: nsgProtocol(port.protocol) }, { virtualNetwork })) {
        found.set(`${f.rule.id}|${port.number}|${port.protocol}`, { effect: f.effect, message: describeAdminFinding(f, `port ${port.number}/${port.protocol}`) });
      }
    }
  }
  const of = (effect: "opens" | "closes") => [...found.values()].filter((f) => f.effect === effect).map((f) => f.message);
  return { opens: of("opens"), closes: of("closes") };
}

/** Whether the VM's NSGs let what the firewall forwards on this port in, on some path: only then does a way through the firewall expose it. */
function nsgsAdmit(vm: ResolvedVm, nsgs: ReadonlyMap<string, Nsg>, exposure: FirewallExposure): boolean {
  const source = exposure.source;
  if (source === undefined) return true;
  const level = (id: string | undefined) => (id === undefined ? undefined : nsgs.get(idKey(id)));
  return vm.paths.some((path) => {
    const nsgPath = { ...(level(path.subnetNsgId) ? { subnet: level(path.subnetNsgId) } : {}), ...(level(path.nicNsgId) ? { nic: level(path.nicNsgId) } : {}) };
    const destination = path.addresses[0];
    return destination !== undefined && flowProtocols(exposure.protocol).some((protocol) => evaluateInbound(nsgPath, { source, destination, port: exposure.port, protocol }).allowed);
  });
}

/**
 * `firewall`: for a VM behind a classic Azure Firewall, how its ports are still open through it
 * (none: closed). `bypasses`: how they are open whatever the NSGs say (network manager admin
 * rules). `notes`: what else holds for the VM whatever its status (how expiry ends sessions, admin
 * rules that close a port to some sources).
 */
async function vmStatus(policyVm: PolicyVm, vm: ResolvedVm, resolver: Resolver, statuses: Map<string, PortStatus>, firewall: string[] | undefined, bypasses: string[], notes: string[]): Promise<VmBaselineStatus> {
  if (!vm.exists) return { vmId: policyVm.id, status: "notApplicable", detail: "the VM does not exist (any more): there is nothing to protect, and its deny rules are not needed" };
  if (firewall === undefined && vm.paths.every((p) => p.subnetNsgId === undefined && p.nicNsgId === undefined)) {
    return { vmId: policyVm.id, status: "notApplicable", detail: `no NSG on its subnet or network interface, and no Azure Firewall in front of it, so there is nothing to put a deny rule in; ${await resolver.withoutNsg(vm)}` };
  }
  const exposures = new Set<string>([...(firewall ?? []), ...bypasses]);
  for (const path of vm.paths) {
    for (const port of policyVm.ports) {
      const level = (nsgId: string | undefined) => (nsgId === undefined ? undefined : statuses.get(`${idKey(nsgId)}|${vm.name}|${port.number}|${port.protocol}`));
      const status = pathPortStatus([level(path.subnetNsgId), level(path.nicNsgId)]);
      if (!status.exposed) continue;
      const what = `port ${port.number}/${port.protocol}`;
      exposures.add(
        status.exposedBy.length
          ? `${what} is open through ${status.exposedBy.map((r) => `rule ${r.name} (priority ${r.priority}) of NSG ${shortName(r.nsgId)}`).join(" and ")}`
          : `${what} of network interface ${shortName(path.nicId)} has no NSG in front of it`,
      );
    }
  }
  const detail = [...exposures, ...notes].join("; ");
  return { vmId: policyVm.id, status: exposures.size ? "exposed" : "protected", ...(detail ? { detail } : {}) };
}
