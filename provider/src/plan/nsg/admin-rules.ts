import { addressContext, defaultVirtualNetwork } from "./addresses";
import { compileRule, flowSet, ruleTouches } from "./match";
import type { EvaluationOptions, ReachTarget } from "./evaluator";
import type { NsgProtocol, NsgRule } from "./types";

/**
 * Azure Virtual Network Manager security admin rules, which Azure applies to a virtual network
 * before any NSG: `AlwaysAllow` lets matching traffic in whatever the NSGs (and so JIT) say, `Deny`
 * keeps it out whatever they say, and `Allow` hands it on to the NSGs. pulumi-jit writes none of
 * them; it reports those that decide a selected port on its own.
 */
export type AdminAccess = "Allow" | "Deny" | "AlwaysAllow";

export interface AdminRule {
  /** The rule's id (`…/networkManagers/<m>/securityAdminConfigurations/<c>/ruleCollections/<r>/rules/<name>`). */
  id: string;
  access: AdminAccess;
  priority: number;
  direction: "Inbound" | "Outbound";
  /** `Tcp`, `Udp`, `Icmp`, `Esp`, `Ah` or `Any`. */
  protocol: string;
  /** Prefixes, service tags or network group ids. */
  sources: readonly string[];
  destinations: readonly string[];
  sourcePortRanges: readonly string[];
  destinationPortRanges: readonly string[];
}

/** An admin rule that decides a port ahead of the NSGs: it opens it to `sources`, or closes it to them. */
export interface AdminFinding {
  rule: AdminRule;
  effect: "opens" | "closes";
}

const PROTOCOLS: Record<string, NsgProtocol> = { tcp: "Tcp", udp: "Udp", icmp: "Icmp", esp: "Esp", ah: "Ah", any: "*" };

/** The rule in the shape the NSG matcher reads (an empty field is Azure's "any"). */
function asNsgRule(rule: AdminRule): NsgRule {
  const all = (values: readonly string[]) => (values.length ? values : ["*"]);
  return {
    name: adminRuleName(rule),
    priority: rule.priority,
    direction: rule.direction,
    access: rule.access === "Deny" ? "Deny" : "Allow",
    protocol: PROTOCOLS[rule.protocol.toLowerCase()] ?? "*",
    sourceAddressPrefixes: all(rule.sources),
    destinationAddressPrefixes: all(rule.destinations),
    sourcePortRanges: all(rule.sourcePortRanges),
    destinationPortRanges: all(rule.destinationPortRanges),
  };
}

export function adminRuleName(rule: Pick<AdminRule, "id">): string {
  return rule.id.slice(rule.id.lastIndexOf("/") + 1);
}

/**
 * The inbound `AlwaysAllow` and `Deny` admin rules that may apply to `port` on `destination`, by
 * priority. A rule whose sources or destinations planning cannot resolve (network groups, regional
 * tags) is taken to apply: this is a report of what may bypass or block the NSGs, and says too much
 * rather than too little.
 */
export function adminRulesAt(rules: readonly AdminRule[], target: ReachTarget, options: EvaluationOptions = {}): AdminFinding[] {
  const ctx = addressContext(options.virtualNetwork ?? defaultVirtualNetwork([target.destination]), options.groups);
  const scope = flowSet("*", target.destination, target.port, target.protocol);
  return [...rules]
    .filter((r) => r.direction === "Inbound" && r.access !== "Allow")
    .sort((a, b) => a.priority - b.priority)
    .filter((r) => ruleTouches(compileRule(r.id, asNsgRule(r)), scope, ctx))
    .map((rule) => ({ rule, effect: rule.access === "AlwaysAllow" ? "opens" : "closes" }));
}

/** A finding in a sentence, for status and scan. */
export function describeAdminFinding(f: AdminFinding, port: string): string {
  const what = `network manager admin rule ${adminRuleName(f.rule)} (${f.rule.access}, priority ${f.rule.priority})`;
  const from = f.rule.sources.length ? f.rule.sources.join(", ") : "*";
  return f.effect === "opens"
    ? `${port} is open to ${from} through ${what}, which Azure applies before any NSG, so JIT's deny rules do not close it`
    : `${port} is closed to ${from} by ${what}, which Azure applies before any NSG: grants from there cannot open it`;
}
