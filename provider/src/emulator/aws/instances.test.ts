import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVpcsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from "@aws-sdk/client-ec2";
import { failsWith, withEmulator } from "./testing/harness";

test("DescribeInstances shows every interface with its groups, addresses and attachment", () =>
  withEmulator({}, async ({ emu, ec2 }) => {
    const shared = emu.seed.securityGroup({ name: "shared", ingress: [{ port: 22, source: "10.0.0.0/8" }] });
    const admin = emu.seed.securityGroup({ name: "admin" });
    const subnet = emu.seed.subnet({ vpcId: emu.state.defaultVpc()!.id, availabilityZone: "us-east-1b" });
    const web = emu.seed.instance({
      tags: { Name: "web" },
      interfaces: [
        { groupIds: [shared.id], publicIp: "198.51.100.10" },
        { subnetId: subnet.id, groupIds: [shared.id, admin.id], publicIp: "198.51.100.11", privateIpAddress: "172.31.16.50" },
      ],
    });
    const db = emu.seed.instance({ groupIds: [shared.id], state: "stopped" });

    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [web.id] }));
    const [instance] = Reservations.flatMap((r) => r.Instances ?? []);
    assert.equal(instance.InstanceId, web.id);
    assert.deepEqual(instance.State, { Code: 16, Name: "running" });
    assert.equal(instance.PrivateIpAddress, "172.31.0.4");
    assert.equal(instance.PublicIpAddress, "198.51.100.10");
    assert.equal(instance.PublicDnsName, "ec2-198-51-100-10.compute-1.amazonaws.com");
    assert.deepEqual(instance.Tags, [{ Key: "Name", Value: "web" }]);
    assert.deepEqual(instance.SecurityGroups, [
      { GroupId: shared.id, GroupName: "shared" },
      { GroupId: admin.id, GroupName: "admin" },
    ]);
    assert.deepEqual(
      instance.NetworkInterfaces?.map((n) => [n.Attachment?.DeviceIndex, n.PrivateIpAddress, n.Association?.PublicIp, n.SubnetId, n.Groups?.map((g) => g.GroupId)]),
      [
        [0, "172.31.0.4", "198.51.100.10", instance.SubnetId, [shared.id]],
        [1, "172.31.16.50", "198.51.100.11", subnet.id, [shared.id, admin.id]],
      ],
    );

    // The shared group is on both instances.
    const byGroup = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance.group-id", Values: [shared.id] }] }));
    assert.deepEqual(byGroup.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId)), [web.id, db.id]);
    const running = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-state-name", Values: ["running"] }, { Name: "tag:Name", Values: ["w?b"] }] }));
    assert.deepEqual(running.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId)), [web.id]);
  }));

test("unknown and malformed ids fail with EC2's codes", () =>
  withEmulator({}, async ({ ec2Once }) => {
    await failsWith(ec2Once.send(new DescribeInstancesCommand({ InstanceIds: ["i-0123456789abcdef0"] })), "InvalidInstanceID.NotFound", /'i-0123456789abcdef0' does not exist/);
    await failsWith(ec2Once.send(new DescribeInstancesCommand({ InstanceIds: ["web-1"] })), "InvalidInstanceID.Malformed");
    await failsWith(ec2Once.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-0123456789abcdef0"] })), "InvalidNetworkInterfaceID.NotFound");
    await failsWith(
      ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: "eni-0123456789abcdef0", Groups: ["sg-0123456789abcdef0"] })),
      "InvalidNetworkInterfaceID.NotFound",
    );
    await failsWith(ec2Once.send(new ModifyInstanceAttributeCommand({ InstanceId: "i-0123456789abcdef0", Groups: ["sg-0123456789abcdef0"] })), "InvalidInstanceID.NotFound");
    await failsWith(ec2Once.send(new DescribeVpcsCommand({ VpcIds: ["vpc-0123456789abcdef0"] })), "InvalidVpcID.NotFound");
  }));

test("DescribeNetworkInterfaces and DescribeVpcs filter and page", () =>
  withEmulator({}, async ({ emu, ec2 }) => {
    const vpc = emu.seed.vpc({ cidrBlock: "10.20.0.0/16", tags: { env: "prod" } });
    const subnet = emu.seed.subnet({ vpcId: vpc.id });
    assert.equal(subnet.cidrBlock, "10.20.0.0/24");
    const instances = Array.from({ length: 6 }, () => emu.seed.instance({ subnetId: subnet.id }));

    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["false"] }] }));
    assert.deepEqual(vpcs.Vpcs?.map((v) => [v.VpcId, v.CidrBlock, v.IsDefault, v.Tags]), [[vpc.id, "10.20.0.0/16", false, [{ Key: "env", Value: "prod" }]]]);

    const one = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [instances[2].id] }] }));
    assert.deepEqual(
      one.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.PrivateIpAddress, n.Attachment?.InstanceId, n.Status, n.VpcId]),
      [[instances[2].networkInterfaceIds[0], "10.20.0.6", instances[2].id, "in-use", vpc.id]],
    );

    const first = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.id] }], MaxResults: 5 }));
    const rest = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.id] }], MaxResults: 5, NextToken: first.NextToken }));
    assert.equal(first.Reservations?.length, 5);
    assert.equal(rest.Reservations?.length, 1);
    assert.equal(rest.NextToken, undefined);
  }));

test("ModifyNetworkInterfaceAttribute replaces an interface's groups, at most 5 of them", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const groups = Array.from({ length: 6 }, (_, i) => emu.seed.securityGroup({ name: `g${i}` }).id);
    const instance = emu.seed.instance({ groupIds: [groups[0]] });
    const eni = instance.networkInterfaceIds[0];

    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: groups.slice(1, 6) }));
    assert.deepEqual(emu.state.networkInterface(eni).groupIds, groups.slice(1, 6), "the set is replaced, not added to");
    await failsWith(
      ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: groups })),
      "SecurityGroupsPerInterfaceLimitExceeded",
      /maximum number of security groups per interface has been reached/,
    );
    assert.deepEqual(emu.state.networkInterface(eni).groupIds, groups.slice(1, 6), "a refused change changes nothing");
    await failsWith(ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: ["sg-0123456789abcdef0"] })), "InvalidGroup.NotFound");

    const other = emu.seed.vpc();
    await failsWith(ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [emu.state.defaultGroup(other.id).id] })), "InvalidParameter");
    assert.throws(() => emu.seed.instance({ groupIds: groups }), /maximum number of security groups per interface/, "seeds obey the limit too");
  }));

test("the groups-per-interface limit can be raised to 16, as the quota can", () =>
  withEmulator({ limits: { groupsPerInterface: 16 } }, async ({ emu, ec2, ec2Once }) => {
    const groups = Array.from({ length: 17 }, (_, i) => emu.seed.securityGroup({ name: `g${i}` }).id);
    const eni = emu.seed.instance().networkInterfaceIds[0];
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: groups.slice(0, 16) }));
    await failsWith(ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: groups })), "SecurityGroupsPerInterfaceLimitExceeded");
  }));

test("ModifyInstanceAttribute sets the groups of a single-interface instance and refuses one with several", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const a = emu.seed.securityGroup({ name: "a" });
    const b = emu.seed.securityGroup({ name: "b" });
    const single = emu.seed.instance({ groupIds: [a.id] });
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: single.id, Groups: [a.id, b.id] }));
    assert.deepEqual(emu.state.networkInterface(single.networkInterfaceIds[0]).groupIds, [a.id, b.id]);

    const multi = emu.seed.instance({ interfaces: [{ groupIds: [a.id] }, { groupIds: [a.id] }] });
    await failsWith(
      ec2Once.send(new ModifyInstanceAttributeCommand({ InstanceId: multi.id, Groups: [b.id] })),
      "InvalidInstanceID",
      new RegExp(`^There are multiple interfaces attached to instance '${multi.id}'\\. Please specify an interface ID for the operation instead\\.$`),
    );
    assert.deepEqual(
      multi.networkInterfaceIds.map((id) => emu.state.networkInterface(id).groupIds),
      [[a.id], [a.id]],
    );
  }));

test("the limits are checked when the endpoint starts", async () => {
  await assert.rejects(() => withEmulator({ limits: { groupsPerInterface: 17 } }, async () => {}), /groupsPerInterface must be 1 to 16/);
  await assert.rejects(() => withEmulator({ limits: { groupsPerInterface: 16, rulesPerGroup: 100 } }, async () => {}), /may not exceed 1000/);
});
