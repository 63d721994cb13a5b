import { addressContext, defaultVirtualNetwork, termsCover, termsTouch, type AddressContext, type GroupMembership } from "./addresses";
import { compileInbound, decide, fieldValues, flowSet, protocolCovers, ruleTouches, type CompiledRule } from "./match";
import type { Nsg, NsgPath, NsgProtocol, NsgRule, RuleRef } from "./types";
import { rangesCover } from "../port-ranges";

/**
 * Would Azure let an inbound flow through? The subnet NSG is evaluated first, then the NIC NSG; both
 * must allow, and a level without an NSG allows everything. Within an NSG the rule with the lowest
 * priority number that matches decides; the default rules are always there.
 *
 * `source` may be a whole prefix (or `*`): then "allowed" means every address in it gets through, and
 * a deny names the first rule that may stop some of them. Rules that use tags or groups planning
 * cannot resolve are taken to match when they deny and not when they allow, so a planner relying on
 * this never assumes access that might not be there.
 */
export interface Flow {
  source: string;
  destination: string;
  port: number;
  protocol: NsgProtocol;
  /** The client's port; unknown (any) when absent. */
  sourcePort?: number;
}

export interface EvaluationOptions {
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the flow's destination when absent. */
  virtualNetwork?: readonly string[];
  /** The destination VMs' addresses and their application security groups, when known (see `groupsOf`). */
  groups?: { vmAddresses: readonly string[]; membership: GroupMembership };
}

/** One level's verdict: the deciding rule, or none when the level has no NSG. */
export interface NsgDecision {
  allowed: boolean;
  rule?: RuleRef;
}

export interface PathDecision {
  allowed: boolean;
  subnet: NsgDecision;
  nic: NsgDecision;
}

/** What `VirtualNetwork` means for flows to each destination, worked out once per destination. */
function contexts(options: EvaluationOptions): (destination: string) => AddressContext {
  const fixed = options.virtualNetwork && addressContext(options.virtualNetwork, options.groups);
  const byDestination = new Map<string, AddressContext>();
  return (destination) => {
    if (fixed) return fixed;
    let ctx = byDestination.get(destination);
    if (!ctx) byDestination.set(destination, (ctx = addressContext(defaultVirtualNetwork([destination]), options.groups)));
    return ctx;
  };
}

function decideFlow(rules: readonly CompiledRule[] | undefined, flow: Flow, ctx: AddressContext): NsgDecision {
  if (!rules) return { allowed: true };
  const { allowed, by } = decide(rules, flowSet(flow.source, flow.destination, flow.port, flow.protocol, flow.sourcePort), ctx);
  return { allowed, rule: by?.ref };
}

/** Decides many flows against one path, reading its rules once. */
export function inboundEvaluator(path: NsgPath, options: EvaluationOptions = {}): (flow: Flow) => PathDecision {
  const subnet = path.subnet && compileInbound(path.subnet);
  const nic = path.nic && compileInbound(path.nic);
  const contextFor = contexts(options);
  return (flow) => {
    const ctx = contextFor(flow.destination);
    const s = decideFlow(subnet, flow, ctx);
    const n = decideFlow(nic, flow, ctx);
    return { allowed: s.allowed && n.allowed, subnet: s, nic: n };
  };
}

export function evaluateInbound(path: NsgPath, flow: Flow, options: EvaluationOptions = {}): PathDecision {
  return inboundEvaluator(path, options)(flow);
}

export function evaluateNsg(nsg: Nsg, flow: Flow, options: EvaluationOptions = {}): NsgDecision {
  return inboundEvaluator({ nic: nsg }, options)(flow).nic;
}

/** An allow rule through which some source can reach the target, and the deny rules ahead of it that carve parts out. */
export interface Reach {
  rule: RuleRef;
  /** The rule's sources as written: prefixes, tags, application security group ids. */
  sources: string[];
  partlyBlockedBy: RuleRef[];
}

export interface ReachTarget {
  destination: string;
  port: number;
  protocol: NsgProtocol;
}

function sourceTexts(rule: NsgRule): string[] {
  const groups = (rule.sourceApplicationSecurityGroups ?? []).map((g) => g.id ?? "application security group");
  return [...fieldValues(rule.sourceAddressPrefix, rule.sourceAddressPrefixes), ...groups];
}

/**
 * Who can reach `port` on `destination` through this NSG: every allow rule for it that is not
 * wholly hidden behind a single deny rule ahead of it. An allow that several denies together hide is
 * still listed (with those denies), so the list may say too much, never too little.
 */
export function whoCanReach(nsg: Nsg, target: ReachTarget, options: EvaluationOptions = {}): Reach[] {
  return reachesIn(compileInbound(nsg), target, addressContext(options.virtualNetwork ?? defaultVirtualNetwork([target.destination]), options.groups));
}

/** `whoCanReach` for rules already compiled, with `VirtualNetwork` already resolved. */
export function reachesIn(rules: readonly CompiledRule[], target: ReachTarget, ctx: AddressContext): Reach[] {
  const scope = flowSet("*", target.destination, target.port, target.protocol);
  const denies: CompiledRule[] = [];
  const reaches: Reach[] = [];
  for (const c of rules) {
    if (!ruleTouches(c, scope, ctx)) continue;
    if (c.rule.access === "Deny") {
      denies.push(c);
      continue;
    }
    const protocol = c.rule.protocol === "*" ? target.protocol : c.rule.protocol;
    const hidden = denies.some(
      (d) =>
        protocolCovers(d.rule.protocol, protocol) &&
        rangesCover(d.sourcePorts, c.sourcePorts) &&
        termsCover(d.destinations, scope.destinations, ctx) &&
        termsCover(d.sources, c.sources, ctx),
    );
    if (hidden) continue;
    reaches.push({
      rule: c.ref,
      sources: sourceTexts(c.rule),
      partlyBlockedBy: denies.filter((d) => termsTouch(d.sources, c.sources, ctx)).map((d) => d.ref),
    });
  }
  return reaches;
}
