import { formatPrefix, isIpAddress, parsePrefix } from "../../model/address";
import type { Protocol } from "../../model/protocol";
import { addressContext, addressTerm, defaultVirtualNetwork, type AddressContext } from "../nsg/addresses";
import type { FlowSet } from "../nsg/match";
import { ruleTouches } from "../nsg/match";
import { denyRuleDescription, denyRuleName, parseJitRule } from "../nsg/names";
import type { BaselineVm } from "../nsg/deny-baseline";
import { translatedReach } from "./evaluator";
import { compileDnat, compileNetwork, flowProtocols, fwProtocols } from "./match";
import { denyCollectionName, parseJitCollection } from "./names";
import { CollectionSlots } from "./priorities";
import { sameFwRule } from "./rule-shape";
import { applyFirewallChange, noFirewallChange, type Firewall, type FirewallChange, type FwNetworkRule, type FwRuleRef, type NetworkCollection } from "./types";
import { ALL_PORTS } from "../port-ranges";

export interface FirewallBaselineInput {
  policy: string;
  firewall: Firewall;
  /** Every VM of the policy behind this firewall, with its addresses in the firewall's network; a VM left out loses its deny rule here. */
  vms: readonly BaselineVm[];
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the VMs' addresses when absent. */
  virtualNetwork?: readonly string[];
}

/** Whether a selected port is closed through the firewall, or which DNAT rules (and allow rules) still forward it. */
export type FwPortStatus =
  | { vm: string; port: number; protocol: Protocol; status: "protected" }
  | { vm: string; port: number; protocol: Protocol; status: "exposed"; exposedBy: FwRuleRef[] };

export interface FirewallBaselinePlan {
  change: FirewallChange;
  /** The policy's deny collection as the plan leaves it (none when no VM of the policy is behind the firewall). */
  collection?: NetworkCollection;
  ports: FwPortStatus[];
}

const PROTOCOL_ORDER: readonly Protocol[] = ["TCP", "UDP", "*"];

const canonical = (address: string) => formatPrefix(parsePrefix(address));

function denyRule(policy: string, vm: BaselineVm, protocol: Protocol, ports: number[]): FwNetworkRule {
  return {
    name: denyRuleName(policy, vm.name, protocol),
    description: denyRuleDescription(policy, vm.name),
    protocols: fwProtocols(protocol),
    sourceAddresses: ["*"],
    destinationAddresses: [...new Set(vm.addresses.map(canonical))].sort(),
    destinationPorts: [...new Set(ports)].sort((a, b) => a - b).map(String),
  };
}

function isPolicyDeny(rule: FwNetworkRule, policy: string): boolean {
  const info = parseJitRule(rule);
  return info?.kind === "deny" && info.policy === policy;
}

function scopeOf(rule: FwNetworkRule, protocol: "Tcp" | "Udp"): FlowSet {
  return {
    sources: [addressTerm("*")],
    destinations: (rule.destinationAddresses ?? []).map(addressTerm),
    ports: (rule.destinationPorts ?? []).map((p) => ({ from: Number(p), to: Number(p) })),
    sourcePorts: [ALL_PORTS],
    protocol,
  };
}

/**
 * The deny baseline in one classic firewall: one Deny network rule collection for the policy, with
 * a rule per VM and protocol denying the policy's ports from anywhere to the VM's private
 * addresses. DNAT rules come with an implicit allow for what they forward; this explicit deny is
 * what closes those paths. The collection goes behind every other network collection with a rule
 * for those ports (they keep precedence, as in Defender) and at FW_DENY_FLOOR or later. A
 * collection already in place with the right rules stays where it is; rules of this policy that are
 * no longer wanted go, rules somebody else put in the collection stay, and the collection is deleted
 * once it holds nothing. Nothing else in the firewall is touched.
 */
export function planFirewallDenyBaseline(input: FirewallBaselineInput): FirewallBaselinePlan {
  const { policy, firewall } = input;
  const vms = input.vms.filter((vm) => vm.addresses.length > 0).sort((a, b) => a.name.localeCompare(b.name));
  const ctx = addressContext(input.virtualNetwork ?? defaultVirtualNetwork(vms.flatMap((vm) => vm.addresses)));
  const name = denyCollectionName(policy);
  const existing = firewall.networkRuleCollections.find((c) => c.name.toLowerCase() === name.toLowerCase());
  const ours = vms.flatMap((vm) =>
    PROTOCOL_ORDER.flatMap((protocol) => {
      const ports = vm.ports.filter((p) => p.protocol === protocol).map((p) => p.number);
      return ports.length ? [denyRule(policy, vm, protocol, ports)] : [];
    }),
  );
  // Somebody else's rules in the collection stay, unless they took a name ours needs.
  const foreign = (existing?.rules ?? []).filter((r) => !isPolicyDeny(r, policy) && !ours.some((o) => o.name.toLowerCase() === r.name.toLowerCase()));
  const rules = [...ours, ...foreign];
  const change = noFirewallChange(firewall.id);

  let collection: NetworkCollection | undefined;
  if (rules.length === 0) {
    if (existing) change.network.delete.push(existing.name);
  } else {
    const others = compileNetwork(firewall, (c) => c !== existing?.name);
    const last = ours
      .flatMap((r) => flowProtocols(protocolOf(r)).map((p) => scopeOf(r, p)))
      .flatMap((scope) => others.filter((c) => ruleTouches(c, scope, ctx)).map((c) => c.fw))
      .reduce<FwRuleRef | undefined>((m, ref) => (m && m.priority >= ref.priority ? m : ref), undefined);
    const slots = new CollectionSlots(firewall.id, "network", firewall.networkRuleCollections);
    const priority = slots.forCollection(existing, (p) => p > (last?.priority ?? 0), () => slots.forDeny(last));
    collection = { name: existing?.name ?? name, priority, action: "Deny", rules };
    if (!existing || !sameCollection(existing, collection)) change.network.put.push(collection);
  }
  return { change, ...(collection ? { collection } : {}), ports: firewallPortStatuses({ ...input, firewall: applyFirewallChange(firewall, change), vms }, ctx) };
}

function protocolOf(rule: FwNetworkRule): Protocol {
  const p = new Set(rule.protocols);
  return p.has("TCP") && p.has("UDP") ? "*" : p.has("UDP") ? "UDP" : "TCP";
}

function sameCollection(a: NetworkCollection, b: NetworkCollection): boolean {
  return a.priority === b.priority && a.action === b.action && a.rules.length === b.rules.length && a.rules.every((r, i) => sameFwRule(r, b.rules[i]));
}

/**
 * The policy's ports through the firewall as it is: each `protected`, or `exposed` through the
 * DNAT rules of others that forward it (and the allow rule that then admits the traffic, if one
 * does) without a deny stopping all of it first. Grants' own DNAT rules are not exposures: they
 * are the access the policy permits.
 */
export function firewallPortStatuses(input: FirewallBaselineInput, ctx?: AddressContext): FwPortStatus[] {
  const { firewall } = input;
  const vms = [...input.vms].sort((a, b) => a.name.localeCompare(b.name));
  const context = ctx ?? addressContext(input.virtualNetwork ?? defaultVirtualNetwork(vms.flatMap((vm) => vm.addresses)));
  const network = compileNetwork(firewall);
  const forwards = compileDnat(firewall).filter((c) => parseJitCollection(c.fw.collection) === undefined && isIpAddress(c.nat.translatedAddress ?? ""));
  return vms.flatMap((vm) =>
    vm.ports.map((p): FwPortStatus => {
      const exposedBy = new Map<string, FwRuleRef>();
      const addresses = vm.addresses.map(canonical);
      for (const protocol of flowProtocols(p.protocol)) {
        for (const c of forwards) {
          const target = canonical(c.nat.translatedAddress ?? "");
          // Without a translated port, a DNAT rule forwards to the port it listens on.
          const lands = c.nat.translatedPort ? Number(c.nat.translatedPort) === p.number : c.ports.some((r) => r.from <= p.number && p.number <= r.to);
          if ((c.rule.protocol !== "*" && c.rule.protocol !== protocol) || !addresses.includes(target) || !lands) continue;
          const flows: FlowSet = { sources: c.sources, destinations: [addressTerm(target)], ports: [{ from: p.number, to: p.number }], sourcePorts: [ALL_PORTS], protocol };
          const reach = translatedReach(network, flows, context);
          if (!reach.reached) continue;
          exposedBy.set(`${c.fw.collection}/${c.fw.rule}`, c.fw);
          if (reach.through) exposedBy.set(`${reach.through.collection}/${reach.through.rule}`, reach.through);
        }
      }
      const base = { vm: vm.name, port: p.number, protocol: p.protocol };
      return exposedBy.size === 0 ? { ...base, status: "protected" } : { ...base, status: "exposed", exposedBy: [...exposedBy.values()] };
    }),
  );
}
