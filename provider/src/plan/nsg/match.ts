import { addressTerm, groupTerm, termsCover, termsTouch, type AddressContext, type AddressTerm } from "./addresses";
import { DEFAULT_SECURITY_RULES } from "./default-rules";
import type { Nsg, NsgProtocol, NsgRule, RuleRef } from "./types";
import { ALL_PORTS, parsePortRange, rangesCover, rangesOverlap, type PortRange } from "../port-ranges";

/**
 * Inbound rules in the form matching needs, and the two questions asked of them about a set of
 * flows: could the rule match some of them (`touches`), does it match all of them (`covers`).
 */
export interface CompiledRule {
  rule: NsgRule;
  ref: RuleRef;
  sources: AddressTerm[];
  destinations: AddressTerm[];
  sourcePorts: PortRange[];
  ports: PortRange[];
}

/** Inbound flows: every combination of the sources, destinations, ports and source ports, over `protocol` (`*` = all). */
export interface FlowSet {
  sources: readonly AddressTerm[];
  destinations: readonly AddressTerm[];
  ports: readonly PortRange[];
  sourcePorts: readonly PortRange[];
  protocol: NsgProtocol;
}

export function flowSet(source: string, destination: string, port: number, protocol: NsgProtocol, sourcePort?: number): FlowSet {
  return {
    sources: [addressTerm(source)],
    destinations: [addressTerm(destination)],
    ports: [{ from: port, to: port }],
    sourcePorts: sourcePort === undefined ? [ALL_PORTS] : [{ from: sourcePort, to: sourcePort }],
    protocol,
  };
}

/** A rule field's values: the plural form when it has entries (the SDK returns `[]` for the unused one), else the singular. */
export function fieldValues(single: string | undefined, plural: readonly string[] | undefined): readonly string[] {
  return plural && plural.length > 0 ? plural : single !== undefined ? [single] : [];
}

function addressTerms(single: string | undefined, plural: readonly string[] | undefined, asgs: readonly { id?: string }[] | undefined): AddressTerm[] {
  const asgTerms: AddressTerm[] = (asgs ?? []).map((g) => groupTerm(g.id));
  return [...fieldValues(single, plural).map(addressTerm), ...asgTerms];
}

function portRanges(rule: NsgRule, single: string | undefined, plural: readonly string[] | undefined, field: string): PortRange[] {
  return fieldValues(single, plural).map((t) => parsePortRange(t, `${rule.name}.${field}`));
}

export function compileRule(nsgId: string, rule: NsgRule): CompiledRule {
  return {
    rule,
    ref: { nsgId, name: rule.name, priority: rule.priority, access: rule.access },
    sources: addressTerms(rule.sourceAddressPrefix, rule.sourceAddressPrefixes, rule.sourceApplicationSecurityGroups),
    destinations: addressTerms(rule.destinationAddressPrefix, rule.destinationAddressPrefixes, rule.destinationApplicationSecurityGroups),
    sourcePorts: portRanges(rule, rule.sourcePortRange, rule.sourcePortRanges, "sourcePortRange"),
    ports: portRanges(rule, rule.destinationPortRange, rule.destinationPortRanges, "destinationPortRange"),
  };
}

/** The NSG's inbound rules and its default ones, in the order Azure evaluates them. */
export function compileInbound(nsg: Nsg): CompiledRule[] {
  const defaults = nsg.defaultSecurityRules && nsg.defaultSecurityRules.length > 0 ? nsg.defaultSecurityRules : DEFAULT_SECURITY_RULES;
  return [...nsg.securityRules, ...defaults]
    .filter((r) => r.direction === "Inbound")
    .sort((a, b) => a.priority - b.priority)
    .map((r) => compileRule(nsg.id, r));
}

function protocolsTouch(a: NsgProtocol, b: NsgProtocol): boolean {
  return a === "*" || b === "*" || a === b;
}

export function protocolCovers(outer: NsgProtocol, inner: NsgProtocol): boolean {
  return outer === "*" || outer === inner;
}

export function ruleTouches(c: CompiledRule, f: FlowSet, ctx: AddressContext): boolean {
  return (
    protocolsTouch(c.rule.protocol, f.protocol) &&
    rangesOverlap(c.ports, f.ports) &&
    rangesOverlap(c.sourcePorts, f.sourcePorts) &&
    termsTouch(c.destinations, f.destinations, ctx) &&
    termsTouch(c.sources, f.sources, ctx)
  );
}

export function ruleCovers(c: CompiledRule, f: FlowSet, ctx: AddressContext): boolean {
  return (
    protocolCovers(c.rule.protocol, f.protocol) &&
    rangesCover(c.ports, f.ports) &&
    rangesCover(c.sourcePorts, f.sourcePorts) &&
    termsCover(c.destinations, f.destinations, ctx) &&
    termsCover(c.sources, f.sources, ctx)
  );
}

/**
 * First match wins, read conservatively for a set of flows: the answer is "allowed" only when an
 * allow rule covers the whole set before any deny could touch it, and otherwise names the first
 * rule that may deny part of it.
 */
export function decide(rules: readonly CompiledRule[], f: FlowSet, ctx: AddressContext): { allowed: boolean; by?: CompiledRule } {
  for (const c of rules) {
    if (!ruleTouches(c, f, ctx)) continue;
    if (c.rule.access === "Deny") return { allowed: false, by: c };
    if (ruleCovers(c, f, ctx)) return { allowed: true, by: c };
  }
  return { allowed: false };
}
