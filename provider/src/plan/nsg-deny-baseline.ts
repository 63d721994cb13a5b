import type { Protocol } from "../model/protocol";
import { addressContext, addressTerm, defaultVirtualNetwork, groupsOf, type AddressContext, type GroupMembership } from "./nsg-addresses";
import { reachesIn } from "./nsg-evaluator";
import { compileInbound, compileRule, ruleTouches, type FlowSet } from "./nsg-match";
import { byFamily, denyRuleDescription, denyRuleName, parseJitRule } from "./nsg-names";
import { PrioritySlots } from "./nsg-priorities";
import { jitRule, ruleDifferences } from "./nsg-rule-shape";
import type { Nsg, NsgChange, NsgRule, RuleRef } from "./nsg-types";
import { ALL_PORTS } from "./port-ranges";
import { nsgProtocol } from "./protocols";
import type { PortSpec } from "./types";

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
  return PROTOCOL_ORDER.map((protocol): [Protocol, number[]] => [protocol, ports.filter((p) => p.protocol === protocol).map((p) => p.number)]).filter(
    ([, numbers]) => numbers.length > 0,
  );
}

/**
 * The deny baseline in one NSG: for each VM, protocol and address family, a rule denying the policy's ports from
 * anywhere to the VM's private addresses, behind every allow rule already there for those ports (they
 * keep precedence, as in Defender; user deny rules need none) and at 1000 or later (see nsg-priorities). A deny rule already in
 * place with the right content stays where it is, even if rules were added behind it since; one
 * whose content drifted is rewritten, at the same priority when that still comes after the rules
 * for its ports; deny rules of this policy that are no longer wanted are deleted. Nothing else in
 * the NSG is touched.
 */
export function planDenyBaseline(input: DenyBaselineInput): DenyBaselinePlan {
  const { policy, nsg } = input;
  const vms = input.vms.filter((vm) => vm.addresses.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  const ctx = contextFor(input, vms);
  const current = new Map(nsg.securityRules.map((r) => [r.name, r]));
  const ours = new Set(nsg.securityRules.filter((r) => isPolicyDeny(r, policy)).map((r) => r.name));
  const others = nsg.securityRules.filter((r) => r.direction === "Inbound" && !ours.has(r.name)).map((r) => compileRule(nsg.id, r));
  const slots = new PrioritySlots(nsg);
  const wanted = new Set<string>();
  const put: NsgRule[] = [];

  for (const vm of vms) {
    for (const [protocol, ports] of portsByProtocol(vm.ports)) for (const [family, addresses] of byFamily(vm.addresses)) {
      const name = denyRuleName(policy, vm.name, protocol, family);
      wanted.add(name);
      const rule = (priority: number) =>
        jitRule({
          name,
          priority,
          access: "Deny",
          protocol: nsgProtocol(protocol),
          description: denyRuleDescription(policy, vm.name),
          source: "*",
          destinations: addresses,
          ports,
        });
      const existing = current.get(name);
      if (existing && ruleDifferences(existing, rule(existing.priority)).length === 0) continue;

      const scope: FlowSet = {
        sources: [addressTerm("*")],
        destinations: addresses.map(addressTerm),
        ports: ports.map((p) => ({ from: p, to: p })),
        sourcePorts: [ALL_PORTS],
        protocol: nsgProtocol(protocol),
      };
      // Only allow rules need to stay ahead: a user's deny (a catch-all at 4096, say) denies the same
      // flows whether it comes before or after ours.
      const last = others.filter((c) => c.rule.access === "Allow" && ruleTouches(c, scope, ctx)).reduce<RuleRef | undefined>((m, c) => (m && m.priority > c.ref.priority ? m : c.ref), undefined);
      put.push(rule(slots.forRule(existing, (p) => p > (last?.priority ?? 0), () => slots.forDeny(last))));
    }
  }

  const change: NsgChange = { nsgId: nsg.id, put, delete: [...ours].filter((name) => !wanted.has(name)).sort() };
  return { change, ports: portStatuses(applied(nsg, change), vms, ctx) };
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
