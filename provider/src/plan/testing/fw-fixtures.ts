import { MAX_COLLECTION_PRIORITY, MIN_COLLECTION_PRIORITY } from "../firewall/priorities";
import { applyFirewallChange, type Firewall, type FirewallChange, type FwNatRule, type FwNetworkRule, type NatCollection, type NetworkCollection } from "../firewall/types";

export const FIREWALL_IP = "198.51.100.10";
export const VM_ADDRESS = "10.0.0.4";

export function natCollection(name: string, priority: number, rules: FwNatRule[]): NatCollection {
  return { name, priority, action: "Dnat", rules };
}

export function networkCollection(name: string, priority: number, action: "Allow" | "Deny", rules: FwNetworkRule[]): NetworkCollection {
  return { name, priority, action, rules };
}

/** A user's DNAT rule: anyone on the firewall's address and `listen` goes to `to`:`port`. */
export function forward(name: string, listen: number, port: number, fields: Partial<FwNatRule> = {}): FwNatRule {
  return {
    name,
    protocols: ["TCP"],
    sourceAddresses: ["*"],
    destinationAddresses: [FIREWALL_IP],
    destinationPorts: [String(listen)],
    translatedAddress: VM_ADDRESS,
    translatedPort: String(port),
    ...fields,
  };
}

/** A user's network rule for TCP `port` from anywhere to the VNet. */
export function networkRule(name: string, port: string, fields: Partial<FwNetworkRule> = {}): FwNetworkRule {
  return { name, protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.0/16"], destinationPorts: [port], ...fields };
}

export function firewall(nat: NatCollection[] = [], network: NetworkCollection[] = []): Firewall {
  return { id: "fw", natRuleCollections: nat, networkRuleCollections: network };
}

/** Applies a change as Azure would, refusing what it refuses: priorities out of range or shared within a kind, empty collections. */
export function applyChecked(fw: Firewall, change: FirewallChange): Firewall {
  if (change.firewallId !== fw.id) throw new Error(`change for ${change.firewallId} applied to ${fw.id}`);
  const after = applyFirewallChange(fw, change);
  for (const list of [after.natRuleCollections, after.networkRuleCollections]) {
    for (const c of list) {
      if (c.priority < MIN_COLLECTION_PRIORITY || c.priority > MAX_COLLECTION_PRIORITY) throw new Error(`collection ${c.name} has priority ${c.priority}`);
      if (list.some((o) => o !== c && o.priority === c.priority)) throw new Error(`collections share priority ${c.priority}`);
      if (c.rules.length === 0) throw new Error(`collection ${c.name} is empty`);
    }
  }
  return after;
}
