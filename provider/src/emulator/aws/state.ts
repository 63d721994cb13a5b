import { createHash } from "node:crypto";
import { seededRandom } from "../common";
import { AwsError, notFound } from "./errors";

/**
 * The EC2 resources the endpoint serves, held as the cloud would hold them. What can be derived (an
 * instance's security groups, addresses, subnet and VPC from its interfaces; an interface's VPC from
 * its subnet) is derived, so the state cannot disagree with itself.
 */
export type Tags = Map<string, string>;

export interface Vpc {
  id: string;
  cidrBlock: string;
  isDefault: boolean;
  dhcpOptionsId: string;
  tags: Tags;
}

export interface Subnet {
  id: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
  tags: Tags;
}

/** Where a rule admits traffic from (ingress) or to (egress). */
export type Peer =
  | { kind: "ipv4"; cidr: string }
  | { kind: "ipv6"; cidr: string }
  | { kind: "group"; groupId: string; userId: string }
  | { kind: "prefixList"; prefixListId: string };

export interface RuleSpec {
  egress: boolean;
  /** Normalised: `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all), or another protocol number. */
  protocol: string;
  /** -1 where the protocol has no ports (all protocols, or numbers other than tcp/udp/icmp). */
  fromPort: number;
  toPort: number;
  peer: Peer;
  description?: string;
}

export interface SecurityGroupRule extends RuleSpec {
  id: string;
  groupId: string;
  tags: Tags;
}

export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  /** In the order they were added, which is the order the describes return them in. */
  rules: SecurityGroupRule[];
  tags: Tags;
}

/**
 * A managed prefix list. A rule that references it counts against the group's rule quota as
 * `maxEntries` rules (customer-managed) or as the list's published weight (AWS-managed), not as
 * one: https://docs.aws.amazon.com/vpc/latest/userguide/managed-prefix-lists.html and
 * .../working-with-aws-managed-prefix-lists.html (CloudFront origin-facing 55, S3 1, ...).
 */
export interface PrefixList {
  id: string;
  name: string;
  addressFamily: "IPv4" | "IPv6";
  maxEntries: number;
  /** AWS-managed lists are owned by `AWS` and count as their weight. */
  awsManaged: boolean;
  weight?: number;
  entries: string[];
  tags: Tags;
}

export interface Attachment {
  instanceId: string;
  deviceIndex: number;
  attachmentId: string;
  attachTime: Date;
  deleteOnTermination: boolean;
}

export interface NetworkInterface {
  id: string;
  subnetId: string;
  description: string;
  privateIpAddress: string;
  secondaryPrivateIpAddresses: string[];
  publicIp?: string;
  /** Set when the public address is an Elastic IP of the account (rather than one Amazon assigned at launch). */
  elasticIpAssociationId?: string;
  macAddress: string;
  sourceDestCheck: boolean;
  groupIds: string[];
  attachment?: Attachment;
  tags: Tags;
}

export type InstanceStateName = "pending" | "running" | "shutting-down" | "terminated" | "stopping" | "stopped";

export const instanceStateCodes: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface Instance {
  id: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: InstanceStateName;
  launchTime: Date;
  availabilityZone: string;
  /** By device index: the first is the primary interface. A terminated instance has none. */
  networkInterfaceIds: string[];
  disableApiTermination: boolean;
  enaSupport: boolean;
  rootDeviceName: string;
  tags: Tags;
}

export interface Limits {
  /** Inbound (and, separately, outbound) rules per group, per address family. */
  rulesPerGroup: number;
  groupsPerInterface: number;
}

/** EC2 ids: a prefix and 8 (older resources) or 17 lower-case hex digits. */
export function isEc2Id(prefix: string, id: string): boolean {
  return new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`).test(id);
}

/**
 * EC2 is eventually consistent: "if you run a command to modify or describe the resource that you
 * just created, its ID might not have propagated throughout the system" and the call answers that
 * it does not exist (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 * With `newGroupLookups` above 0, a group made by CreateSecurityGroup is not found by that many
 * later lookups (by id, or in a describe's listing) before it is.
 */
export interface Consistency {
  newGroupLookups: number;
}

export class Ec2State {
  readonly vpcs = new Map<string, Vpc>();
  readonly prefixLists = new Map<string, PrefixList>();
  readonly consistency: Consistency = { newGroupLookups: 0 };
  /** Groups not yet visible everywhere, with the lookups left before they are. */
  private readonly propagating = new Map<string, number>();
  readonly subnets = new Map<string, Subnet>();
  readonly groups = new Map<string, SecurityGroup>();
  readonly networkInterfaces = new Map<string, NetworkInterface>();
  readonly instances = new Map<string, Instance>();
  private readonly random: () => number;
  /** The DHCP options set an account's VPCs get: one per account and region, as EC2 creates it. */
  readonly defaultDhcpOptionsId: string;

  constructor(
    readonly accountId: string,
    readonly region: string,
    readonly limits: Limits,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.defaultDhcpOptionsId = `dopt-${createHash("sha256").update(`${accountId}/${region}`).digest("hex").slice(0, 17)}`;
  }

  /** Hex digits from the seeded generator, so that a run's ids replay. */
  randomHex(length: number): string {
    return Array.from({ length }, () => Math.floor(this.random() * 16).toString(16)).join("");
  }

  /** Whether any served resource already has this id. */
  hasId(id: string): boolean {
    const rules = [...this.groups.values()].flatMap((g) => g.rules.map((r) => r.id));
    return [this.vpcs, this.subnets, this.groups, this.networkInterfaces, this.instances, this.prefixLists].some((m) => m.has(id)) || rules.includes(id);
  }

  /** A new id such as `sg-0a1b2c3d4e5f60718` (17 random hex digits: collisions are not a concern). */
  newId(prefix: string): string {
    return `${prefix}-${this.randomHex(17)}`;
  }

  rule(id: string): SecurityGroupRule {
    if (!isEc2Id("sgr", id)) throw new AwsError("InvalidSecurityGroupRuleId.Malformed", `Invalid id: "${id}" (expecting "sgr-...")`);
    const rule = [...this.groups.values()].flatMap((g) => g.rules).find((r) => r.id === id);
    if (!rule) throw notFound("InvalidSecurityGroupRuleId.NotFound", "security group rule ID", id);
    return rule;
  }

  vpc(id: string): Vpc {
    if (!isEc2Id("vpc", id)) throw new AwsError("InvalidVpcID.Malformed", `Invalid id: "${id}"`);
    const vpc = this.vpcs.get(id);
    if (!vpc) throw notFound("InvalidVpcID.NotFound", "vpc ID", id);
    return vpc;
  }

  defaultVpc(): Vpc | undefined {
    return [...this.vpcs.values()].find((v) => v.isDefault);
  }

  subnet(id: string): Subnet {
    if (!isEc2Id("subnet", id)) throw new AwsError("InvalidSubnetID.Malformed", `Invalid id: "${id}"`);
    const subnet = this.subnets.get(id);
    if (!subnet) throw notFound("InvalidSubnetID.NotFound", "subnet ID", id);
    return subnet;
  }

  /** `authorizing`: IAM's look at the group before the call runs, which is not one of EC2's lookups and so does not bring a propagating group closer. */
  group(id: string, authorizing = false): SecurityGroup {
    if (!isEc2Id("sg", id)) throw new AwsError("InvalidGroupId.Malformed", `Invalid id: "${id}" (expecting "sg-...")`);
    const group = this.groups.get(id);
    if (!group || (!authorizing && !this.visible(id))) throw notFound("InvalidGroup.NotFound", "security group", id);
    return group;
  }

  /** A group just created through the API, which lookups will not see for a while (see `Consistency`). */
  created(groupId: string): void {
    if (this.consistency.newGroupLookups > 0) this.propagating.set(groupId, this.consistency.newGroupLookups);
  }

  /** Whether a lookup sees the group yet; each lookup of a propagating group brings it closer. */
  private visible(groupId: string): boolean {
    const left = this.propagating.get(groupId);
    if (left === undefined) return true;
    if (left <= 1) this.propagating.delete(groupId);
    else this.propagating.set(groupId, left - 1);
    return false;
  }

  /** The groups a describe lists: those propagated. */
  listedGroups(): SecurityGroup[] {
    return [...this.groups.values()].filter((g) => this.visible(g.id));
  }

  prefixList(id: string): PrefixList {
    if (!isEc2Id("pl", id)) throw new AwsError("InvalidPrefixListId.Malformed", `Invalid id: "${id}" (expecting "pl-...")`);
    const list = this.prefixLists.get(id);
    if (!list) throw new AwsError("InvalidPrefixListID.NotFound", `The prefix list ID '${id}' does not exist`);
    return list;
  }

  /** How many rules a rule referencing this list counts as. */
  prefixListWeight(id: string): number {
    const list = this.prefixLists.get(id);
    if (!list) return 1;
    return list.awsManaged ? (list.weight ?? list.maxEntries) : list.maxEntries;
  }

  /** The group a request names by id, or by name in the default VPC (the only place names work). */
  groupByIdOrName(groupId: string | undefined, groupName: string | undefined, authorizing = false): SecurityGroup {
    if (groupId !== undefined) return this.group(groupId, authorizing);
    if (groupName === undefined) throw new AwsError("MissingParameter", "The request must contain the parameter groupName or groupId");
    const vpc = this.defaultVpc();
    const found = vpc && [...this.groups.values()].find((g) => g.vpcId === vpc.id && g.name === groupName);
    if (!found) throw new AwsError("InvalidGroup.NotFound", `The security group '${groupName}' does not exist in default VPC '${vpc?.id ?? "none"}'`);
    return found;
  }

  defaultGroup(vpcId: string): SecurityGroup {
    const group = [...this.groups.values()].find((g) => g.vpcId === vpcId && g.name === "default");
    if (!group) throw new Error(`VPC ${vpcId} has no default security group`);
    return group;
  }

  networkInterface(id: string): NetworkInterface {
    if (!isEc2Id("eni", id)) throw new AwsError("InvalidNetworkInterfaceID.Malformed", `Invalid id: "${id}" (expecting "eni-...")`);
    const eni = this.networkInterfaces.get(id);
    if (!eni) throw notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", id);
    return eni;
  }

  instance(id: string): Instance {
    if (!isEc2Id("i", id)) throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${id}"`);
    const instance = this.instances.get(id);
    if (!instance) throw notFound("InvalidInstanceID.NotFound", "instance ID", id);
    return instance;
  }

  /** The interface an attachment id names. */
  attachment(attachmentId: string): NetworkInterface {
    if (!isEc2Id("eni-attach", attachmentId)) throw new AwsError("InvalidAttachmentID.Malformed", `Invalid id: "${attachmentId}"`);
    const eni = [...this.networkInterfaces.values()].find((n) => n.attachment?.attachmentId === attachmentId);
    if (!eni) throw notFound("InvalidAttachmentID.NotFound", "attachment ID", attachmentId);
    return eni;
  }

  /** Every address any interface of the subnet holds. */
  addressesIn(subnetId: string): Set<string> {
    return new Set([...this.networkInterfaces.values()].filter((n) => n.subnetId === subnetId).flatMap((n) => [n.privateIpAddress, ...n.secondaryPrivateIpAddresses]));
  }

  interfacesOf(instance: Instance): NetworkInterface[] {
    return instance.networkInterfaceIds.map((id) => this.networkInterface(id));
  }

  vpcOfInterface(eni: NetworkInterface): Vpc {
    return this.vpc(this.subnet(eni.subnetId).vpcId);
  }

  /** The tags of any taggable resource, found by its id's prefix. */
  tagsOf(id: string): Tags {
    const prefix = id.slice(0, id.lastIndexOf("-"));
    switch (prefix) {
      case "vpc":
        return this.vpc(id).tags;
      case "subnet":
        return this.subnet(id).tags;
      case "sg":
        return this.group(id).tags;
      case "eni":
        return this.networkInterface(id).tags;
      case "i":
        return this.instance(id).tags;
      case "sgr":
        return this.rule(id).tags;
      case "pl":
        return this.prefixList(id).tags;
      default:
        throw new AwsError("InvalidID", `The ID '${id}' is not valid`);
    }
  }

  /** Groups whose rules reference `groupId`, other than `groupId` itself. */
  referencingGroups(groupId: string): SecurityGroup[] {
    return [...this.groups.values()].filter((g) => g.id !== groupId && g.rules.some((r) => r.peer.kind === "group" && r.peer.groupId === groupId));
  }

  interfacesWithGroup(groupId: string): NetworkInterface[] {
    return [...this.networkInterfaces.values()].filter((n) => n.groupIds.includes(groupId));
  }
}
