import { parsePrefix, prefixContains } from "../../model/address";
import type { Protocol } from "../../model/protocol";
import { addressContext, addressTerm, defaultVirtualNetwork, groupsOf, type AddressContext, type GroupMembership } from "./addresses";
import { reachesIn } from "./evaluator";
import { checkNsgLimits } from "./limits";
import { compileInbound, compileRule, fieldValues, ruleCovers, ruleTouches, type CompiledRule, type FlowSet } from "./match";
import { byFamily, denyGroupKey, parseJitRule, sharedDenyRuleDescription, sharedDenyRuleName, type Family } from "./names";
import { DENY_FLOOR, PrioritySlots } from "./priorities";
import { jitRule, ruleDifferences } from "./rule-shape";
import type { Nsg, NsgChange, NsgRule, RuleRef } from "./types";
import { ALL_PORTS, parsePortRange, rangesCover } from "../port-ranges";
import { nsgProtocol } from "../protocols";
import type { PortSpec } from "../types";

/** A VM of the policy as seen from one NSG: the private addresses behind it, and the policy's ports. */
export interface BaselineVm {
  name: string;
  addresses: readonly string[];
  /** The application security groups its addresses are in (id → addresses), when read from its NICs. */
  applicationSecurityGroups?: GroupMembership;
  ports: readonly PortSpec[];
}

export interface DenyBaselineInput {
  policy: string;
  nsg: Nsg;
  /** Every VM of the policy behind this NSG; a VM left out (or without addresses) loses its deny rules here. */
  vms: readonly BaselineVm[];
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the VMs' addresses when absent. */
  virtualNetwork?: readonly string[];
}

/** Whether a selected port is closed by the baseline, or which user rules ahead of it still open it. */
export type PortStatus =
  | { vm: string; port: number; protocol: Protocol; status: "protected" }
  | { vm: string; port: number; protocol: Protocol; status: "exposed"; exposedBy: RuleRef[] };

export interface DenyBaselinePlan {
  change: NsgChange;
  ports: PortStatus[];
}

const PROTOCOL_ORDER: readonly Protocol[] = ["TCP", "UDP", "*"];

/** The VM's ports by protocol: one deny rule per protocol carries all of them. */
function portsByProtocol(ports: readonly PortSpec[]): Array<[Protocol, number[]]> {
  return PROTOCOL_ORDER.map((protocol): [Protocol, number[]] => [protocol, [...new Set(ports.filter((p) => p.protocol === protocol).map((p) => p.number))].sort((a, b) => a - b)]).filter(
    ([, numbers]) => numbers.length > 0,
  );
}

/**
 * One shared deny rule: the policy's VMs behind the NSG with the same protocol, address family,
 * ports and placement, whose addresses it lists. `after` is the last allow rule for any of them
 * (the rule must come behind it), `before` the first allow rule placed behind the deny rule that
 * covered one of them (it must stay behind); `from` is the lowest number the rule may take.
 */
interface DenyGroup {
  key: string;
  protocol: Protocol;
  family: Family;
  ports: number[];
  from: number;
  addresses: string[];
  after?: RuleRef;
  before?: RuleRef;
}

const later = (a: RuleRef | undefined, b: RuleRef) => (a && a.priority > b.priority ? a : b);
const earlier = (a: RuleRef | undefined, b: RuleRef) => (a && a.priority < b.priority ? a : b);

/**
 * The policy's VMs behind the NSG, grouped into shared deny rules. A VM's placement is what the
 * allow rules for its ports ask of its deny rule (docs/priorities.md): behind the last of them, at
 * 1000 or later. Where one of the policy's deny rules already covers the VM, only the allow rules
 * ahead of that rule count, and those placed behind it must stay behind: they were written knowing
 * it was there (a deny rule stays where it is). VMs whose placement starts at the same number share
 * a rule; the others get one each per placement.
 */
function denyGroups(vms: readonly BaselineVm[], allows: readonly CompiledRule[], ours: readonly CompiledRule[], ctx: AddressContext): DenyGroup[] {
  const groups = new Map<string, DenyGroup>();
  for (const vm of vms) {
    for (const [protocol, ports] of portsByProtocol(vm.ports)) for (const [family, addresses] of byFamily(vm.addresses)) {
      const scope: FlowSet = {
        sources: [addressTerm("*")],
        destinations: addresses.map(addressTerm),
        ports: ports.map((p) => ({ from: p, to: p })),
        sourcePorts: [ALL_PORTS],
        protocol: nsgProtocol(protocol),
      };
      const cover = ours.find((c) => c.rule.access === "Deny" && ruleCovers(c, scope, ctx));
      let after: RuleRef | undefined;
      let before: RuleRef | undefined;
      // Only allow rules need to stay ahead: a user's deny (a catch-all at 4096, say) denies the same
      // flows whether it comes before or after ours.
      for (const c of allows.filter((a) => ruleTouches(a, scope, ctx))) {
        if (!cover || c.ref.priority < cover.ref.priority) after = later(after, c.ref);
        else before = earlier(before, c.ref);
      }
      const from = Math.max(DENY_FLOOR, (after?.priority ?? 0) + 1);
      const key = denyGroupKey(ports, from);
      const id = `${key}|${protocol}|${family}`;
      const group = groups.get(id) ?? { key, protocol, family, ports, from, addresses: [] };
      groups.set(id, group);
      group.addresses.push(...addresses);
      if (after) group.after = later(group.after, after);
      if (before) group.before = earlier(group.before, before);
    }
  }
  const order = (g: DenyGroup) => [g.from, PROTOCOL_ORDER.indexOf(g.protocol), g.family] as const;
  return [...groups.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || a.key.localeCompare(b.key);
  });
}

/**
 * The deny baseline in one NSG: for each group of the policy's VMs (see `denyGroups`), protocol
 * and address family, a rule denying their ports from anywhere to the VMs' private addresses,
 * behind every allow rule already there for those ports (they keep precedence, as in Defender;
 * user deny rules need none) and at 1000 or later (see priorities.ts). A deny rule already in
 * place with the right content stays where it is, even if rules were added behind it since; one
 * whose content drifted (a VM joined or left, ports changed, an edit) is rewritten, at the same
 * priority while that still fits; deny rules of this policy that are no longer wanted, including
 * the one-per-VM rules of earlier versions, are deleted in the same write. Nothing else in the NSG
 * is touched. Fails with `CapacityExceeded`, writing nothing, where Azure's limits would be broken.
 */
export function planDenyBaseline(input: DenyBaselineInput): DenyBaselinePlan {
  const { policy, nsg } = input;
  const vms = input.vms.filter((vm) => vm.addresses.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  const ctx = contextFor(input, vms);
  const current = new Map(nsg.securityRules.map((r) => [r.name, r]));
  const inbound = nsg.securityRules.filter((r) => r.direction === "Inbound");
  const ours = new Set(nsg.securityRules.filter((r) => isPolicyDeny(r, policy)).map((r) => r.name));
  const compiled = (keep: (r: NsgRule) => boolean) => inbound.filter(keep).sort((a, b) => a.priority - b.priority).map((r) => compileRule(nsg.id, r));
  const groups = denyGroups(vms, compiled((r) => !ours.has(r.name) && r.access === "Allow"), compiled((r) => ours.has(r.name)), ctx);
  const names = groups.map((g) => sharedDenyRuleName(policy, g.key, g.protocol, g.family));
  const deleted = [...ours].filter((name) => !names.includes(name)).sort();
  const slots = new PrioritySlots(nsg, deleted);
  const put: NsgRule[] = [];

  groups.forEach((group, i) => {
    const name = names[i];
    const rule = (priority: number) =>
      jitRule({
        name,
        priority,
        access: "Deny",
        protocol: nsgProtocol(group.protocol),
        description: sharedDenyRuleDescription(policy, group.key),
        source: "*",
        destinations: group.addresses,
        ports: group.ports,
      });
    const existing = current.get(name);
    if (existing && ruleDifferences(existing, rule(existing.priority)).length === 0) return;
    const fits = (p: number) => p >= group.from && p < (group.before?.priority ?? Infinity);
    put.push(rule(slots.forRule(existing, fits, () => slots.forDeny(group.after, group.before))));
  });

  const change: NsgChange = { nsgId: nsg.id, put, delete: deleted };
  const after = applied(nsg, change);
  checkNsgLimits(nsg, after);
  return { change, ports: portStatuses(after, vms, ctx) };
}

/**
 * The policy's ports in the NSG as it is now, with no change planned: each `protected`, or
 * `exposed` with the user rules that admit some source to it. What an inspection reports, where
 * `planDenyBaseline` reports the NSG as its plan would leave it.
 */
export function baselinePortStatuses(input: DenyBaselineInput): PortStatus[] {
  const vms = [...input.vms].sort((a, b) => a.name.localeCompare(b.name));
  return portStatuses(input.nsg, vms, contextFor(input, vms));
}

function contextFor(input: DenyBaselineInput, vms: readonly BaselineVm[]): AddressContext {
  return addressContext(input.virtualNetwork ?? defaultVirtualNetwork(vms.flatMap((vm) => vm.addresses)), groupsOf(vms));
}

/** The policy's deny rule that closes this port of this address in the NSG (shared by the VMs it lists), if there is one. */
export function policyDenyRuleFor(nsg: Nsg, policy: string, address: string, port: number): NsgRule | undefined {
  const target = parsePrefix(address);
  return nsg.securityRules.find(
    (r) =>
      isPolicyDeny(r, policy) &&
      fieldValues(r.destinationAddressPrefix, r.destinationAddressPrefixes).some((d) => prefixContains(parsePrefix(d), target)) &&
      fieldValues(r.destinationPortRange, r.destinationPortRanges).some((range) => rangesCover([parsePortRange(range, r.name)], [{ from: port, to: port }])),
  );
}

function isPolicyDeny(rule: NsgRule, policy: string): boolean {
  const info = parseJitRule(rule);
  return info?.kind === "deny" && info.policy === policy;
}

/** The NSG as it will be once the change is applied. */
function applied(nsg: Nsg, change: NsgChange): Nsg {
  const replaced = new Map(change.put.map((r) => [r.name, r]));
  const kept = nsg.securityRules.filter((r) => !replaced.has(r.name) && !change.delete.includes(r.name));
  return { ...nsg, securityRules: [...kept, ...replaced.values()] };
}

function portStatuses(nsg: Nsg, vms: readonly BaselineVm[], ctx: AddressContext): PortStatus[] {
  const rules = compileInbound(nsg);
  const byName = new Map(nsg.securityRules.map((r) => [r.name, r]));
  const isUserRule = (ref: RuleRef) => {
    const rule = byName.get(ref.name);
    return rule !== undefined && parseJitRule(rule) === undefined;
  };
  return vms.flatMap((vm) =>
    vm.ports.map((p): PortStatus => {
      const exposedBy = new Map<string, RuleRef>();
      for (const destination of vm.addresses) {
        for (const reach of reachesIn(rules, { destination, port: p.number, protocol: nsgProtocol(p.protocol) }, ctx)) {
          if (isUserRule(reach.rule)) exposedBy.set(reach.rule.name, reach.rule);
        }
      }
      const base = { vm: vm.name, port: p.number, protocol: p.protocol };
      return exposedBy.size === 0 ? { ...base, status: "protected" } : { ...base, status: "exposed", exposedBy: [...exposedBy.values()] };
    }),
  );
}
