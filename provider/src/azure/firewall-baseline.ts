import type { BaselineRule, Progress } from "../driver";
import { Policy, Protocol, isJitError } from "../model";
import {
  BaselineVm,
  Firewall,
  FwNetworkRule,
  denyCollectionName,
  firewallPortStatuses,
  fwRuleDifferences,
  parseJitRule,
  planFirewallBaselineRemoval,
  planFirewallDenyBaseline,
} from "../plan";
import type { Drift } from "./drift";
import type { AzureClients } from "./clients";
import type { FirewallFinder } from "./firewall-resolve";
import { FirewallWriter } from "./firewall-writer";
import { idKey, shortName } from "./ids";
import { mapLimit } from "../util/parallel";
import type { FirewallDenyRule } from "./record";
import type { ResolvedVm } from "./resolve";

/**
 * The deny baseline in the classic Azure Firewalls in front of a policy's VMs: one Deny network
 * collection per policy and firewall (`planFirewallDenyBaseline`), written with the firewall
 * whole, recorded rule by rule so that it can be inspected and removed exactly.
 */

/** One firewall and the policy's VMs behind it (none: it only holds deny rules from an earlier apply); `firewall` as found, absent when it is gone. */
export interface FirewallSeen {
  id: string;
  vms: BaselineVm[];
  firewall?: Firewall;
  /** The firewall's private address: the source, to the VMs' NSGs, of what it forwards. */
  source?: string;
}

/** Firewalls written side by side: each write is slow (minutes, in Azure), but ARM holds one per firewall. */
const FIREWALL_CONCURRENCY = 2;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The firewall in front of each of the policy's VMs (named by `publicIpAddress`, or found in its
 * network), with the VMs behind each; and the firewalls the record names. Reads only, and refuses a
 * firewall under a Firewall Policy before anything is written.
 */
export async function firewallTargets(finder: FirewallFinder, policy: Policy, resolved: readonly ResolvedVm[], recorded: readonly FirewallDenyRule[]): Promise<FirewallSeen[]> {
  const fronts = await Promise.all(resolved.map((vm, i) => (vm.exists ? finder.frontOf(vm, policy.virtualMachines[i].publicIpAddress) : undefined)));
  const targets = new Map<string, FirewallSeen>();
  fronts.forEach((front, i) => {
    if (!front) return;
    const source = front.sdk.ipConfigurations?.find((c) => c.privateIPAddress !== undefined)?.privateIPAddress;
    const target = targets.get(idKey(front.id)) ?? { id: front.id, vms: [], ...(source === undefined ? {} : { source }) };
    targets.set(idKey(front.id), target);
    target.vms.push({ name: resolved[i].name, addresses: front.addresses, ports: policy.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol })) });
  });
  for (const { firewallId } of recorded) if (!targets.has(idKey(firewallId))) targets.set(idKey(firewallId), { id: firewallId, vms: [] });
  return [...targets.values()];
}

/** Places (or brings up to date) the deny collections; returns each firewall as found and as left, and warnings. */
export async function applyFirewallBaseline(
  clients: AzureClients,
  policy: Policy,
  targets: readonly FirewallSeen[],
  progress: Progress,
): Promise<{ before: FirewallSeen[]; after: FirewallSeen[]; warnings: string[] }> {
  const writer = new FirewallWriter(clients, progress);
  const warnings: string[] = [];
  const written = await mapLimit(targets, FIREWALL_CONCURRENCY, async (target): Promise<{ before?: FirewallSeen; after: FirewallSeen }> => {
    try {
      const { before, after } = await writer.apply(target.id, (firewall) => planFirewallDenyBaseline({ policy: policy.name, firewall, vms: target.vms }).change, {
        afterWrite: async (change) => {
          for (const c of change.network.put) progress(`Azure Firewall ${shortName(target.id)}: deny collection ${c.name} at priority ${c.priority}`);
          for (const name of change.network.delete) progress(`Azure Firewall ${shortName(target.id)}: removed deny collection ${name}, no longer needed`);
        },
      });
      return { before: { ...target, firewall: before }, after: { ...target, firewall: after } };
    } catch (err) {
      if (!isJitError(err, "NotFound") || target.vms.length > 0) throw err;
      warnings.push(`Azure Firewall ${target.id}, where an earlier apply placed deny rules, no longer exists`);
      return { after: target };
    }
  });
  return { before: written.flatMap((w) => (w.before ? [w.before] : [])), after: written.map((w) => w.after), warnings };
}

/** Each firewall as it is now (read-only). */
export async function readFirewalls(clients: AzureClients, targets: readonly FirewallSeen[]): Promise<FirewallSeen[]> {
  const writer = new FirewallWriter(clients);
  return mapLimit(targets, clients.connection.readConcurrency, async (target) => {
    try {
      return { ...target, firewall: (await writer.read(target.id)).firewall };
    } catch (err) {
      if (isJitError(err, "NotFound")) return target;
      throw err;
    }
  });
}

/** The policy's deny rules in these firewalls, as the record keeps them. */
export function placedFirewallDenyRules(policy: Policy, seen: readonly FirewallSeen[]): FirewallDenyRule[] {
  const name = denyCollectionName(policy.name);
  return seen.flatMap(({ id, firewall }) => {
    const collection = firewall?.networkRuleCollections.find((c) => same(c.name, name));
    if (!collection) return [];
    return collection.rules.filter((r) => isPolicyDeny(policy, r)).map((rule) => ({ firewallId: id, collectionName: collection.name, priority: collection.priority, rule: { ...rule, protocols: [...rule.protocols] } as FirewallDenyRule["rule"] }));
  });
}

export function firewallOutputRule(r: FirewallDenyRule): BaselineRule {
  return { container: r.firewallId, name: `${r.collectionName}/${r.rule.name}`, priority: r.priority, ports: (r.rule.destinationPorts ?? []).map(Number), action: "deny" };
}

function isPolicyDeny(policy: Policy, rule: FwNetworkRule): boolean {
  const info = parseJitRule(rule);
  return info?.kind === "deny" && info.policy === policy.name;
}

const ruleKey = (firewallId: string, collection: string, rule: string) => `${idKey(firewallId)}|${collection.toLowerCase()}|${rule.toLowerCase()}`;

/** Recorded deny rules that are missing or were changed since they were placed, and recorded firewalls that are gone. */
export function firewallRecordDrift(recorded: readonly FirewallDenyRule[], seen: readonly FirewallSeen[]): Drift[] {
  const byId = new Map(seen.map((s) => [idKey(s.id), s]));
  const out: Drift[] = [];
  for (const r of recorded) {
    const s = byId.get(idKey(r.firewallId));
    if (!s) continue;
    const where = `Azure Firewall ${shortName(r.firewallId)}`;
    if (!s.firewall) {
      if (!out.some((d) => d.key === idKey(r.firewallId))) out.push({ key: idKey(r.firewallId), message: `Azure Firewall ${r.firewallId}, which held deny rules of this policy, no longer exists` });
      continue;
    }
    const key = ruleKey(r.firewallId, r.collectionName, r.rule.name);
    const collection = s.firewall.networkRuleCollections.find((c) => same(c.name, r.collectionName));
    const current = collection?.rules.find((c) => same(c.name, r.rule.name));
    const differences = current ? [...(collection?.priority === r.priority ? [] : ["priority"]), ...(collection?.action === "Deny" ? [] : ["action"]), ...fwRuleDifferences(r.rule, current)] : [];
    if (!current) out.push({ key, message: `deny rule ${r.rule.name} is missing from collection ${r.collectionName} of ${where}` });
    else if (differences.length) out.push({ key, message: `deny rule ${r.rule.name} in collection ${r.collectionName} of ${where} was changed (${differences.join(", ")})` });
  }
  return out;
}

/** What applying the policy now would change in the firewalls that the record does not already explain. */
export function firewallPlanDrift(policy: Policy, seen: readonly FirewallSeen[], explained: ReadonlySet<string>): Drift[] {
  return seen.flatMap((s) => {
    const firewall = s.firewall;
    if (!firewall) return [];
    const { change } = planFirewallDenyBaseline({ policy: policy.name, firewall, vms: s.vms });
    const where = `Azure Firewall ${shortName(s.id)}`;
    const current = (name: string) => firewall.networkRuleCollections.find((c) => same(c.name, name));
    const drift: Drift[] = [];
    for (const planned of change.network.put) {
      const now = current(planned.name);
      const ours = planned.rules.filter((r) => isPolicyDeny(policy, r));
      for (const rule of ours) {
        const there = now?.rules.find((r) => same(r.name, rule.name));
        const key = ruleKey(s.id, planned.name, rule.name);
        if (!there) drift.push({ key, message: `${where} lacks deny rule ${rule.name} (collection ${planned.name})` });
        else if (fwRuleDifferences(there, rule).length || now?.priority !== planned.priority) drift.push({ key, message: `deny rule ${rule.name} in collection ${planned.name} of ${where} is out of date` });
      }
      for (const gone of (now?.rules ?? []).filter((r) => isPolicyDeny(policy, r) && !ours.some((o) => same(o.name, r.name)))) {
        drift.push({ key: ruleKey(s.id, planned.name, gone.name), message: `deny rule ${gone.name} in collection ${planned.name} of ${where} is no longer needed` });
      }
    }
    for (const name of change.network.delete) {
      for (const rule of current(name)?.rules ?? []) drift.push({ key: ruleKey(s.id, name, rule.name), message: `deny rule ${rule.name} in collection ${name} of ${where} is no longer needed` });
    }
    return drift.filter((d) => !explained.has(d.key));
  });
}

/** A way a selected port is still open through a firewall: what to say, and what the VM's NSGs must then let in for it to matter. */
export interface FirewallExposure {
  port: number;
  protocol: Protocol;
  /** The firewall's private address, the source the VM's NSGs see; unknown: assume they let it in. */
  source?: string;
  message: string;
}

/** Per VM name, the ways a selected port is still open through the firewall in front of it. */
export function firewallExposures(policy: Policy, seen: readonly FirewallSeen[]): Map<string, FirewallExposure[]> {
  const out = new Map<string, FirewallExposure[]>();
  for (const s of seen) {
    if (!s.firewall || s.vms.length === 0) continue;
    for (const p of firewallPortStatuses({ policy: policy.name, firewall: s.firewall, vms: s.vms })) {
      if (p.status !== "exposed") continue;
      const through = p.exposedBy.map((r) => `${r.kind === "nat" ? "DNAT" : "network"} rule ${r.rule} (collection ${r.collection}, priority ${r.priority})`).join(" and ");
      const exposure = { port: p.port, protocol: p.protocol, ...(s.source === undefined ? {} : { source: s.source }), message: `port ${p.port}/${p.protocol} is open through ${through} of Azure Firewall ${shortName(s.id)}` };
      out.set(p.vm, [...(out.get(p.vm) ?? []), exposure]);
    }
  }
  return out;
}

/** Deletes exactly the recorded deny rules, each while it still says it is this policy's; the collection goes once empty. */
export async function removeFirewallBaseline(clients: AzureClients, policy: Policy, recorded: readonly FirewallDenyRule[], progress: Progress): Promise<void> {
  const writer = new FirewallWriter(clients, progress);
  const byFirewall = new Map<string, FirewallDenyRule[]>();
  for (const r of recorded) byFirewall.set(idKey(r.firewallId), [...(byFirewall.get(idKey(r.firewallId)) ?? []), r]);
  await mapLimit([...byFirewall.values()], FIREWALL_CONCURRENCY, async (rules) => {
    const firewallId = rules[0].firewallId;
    const entries = rules.map((r) => ({ kind: "network" as const, collection: r.collectionName, rule: r.rule }));
    try {
      const { after } = await writer.apply(firewallId, (firewall) => planFirewallBaselineRemoval(policy.name, entries, firewall).change, {
        afterWrite: async () => progress(`Azure Firewall ${shortName(firewallId)}: removed the deny rules of policy ${policy.name}`),
      });
      for (const { current } of planFirewallBaselineRemoval(policy.name, entries, after).kept) {
        progress(`Azure Firewall ${shortName(firewallId)}: left rule ${current.name} in place; it no longer says it is policy ${policy.name}'s deny rule`);
      }
    } catch (err) {
      if (!isJitError(err, "NotFound")) throw err;
    }
  });
}
