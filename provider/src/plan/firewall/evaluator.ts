import { isIpAddress } from "../../model/address";
import { addressContext, defaultVirtualNetwork, type AddressContext } from "../nsg/addresses";
import { decide, flowSet, ruleCovers, ruleTouches, type FlowSet } from "../nsg/match";
import { compileDnat, compileNetwork, dnatFor, type FwCompiledRule } from "./match";
import type { Firewall, FwRuleRef } from "./types";

/**
 * What a classic Azure Firewall does with a connection arriving at one of its public addresses
 * (Azure's "rule processing" for classic rules):
 *
 * 1. DNAT rule collections, by priority (100 first): the first DNAT rule matching the source, the
 *    address, the port and the protocol translates the destination. Without one, nothing answers.
 * 2. Network rule collections, by priority, for the translated flow (the original source, the
 *    translated address and port): the first rule that matches decides, Allow or Deny.
 * 3. When no network rule matches, the DNAT rule's implicit network rule allows the traffic. That
 *    is why a JIT baseline on a firewall is a Deny network rule: it is what closes a port that some
 *    DNAT rule forwards.
 *
 * Application rules do not apply to inbound traffic. As with NSGs, a rule planning cannot read
 * (IP groups, FQDNs, address ranges) counts as matching when it denies and not when it allows.
 */
export interface FirewallFlow {
  source: string;
  /** The firewall's public address the connection is made to. */
  destination: string;
  port: number;
  protocol: "Tcp" | "Udp";
}

export interface FirewallDecision {
  allowed: boolean;
  /** The DNAT rule that took the connection; none means the firewall drops it. */
  dnat?: FwRuleRef;
  translated?: { address: string; port: number };
  /** The network rule that decided the translated flow; none means the DNAT rule's implicit allow. */
  network?: FwRuleRef;
}

export interface FirewallEvaluationOptions {
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the translated address when absent. */
  virtualNetwork?: readonly string[];
}

/** The network rules' verdict on translated flows: a deny that may touch them blocks, else an allow that covers them, else the implicit allow. */
export function decideTranslated(network: readonly FwCompiledRule[], flows: FlowSet, ctx: AddressContext): { allowed: boolean; by?: FwRuleRef } {
  const { allowed, by } = decide(network, flows, ctx);
  if (by === undefined) return { allowed: true };
  return { allowed, by: (by as FwCompiledRule).fw };
}

export function evaluateFirewallInbound(firewall: Firewall, flow: FirewallFlow, options: FirewallEvaluationOptions = {}): FirewallDecision {
  const arriving = flowSet(flow.source, flow.destination, flow.port, flow.protocol);
  const dnat = dnatFor(compileDnat(firewall), arriving, addressContext(options.virtualNetwork ?? defaultVirtualNetwork([])));
  if (!dnat) return { allowed: false };
  const address = dnat.nat.translatedAddress ?? dnat.nat.translatedFqdn ?? "";
  const port = dnat.nat.translatedPort === undefined || dnat.nat.translatedPort === "" ? flow.port : Number(dnat.nat.translatedPort);
  const ctx = addressContext(options.virtualNetwork ?? defaultVirtualNetwork(isIpAddress(address) ? [address] : []));
  const verdict = decideTranslated(compileNetwork(firewall), flowSet(flow.source, address, port, flow.protocol), ctx);
  return { allowed: verdict.allowed, dnat: dnat.fw, translated: { address, port }, ...(verdict.by ? { network: verdict.by } : {}) };
}

/**
 * Whether any of these translated flows gets through the network rules: read the other way round
 * from `decideTranslated`, for reporting exposure. They are all stopped only when a deny covers
 * them all before any allow could match some; the allow that lets some through is returned.
 */
export function translatedReach(network: readonly FwCompiledRule[], flows: FlowSet, ctx: AddressContext): { reached: false } | { reached: true; through?: FwRuleRef } {
  for (const c of network) {
    if (!ruleTouches(c, flows, ctx)) continue;
    if (c.fw.action === "Allow") return { reached: true, through: c.fw };
    if (ruleCovers(c, flows, ctx)) return { reached: false };
  }
  return { reached: true };
}
