import { formatPrefix, parsePrefix } from "../../model/address";
import { addressContext, defaultVirtualNetwork, groupsOf } from "./addresses";
import { compileInbound, decide, flowSet, ruleTouches, type CompiledRule } from "./match";
import { allowRuleDescription, allowRuleName, byFamily, parseJitRule } from "./names";
import { MAX_PRIORITY, PrioritySlots } from "./priorities";
import { jitRule, ruleDifferences } from "./rule-shape";
import type { AddedRule, Nsg, NsgChange, NsgRule, RuleRef, VmNic } from "./types";
import { nsgProtocol } from "../protocols";
import type { GrantPort } from "../types";

export interface GrantVm {
  name: string;
  nics: readonly VmNic[];
  ports: readonly GrantPort[];
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the VM's addresses when absent. */
  virtualNetwork?: readonly string[];
}

export interface AllowGrantInput {
  grantId: string;
  policy: string;
  vms: readonly GrantVm[];
}

export interface AllowGrantPlan {
  /** Every rule the grant owns once `changes` are applied: record these before applying them. */
  rules: AddedRule[];
  changes: NsgChange[];
  /** User deny rules that the grant's rules now come ahead of, for the audit log. */
  overrides: RuleRef[];
}

/** The NSGs on the VMs' paths, each with the addresses of each VM behind it. */
function nsgsBehind(vms: readonly GrantVm[]): Array<{ nsg: Nsg; vms: Array<{ vm: GrantVm; addresses: string[] }> }> {
  const found = new Map<string, { nsg: Nsg; vms: Map<string, { vm: GrantVm; addresses: string[] }> }>();
  for (const vm of vms) {
    for (const nic of vm.nics) {
      for (const nsg of [nic.subnet, nic.nic]) {
        if (!nsg) continue;
        const entry = found.get(nsg.id) ?? { nsg, vms: new Map() };
        found.set(nsg.id, entry);
        const behind = entry.vms.get(vm.name) ?? { vm, addresses: [] };
        entry.vms.set(vm.name, behind);
        behind.addresses.push(...nic.addresses.filter((a) => !behind.addresses.includes(a)));
      }
    }
  }
  return [...found.values()]
    .sort((a, b) => a.nsg.id.localeCompare(b.nsg.id))
    .map((e) => ({ nsg: e.nsg, vms: [...e.vms.values()].sort((a, b) => a.vm.name.localeCompare(b.vm.name)) }));
}

/**
 * The allow rules a grant needs. In each NSG on the way to each VM, the grant's flows (its source,
 * to the VM's addresses behind that NSG, on the port and protocol) are judged as if no grant had any
 * rule there: where they would be blocked, the grant gets its own rule, at the lowest free priority
 * ahead of the first rule that would block them, whether that is our deny rule, a default rule or a
 * user's deny rule (the latter are listed in `overrides`). Judging without other grants' rules is
 * what keeps overlapping grants independent: each has its own rule, so ending one leaves the other.
 * Re-planning a grant that is already (partly) applied keeps its rules where they are.
 */
export function planAllowGrant(input: AllowGrantInput): AllowGrantPlan {
  const rules: AddedRule[] = [];
  const changes: NsgChange[] = [];
  const overrides = new Map<string, RuleRef>();

  for (const { nsg, vms } of nsgsBehind(input.vms)) {
    const current = new Map(nsg.securityRules.map((r) => [r.name, r]));
    const userRules = new Set(nsg.securityRules.filter((r) => parseJitRule(r) === undefined).map((r) => r.name));
    const withoutGrants = compileInbound({ ...nsg, securityRules: nsg.securityRules.filter((r) => parseJitRule(r)?.kind !== "allow") });
    const slots = new PrioritySlots(nsg);
    const put: NsgRule[] = [];

    for (const { vm, addresses } of vms) {
      const ctx = addressContext(vm.virtualNetwork ?? defaultVirtualNetwork(vm.nics.flatMap((n) => n.addresses)), groupsOf(vm.nics));
      for (const port of [...vm.ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol))) {
        // Azure takes no rule from an IPv4 source to an IPv6 destination, nor one mixing families:
        // a source of one family reaches that family's addresses; `*` reaches each, by its own rule.
        const source = parsePrefix(port.source, "source");
        for (const [family, destinations] of byFamily(addresses)) {
          if (source.kind === "cidr" && source.family !== family) continue;
          const name = allowRuleName(input.grantId, vm.name, port.number, port.protocol, family);
          // A rule under this name that no longer parses as ours is about to be overwritten: not judged either.
          const judged = withoutGrants.filter((c) => c.rule.name !== name);
          const flows = destinations.map((a) => flowSet(port.source, a, port.number, nsgProtocol(port.protocol)));
          const blockers = flows.map((f) => decide(judged, f, ctx)).filter((d) => !d.allowed);
          const existing = current.get(name);
          if (blockers.length === 0) {
            if (existing) rules.push({ nsgId: nsg.id, rule: existing });
            continue;
          }
          const first = firstBlocker(nsg, blockers.map((d) => d.by));
          for (const c of judged) {
            if (c.rule.access === "Deny" && userRules.has(c.rule.name) && flows.some((f) => ruleTouches(c, f, ctx))) overrides.set(`${nsg.id}/${c.rule.name}`, c.ref);
          }

          const rule = (priority: number) =>
            jitRule({
              name,
              priority,
              access: "Allow",
              protocol: nsgProtocol(port.protocol),
              description: allowRuleDescription(input.grantId, input.policy, vm.name, port.expiresAt),
              source: formatPrefix(source),
              destinations,
              ports: [port.number],
            });
          const fits = (priority: number) => priority < first.priority;
          if (existing?.direction === "Inbound" && fits(existing.priority) && ruleDifferences(existing, rule(existing.priority)).length === 0) {
            rules.push({ nsgId: nsg.id, rule: existing });
            continue;
          }
          const added = rule(slots.forRule(existing, fits, () => slots.forAllow(first)));
          put.push(added);
          rules.push({ nsgId: nsg.id, rule: added });
        }
      }
    }
    if (put.length > 0) changes.push({ nsgId: nsg.id, put, delete: [] });
  }
  return { rules, changes, overrides: [...overrides.values()] };
}

/** The earliest rule that blocks any of the flows (a flow nothing decides is blocked past the last priority). */
function firstBlocker(nsg: Nsg, blockers: Array<CompiledRule | undefined>): RuleRef {
  const refs = blockers.map((c) => c?.ref ?? { nsgId: nsg.id, name: "(no rule)", priority: MAX_PRIORITY + 1, access: "Deny" as const });
  return refs.reduce((a, b) => (b.priority < a.priority ? b : a));
}
