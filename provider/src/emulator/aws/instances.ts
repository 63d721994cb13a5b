import { applyFilters, Filterable, paginate } from "./describe";
import { AwsError } from "./errors";
import { attachmentXml, createInterface, groupSet, interfaceXml, privateDnsName, publicDnsName, setInterfaceGroups } from "./network-interfaces";
import type { Operation } from "./operations";
import type { QueryNode } from "./query";
import { Ec2State, Instance, instanceStateCodes, InstanceStateName, NetworkInterface } from "./state";
import { tagSpecifications, tagsXml } from "./tags";
import { selected } from "./vpcs";
import type { XmlObject } from "./xml";

/**
 * Instances, as far as their network goes: launched into subnets with interfaces and groups,
 * described, their attributes read and changed, and terminated. A launch or a termination completes
 * at once; the call's own answer still shows the state EC2 reports while it happens (`pending`,
 * `shutting-down`). Compute and storage (volumes, block device mappings) are not modelled.
 */

function stateXml(name: InstanceStateName): XmlObject {
  return { code: instanceStateCodes[name], name };
}

function instanceXml(state: Ec2State, instance: Instance, shownState = instance.state): XmlObject {
  const interfaces = state.interfacesOf(instance);
  const [primary] = interfaces as (NetworkInterface | undefined)[];
  const subnet = primary && state.subnet(primary.subnetId);
  return {
    instanceId: instance.id,
    imageId: instance.imageId,
    instanceState: stateXml(shownState),
    privateDnsName: primary ? privateDnsName(state, primary.privateIpAddress) : "",
    dnsName: primary?.publicIp === undefined ? "" : publicDnsName(state, primary.publicIp),
    amiLaunchIndex: 0,
    instanceType: instance.instanceType,
    launchTime: instance.launchTime.toISOString(),
    placement: { availabilityZone: instance.availabilityZone, tenancy: "default" },
    subnetId: subnet?.id,
    vpcId: subnet?.vpcId,
    privateIpAddress: primary?.privateIpAddress,
    ipAddress: primary?.publicIp,
    sourceDestCheck: primary?.sourceDestCheck,
    groupSet: groupSet(state, [...new Set(interfaces.flatMap((n) => n.groupIds))]),
    rootDeviceType: "ebs",
    rootDeviceName: instance.rootDeviceName,
    tagSet: instance.tags.size > 0 ? tagsXml(instance.tags) : undefined,
    networkInterfaceSet: interfaces.map((n) => ({ ...interfaceXml(state, n), attachment: attachmentXml(n, shownState === "pending" ? "attaching" : "attached") })),
  };
}

function instanceFilters(state: Ec2State): Filterable<Instance> {
  const each = (pick: (n: NetworkInterface) => string | string[] | undefined) => (i: Instance) => state.interfacesOf(i).flatMap((n) => pick(n) ?? []);
  const primary = (pick: (n: NetworkInterface) => string | undefined) => (i: Instance) => {
    const [first] = state.interfacesOf(i) as (NetworkInterface | undefined)[];
    return first && pick(first);
  };
  return {
    fields: {
      "instance-id": (i) => i.id,
      "instance-state-name": (i) => i.state,
      "instance-state-code": (i) => instanceStateCodes[i.state],
      "instance-type": (i) => i.instanceType,
      "image-id": (i) => i.imageId,
      "reservation-id": (i) => i.reservationId,
      "availability-zone": (i) => i.availabilityZone,
      "vpc-id": primary((n) => state.vpcOfInterface(n).id),
      "subnet-id": primary((n) => n.subnetId),
      "private-ip-address": primary((n) => n.privateIpAddress),
      "ip-address": primary((n) => n.publicIp),
      "network-interface.network-interface-id": each((n) => n.id),
      "network-interface.addresses.private-ip-address": each((n) => [n.privateIpAddress, ...n.secondaryPrivateIpAddresses]),
      "network-interface.group-id": each((n) => n.groupIds),
      "instance.group-id": each((n) => n.groupIds),
      "instance.group-name": each((n) => n.groupIds.map((id) => state.groups.get(id)?.name ?? "")),
    },
    tags: (i) => i.tags,
  };
}

/** The booleans ModifyInstanceAttribute sets and DescribeInstanceAttribute reads, besides the type and the groups. */
const flags = {
  disableApiTermination: {
    get: (_: Ec2State, i: Instance) => i.disableApiTermination,
    set: (_: Ec2State, i: Instance, on: boolean) => void (i.disableApiTermination = on),
  },
  sourceDestCheck: {
    get: (state: Ec2State, i: Instance) => state.interfacesOf(i)[0]?.sourceDestCheck ?? true,
    set: (state: Ec2State, i: Instance, on: boolean) => void (state.interfacesOf(i)[0].sourceDestCheck = on),
  },
  enaSupport: {
    get: (_: Ec2State, i: Instance) => i.enaSupport,
    set: (_: Ec2State, i: Instance, on: boolean) => void (i.enaSupport = on),
  },
};
type Flag = keyof typeof flags;

/** What DescribeInstanceAttribute answers for each attribute it serves. */
const instanceAttributes: Record<string, (state: Ec2State, i: Instance) => XmlObject> = {
  instanceType: (_, i) => ({ instanceType: { value: i.instanceType } }),
  rootDeviceName: (_, i) => ({ rootDeviceName: { value: i.rootDeviceName } }),
  instanceInitiatedShutdownBehavior: () => ({ instanceInitiatedShutdownBehavior: { value: "stop" } }),
  groupSet: (state, i) => ({ groupSet: groupSet(state, [...new Set(state.interfacesOf(i).flatMap((n) => n.groupIds))]) }),
  productCodes: () => ({ productCodes: [] }),
  kernel: () => ({ kernel: {} }),
  ramdisk: () => ({ ramdisk: {} }),
  userData: () => ({ userData: {} }),
  ebsOptimized: () => ({ ebsOptimized: { value: false } }),
  disableApiStop: () => ({ disableApiStop: { value: false } }),
  ...Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, (state: Ec2State, i: Instance) => ({ [name]: { value: flag.get(state, i) } })])),
};

/** The instance a Modify/Reset call names, which must not be terminated. */
function changeable(state: Ec2State, req: QueryNode): Instance {
  const instance = state.instance(req.required("InstanceId"));
  if (instance.state === "terminated" || instance.state === "shutting-down") {
    throw new AwsError("IncorrectInstanceState", `The instance '${instance.id}' is not in a state from which it can be modified.`);
  }
  return instance;
}

/** `Attribute=x&Value=v`, the older form of `X.Value=v`. */
function attributeValue(req: QueryNode, attribute: string): string | undefined {
  return req.str("Attribute") === attribute ? req.str("Value") : req.str(`${attribute[0].toUpperCase()}${attribute.slice(1)}.Value`);
}

interface LaunchInterface {
  eni: NetworkInterface;
  deleteOnTermination: boolean;
}

/**
 * The interfaces a launch asks for, by device index, checked and created, or none (and nothing
 * created) if one is refused. Interfaces the launch creates go with the instance unless told
 * otherwise; existing ones attached by it stay.
 */
function launchInterfaces(state: Ec2State, req: QueryNode): LaunchInterface[][] {
  const count = req.int("MaxCount") ?? 0;
  const specs = [...req.list("NetworkInterface")].sort((a, b) => (a.int("DeviceIndex") ?? 0) - (b.int("DeviceIndex") ?? 0));
  const created: NetworkInterface[] = [];
  const make = (node: QueryNode, subnetId: string, groupIds: string[]) => {
    const eni = createInterface(state, node, subnetId, groupIds);
    created.push(eni);
    return eni;
  };
  try {
    return Array.from({ length: count }, () => {
      if (specs.length > 0) {
        if (req.has("SubnetId") || req.has("SecurityGroupId") || req.has("PrivateIpAddress")) {
          throw new AwsError("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID, security groups or private IP address may not be specified on the same request");
        }
        return specs.map((spec) => {
          const id = spec.str("NetworkInterfaceId");
          const deleteOnTermination = spec.str("DeleteOnTermination");
          if (id === undefined) return { eni: make(spec, spec.required("SubnetId"), spec.strings("SecurityGroupId")), deleteOnTermination: deleteOnTermination !== "false" };
          const eni = state.networkInterface(id);
          if (eni.attachment) throw new AwsError("InvalidNetworkInterface.InUse", `Interface: [${eni.id}] in use.`);
          return { eni, deleteOnTermination: deleteOnTermination === "true" };
        });
      }
      const subnetId = req.str("SubnetId") ?? defaultSubnetId(state);
      const vpc = state.vpc(state.subnet(subnetId).vpcId);
      const names = req.strings("SecurityGroup");
      if (names.length > 0 && !vpc.isDefault) throw new AwsError("InvalidParameterCombination", "The parameter groupName cannot be used with the parameter subnet");
      const groupIds = [...req.strings("SecurityGroupId"), ...names.map((name) => state.groupByIdOrName(undefined, name).id)];
      return [{ eni: make(req, subnetId, groupIds), deleteOnTermination: true }];
    });
  } catch (err) {
    for (const eni of created) state.networkInterfaces.delete(eni.id);
    throw err;
  }
}

function defaultSubnetId(state: Ec2State): string {
  const vpc = state.defaultVpc();
  const subnet = vpc && [...state.subnets.values()].find((s) => s.vpcId === vpc.id);
  if (!subnet) throw new AwsError("VPCIdNotSpecified", "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.");
  return subnet.id;
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

  /** Launches MaxCount instances (capacity is not modelled), each with its own interfaces, in one reservation. */
  RunInstances: {
    write: true,
    handle({ state }, req) {
      const imageId = req.required("ImageId");
      if (!/^ami-[0-9a-f]{8,17}$/.test(imageId)) throw new AwsError("InvalidAMIID.Malformed", `Invalid id: "${imageId}" (expecting "ami-...")`);
      const [min, max] = [req.int("MinCount"), req.int("MaxCount")];
      if (min === undefined || max === undefined) throw new AwsError("MissingParameter", `The request must contain the parameter ${min === undefined ? "MinCount" : "MaxCount"}`);
      if (min < 1 || max < min) throw new AwsError("InvalidParameterValue", "Invalid value for MinCount or MaxCount: MinCount must be at least 1 and at most MaxCount");
      const allowed = ["instance", "network-interface", "volume"];
      const tags = tagSpecifications(req, "instance", allowed);
      const interfaceTags = tagSpecifications(req, "network-interface", allowed);
      const launched = launchInterfaces(state, req);
      const reservationId = state.newId("r");
      const launchTime = new Date();
      const instances = launched.map((interfaces) => {
        const instance: Instance = {
          id: state.newId("i"),
          reservationId,
          imageId,
          instanceType: req.str("InstanceType") ?? "m1.small",
          state: "running",
          launchTime,
          availabilityZone: state.subnet(interfaces[0].eni.subnetId).availabilityZone,
          networkInterfaceIds: interfaces.map((n) => n.eni.id),
          disableApiTermination: req.bool("DisableApiTermination"),
          enaSupport: true,
          rootDeviceName: "/dev/xvda",
          tags: new Map(tags),
        };
        interfaces.forEach(({ eni, deleteOnTermination }, deviceIndex) => {
          for (const [k, v] of interfaceTags) eni.tags.set(k, v);
          eni.attachment = { instanceId: instance.id, deviceIndex, attachmentId: state.newId("eni-attach"), attachTime: launchTime, deleteOnTermination };
        });
        state.instances.set(instance.id, instance);
        return instance;
      });
      return { reservationId, ownerId: state.accountId, groupSet: [], instancesSet: instances.map((i) => instanceXml(state, i, "pending")) };
    },
  },

  /**
   * Ends the instances: interfaces marked to go with them are deleted, the others detached. An
   * instance protected by `disableApiTermination` fails the whole call.
   */
  TerminateInstances: {
    write: true,
    handle({ state }, req) {
      const ids = [...new Set(req.strings("InstanceId"))];
      if (ids.length === 0) throw new AwsError("MissingParameter", "The request must contain the parameter InstanceId");
      const instances = ids.map((id) => state.instance(id));
      const locked = instances.find((i) => i.disableApiTermination);
      if (locked) throw new AwsError("OperationNotPermitted", `The instance '${locked.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
      return {
        instancesSet: instances.map((instance) => {
          const previous = instance.state;
          for (const eni of state.interfacesOf(instance)) {
            if (eni.attachment?.deleteOnTermination) state.networkInterfaces.delete(eni.id);
            else eni.attachment = undefined;
          }
          instance.networkInterfaceIds = [];
          instance.state = "terminated";
          return { instanceId: instance.id, currentState: stateXml(previous === "terminated" ? "terminated" : "shutting-down"), previousState: stateXml(previous) };
        }),
      };
    },
  },

  DescribeInstanceAttribute: {
    write: false,
    handle({ state }, req) {
      const instance = state.instance(req.required("InstanceId"));
      const attribute = req.required("Attribute");
      if (attribute === "blockDeviceMapping") throw new AwsError("UnsupportedOperation", "This endpoint does not model block device mappings.");
      const answer = Object.hasOwn(instanceAttributes, attribute) ? instanceAttributes[attribute] : undefined;
      if (!answer) throw new AwsError("InvalidParameterValue", `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
      return { instanceId: instance.id, ...answer(state, instance) };
    },
  },

  /**
   * One attribute per call: the groups of a single-interface instance (with more interfaces, EC2
   * asks for the interface), the type of a stopped instance, or one of the flags.
   */
  ModifyInstanceAttribute: {
    write: true,
    handle({ state }, req) {
      const instance = changeable(state, req);
      const groupIds = req.strings("GroupId");
      if (groupIds.length > 0) {
        const interfaces = state.interfacesOf(instance);
        if (interfaces.length > 1) {
          throw new AwsError("InvalidInstanceID", `There are multiple interfaces attached to instance '${instance.id}'. Please specify an interface ID for the operation instead.`);
        }
        setInterfaceGroups(state, interfaces[0], groupIds);
        return { return: true };
      }
      const type = attributeValue(req, "instanceType");
      if (type !== undefined) {
        if (instance.state !== "stopped") throw new AwsError("IncorrectInstanceState", `The instance '${instance.id}' is not in the 'stopped' state.`);
        instance.instanceType = type;
        return { return: true };
      }
      const flag = (Object.keys(flags) as Flag[]).find((name) => attributeValue(req, name) !== undefined);
      if (flag) {
        flags[flag].set(state, instance, attributeValue(req, flag)?.toLowerCase() === "true");
        return { return: true };
      }
      throw new AwsError("UnsupportedOperation", "This endpoint models the groups, instanceType, disableApiTermination, sourceDestCheck and enaSupport attributes only.");
    },
  },

  /** EC2 resets the source/destination check (and kernel, ramdisk, which are not modelled). */
  ResetInstanceAttribute: {
    write: true,
    handle({ state }, req) {
      const instance = changeable(state, req);
      const attribute = req.required("Attribute");
      if (attribute !== "sourceDestCheck") throw new AwsError("InvalidParameterValue", `Value (${attribute}) for parameter attribute is invalid. Only sourceDestCheck can be reset here.`);
      flags.sourceDestCheck.set(state, instance, true);
      return { return: true };
    },
  },
};
