import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError } from "./errors";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import { checkText } from "./rules";
import type { Ec2State, NetworkInterface } from "./state";
import { tagSpecifications, tagsXml } from "./tags";
import { contains, freeAddress, selected } from "./vpcs";
import type { XmlObject } from "./xml";

/**
 * Network interfaces: created in a subnet, attached to and detached from instances, and the four
 * attributes EC2 lets a caller read and change (description, groups, source/destination check,
 * and whether the interface goes with its instance).
 */

function dashed(ip: string): string {
  return ip.replace(/\./g, "-");
}

export function privateDnsName(state: Ec2State, ip: string): string {
  return state.region === "us-east-1" ? `ip-${dashed(ip)}.ec2.internal` : `ip-${dashed(ip)}.${state.region}.compute.internal`;
}

export function publicDnsName(state: Ec2State, ip: string): string {
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

export function groupSet(state: Ec2State, groupIds: string[]): XmlObject[] {
  return groupIds.map((id) => ({ groupId: id, groupName: state.groups.get(id)?.name }));
}

function association(state: Ec2State, eni: NetworkInterface): XmlObject | undefined {
  if (eni.publicIp === undefined) return undefined;
  const elastic = eni.elasticIpAssociationId;
  return { publicIp: eni.publicIp, publicDnsName: publicDnsName(state, eni.publicIp), ipOwnerId: elastic ? state.accountId : "amazon", associationId: elastic };
}

/** The parts of an interface that `Instance.NetworkInterfaces` and `DescribeNetworkInterfaces` share. */
export function interfaceXml(state: Ec2State, eni: NetworkInterface): XmlObject {
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
    sourceDestCheck: eni.sourceDestCheck,
    groupSet: groupSet(state, eni.groupIds),
    association: association(state, eni),
    privateIpAddressesSet: [
      { privateIpAddress: eni.privateIpAddress, privateDnsName: privateDnsName(state, eni.privateIpAddress), primary: true, association: association(state, eni) },
      ...eni.secondaryPrivateIpAddresses.map((ip) => ({ privateIpAddress: ip, privateDnsName: privateDnsName(state, ip), primary: false })),
    ],
    ipv6AddressesSet: [],
    interfaceType: "interface",
  };
}

/** `attaching` only in the answer to the launch that attaches it. */
export function attachmentXml(eni: NetworkInterface, status = "attached"): XmlObject | undefined {
  const a = eni.attachment;
  return a && { attachmentId: a.attachmentId, deviceIndex: a.deviceIndex, networkCardIndex: 0, status, attachTime: a.attachTime.toISOString(), deleteOnTermination: a.deleteOnTermination };
}

/** The whole interface, as DescribeNetworkInterfaces and CreateNetworkInterface show it. */
function networkInterfaceXml(state: Ec2State, eni: NetworkInterface, status?: string): XmlObject {
  const attachment = attachmentXml(eni);
  const common = interfaceXml(state, eni);
  return {
    ...common,
    status: status ?? common.status,
    availabilityZone: state.subnet(eni.subnetId).availabilityZone,
    requesterManaged: false,
    attachment: attachment && { ...attachment, instanceId: eni.attachment?.instanceId, instanceOwnerId: state.accountId },
    tagSet: tagsXml(eni.tags),
  };
}

function interfaceFilters(state: Ec2State): Filterable<NetworkInterface> {
  return {
    fields: {
      "network-interface-id": (n) => n.id,
      "attachment.instance-id": (n) => n.attachment?.instanceId,
      "attachment.attachment-id": (n) => n.attachment?.attachmentId,
      "attachment.device-index": (n) => n.attachment?.deviceIndex,
      "attachment.status": (n) => (n.attachment ? "attached" : undefined),
      "group-id": (n) => n.groupIds,
      "group-name": (n) => n.groupIds.map((id) => state.groups.get(id)?.name),
      "vpc-id": (n) => state.vpcOfInterface(n).id,
      "subnet-id": (n) => n.subnetId,
      "availability-zone": (n) => state.subnet(n.subnetId).availabilityZone,
      "private-ip-address": (n) => n.privateIpAddress,
      "addresses.private-ip-address": (n) => [n.privateIpAddress, ...n.secondaryPrivateIpAddresses],
      "association.public-ip": (n) => n.publicIp,
      "mac-address": (n) => n.macAddress,
      "source-dest-check": (n) => n.sourceDestCheck,
      description: (n) => n.description,
      status: (n) => (n.attachment ? "in-use" : "available"),
      "owner-id": () => state.accountId,
    },
    tags: (n) => n.tags,
  };
}

/** The addresses a new interface asks for: a primary and secondaries, named or counted. */
function requestedAddresses(state: Ec2State, subnetId: string, req: QueryNode): string[] {
  const subnet = state.subnet(subnetId);
  const listed = req.list("PrivateIpAddresses").map((a) => ({ ip: a.required("PrivateIpAddress"), primary: a.bool("Primary") }));
  const primary = req.str("PrivateIpAddress") ?? listed.find((a) => a.primary)?.ip;
  const named = [...(primary === undefined ? [] : [primary]), ...listed.filter((a) => a.ip !== primary).map((a) => a.ip)];
  const used = state.addressesIn(subnet.id);
  for (const ip of named) {
    if (!contains(subnet.cidrBlock, ip)) throw new AwsError("InvalidParameterValue", `Address ${ip} does not fall within the subnet's address range`);
    if (used.has(ip)) throw new AwsError("InvalidIPAddress.InUse", `The specified address is already in use.`);
  }
  const count = req.int("SecondaryPrivateIpAddressCount") ?? 0;
  const addresses = [...named];
  for (const ip of named) used.add(ip);
  // Each address chosen counts as used before the next is chosen.
  const next = () => {
    const ip = freeAddress(state, subnet, used);
    used.add(ip);
    return ip;
  };
  if (addresses.length === 0) addresses.push(next());
  for (let i = 0; i < count; i++) addresses.push(next());
  return addresses;
}

/** A new, unattached interface in `subnetId`, from a request's (or a RunInstances interface specification's) parameters. */
export function createInterface(state: Ec2State, req: QueryNode, subnetId: string, groupIds: string[]): NetworkInterface {
  const subnet = state.subnet(subnetId);
  const [primary, ...secondary] = requestedAddresses(state, subnet.id, req);
  const eni: NetworkInterface = {
    id: state.newId("eni"),
    subnetId: subnet.id,
    description: checkText(req.str("Description") ?? "", "description"),
    privateIpAddress: primary,
    secondaryPrivateIpAddresses: secondary,
    macAddress: `0e:${state.randomHex(10).replace(/(..)(?!$)/g, "$1:")}`,
    sourceDestCheck: true,
    groupIds: [],
    tags: new Map(),
  };
  setInterfaceGroups(state, eni, groupIds.length > 0 ? groupIds : [state.defaultGroup(subnet.vpcId).id]);
  state.networkInterfaces.set(eni.id, eni);
  return eni;
}

/** What DescribeNetworkInterfaceAttribute answers for each attribute it takes. */
const interfaceAttributes: Record<string, (state: Ec2State, eni: NetworkInterface) => XmlObject> = {
  description: (_, eni) => ({ description: { value: eni.description } }),
  groupSet: (state, eni) => ({ groupSet: groupSet(state, eni.groupIds) }),
  sourceDestCheck: (_, eni) => ({ sourceDestCheck: { value: eni.sourceDestCheck } }),
  attachment: (state, eni) => {
    const attachment = attachmentXml(eni);
    return { attachment: attachment && { ...attachment, instanceId: eni.attachment?.instanceId, instanceOwnerId: state.accountId } };
  },
};

export const networkInterfaceOperations: Record<string, Operation> = {
  CreateNetworkInterface: {
    write: true,
    handle({ state }, req) {
      const tags = tagSpecifications(req, "network-interface");
      const eni = createInterface(state, req, req.required("SubnetId"), req.strings("SecurityGroupId"));
      eni.tags = tags;
      // The interface is usable at once; EC2 reports it pending in this one answer.
      return { networkInterface: networkInterfaceXml(state, eni, "pending") };
    },
  },

  DeleteNetworkInterface: {
    write: true,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      if (eni.attachment) throw new AwsError("InvalidNetworkInterface.InUse", `The networkInterface ID '${eni.id}' is currently in use.`);
      state.networkInterfaces.delete(eni.id);
      return { return: true };
    },
  },

  DescribeNetworkInterfaces: {
    write: false,
    handle({ state }, req) {
      const enis = selected(req, "NetworkInterfaceId", (id) => state.networkInterface(id), state.networkInterfaces.values());
      const page = paginate(applyFilters(enis, req, interfaceFilters(state)), req, "DescribeNetworkInterfaces", "NetworkInterfaceId");
      return { networkInterfaceSet: page.items.map((n) => networkInterfaceXml(state, n)), nextToken: page.nextToken };
    },
  },

  /** An available interface goes on a running or stopped instance in its zone, at a free device index. */
  AttachNetworkInterface: {
    write: true,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      const instance = state.instance(req.required("InstanceId"));
      const deviceIndex = req.int("DeviceIndex");
      if (deviceIndex === undefined) throw new AwsError("MissingParameter", "The request must contain the parameter deviceIndex");
      if (eni.attachment) throw new AwsError("InvalidNetworkInterface.InUse", `Interface: [${eni.id}] in use.`);
      if (instance.state !== "running" && instance.state !== "stopped") {
        throw new AwsError("IncorrectInstanceState", `The instance '${instance.id}' is not in a valid state for this operation.`);
      }
      const interfaces = state.interfacesOf(instance);
      if (state.subnet(eni.subnetId).availabilityZone !== state.subnet(interfaces[0].subnetId).availabilityZone) {
        throw new AwsError("InvalidParameterCombination", "You may not attach a network interface to an instance if they are not in the same availability zone");
      }
      if (interfaces.some((n) => n.attachment?.deviceIndex === deviceIndex)) {
        throw new AwsError("InvalidParameterValue", `Instance '${instance.id}' already has an interface attached at device index '${deviceIndex}'.`);
      }
      eni.attachment = { instanceId: instance.id, deviceIndex, attachmentId: state.newId("eni-attach"), attachTime: new Date(), deleteOnTermination: false };
      instance.networkInterfaceIds.push(eni.id);
      return { attachmentId: eni.attachment.attachmentId, networkCardIndex: 0 };
    },
  },

  /** Any but the primary interface (device index 0) can be detached. */
  DetachNetworkInterface: {
    write: true,
    handle({ state }, req) {
      const eni = state.attachment(req.required("AttachmentId"));
      const { instanceId, deviceIndex } = eni.attachment!;
      if (deviceIndex === 0) throw new AwsError("OperationNotPermitted", "The network interface at device index 0 and networkCard index 0 cannot be detached.");
      const instance = state.instance(instanceId);
      instance.networkInterfaceIds = instance.networkInterfaceIds.filter((id) => id !== eni.id);
      eni.attachment = undefined;
      return { return: true };
    },
  },

  DescribeNetworkInterfaceAttribute: {
    write: false,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      const attribute = req.required("Attribute");
      const answer = Object.hasOwn(interfaceAttributes, attribute) ? interfaceAttributes[attribute] : undefined;
      if (!answer) throw new AwsError("InvalidParameterValue", `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
      return { networkInterfaceId: eni.id, ...answer(state, eni) };
    },
  },

  /** One attribute per call, as EC2 requires: the groups, the description, the check, or the attachment's deleteOnTermination. */
  ModifyNetworkInterfaceAttribute: {
    write: true,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      const given = ["SecurityGroupId", "Description", "SourceDestCheck", "Attachment"].filter((name) => req.has(name));
      const unsupported = ["AssociatePublicIpAddress", "EnaSrdSpecification", "ConnectionTrackingSpecification", "EnablePrimaryIpv6", "AssociatedSubnetId"].filter((n) => req.has(n));
      if (unsupported.length > 0) throw new AwsError("UnsupportedOperation", `This endpoint does not model ${unsupported.join(", ")}.`);
      if (given.length !== 1) throw new AwsError("InvalidParameterCombination", "Fields for multiple attribute types specified: " + given.join(", "));
      switch (given[0]) {
        case "SecurityGroupId":
          setInterfaceGroups(state, eni, req.strings("SecurityGroupId"));
          break;
        case "Description":
          eni.description = checkText(req.str("Description.Value") ?? "", "description");
          break;
        case "SourceDestCheck":
          eni.sourceDestCheck = req.bool("SourceDestCheck.Value");
          break;
        case "Attachment": {
          const attachmentId = req.required("Attachment.AttachmentId");
          if (eni.attachment?.attachmentId !== attachmentId) throw new AwsError("InvalidAttachmentID.NotFound", `The attachment ID '${attachmentId}' does not exist`);
          eni.attachment.deleteOnTermination = req.bool("Attachment.DeleteOnTermination");
          break;
        }
      }
      return { return: true };
    },
  },

  /** EC2 resets only the source/destination check (to on). */
  ResetNetworkInterfaceAttribute: {
    write: true,
    handle({ state }, req) {
      const eni = state.networkInterface(req.required("NetworkInterfaceId"));
      if (req.str("SourceDestCheck") === undefined) throw new AwsError("MissingParameter", "The request must contain the parameter sourceDestCheck");
      eni.sourceDestCheck = true;
      return { return: true };
    },
  },
};
