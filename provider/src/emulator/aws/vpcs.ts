import ipaddr from "ipaddr.js";
import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError } from "./errors";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import { normaliseCidr } from "./rules";
import { createDefaultGroup } from "./security-groups";
import type { Ec2State, Subnet, Tags, Vpc } from "./state";
import { tagSpecifications, tagsXml } from "./tags";
import type { XmlObject } from "./xml";

/**
 * VPCs and subnets, as far as the resources in them need: created with EC2's checks on their
 * ranges, listed, and deleted once nothing is left in them.
 */

export interface VpcSpec {
  id: string;
  cidrBlock: string;
  isDefault: boolean;
  dhcpOptionsId?: string;
  /** The id of the default security group every VPC comes with. */
  defaultGroupId?: string;
  tags: Tags;
}

export interface SubnetSpec {
  id: string;
  vpcId: string;
  /** The VPC's next /24 (/20 in a default VPC) when left out. */
  cidrBlock?: string;
  availabilityZone?: string;
  tags: Tags;
}

/** EC2 allows VPC and subnet blocks from /16 to /28. */
function blockOfSize(text: string, code: string): string {
  const cidr = ipaddr.IPv4.isValidCIDRFourPartDecimal(text) ? normaliseCidr(text, "ipv4") : undefined;
  const bits = Number(text.slice(text.indexOf("/") + 1));
  if (!cidr || bits < 16 || bits > 28) throw new AwsError(code, `The CIDR '${text}' is invalid.`);
  return cidr;
}

const toInt = (ip: string) => ipaddr.IPv4.parse(ip).toByteArray().reduce((n, b) => n * 256 + b, 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");

/** First and last address of a block, as numbers. */
function span(cidr: string): [number, number] {
  const [network, bits] = cidr.split("/");
  const first = toInt(network);
  return [first, first + 2 ** (32 - Number(bits)) - 1];
}

export function contains(cidr: string, address: string): boolean {
  const [first, last] = span(cidr);
  const n = toInt(address);
  return n >= first && n <= last;
}

/** A VPC with its default security group. */
export function createVpc(state: Ec2State, spec: VpcSpec): Vpc {
  const vpc: Vpc = {
    id: spec.id,
    cidrBlock: blockOfSize(spec.cidrBlock, "InvalidVpc.Range"),
    isDefault: spec.isDefault,
    dhcpOptionsId: spec.dhcpOptionsId ?? state.defaultDhcpOptionsId,
    tags: spec.tags,
  };
  state.vpcs.set(vpc.id, vpc);
  createDefaultGroup(state, vpc.id, spec.defaultGroupId);
  return vpc;
}

export function createSubnet(state: Ec2State, spec: SubnetSpec): Subnet {
  const vpc = state.vpc(spec.vpcId);
  const siblings = [...state.subnets.values()].filter((s) => s.vpcId === vpc.id);
  const size = vpc.isDefault ? 20 : 24;
  const text = spec.cidrBlock ?? `${toIp(span(vpc.cidrBlock)[0] + siblings.length * 2 ** (32 - size))}/${size}`;
  const cidrBlock = blockOfSize(text, "InvalidSubnet.Range");
  const [first, last] = span(cidrBlock);
  const [vpcFirst, vpcLast] = span(vpc.cidrBlock);
  if (first < vpcFirst || last > vpcLast) throw new AwsError("InvalidSubnet.Range", `The CIDR '${text}' is invalid.`);
  if (siblings.some((s) => span(s.cidrBlock)[0] <= last && first <= span(s.cidrBlock)[1])) {
    throw new AwsError("InvalidSubnet.Conflict", `The CIDR '${text}' conflicts with another subnet`);
  }
  const subnet: Subnet = { id: spec.id, vpcId: vpc.id, cidrBlock, availabilityZone: spec.availabilityZone ?? `${state.region}a`, tags: spec.tags };
  state.subnets.set(subnet.id, subnet);
  return subnet;
}

/** The next address of the subnet no interface holds; AWS keeps the first four and the last. */
export function freeAddress(state: Ec2State, subnet: Subnet, used = state.addressesIn(subnet.id)): string {
  const [first, last] = span(subnet.cidrBlock);
  for (let n = first + 4; n < last; n++) if (!used.has(toIp(n))) return toIp(n);
  throw new AwsError("InsufficientFreeAddressesInSubnet", `There are not enough free addresses in subnet '${subnet.id}' to satisfy the requested number of instances.`);
}

function availableAddresses(state: Ec2State, subnet: Subnet): number {
  const [first, last] = span(subnet.cidrBlock);
  return last - first + 1 - 5 - state.addressesIn(subnet.id).size;
}

/**
 * A create's answer shows the new resource's (empty) tags and leaves out `isDefault` (VPC),
 * `defaultForAz` and `mapPublicIpOnLaunch` (subnet), as the recorded and documented answers do.
 */
function vpcXml(state: Ec2State, vpc: Vpc, created = false): XmlObject {
  return {
    vpcId: vpc.id,
    ownerId: state.accountId,
    state: created ? "pending" : "available",
    cidrBlock: vpc.cidrBlock,
    cidrBlockAssociationSet: [{ cidrBlock: vpc.cidrBlock, associationId: `vpc-cidr-assoc-${vpc.id.slice(4)}`, cidrBlockState: { state: "associated" } }],
    dhcpOptionsId: vpc.dhcpOptionsId,
    instanceTenancy: "default",
    isDefault: created ? undefined : vpc.isDefault,
    tagSet: created || vpc.tags.size > 0 ? tagsXml(vpc.tags) : undefined,
  };
}

function subnetXml(state: Ec2State, subnet: Subnet, created = false): XmlObject {
  const isDefault = state.vpc(subnet.vpcId).isDefault;
  return {
    subnetId: subnet.id,
    subnetArn: `arn:aws:ec2:${state.region}:${state.accountId}:subnet/${subnet.id}`,
    state: created ? "pending" : "available",
    vpcId: subnet.vpcId,
    ownerId: state.accountId,
    cidrBlock: subnet.cidrBlock,
    availableIpAddressCount: availableAddresses(state, subnet),
    availabilityZone: subnet.availabilityZone,
    defaultForAz: created ? undefined : isDefault,
    mapPublicIpOnLaunch: created ? undefined : isDefault,
    assignIpv6AddressOnCreation: false,
    ipv6CidrBlockAssociationSet: [],
    tagSet: created || subnet.tags.size > 0 ? tagsXml(subnet.tags) : undefined,
  };
}

function vpcFilters(state: Ec2State): Filterable<Vpc> {
  return {
    fields: {
      "vpc-id": (v) => v.id,
      "is-default": (v) => v.isDefault,
      cidr: (v) => v.cidrBlock,
      "cidr-block-association.cidr-block": (v) => v.cidrBlock,
      "dhcp-options-id": (v) => v.dhcpOptionsId,
      state: () => "available",
      "owner-id": () => state.accountId,
    },
    tags: (v) => v.tags,
  };
}

function subnetFilters(state: Ec2State): Filterable<Subnet> {
  return {
    fields: {
      "subnet-id": (s) => s.id,
      "vpc-id": (s) => s.vpcId,
      "cidr-block": (s) => s.cidrBlock,
      "availability-zone": (s) => s.availabilityZone,
      "default-for-az": (s) => state.vpc(s.vpcId).isDefault,
      state: () => "available",
      "owner-id": () => state.accountId,
    },
    tags: (s) => s.tags,
  };
}

/** The items a request names by id (each must exist), or all of them. */
export function selected<T>(req: QueryNode, idsParameter: string, lookup: (id: string) => T, all: Iterable<T>): T[] {
  const ids = [...new Set(req.strings(idsParameter))];
  return ids.length > 0 ? ids.map(lookup) : [...all];
}

export const vpcOperations: Record<string, Operation> = {
  CreateVpc: {
    write: true,
    handle({ state }, req) {
      const vpc = createVpc(state, { id: state.newId("vpc"), cidrBlock: req.required("CidrBlock"), isDefault: false, tags: tagSpecifications(req, "vpc") });
      return { vpc: vpcXml(state, vpc, true) };
    },
  },

  /** Only an empty VPC goes: its default group goes with it, anything else is a dependency. */
  DeleteVpc: {
    write: true,
    handle({ state }, req) {
      const vpc = state.vpc(req.required("VpcId"));
      const groups = [...state.groups.values()].filter((g) => g.vpcId === vpc.id);
      if ([...state.subnets.values()].some((s) => s.vpcId === vpc.id) || groups.some((g) => g.name !== "default")) {
        throw new AwsError("DependencyViolation", `The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
      }
      for (const g of groups) state.groups.delete(g.id);
      state.vpcs.delete(vpc.id);
      return { return: true };
    },
  },

  DescribeVpcs: {
    write: false,
    handle({ state }, req) {
      const vpcs = selected(req, "VpcId", (id) => state.vpc(id), state.vpcs.values());
      const page = paginate(applyFilters(vpcs, req, vpcFilters(state)), req, "DescribeVpcs", "VpcId");
      return { vpcSet: page.items.map((v) => vpcXml(state, v)), nextToken: page.nextToken };
    },
  },

  CreateSubnet: {
    write: true,
    handle({ state }, req) {
      const tags = tagSpecifications(req, "subnet");
      const subnet = createSubnet(state, { id: state.newId("subnet"), vpcId: req.required("VpcId"), cidrBlock: req.required("CidrBlock"), availabilityZone: req.str("AvailabilityZone"), tags });
      return { subnet: subnetXml(state, subnet, true) };
    },
  },

  DeleteSubnet: {
    write: true,
    handle({ state }, req) {
      const subnet = state.subnet(req.required("SubnetId"));
      if ([...state.networkInterfaces.values()].some((n) => n.subnetId === subnet.id)) {
        throw new AwsError("DependencyViolation", `The subnet '${subnet.id}' has dependencies and cannot be deleted.`);
      }
      state.subnets.delete(subnet.id);
      return { return: true };
    },
  },

  DescribeSubnets: {
    write: false,
    handle({ state }, req) {
      const subnets = selected(req, "SubnetId", (id) => state.subnet(id), state.subnets.values());
      const page = paginate(applyFilters(subnets, req, subnetFilters(state)), req, "DescribeSubnets", "SubnetId");
      return { subnetSet: page.items.map((s) => subnetXml(state, s)), nextToken: page.nextToken };
    },
  },
};
