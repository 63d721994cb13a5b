/**
 * Azure Firewalls with classic rules, as the planners see them: the rule collections
 * `@azure/arm-network` returns (properties flattened), narrowed to what planning reads. The
 * firewall's other settings (IP configurations, SKU, threat intelligence, application rules) are
 * the adapter's to carry through a write untouched; planning never sees or changes them.
 */

export type FwProtocol = "TCP" | "UDP" | "Any" | "ICMP";

/** What network and NAT rules have in common: who they match and on which destination ports. */
interface FwRuleMatch {
  name: string;
  description?: string;
  protocols: readonly FwProtocol[];
  sourceAddresses?: readonly string[];
  sourceIpGroups?: readonly string[];
  destinationAddresses?: readonly string[];
  destinationPorts?: readonly string[];
}

/**
 * A network rule. Addresses are `*`, an IP, a CIDR, a range `a-b` or a service tag; ports are `*`,
 * `22` or `20-25`. IP groups and FQDNs are kept as written: planning cannot resolve them.
 */
export interface FwNetworkRule extends FwRuleMatch {
  destinationIpGroups?: readonly string[];
  destinationFqdns?: readonly string[];
}

/** A NAT rule: traffic to `destinationAddresses`:`destinationPorts` goes on to `translatedAddress`:`translatedPort`. */
export interface FwNatRule extends FwRuleMatch {
  translatedAddress?: string;
  translatedFqdn?: string;
  translatedPort?: string;
}

/** A rule collection: one action for all its rules, and a priority (100–65000) among collections of its kind. */
export interface FwCollection<Action extends string, Rule> {
  name: string;
  priority: number;
  action: Action;
  rules: readonly Rule[];
}

export type NetworkCollection = FwCollection<"Allow" | "Deny", FwNetworkRule>;
export type NatCollection = FwCollection<"Dnat" | "Snat", FwNatRule>;

/** A classic firewall: its ARM id and the collections inbound traffic meets (DNAT, then network). */
export interface Firewall {
  id: string;
  natRuleCollections: readonly NatCollection[];
  networkRuleCollections: readonly NetworkCollection[];
}

/** Collections to create or replace (by name), and names to delete, in one list of the firewall. */
export interface CollectionEdits<C> {
  put: C[];
  delete: string[];
}

/**
 * Writes to one firewall. Azure takes a firewall only whole (one PUT, a long-running operation),
 * so an adapter applies the edits to the firewall as it just read it and writes it back under its
 * ETag; on 409/412/429 it reads the firewall again and plans again. Collections the change does not
 * name are written back exactly as read.
 */
export interface FirewallChange {
  firewallId: string;
  nat: CollectionEdits<NatCollection>;
  network: CollectionEdits<NetworkCollection>;
}

/** Which rule of which collection of which firewall decided something. */
export interface FwRuleRef {
  firewallId: string;
  kind: "nat" | "network";
  collection: string;
  rule: string;
  priority: number;
  action: NatCollection["action"] | NetworkCollection["action"];
}

export function noFirewallChange(firewallId: string): FirewallChange {
  return { firewallId, nat: { put: [], delete: [] }, network: { put: [], delete: [] } };
}

export function isEmptyFirewallChange(change: FirewallChange): boolean {
  return change.nat.put.length + change.nat.delete.length + change.network.put.length + change.network.delete.length === 0;
}

const sameName = (a: string | undefined, b: string | undefined) => a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * A list of collections once `edits` are applied: deleted names gone, put ones replacing those of
 * their name in place (or appended), the rest as they were. Generic over the element so that an
 * adapter applies a plan to the SDK's own objects, keeping whatever they carry that planning does
 * not read.
 */
export function editCollections<T extends { name?: string }>(list: readonly T[], edits: { put: readonly T[]; delete: readonly string[] }): T[] {
  const kept = list.filter((c) => !edits.delete.some((name) => sameName(name, c.name)));
  const out = kept.map((c) => edits.put.find((p) => sameName(p.name, c.name)) ?? c);
  for (const p of edits.put) if (!out.some((c) => sameName(c.name, p.name))) out.push(p);
  return out;
}

/** The firewall as it will be once the change is applied. */
export function applyFirewallChange(firewall: Firewall, change: FirewallChange): Firewall {
  return {
    ...firewall,
    natRuleCollections: editCollections(firewall.natRuleCollections, change.nat),
    networkRuleCollections: editCollections(firewall.networkRuleCollections, change.network),
  };
}
