/**
 * Azure network security groups as the planners see them: the shape `@azure/arm-network` returns
 * (rule properties flattened onto the rule), narrowed to what planning reads. Adapters pass SDK
 * objects through after checking the fields typed as required here are present.
 */

export type NsgProtocol = "Tcp" | "Udp" | "Icmp" | "Esp" | "Ah" | "*";
export type NsgAccess = "Allow" | "Deny";
export type NsgDirection = "Inbound" | "Outbound";

/** An application security group reference; planning knows its members only as far as the VM's NICs say. */
export interface ApplicationSecurityGroupRef {
  id?: string;
}

/**
 * One security rule. Addresses are `*`, an IP, a CIDR, or a service tag (`Internet`,
 * `VirtualNetwork`, `AzureLoadBalancer`, regional tags); ports are `*`, `22` or `20-25`. Azure takes
 * either the singular or the plural field; the SDK often returns the other one as an empty array.
 */
export interface NsgRule {
  name: string;
  priority: number;
  direction: NsgDirection;
  access: NsgAccess;
  protocol: NsgProtocol;
  description?: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: readonly string[];
  sourceApplicationSecurityGroups?: readonly ApplicationSecurityGroupRef[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: readonly string[];
  destinationApplicationSecurityGroups?: readonly ApplicationSecurityGroupRef[];
  sourcePortRange?: string;
  sourcePortRanges?: readonly string[];
  destinationPortRange?: string;
  destinationPortRanges?: readonly string[];
}

/** An NSG: its ARM id, its own rules, and the six read-only default rules (the standard set when absent). */
export interface Nsg {
  id: string;
  securityRules: readonly NsgRule[];
  defaultSecurityRules?: readonly NsgRule[];
  /**
   * NRP re-evaluates established flows whenever the rules change: removing an allow rule then cuts
   * the sessions it let in (otherwise they last until they go idle).
   */
  flushConnection?: boolean;
}

/** The NSGs in front of one network interface: inbound traffic meets the subnet's first, then the NIC's. */
export interface NsgPath {
  subnet?: Nsg;
  nic?: Nsg;
}

/** A network interface of a VM: its private addresses and the NSGs on its inbound path. */
export interface VmNic extends NsgPath {
  addresses: readonly string[];
  /** The application security groups the NIC's IP configurations are in (id → their addresses), when read. */
  applicationSecurityGroups?: Readonly<Record<string, readonly string[]>>;
}

/** Which rule of which NSG decided something. */
export interface RuleRef {
  nsgId: string;
  name: string;
  priority: number;
  access: NsgAccess;
}

/**
 * Writes to one NSG, made in one write of the whole NSG: every rule in `put` (created or replaced
 * by name) and every name in `delete` together, so that a port is never left without its deny rule
 * in between, and a rule may take the number of one the same change deletes. Every write carries
 * the NSG's ETag; on 409/412/429 or `SecurityRuleConflict` the adapter re-reads the NSG and plans
 * again.
 */
export interface NsgChange {
  nsgId: string;
  put: NsgRule[];
  delete: string[];
}

/** A rule a grant added, as recorded for its restore. */
export interface AddedRule {
  nsgId: string;
  rule: NsgRule;
}
