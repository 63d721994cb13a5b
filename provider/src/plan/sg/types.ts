/**
 * EC2 security groups as `@aws-sdk/client-ec2` returns them, narrowed to what planning reads. Every
 * field is optional, as in the SDK, so its objects can be passed straight in.
 */

export interface Tag {
  Key?: string;
  Value?: string;
}

export interface IpRange {
  CidrIp?: string;
  Description?: string;
}

export interface Ipv6Range {
  CidrIpv6?: string;
  Description?: string;
}

export interface UserIdGroupPair {
  GroupId?: string;
  GroupName?: string;
  UserId?: string;
  VpcId?: string;
  VpcPeeringConnectionId?: string;
  PeeringStatus?: string;
  Description?: string;
}

export interface PrefixListId {
  PrefixListId?: string;
  Description?: string;
}

/**
 * A grouped ingress permission (`DescribeSecurityGroups`): one protocol and port range, many sources.
 * `IpProtocol` is `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (everything) or a protocol number. For
 * TCP/UDP the ports are a range; for ICMP `FromPort` is the type and `ToPort` the code, `-1` = all.
 */
export interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: IpRange[];
  Ipv6Ranges?: Ipv6Range[];
  UserIdGroupPairs?: UserIdGroupPair[];
  PrefixListIds?: PrefixListId[];
}

export interface SecurityGroup {
  GroupId?: string;
  GroupName?: string;
  VpcId?: string;
  IpPermissions?: IpPermission[];
  Tags?: Tag[];
}

/** The flat form (`DescribeSecurityGroupRules`): one source per rule, with its own id and tags. */
export interface SecurityGroupRule {
  SecurityGroupRuleId?: string;
  GroupId?: string;
  IsEgress?: boolean;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: { GroupId?: string; UserId?: string; VpcId?: string; VpcPeeringConnectionId?: string; PeeringStatus?: string };
  Description?: string;
  Tags?: Tag[];
}
