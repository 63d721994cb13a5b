import type { Protocol } from "../../model/protocol";
import { addressTerm, termsTouch, type AddressContext } from "../nsg/addresses";
import { compileRule, ruleCovers, type CompiledRule, type FlowSet } from "../nsg/match";
import type { NsgAccess, NsgProtocol, NsgRule } from "../nsg/types";
import type { Firewall, FwCollection, FwNatRule, FwNetworkRule, FwProtocol, FwRuleRef, NatCollection } from "./types";
import { parsePortRange, type PortRange } from "../port-ranges";

/**
 * Firewall rules in the form the NSG matcher (`nsg/match.ts`) reads, so that one matcher answers
 * "could this rule match some of these flows" and "does it match all of them" for both. A firewall
 * rule becomes one matcher rule per protocol it lists (the matcher takes one protocol per rule),
 * all at its collection's priority; IP groups, FQDNs and address ranges become terms planning
 * cannot resolve, which may match anything and are known to cover nothing.
 */
export interface FwCompiledRule extends CompiledRule {
  fw: FwRuleRef;
}

const MATCHER_PROTOCOL: Record<FwProtocol, NsgProtocol> = { TCP: "Tcp", UDP: "Udp", ICMP: "Icmp", Any: "*" };

/** A policy protocol as firewall rules list it: `*` (TCP and UDP, the protocols that have ports) as both. */
export function fwProtocols(protocol: Protocol): FwProtocol[] {
  return protocol === "TCP" ? ["TCP"] : protocol === "UDP" ? ["UDP"] : ["TCP", "UDP"];
}

/** The concrete protocols whose flows a policy protocol stands for, as the matcher spells them. */
export function flowProtocols(protocol: Protocol): Array<"Tcp" | "Udp"> {
  return protocol === "TCP" ? ["Tcp"] : protocol === "UDP" ? ["Udp"] : ["Tcp", "Udp"];
}

interface Shape {
  sources: readonly string[];
  destinations: readonly string[];
  ports: readonly string[];
}

function compileOne(firewallId: string, kind: FwRuleRef["kind"], collection: FwCollection<string, FwNetworkRule | FwNatRule>, rule: FwNetworkRule | FwNatRule, shape: Shape): FwCompiledRule[] {
  const access: NsgAccess = collection.action === "Deny" ? "Deny" : "Allow";
  const ref: FwRuleRef = { firewallId, kind, collection: collection.name, rule: rule.name, priority: collection.priority, action: collection.action as FwRuleRef["action"] };
  return [...new Set(rule.protocols.map((p) => MATCHER_PROTOCOL[p]))].map((protocol) => {
    const matcherRule: NsgRule = {
      name: `${collection.name}/${rule.name}`,
      priority: collection.priority,
      direction: "Inbound",
      access,
      protocol,
      sourceAddressPrefixes: shape.sources,
      destinationAddressPrefixes: shape.destinations,
      sourcePortRange: "*",
      destinationPortRanges: shape.ports,
    };
    return { ...compileRule(firewallId, matcherRule), fw: ref };
  });
}

const byPriority = <C extends { priority: number }>(list: readonly C[]) => [...list].sort((a, b) => a.priority - b.priority);

/** The network rules, in the order the firewall processes them; `include` filters collections. */
export function compileNetwork(firewall: Firewall, include: (collection: string) => boolean = () => true): FwCompiledRule[] {
  return byPriority(firewall.networkRuleCollections.filter((c) => include(c.name))).flatMap((c) =>
    c.rules.flatMap((r) =>
      compileOne(firewall.id, "network", c, r, {
        sources: [...(r.sourceAddresses ?? []), ...(r.sourceIpGroups ?? [])],
        destinations: [...(r.destinationAddresses ?? []), ...(r.destinationIpGroups ?? []), ...(r.destinationFqdns ?? [])],
        ports: r.destinationPorts ?? [],
      }),
    ),
  );
}

/** A DNAT rule compiled for matching what arrives at the firewall, with the rule itself for its translation. */
export interface FwCompiledNat extends FwCompiledRule {
  nat: FwNatRule;
}

/** The DNAT rules, in the order the firewall processes them (before any network rule). */
export function compileDnat(firewall: Firewall): FwCompiledNat[] {
  return byPriority(firewall.natRuleCollections.filter((c) => c.action === "Dnat")).flatMap((c) =>
    c.rules.flatMap((r) =>
      compileOne(firewall.id, "nat", c, r, {
        sources: [...(r.sourceAddresses ?? []), ...(r.sourceIpGroups ?? [])],
        destinations: r.destinationAddresses ?? [],
        ports: r.destinationPorts ?? [],
      }).map((compiled) => ({ ...compiled, nat: r })),
    ),
  );
}

/** The first DNAT rule that takes every flow of the set (first match wins, collections by priority). */
export function dnatFor(rules: readonly FwCompiledNat[], flows: FlowSet, ctx: AddressContext): FwCompiledNat | undefined {
  return rules.find((c) => ruleCovers(c, flows, ctx));
}

/**
 * The ports DNAT rules already listen on at `address` (whatever their protocol or source), except
 * those of the rules `mine` claims: a new mapping must stay clear of them.
 */
export function dnatPortsInUse(firewall: Firewall, address: string, ctx: AddressContext, mine: (collection: NatCollection, rule: FwNatRule) => boolean): PortRange[] {
  const here = [addressTerm(address)];
  return firewall.natRuleCollections.flatMap((c) =>
    c.rules
      .filter((r) => !mine(c, r) && termsTouch((r.destinationAddresses ?? []).map(addressTerm), here, ctx))
      .flatMap((r) => (r.destinationPorts ?? []).map((p) => parsePortRange(p, `${c.name}/${r.name}.destinationPorts`))),
  );
}
