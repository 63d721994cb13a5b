import type { Cloud } from "../model/vm";
import type { AdminRule, PublicIpView, SecurityGroup, SecurityGroupRule, VmNic } from "../plan";

/**
 * What a scan looks at, read from the cloud by the inventory readers (or built by hand in tests),
 * and what it says about each VM. Classifying is a pure function of these.
 */

/** Defender's three states for the "just-in-time access" recommendation. */
export type Verdict = "Unhealthy" | "Healthy" | "NotApplicable";

export interface AzureNicInventory extends VmNic {
  id: string;
  /** What the `VirtualNetwork` service tag stands for here (the network's space and its peerings'), when read. */
  virtualNetwork?: readonly string[];
  /** Virtual Network Manager security admin rules in effect on its network, applied before the NSGs. */
  adminRules?: readonly AdminRule[];
  /** Its public IPs, read when no NSG is on its path (unknown: taken as open to the Internet). */
  publicIps?: readonly PublicIpView[];
}

export interface AzureVmInventory {
  id: string;
  location?: string;
  nics: AzureNicInventory[];
  /**
   * The classic Azure Firewall in the VM's virtual network, when there is one: it counts as a place
   * for JIT rules. (One under a Firewall Policy does not: JIT cannot use it.)
   */
  firewallId?: string;
}

export interface AwsInterfaceInventory {
  id: string;
  groupIds: string[];
}

export interface AwsInstanceInventory {
  /** Instance id or ARN. */
  id: string;
  /** The `Name` tag, for people. */
  name?: string;
  interfaces: AwsInterfaceInventory[];
}

/** One region: its instances, every group they wear, and (for rule ids) those groups' rules. */
export interface AwsRegionInventory {
  region: string;
  instances: AwsInstanceInventory[];
  groups: SecurityGroup[];
  rules?: SecurityGroupRule[];
}

/** A rule that lets a broad source in: an NSG rule (Azure) or a security group rule (AWS). */
export interface ExposingRule {
  /** NSG id or security group id. */
  container: string;
  /** The rule's name (Azure) or id (AWS, when known). */
  name?: string;
  priority?: number;
  /** Azure: where the NSG sits on the inbound path. */
  level?: "subnet" | "nic";
  /** The rule's source as written. */
  source: string;
  /** AWS: the rule's ports as written, e.g. `tcp 0-65535`. */
  ports?: string;
}

/** A management port open to a broad source without JIT. */
export interface Exposure {
  port: number;
  /** The private address it is open on (Azure) or the interface (AWS). */
  target: string;
  /** The broad source that gets in. */
  source: string;
  /** The rules that let it in, one per NSG on the path (Azure) or each matching rule (AWS). */
  exposedBy: ExposingRule[];
  /** Some of `source` is kept out by these narrower deny rules ahead of the allow (Azure). */
  partlyBlockedBy?: ExposingRule[];
  /** The JIT policy that selects this port on this VM, if any: its baseline does not hold. */
  policy?: string;
  /** The policy's deny rule that the exposing rule comes before (Azure). */
  shadowedDeny?: ExposingRule;
  reason: string;
}

export interface ScanResult {
  cloud: Cloud;
  vmId: string;
  name: string;
  /** Azure resource group or AWS region: where a policy for it would go. */
  group: string;
  location?: string;
  verdict: Verdict;
  /** Why, in a sentence. */
  reason: string;
  exposures: Exposure[];
  /** Registered JIT policies that select this VM, with their ports. */
  policies: Array<{ name: string; ports: number[] }>;
  /** Per management port, for a Healthy VM: what keeps it closed or narrow. */
  details: string[];
  /** What else holds whatever the verdict: how expiry ends sessions, network-manager rules ahead of the NSGs. */
  notes?: string[];
}

export interface ClassifyOptions {
  /** The management ports (default 22, 3389, 5985, 5986). */
  ports?: readonly number[];
  /** How wide a prefix must be to count as broad; see `isBroadSource`. */
  broadPrefix?: { v4?: number; v6?: number };
}

export const DEFAULT_MANAGEMENT_PORTS: readonly number[] = [22, 3389, 5985, 5986];
