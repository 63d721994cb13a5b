import type { IpPermission, SecurityGroup } from "../../plan";
import type { AwsEmulator } from "./index";
import type { SecurityGroup as Ec2SecurityGroup } from "./state";

/**
 * The emulator's security groups in the shapes the planners and their evaluators take, read
 * straight from its state. Reads are not API calls, so asking "would this flow get in now?" leaves
 * the call log alone: tests and the demo count calls around them.
 */

/** A group as DescribeSecurityGroups shows it (one permission per rule). */
export function sdkGroup(g: Ec2SecurityGroup): SecurityGroup & { Tags: { Key: string; Value: string }[] } {
  const IpPermissions = g.rules
    .filter((r) => !r.egress)
    .map((r): IpPermission => {
      const d = r.description === undefined ? {} : { Description: r.description };
      const ports = r.protocol === "-1" ? {} : { FromPort: r.fromPort, ToPort: r.toPort };
      const p = r.peer;
      const source =
        p.kind === "ipv4"
          ? { IpRanges: [{ CidrIp: p.cidr, ...d }] }
          : p.kind === "ipv6"
            ? { Ipv6Ranges: [{ CidrIpv6: p.cidr, ...d }] }
            : p.kind === "group"
              ? { UserIdGroupPairs: [{ GroupId: p.groupId, UserId: p.userId, ...d }] }
              : { PrefixListIds: [{ PrefixListId: p.prefixListId, ...d }] };
      return { IpProtocol: r.protocol, ...ports, ...source };
    });
  return { GroupId: g.id, GroupName: g.name, VpcId: g.vpcId, IpPermissions, Tags: [...g.tags].map(([Key, Value]) => ({ Key, Value })) };
}

/** The groups an instance's interfaces wear now. */
export function groupsOf(emu: AwsEmulator, instanceId: string): ReturnType<typeof sdkGroup>[] {
  const ids = new Set(emu.state.interfacesOf(emu.state.instance(instanceId)).flatMap((n) => n.groupIds));
  return [...ids].map((id) => sdkGroup(emu.state.group(id)));
}

/** A group's ingress rules as comparable text: protocol, ports, source, description and tags. */
export function fingerprint(emu: AwsEmulator, groupId: string): string[] {
  return emu.state
    .group(groupId)
    .rules.filter((r) => !r.egress)
    .map((r) => JSON.stringify([r.protocol, r.fromPort, r.toPort, r.peer, r.description ?? "", [...r.tags].sort()]))
    .sort();
}
