import { setInterfaceGroups } from "./network-interfaces";
import type { Principal, PrincipalSeed, Principals } from "./principals";
import { checkText, normaliseCidr, normaliseProtocol, portRange } from "./rules";
import { addRules, createGroup, groupPeer, prefixListPeer } from "./security-groups";
import { Ec2State, Instance, InstanceStateName, isEc2Id, NetworkInterface, Peer, PrefixList, RuleSpec, SecurityGroup, SecurityGroupRule, Subnet, Tags, Vpc } from "./state";
import { mergeTags } from "./tags";
import { contains, createSubnet, createVpc, freeAddress } from "./vpcs";

/**
 * Typed set-up of the emulated account, applied directly to the state (no API calls are made or
 * counted). It goes through the same checks as the API, so a seed cannot build what EC2 would
 * refuse: a rule over the limit, a sixth group on an interface, a malformed CIDR. Resources may be
 * given their ids (a recording's, say); ids left out are drawn from the seeded generator.
 */

export interface VpcSeed {
  id?: string;
  /** The id of the VPC's default security group. */
  defaultGroupId?: string;
  dhcpOptionsId?: string;
  cidrBlock?: string;
  isDefault?: boolean;
  tags?: Record<string, string>;
}

export interface SubnetSeed {
  id?: string;
  vpcId: string;
  cidrBlock?: string;
  availabilityZone?: string;
  tags?: Record<string, string>;
}

export interface RuleSeed {
  id?: string;
  /** `tcp` (the default), `udp`, `icmp`, `icmpv6`, `-1`, or a protocol number. */
  protocol?: string | number;
  /** A single port; or `fromPort`/`toPort` for a range (ICMP type and code). */
  port?: number;
  fromPort?: number;
  toPort?: number;
  /** An IPv4 or IPv6 CIDR, a security group id (`sg-…`), or a prefix list id (`pl-…`). */
  source: string;
  description?: string;
  tags?: Record<string, string>;
}

export interface SecurityGroupSeed {
  id?: string;
  name: string;
  description?: string;
  /** The default VPC's (or, without one, the only VPC's) when left out. */
  vpcId?: string;
  ingress?: RuleSeed[];
  /** Replaces the allow-all egress rule every new group gets. */
  egress?: RuleSeed[];
  tags?: Record<string, string>;
}

export interface PrefixListSeed {
  id?: string;
  name: string;
  /** Default 10. */
  maxEntries?: number;
  addressFamily?: "IPv4" | "IPv6";
  entries?: string[];
  /** An AWS-managed list (owner `AWS`), which counts as `weight` rules rather than its maximum entries. */
  awsManaged?: { weight: number };
  tags?: Record<string, string>;
}

export interface InterfaceSeed {
  id?: string;
  /** The default VPC's first subnet when left out. */
  subnetId?: string;
  /** The VPC's default group when left out. */
  groupIds?: string[];
  /** The next free address of the subnet when left out. */
  privateIpAddress?: string;
  secondaryPrivateIpAddresses?: string[];
  publicIp?: string;
  /** Makes `publicIp` an Elastic IP of the account, associated under this id (`eipassoc-…`). */
  elasticIpAssociationId?: string;
  macAddress?: string;
  description?: string;
  sourceDestCheck?: boolean;
  /** Of an attached interface; by default only the primary interface goes with its instance. */
  attachmentId?: string;
  deleteOnTermination?: boolean;
  tags?: Record<string, string>;
}

/** An instance; its own interface fields describe its single interface unless `interfaces` lists several. */
export interface InstanceSeed extends Omit<InterfaceSeed, "id" | "tags"> {
  id?: string;
  reservationId?: string;
  interfaces?: InterfaceSeed[];
  state?: InstanceStateName;
  instanceType?: string;
  imageId?: string;
  launchTime?: Date;
  rootDeviceName?: string;
  disableApiTermination?: boolean;
  tags?: Record<string, string>;
}

function tagMap(tags: Record<string, string> | undefined): Tags {
  const map: Tags = new Map();
  mergeTags(map, new Map(Object.entries(tags ?? {})));
  return map;
}

function checkInside(address: string, cidr: string, what: string): void {
  if (!contains(cidr, address)) throw new Error(`${address} is outside ${what} (${cidr})`);
}

export class Seeder {
  constructor(
    private readonly state: Ec2State,
    private readonly principals: Principals,
  ) {}

  /** A VPC with its default security group. */
  vpc(seed: VpcSeed = {}): Vpc {
    if (seed.isDefault && this.state.defaultVpc()) throw new Error("there is already a default VPC");
    const id = this.id("vpc", seed.id);
    return createVpc(this.state, {
      id,
      cidrBlock: seed.cidrBlock ?? (seed.isDefault ? "172.31.0.0/16" : "10.0.0.0/16"),
      isDefault: seed.isDefault ?? false,
      dhcpOptionsId: seed.dhcpOptionsId,
      defaultGroupId: seed.defaultGroupId === undefined ? undefined : this.id("sg", seed.defaultGroupId),
      tags: tagMap(seed.tags),
    });
  }

  /** The default VPC as a new account has it: 172.31.0.0/16, a /20 subnet in the region's first zone. */
  defaultVpc(): Vpc {
    const vpc = this.vpc({ isDefault: true });
    this.subnet({ vpcId: vpc.id, cidrBlock: "172.31.0.0/20" });
    return vpc;
  }

  /** A subnet; by default the VPC's next /24 (/20 in a default VPC) in the region's first zone. */
  subnet(seed: SubnetSeed): Subnet {
    return createSubnet(this.state, { id: this.id("subnet", seed.id), vpcId: seed.vpcId, cidrBlock: seed.cidrBlock, availabilityZone: seed.availabilityZone, tags: tagMap(seed.tags) });
  }

  prefixList(seed: PrefixListSeed): PrefixList {
    const family = seed.addressFamily ?? "IPv4";
    const list: PrefixList = {
      id: this.id("pl", seed.id),
      name: seed.name,
      addressFamily: family,
      maxEntries: seed.maxEntries ?? 10,
      awsManaged: seed.awsManaged !== undefined,
      ...(seed.awsManaged ? { weight: seed.awsManaged.weight } : {}),
      entries: (seed.entries ?? []).map((cidr) => normaliseCidr(cidr, family === "IPv4" ? "ipv4" : "ipv6")),
      tags: tagMap(seed.tags),
    };
    if (list.entries.length > list.maxEntries) throw new Error(`prefix list ${seed.name} has more entries than its maximum (${list.maxEntries})`);
    this.state.prefixLists.set(list.id, list);
    return list;
  }

  securityGroup(seed: SecurityGroupSeed): SecurityGroup {
    const vpcId = seed.vpcId ?? this.state.defaultVpc()?.id ?? this.onlyVpc().id;
    const group = createGroup(this.state, vpcId, seed.name, seed.description ?? seed.name, tagMap(seed.tags), this.id("sg", seed.id));
    if (seed.egress) {
      group.rules = [];
      this.rules(group.id, seed.egress, true);
    }
    this.rules(group.id, seed.ingress ?? []);
    return group;
  }

  /** Adds rules to an existing group, as another writer might. */
  rules(groupId: string, seeds: RuleSeed[], egress = false): SecurityGroupRule[] {
    const group = this.state.group(groupId);
    return seeds.flatMap((seed) => addRules(this.state, group, [this.ruleSpec(group, seed, egress)], tagMap(seed.tags), seed.id === undefined ? [] : [this.id("sgr", seed.id)]));
  }

  instance(seed: InstanceSeed = {}): Instance {
    const interfaceSeeds: InterfaceSeed[] = seed.interfaces ?? [{ ...seed, id: undefined }];
    if (interfaceSeeds.length === 0) throw new Error("an instance needs at least one network interface");
    const subnets = interfaceSeeds.map((s) => this.state.subnet(s.subnetId ?? this.defaultSubnet().id));
    if (new Set(subnets.map((s) => s.vpcId)).size > 1) throw new Error("an instance's interfaces must all be in one VPC");
    const instance: Instance = {
      id: this.id("i", seed.id),
      reservationId: seed.reservationId ?? this.state.newId("r"),
      imageId: seed.imageId ?? "ami-0123456789abcdef0",
      instanceType: seed.instanceType ?? "t3.micro",
      state: seed.state ?? "running",
      launchTime: seed.launchTime ?? new Date(),
      availabilityZone: subnets[0].availabilityZone,
      networkInterfaceIds: [],
      disableApiTermination: seed.disableApiTermination ?? false,
      enaSupport: true,
      rootDeviceName: seed.rootDeviceName ?? "/dev/xvda",
      tags: tagMap(seed.tags),
    };
    try {
      // One at a time, so that each interface sees the addresses taken by the ones before it.
      interfaceSeeds.forEach((s, deviceIndex) => {
        const eni = this.buildInterface(s, subnets[deviceIndex]);
        eni.attachment = {
          instanceId: instance.id,
          deviceIndex,
          attachmentId: s.attachmentId ?? this.state.newId("eni-attach"),
          attachTime: instance.launchTime,
          deleteOnTermination: s.deleteOnTermination ?? deviceIndex === 0,
        };
        instance.networkInterfaceIds.push(eni.id);
      });
    } catch (err) {
      for (const id of instance.networkInterfaceIds) this.state.networkInterfaces.delete(id);
      throw err;
    }
    this.state.instances.set(instance.id, instance);
    return instance;
  }

  /** An interface attached to nothing. */
  networkInterface(seed: InterfaceSeed = {}): NetworkInterface {
    return this.buildInterface(seed, this.state.subnet(seed.subnetId ?? this.defaultSubnet().id));
  }

  principal(seed: PrincipalSeed): Principal {
    return this.principals.add(seed);
  }

  private onlyVpc(): Vpc {
    const vpcs = [...this.state.vpcs.values()];
    if (vpcs.length !== 1) throw new Error("name the VPC: there is no default VPC and not exactly one VPC");
    return vpcs[0];
  }

  private ruleSpec(group: SecurityGroup, seed: RuleSeed, egress: boolean): RuleSpec {
    const protocol = normaliseProtocol(String(seed.protocol ?? "tcp"));
    const [fromPort, toPort] = portRange(protocol, seed.fromPort ?? seed.port, seed.toPort ?? seed.port);
    const { source } = seed;
    const peer: Peer = source.startsWith("sg-")
      ? groupPeer(this.state, group, { groupId: source })
      : source.startsWith("pl-")
        ? prefixListPeer(this.state, source)
        : source.includes(":")
          ? { kind: "ipv6", cidr: normaliseCidr(source, "ipv6") }
          : { kind: "ipv4", cidr: normaliseCidr(source, "ipv4") };
    return { egress, protocol, fromPort, toPort, peer, description: seed.description === undefined ? undefined : checkText(seed.description, "rule description") };
  }

  private buildInterface(seed: InterfaceSeed, subnet: Subnet): NetworkInterface {
    const eni: NetworkInterface = {
      id: this.id("eni", seed.id),
      subnetId: subnet.id,
      description: seed.description ?? "",
      privateIpAddress: seed.privateIpAddress ?? freeAddress(this.state, subnet),
      secondaryPrivateIpAddresses: seed.secondaryPrivateIpAddresses ?? [],
      publicIp: seed.publicIp,
      elasticIpAssociationId: seed.elasticIpAssociationId,
      macAddress: seed.macAddress ?? `0e:${this.state.randomHex(10).replace(/(..)(?!$)/g, "$1:")}`,
      sourceDestCheck: seed.sourceDestCheck ?? true,
      groupIds: [],
      tags: tagMap(seed.tags),
    };
    for (const address of [eni.privateIpAddress, ...eni.secondaryPrivateIpAddresses]) checkInside(address, subnet.cidrBlock, `subnet ${subnet.id}`);
    setInterfaceGroups(this.state, eni, seed.groupIds ?? [this.state.defaultGroup(subnet.vpcId).id]);
    this.state.networkInterfaces.set(eni.id, eni);
    return eni;
  }

  /** `id` when the seed names one (in EC2's form, not yet used), else a new one. */
  private id(prefix: string, id: string | undefined): string {
    if (id === undefined) return this.state.newId(prefix);
    if (!isEc2Id(prefix, id)) throw new Error(`${id} is not a ${prefix}- id`);
    if (this.state.hasId(id)) throw new Error(`${id} is already in use`);
    return id;
  }

  private defaultSubnet(): Subnet {
    const vpc = this.state.defaultVpc() ?? this.onlyVpc();
    const subnet = [...this.state.subnets.values()].find((s) => s.vpcId === vpc.id);
    if (!subnet) throw new Error(`VPC ${vpc.id} has no subnet; seed one or name the subnet`);
    return subnet;
  }
}
