import type { NetworkSecurityGroup, SecurityRule } from "@azure/arm-network";
import type { Nsg, NsgAccess, NsgDirection, NsgProtocol, NsgRule } from "../plan";
import { JitError } from "../model";

/**
 * NSGs between the SDK's shape and the planners'. The SDK types every field as optional; what
 * planning needs is checked here, once, so that a malformed answer fails loudly instead of being
 * planned against.
 */
export interface NsgSnapshot {
  nsg: Nsg;
  /** The ETag as read: writes that depend on this snapshot carry it in `If-Match`. */
  etag?: string;
  /**
   * The NSG as the SDK answered it: a write of the whole NSG sends back its location, tags,
   * `flushConnection` and every rule it does not change exactly as read.
   */
  sdk: NetworkSecurityGroup;
}

const PROTOCOLS: readonly NsgProtocol[] = ["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"];
const ACCESSES: readonly NsgAccess[] = ["Allow", "Deny"];
const DIRECTIONS: readonly NsgDirection[] = ["Inbound", "Outbound"];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string, where: string): T {
  const found = allowed.find((a) => a.toLowerCase() === value?.toLowerCase());
  if (found === undefined) throw new JitError("CloudError", `${where} has ${what} ${JSON.stringify(value)}, which pulumi-jit does not know`);
  return found;
}

function fromSdkRule(r: SecurityRule, where: string): NsgRule {
  const at = `security rule ${r.name ?? "(unnamed)"} of ${where}`;
  if (r.name === undefined || typeof r.priority !== "number") throw new JitError("CloudError", `${at} came back without a name or priority`);
  const optional = {
    description: r.description,
    sourceAddressPrefix: r.sourceAddressPrefix,
    sourceAddressPrefixes: r.sourceAddressPrefixes,
    sourceApplicationSecurityGroups: r.sourceApplicationSecurityGroups?.map((g) => ({ id: g.id })),
    destinationAddressPrefix: r.destinationAddressPrefix,
    destinationAddressPrefixes: r.destinationAddressPrefixes,
    destinationApplicationSecurityGroups: r.destinationApplicationSecurityGroups?.map((g) => ({ id: g.id })),
    sourcePortRange: r.sourcePortRange,
    sourcePortRanges: r.sourcePortRanges,
    destinationPortRange: r.destinationPortRange,
    destinationPortRanges: r.destinationPortRanges,
  };
  return {
    name: r.name,
    priority: r.priority,
    direction: oneOf(r.direction, DIRECTIONS, "direction", at),
    access: oneOf(r.access, ACCESSES, "access", at),
    protocol: oneOf(r.protocol, PROTOCOLS, "protocol", at),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

export function fromSdkNsg(n: NetworkSecurityGroup): NsgSnapshot {
  if (n.id === undefined) throw new JitError("CloudError", `network security group ${n.name ?? ""} came back without an id`);
  const id = n.id;
  const defaults = (n.defaultSecurityRules ?? []).map((r) => fromSdkRule(r, id));
  return {
    nsg: {
      id,
      securityRules: (n.securityRules ?? []).map((r) => fromSdkRule(r, id)),
      ...(defaults.length ? { defaultSecurityRules: defaults } : {}),
      ...(n.flushConnection === true ? { flushConnection: true } : {}),
    },
    ...(n.etag === undefined ? {} : { etag: n.etag }),
    sdk: n,
  };
}

/**
 * The body of a PUT of the whole NSG once `change` is made: every rule it does not touch as the SDK
 * read it (so that no field pulumi-jit does not model is lost), the rules it puts as planned.
 */
export function withChange(sdk: NetworkSecurityGroup, change: { put: readonly NsgRule[]; delete: readonly string[] }): NetworkSecurityGroup {
  const key = (name: string | undefined) => (name ?? "").toLowerCase();
  const touched = new Set([...change.put.map((r) => key(r.name)), ...change.delete.map(key)]);
  // NRP answers every plural field of a rule, empty where the singular one is used: those are left out, as they were sent.
  const asSent = (r: SecurityRule): SecurityRule => Object.fromEntries(Object.entries(r).filter(([, v]) => !(Array.isArray(v) && v.length === 0))) as SecurityRule;
  const kept = (sdk.securityRules ?? []).filter((r) => !touched.has(key(r.name))).map(asSent);
  return { ...sdk, securityRules: [...kept, ...change.put.map(toSdkRule)] };
}

/** The NSG as planned once `change` is made. */
export function nsgWithChange(nsg: Nsg, change: { put: readonly NsgRule[]; delete: readonly string[] }): Nsg {
  let out = nsg;
  for (const name of change.delete) out = withoutRule(out, name);
  for (const rule of change.put) out = withRule(out, rule);
  return out;
}

/** The body of a security rule PUT: the rule's properties as planned, nothing read-only. */
export function toSdkRule(rule: NsgRule): SecurityRule {
  const { name, sourceAddressPrefixes, destinationAddressPrefixes, sourcePortRanges, destinationPortRanges, sourceApplicationSecurityGroups, destinationApplicationSecurityGroups, ...rest } = rule;
  const list = <T>(v: readonly T[] | undefined): T[] | undefined => (v === undefined ? undefined : [...v]);
  const body: SecurityRule = {
    name,
    ...rest,
    sourceAddressPrefixes: list(sourceAddressPrefixes),
    destinationAddressPrefixes: list(destinationAddressPrefixes),
    sourcePortRanges: list(sourcePortRanges),
    destinationPortRanges: list(destinationPortRanges),
    sourceApplicationSecurityGroups: list(sourceApplicationSecurityGroups),
    destinationApplicationSecurityGroups: list(destinationApplicationSecurityGroups),
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as SecurityRule;
}

/** The NSG as it is once `rule` is put (created or replaced by name). */
export function withRule(nsg: Nsg, rule: NsgRule): Nsg {
  const at = nsg.securityRules.findIndex((r) => r.name.toLowerCase() === rule.name.toLowerCase());
  const rules = [...nsg.securityRules];
  if (at >= 0) rules[at] = rule;
  else rules.push(rule);
  return { ...nsg, securityRules: rules };
}

/** The NSG as it is once the rule named `name` is deleted. */
export function withoutRule(nsg: Nsg, name: string): Nsg {
  return { ...nsg, securityRules: nsg.securityRules.filter((r) => r.name.toLowerCase() !== name.toLowerCase()) };
}
