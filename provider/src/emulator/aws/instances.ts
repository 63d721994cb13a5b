import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError } from "./errors";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import { Ec2State, Instance, instanceStateCodes, NetworkInterface, Vpc } from "./state";
import { tagsXml } from "./tags";
import type { XmlObject } from "./xml";

/** Instances, their network interfaces, VPCs, and which security groups an interface wears. */

function dashed(ip: string): string {
  return ip.replace(/\./g, "-");
}

function privateDnsName(state: Ec2State, ip: string): string {
  return state.region === "us-east-1" ? `ip-${dashed(ip)}.ec2.internal` : `ip-${dashed(ip)}.${state.region}.compute.internal`;
}

function publicDnsName(state: Ec2State, ip: string): string {
  return state.region === "us-east-1" ? `ec2-${dashed(ip)}.compute-1.amazonaws.com` : `ec2-${dashed(ip)}.${state.region}.compute.amazonaws.com`;
}

/**
 * Replaces the whole set of groups an interface wears, as both Modify*Attribute calls do. Every
 * group must exist and be in the interface's VPC, and the set must fit the per-interface limit.
 */
export function setInterfaceGroups(state: Ec2State, eni: NetworkInterface, groupIds: string[]): void {
  const wanted = [...new Set(groupIds)];
  if (wanted.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter groupId");
  const vpcId = state.vpcOfInterface(eni).id;
  for (const id of wanted) {
    if (state.group(id).vpcId !== vpcId) throw new AwsError("InvalidParameter", `Security group ${id} and subnet ${eni.subnetId} belong to different networks.`);
  }
  if (wanted.length > state.limits.groupsPerInterface) {
    throw new AwsError("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.");
  }
  eni.groupIds = wanted;
}

/** Attributes other than the groups are not modelled; say so rather than pretend to apply them. */
function onlyGroups(req: QueryNode, groupsParameter: string, others: string[]): string[] {
  const unsupported = others.filter((name) => req.has(name));
  if (unsupported.length > 0) throw new AwsError("UnsupportedOperation", `This endpoint models only the ${groupsParameter} attribute, not ${unsupported.join(", ")}.`);
  return req.strings(groupsParameter);
}

function groupSet(state: Ec2State, groupIds: string[]): XmlObject[] {
  return groupIds.map((id) => ({ groupId: id, groupName: state.groups.get(id)?.name }));
}

function association(state: Ec2State, eni: NetworkInterface): XmlObject | undefined {
  return eni.publicIp === undefined ? undefined : { publicIp: eni.publicIp, publicDnsName: publicDnsName(state, eni.publicIp), ipOwnerId: "amazon" };
}

/** The parts of an interface that `Instance.NetworkInterfaces` and `DescribeNetworkInterfaces` share. */
function interfaceXml(state: Ec2State, eni: NetworkInterface): XmlObject {
  return {
    networkInterfaceId: eni.id,
    subnetId: eni.subnetId,
    vpcId: state.vpcOfInterface(eni).id,
    description: eni.description,
    ownerId: state.accountId,
    status: eni.attachment ? "in-use" : "available",
    macAddress: eni.macAddress,
    privateIpAddress: eni.privateIpAddress,
    privateDnsName: privateDnsName(state, eni.privateIpAddress),
    sourceDestCheck: true,
    groupSet: groupSet(state, eni.groupIds),
    association: association(state, eni),
    privateIpAddressesSet: [
      { privateIpAddress: eni.privateIpAddress, privateDnsName: privateDnsName(state, eni.privateIpAddress), primary: true, association: association(state, eni) },
    ],
    ipv6AddressesSet: [],
    interfaceType: "interface",
  };
}

function attachmentXml(eni: NetworkInterface): XmlObject | undefined {
  const a = eni.attachment;
  return a && { attachmentId: a.attachmentId, deviceIndex: a.deviceIndex, networkCardIndex: 0, status: "attached", attachTime: a.attachTime.toISOString(), deleteOnTermination: a.deviceIndex === 0 };
}

function instanceXml(state: Ec2State, instance: Instance): XmlObject {
  const interfaces = state.interfacesOf(instance);
  const [primary] = interfaces;
  const subnet = state.subnet(primary.subnetId);
  return {
    instanceId: instance.id,
    imageId: instance.imageId,
    instanceState: { code: instanceStateCodes[instance.state], name: instance.state },
    privateDnsName: privateDnsName(state, primary.privateIpAddress),
    dnsName: primary.publicIp === undefined ? "" : publicDnsName(state, primary.publicIp),
    instanceType: instance.instanceType,
    launchTime: instance.launchTime.toISOString(),
    placement: { availabilityZone: subnet.availabilityZone, tenancy: "default" },
    subnetId: subnet.id,
    vpcId: subnet.vpcId,
    privateIpAddress: primary.privateIpAddress,
    ipAddress: primary.publicIp,
    groupSet: groupSet(state, [...new Set(interfaces.flatMap((n) => n.groupIds))]),
    tagSet: instance.tags.size > 0 ? tagsXml(instance.tags) : undefined,
    networkInterfaceSet: interfaces.map((n) => ({ ...interfaceXml(state, n), attachment: attachmentXml(n) })),
  };
}

function instanceFilters(state: Ec2State): Filterable<Instance> {
  const each = (pick: (n: NetworkInterface) => string | string[] | undefined) => (i: Instance) => state.interfacesOf(i).flatMap((n) => pick(n) ?? []);
  const primary = (i: Instance) => state.interfacesOf(i)[0];
  return {
    fields: {
      "instance-id": (i) => i.id,
      "instance-state-name": (i) => i.state,
      "instance-state-code": (i) => instanceStateCodes[i.state],
      "instance-type": (i) => i.instanceType,
      "image-id": (i) => i.imageId,
      "vpc-id": (i) => state.vpcOfInterface(primary(i)).id,
      "subnet-id": (i) => primary(i).subnetId,
      "private-ip-address": (i) => primary(i).privateIpAddress,
      "ip-address": (i) => primary(i).publicIp,
      "network-interface.network-interface-id": each((n) => n.id),
      "network-interface.addresses.private-ip-address": each((n) => n.privateIpAddress),
      "network-interface.group-id": each((n) => n.groupIds),
      "instance.group-id": each((n) => n.groupIds),
      "instance.group-name": each((n) => n.groupIds.map((id) => state.groups.get(id)?.name ?? "")),
    },
    tags: (i) => i.tags,
  };
}

function interfaceFilters(state: Ec2State): Filterable<NetworkInterface> {
  return {
    fields: {
      "network-interface-id": (n) => n.id,
      "attachment.instance-id": (n) => n.attachment?.instanceId,
      "attachment.device-index": (n) => n.attachment?.deviceIndex,
      "attachment.status": (n) => (n.attachment ? "attached" : undefined),
      "group-id": (n) => n.groupIds,
      "group-name": (n) => n.groupIds.map((id) => state.groups.get(id)?.name),
      "vpc-id": (n) => state.vpcOfInterface(n).id,
      "subnet-id": (n) => n.subnetId,
      "availability-zone": (n) => state.subnet(n.subnetId).availabilityZone,
      "private-ip-address": (n) => n.privateIpAddress,
      "addresses.private-ip-address": (n) => n.privateIpAddress,
      "association.public-ip": (n) => n.publicIp,
      description: (n) => n.description,
      status: (n) => (n.attachment ? "in-use" : "available"),
      "owner-id": () => state.accountId,
    },
    tags: (n) => n.tags,
  };
}

function vpcFilters(state: Ec2State): Filterable<Vpc> {
  return {
    fields: {
      "vpc-id": (v) => v.id,
      "is-default": (v) => v.isDefault,
      cidr: (v) => v.cidrBlock,
      "cidr-block-association.cidr-block": (v) => v.cidrBlock,
      state: () => "available",
      "owner-id": () => state.accountId,
    },
    tags: (v) => v.tags,
  };
}

function vpcXml(state: Ec2State, vpc: Vpc): XmlObject {
  return {
    vpcId: vpc.id,
    ownerId: state.accountId,
    state: "available",
    cidrBlock: vpc.cidrBlock,
    cidrBlockAssociationSet: [{ cidrBlock: vpc.cidrBlock, associationId: `vpc-cidr-assoc-${vpc.id.slice(4)}`, cidrBlockState: { state: "associated" } }],
    instanceTenancy: "default",
    isDefault: vpc.isDefault,
    tagSet: vpc.tags.size > 0 ? tagsXml(vpc.tags) : undefined,
  };
}

/** The items a request names by id (each must exist), or all of them. */
function selected<T>(req: QueryNode, idsParameter: string, lookup: (id: string) => T, all: Iterable<T>): T[] {
  const ids = [...new Set(req.strings(idsParameter))];
  return ids.length > 0 ? ids.map(lookup) : [...all];
}

export const instanceOperations: Record<string, Operation> = {
  DescribeInstances: {
    write: false,
    handle({ state }, req) {
      const instances = selected(req, "InstanceId", (id) => state.instance(id), state.instances.values());
      const page = paginate(applyFilters(instances, req, instanceFilters(state)), req, "DescribeInstances", "InstanceId");
      return {
        reservationSet: page.items.map((i) => ({ reservationId: i.reservationId, ownerId: state.accountId, groupSet: [], instancesSet: [instanceXml(state, i)] })),
        nextToken: page.nextToken,
      };
    },
  },

  DescribeNetworkInterfaces: {
    write: false,
    handle({ state }, req) {
      const enis = selected(req, "NetworkInterfaceId", (id) => state.networkInterface(id), state.networkInterfaces.values());
      const page = paginate(applyFilters(enis, req, interfaceFilters(state)), req, "DescribeNetworkInterfaces", "NetworkInterfaceId");
      return {
        networkInterfaceSet: page.items.map((n) => {
          const attachment = attachmentXml(n);
          return {
            ...interfaceXml(state, n),
            availabilityZone: state.subnet(n.subnetId).availabilityZone,
            requesterManaged: false,
            attachment: attachment && { ...attachment, instanceId: n.attachment?.instanceId, instanceOwnerId: state.accountId },
            tagSet: tagsXml(n.tags),
          };
        }),
        nextToken: page.nextToken,
      };
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

  ModifyNetworkInterfaceAttribute: {
    write: true,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      setInterfaceGroups(state, eni, onlyGroups(req, "SecurityGroupId", ["Description", "SourceDestCheck", "Attachment", "AssociatePublicIpAddress"]));
      return { return: true };
    },
  },

  /** Sets the groups of a single-interface instance; with more interfaces, EC2 asks for the interface. */
  ModifyInstanceAttribute: {
    write: true,
    handle({ state }, req) {
      const instance = state.instance(req.required("InstanceId"));
      const groupIds = onlyGroups(req, "GroupId", ["Attribute", "Value", "SourceDestCheck", "DisableApiTermination", "InstanceType", "UserData", "EbsOptimized"]);
      const interfaces = state.interfacesOf(instance);
      if (interfaces.length > 1) {
        throw new AwsError(
          "InvalidInstanceID",
          `There are multiple interfaces attached to instance '${instance.id}'. Please specify an interface ID for the operation instead.`,
        );
      }
      setInterfaceGroups(state, interfaces[0], groupIds);
      return { return: true };
    },
  },
};
