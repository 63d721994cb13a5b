import type { AzureFirewall, AzureFirewallNatRule, AzureFirewallNetworkRule } from "@azure/arm-network";
import { JitError } from "../model";
import { editCollections, type Firewall, type FirewallChange, type FwCollection, type FwNatRule, type FwNetworkRule, type FwProtocol } from "../plan";

/**
 * Classic Azure Firewalls between the SDK's shape and the planners'. A firewall is written whole,
 * so the snapshot keeps the SDK object as read: a change is applied to it (collections replaced or
 * removed by name) and everything else goes back exactly as it came.
 */
export interface FirewallSnapshot {
  firewall: Firewall;
  /** The ETag as read: the whole-firewall PUT that depends on this snapshot carries it in `If-Match`. */
  etag?: string;
  sdk: AzureFirewall;
}

const PROTOCOLS: readonly FwProtocol[] = ["TCP", "UDP", "Any", "ICMP"];

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string, where: string): T {
  const found = allowed.find((a) => a.toLowerCase() === value?.toLowerCase());
  if (found === undefined) throw new JitError("CloudError", `${where} has ${what} ${JSON.stringify(value)}, which pulumi-jit does not know`);
  return found;
}

/**
 * A rule as the planners take it: the SDK's own fields (network and NAT rules alike are plain lists
 * and strings), with its name checked, its protocols known, and nothing left undefined.
 */
function fromSdkRule<S extends AzureFirewallNetworkRule | AzureFirewallNatRule>(r: S, where: string): Omit<S, "name" | "protocols"> & { name: string; protocols: FwProtocol[] } {
  if (r.name === undefined) throw new JitError("CloudError", `a rule of ${where} came back without a name`);
  const at = `rule ${r.name} of ${where}`;
  const fields = { ...r, name: r.name, protocols: (r.protocols ?? []).map((p) => oneOf(p, PROTOCOLS, "protocol", at)) };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as typeof fields;
}

function fromSdkCollection<A extends string, S, R>(
  c: { name?: string; priority?: number; action?: { type?: string }; rules?: S[] },
  actions: readonly A[],
  rule: (r: S, where: string) => R,
  firewallId: string,
): FwCollection<A, R> {
  const where = `rule collection ${c.name ?? "(unnamed)"} of Azure Firewall ${firewallId}`;
  if (c.name === undefined || typeof c.priority !== "number") throw new JitError("CloudError", `${where} came back without a name or priority`);
  return { name: c.name, priority: c.priority, action: oneOf(c.action?.type, actions, "action", where), rules: (c.rules ?? []).map((r) => rule(r, where)) };
}

export function fromSdkFirewall(f: AzureFirewall): FirewallSnapshot {
  if (f.id === undefined) throw new JitError("CloudError", `Azure Firewall ${f.name ?? ""} came back without an id`);
  const id = f.id;
  return {
    firewall: {
      id,
      natRuleCollections: (f.natRuleCollections ?? []).map((c) => fromSdkCollection(c, ["Dnat", "Snat"] as const, (r: AzureFirewallNatRule, where): FwNatRule => fromSdkRule(r, where), id)),
      networkRuleCollections: (f.networkRuleCollections ?? []).map((c) => fromSdkCollection(c, ["Allow", "Deny"] as const, (r: AzureFirewallNetworkRule, where): FwNetworkRule => fromSdkRule(r, where), id)),
    },
    ...(f.etag === undefined ? {} : { etag: f.etag }),
    sdk: f,
  };
}

/** A planned collection as the SDK writes it: plain arrays, the action as `{type}`. */
function toSdkCollection<R extends FwNatRule | FwNetworkRule>(c: FwCollection<string, R>) {
  return {
    name: c.name,
    priority: c.priority,
    action: { type: c.action },
    rules: c.rules.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v]))),
  };
}

/** The firewall to PUT: as read, with the change's collections replaced, added or removed by name. */
export function withChange(f: AzureFirewall, change: FirewallChange): AzureFirewall {
  return {
    ...f,
    natRuleCollections: editCollections(f.natRuleCollections ?? [], { put: change.nat.put.map(toSdkCollection), delete: change.nat.delete }),
    networkRuleCollections: editCollections(f.networkRuleCollections ?? [], { put: change.network.put.map(toSdkCollection), delete: change.network.delete }),
  };
}
