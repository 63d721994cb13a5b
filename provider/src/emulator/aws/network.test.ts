import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySecurityGroupRulesCommand,
  ResetInstanceAttributeCommand,
  ResetNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
} from "@aws-sdk/client-ec2";
import { failsWith, withEmulator } from "./testing/harness";

const ACCOUNT = "123456789012";
const arn = (type: string, id: string) => `arn:aws:ec2:us-east-1:${ACCOUNT}:${type}/${id}`;

test("VPCs and subnets: created with EC2's range checks, listed, and deleted only when empty", () =>
  withEmulator({}, async ({ emu, ec2Once: ec2 }) => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "MyVPC" }] }] }));
    assert.deepEqual([Vpc?.State, Vpc?.CidrBlock, Vpc?.InstanceTenancy, Vpc?.Tags], ["pending", "10.0.0.0/16", "default", [{ Key: "Name", Value: "MyVPC" }]]);
    assert.match(Vpc?.DhcpOptionsId ?? "", /^dopt-[0-9a-f]{17}$/);
    const vpcId = Vpc!.VpcId!;
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
    assert.deepEqual(groups.SecurityGroups?.map((g) => g.GroupName), ["default"], "a VPC comes with its default group");
    await failsWith(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/8" })), "InvalidVpc.Range");

    const { Subnet } = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.0/24", AvailabilityZone: "us-east-1c" }));
    assert.deepEqual([Subnet?.State, Subnet?.AvailableIpAddressCount, Subnet?.AvailabilityZone, Subnet?.Tags], ["pending", 251, "us-east-1c", []]);
    await failsWith(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.0.1.128/25" })), "InvalidSubnet.Conflict");
    await failsWith(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.1.0.0/24" })), "InvalidSubnet.Range");
    const listed = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }));
    assert.deepEqual(listed.Subnets?.map((s) => [s.SubnetId, s.State, s.CidrBlock, s.DefaultForAz, s.MapPublicIpOnLaunch]), [[Subnet?.SubnetId, "available", "10.0.1.0/24", false, false]]);
    const defaults = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }));
    assert.deepEqual(defaults.Subnets?.map((s) => [s.VpcId, s.MapPublicIpOnLaunch]), [[emu.state.defaultVpc()?.id, true]]);

    await failsWith(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })), "DependencyViolation");
    emu.seed.networkInterface({ subnetId: Subnet!.SubnetId! });
    await failsWith(ec2.send(new DeleteSubnetCommand({ SubnetId: Subnet!.SubnetId! })), "DependencyViolation");
    emu.state.networkInterfaces.clear();
    await ec2.send(new DeleteSubnetCommand({ SubnetId: Subnet!.SubnetId! }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    await failsWith(ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })), "InvalidVpcID.NotFound");
    await failsWith(ec2.send(new DescribeSubnetsCommand({ SubnetIds: [Subnet!.SubnetId!] })), "InvalidSubnetID.NotFound");
    await failsWith(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["sn-1"] })), "InvalidSubnetID.Malformed");
  }));

test("a network interface: created with its addresses and groups, attached, its attributes read and changed, detached, deleted", () =>
  withEmulator({}, async ({ emu, ec2Once: ec2 }) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const subnetId = emu.state.networkInterface(vm.networkInterfaceIds[0]).subnetId;
    const { NetworkInterface: eni } = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetId,
        Description: "my network interface",
        Groups: [web.id],
        PrivateIpAddress: "172.31.0.17",
        SecondaryPrivateIpAddressCount: 2,
        TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "Name", Value: "extra" }] }],
      }),
    );
    assert.deepEqual(
      [eni?.Status, eni?.Description, eni?.Groups, eni?.PrivateIpAddress, eni?.SourceDestCheck, eni?.RequesterManaged, eni?.TagSet],
      ["pending", "my network interface", [{ GroupId: web.id, GroupName: "web" }], "172.31.0.17", true, false, [{ Key: "Name", Value: "extra" }]],
    );
    assert.deepEqual(eni?.PrivateIpAddresses?.map((a) => [a.PrivateIpAddress, a.Primary]), [["172.31.0.17", true], ["172.31.0.5", false], ["172.31.0.6", false]]);
    const id = eni!.NetworkInterfaceId!;
    await failsWith(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, PrivateIpAddress: "172.31.0.17" })), "InvalidIPAddress.InUse");

    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: vm.id, DeviceIndex: 1 }));
    assert.match(AttachmentId ?? "", /^eni-attach-[0-9a-f]{17}$/);
    await failsWith(ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: vm.id, DeviceIndex: 2 })), "InvalidNetworkInterface.InUse");
    const other = emu.seed.networkInterface({});
    await failsWith(ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: other.id, InstanceId: vm.id, DeviceIndex: 1 })), "InvalidParameterValue", /device index '1'/);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [vm.id] }));
    assert.deepEqual(described.Reservations?.[0].Instances?.[0].NetworkInterfaces?.map((n) => n.NetworkInterfaceId), [vm.networkInterfaceIds[0], id]);

    const attribute = (Attribute: "description" | "groupSet" | "sourceDestCheck" | "attachment") => ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute }));
    assert.deepEqual((await attribute("description")).Description, { Value: "my network interface" });
    assert.deepEqual((await attribute("groupSet")).Groups, [{ GroupId: web.id, GroupName: "web" }]);
    assert.deepEqual((await attribute("sourceDestCheck")).SourceDestCheck, { Value: true });
    const attached = (await attribute("attachment")).Attachment;
    assert.deepEqual([attached?.AttachmentId, attached?.InstanceId, attached?.DeviceIndex, attached?.DeleteOnTermination, attached?.Status], [AttachmentId, vm.id, 1, false, "attached"]);

    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Description: { Value: "renamed" } }));
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, SourceDestCheck: { Value: false } }));
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attachment: { AttachmentId, DeleteOnTermination: true } }));
    await failsWith(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Description: { Value: "x" }, SourceDestCheck: { Value: true } })), "InvalidParameterCombination");
    await failsWith(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attachment: { AttachmentId: "eni-attach-0123456789abcdef0", DeleteOnTermination: true } })), "InvalidAttachmentID.NotFound");
    assert.deepEqual((await attribute("description")).Description, { Value: "renamed" });
    assert.deepEqual((await attribute("sourceDestCheck")).SourceDestCheck, { Value: false });
    assert.equal((await attribute("attachment")).Attachment?.DeleteOnTermination, true);
    await ec2.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, SourceDestCheck: "sourceDestCheck" }));
    assert.deepEqual((await attribute("sourceDestCheck")).SourceDestCheck, { Value: true });

    const primaryAttachment = emu.state.networkInterface(vm.networkInterfaceIds[0]).attachment!.attachmentId;
    await failsWith(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: primaryAttachment })), "OperationNotPermitted");
    await failsWith(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id })), "InvalidNetworkInterface.InUse");
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    await failsWith(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId })), "InvalidAttachmentID.NotFound");
    const after = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
    assert.deepEqual([after.NetworkInterfaces?.[0].Status, after.NetworkInterfaces?.[0].Attachment], ["available", undefined]);
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    await failsWith(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })), "InvalidNetworkInterfaceID.NotFound");
  }));

test("RunInstances launches into a subnet with groups and tags; attributes are read and set; TerminateInstances ends them and their interfaces", () =>
  withEmulator({}, async ({ emu, ec2Once: ec2 }) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const subnetId = [...emu.state.subnets.values()][0].id;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-abc12345",
        InstanceType: "t2.micro",
        MinCount: 1,
        MaxCount: 2,
        SecurityGroupIds: [web.id],
        SubnetId: subnetId,
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "Purpose", Value: "test" }] },
          { ResourceType: "network-interface", Tags: [{ Key: "Purpose", Value: "nic" }] },
        ],
      }),
    );
    const launched = run.Instances ?? [];
    assert.deepEqual(launched.map((i) => [i.State?.Name, i.InstanceType, i.ImageId, i.SubnetId, i.SecurityGroups?.map((g) => g.GroupId), i.Tags]), [
      ["pending", "t2.micro", "ami-abc12345", subnetId, [web.id], [{ Key: "Purpose", Value: "test" }]],
      ["pending", "t2.micro", "ami-abc12345", subnetId, [web.id], [{ Key: "Purpose", Value: "test" }]],
    ]);
    assert.deepEqual(launched.map((i) => i.PrivateIpAddress), ["172.31.0.4", "172.31.0.5"]);
    const [first, second] = launched.map((i) => i.InstanceId!);
    const tagged = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:Purpose", Values: ["test"] }, { Name: "instance-state-name", Values: ["running"] }] }));
    assert.deepEqual(tagged.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId)), [first, second]);
    await failsWith(ec2.send(new RunInstancesCommand({ ImageId: "ami-abc12345", MinCount: 1, MaxCount: 1, SubnetId: subnetId, SecurityGroups: ["nope"] })), "InvalidGroup.NotFound");
    await failsWith(ec2.send(new RunInstancesCommand({ ImageId: "image", MinCount: 1, MaxCount: 1 })), "InvalidAMIID.Malformed");
    assert.equal(emu.state.networkInterfaces.size, 2, "a refused launch leaves no interface behind");

    const attribute = (Attribute: "instanceType" | "groupSet" | "sourceDestCheck" | "disableApiTermination" | "rootDeviceName" | "enaSupport") =>
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: first, Attribute }));
    assert.deepEqual((await attribute("instanceType")).InstanceType, { Value: "t2.micro" });
    assert.deepEqual((await attribute("groupSet")).Groups, [{ GroupId: web.id, GroupName: "web" }]);
    assert.deepEqual((await attribute("rootDeviceName")).RootDeviceName, { Value: "/dev/xvda" });
    await failsWith(ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: first, Attribute: "bogus" as "kernel" })), "InvalidParameterValue");

    await failsWith(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, InstanceType: { Value: "m5.large" } })), "IncorrectInstanceState");
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, EnaSupport: { Value: false } }));
    assert.deepEqual((await attribute("enaSupport")).EnaSupport, { Value: false });
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, SourceDestCheck: { Value: false } }));
    assert.deepEqual((await attribute("sourceDestCheck")).SourceDestCheck, { Value: false });
    await ec2.send(new ResetInstanceAttributeCommand({ InstanceId: first, Attribute: "sourceDestCheck" }));
    assert.deepEqual((await attribute("sourceDestCheck")).SourceDestCheck, { Value: true });
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, DisableApiTermination: { Value: true } }));
    assert.deepEqual((await attribute("disableApiTermination")).DisableApiTermination, { Value: true });
    await failsWith(ec2.send(new TerminateInstancesCommand({ InstanceIds: [first, second] })), "OperationNotPermitted");
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, Attribute: "disableApiTermination", Value: "false" }));

    // A second interface, kept when its instance goes.
    const extra = emu.seed.networkInterface({ subnetId });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: extra.id, InstanceId: first, DeviceIndex: 1 }));
    const ended = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [first] }));
    assert.deepEqual(ended.TerminatingInstances, [{ InstanceId: first, PreviousState: { Code: 16, Name: "running" }, CurrentState: { Code: 32, Name: "shutting-down" } }]);
    const gone = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [first] }));
    assert.deepEqual(gone.Reservations?.[0].Instances?.map((i) => [i.State?.Name, i.NetworkInterfaces]), [["terminated", []]]);
    await failsWith(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: first, SourceDestCheck: { Value: false } })), "IncorrectInstanceState");
    // Interfaces given by specification: a new one told to stay, and an existing one, which stays.
    const spare = emu.seed.networkInterface({ subnetId });
    const { Instances: [withSpecs] = [] } = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-abc12345",
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [
          { DeviceIndex: 1, NetworkInterfaceId: spare.id },
          { DeviceIndex: 0, SubnetId: subnetId, Groups: [web.id], DeleteOnTermination: false },
        ],
      }),
    );
    const [created, attached] = withSpecs.NetworkInterfaces ?? [];
    assert.deepEqual(
      [created.Attachment?.DeviceIndex, created.Attachment?.DeleteOnTermination, attached.NetworkInterfaceId, attached.Attachment?.DeviceIndex, attached.Attachment?.DeleteOnTermination],
      [0, false, spare.id, 1, false],
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [withSpecs.InstanceId!] }));
    const left = await ec2.send(new DescribeNetworkInterfacesCommand({}));
    assert.deepEqual(left.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Status]).sort(), [
      [emu.state.instance(second).networkInterfaceIds[0], "in-use"],
      [extra.id, "available"],
      [created.NetworkInterfaceId, "available"],
      [spare.id, "available"],
    ].sort());
  }));

test("ModifySecurityGroupRules rewrites rules in place; rule descriptions are updated by permission or by rule id", () =>
  withEmulator({}, async ({ emu, ec2Once: ec2 }) => {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "203.0.113.0/24" }, { port: 443, source: "0.0.0.0/0" }] });
    const [ssh, https] = web.rules.filter((r) => !r.egress);
    const [egress] = web.rules.filter((r) => r.egress);
    await ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: web.id,
        SecurityGroupRules: [{ SecurityGroupRuleId: ssh.id, SecurityGroupRule: { IpProtocol: "tcp", FromPort: 2222, ToPort: 2222, CidrIpv4: "198.51.100.0/24", Description: "moved" } }],
      }),
    );
    const rules = async () => (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [web.id] }] }))).SecurityGroupRules ?? [];
    const moved = (await rules()).find((r) => r.SecurityGroupRuleId === ssh.id);
    assert.deepEqual([moved?.FromPort, moved?.CidrIpv4, moved?.Description, moved?.IsEgress], [2222, "198.51.100.0/24", "moved", false]);
    const duplicate = { IpProtocol: "tcp", FromPort: 443, ToPort: 443, CidrIpv4: "0.0.0.0/0" };
    await failsWith(ec2.send(new ModifySecurityGroupRulesCommand({ GroupId: web.id, SecurityGroupRules: [{ SecurityGroupRuleId: ssh.id, SecurityGroupRule: duplicate }] })), "InvalidPermission.Duplicate");
    const other = emu.seed.securityGroup({ name: "other", ingress: [{ port: 80, source: "10.0.0.0/8" }] });
    const foreign = other.rules.find((r) => !r.egress)!.id;
    await failsWith(
      ec2.send(new ModifySecurityGroupRulesCommand({ GroupId: web.id, SecurityGroupRules: [{ SecurityGroupRuleId: foreign, SecurityGroupRule: { ...duplicate, FromPort: 80, ToPort: 80 } }] })),
      "InvalidSecurityGroupRuleId.NotFound",
    );

    await ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: web.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "HTTPS" }] }] }),
    );
    await ec2.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: web.id, SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ssh.id, Description: "by id" }] }));
    await ec2.send(new UpdateSecurityGroupRuleDescriptionsEgressCommand({ GroupId: web.id, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "all out" }] }] }));
    assert.deepEqual(
      (await rules()).map((r) => [r.SecurityGroupRuleId, r.Description]),
      [
        [egress.id, "all out"],
        [ssh.id, "by id"],
        [https.id, "HTTPS"],
      ],
    );
    await failsWith(
      ec2.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: web.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "x" }] }] })),
      "InvalidPermission.NotFound",
    );
    await failsWith(ec2.send(new UpdateSecurityGroupRuleDescriptionsEgressCommand({ GroupId: web.id, SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ssh.id, Description: "x" }] })), "InvalidSecurityGroupRuleId.NotFound");
  }));

test("DescribeTags lists the tags of every served resource, filtered by key, value, resource id and type", () =>
  withEmulator({}, async ({ emu, ec2Once: ec2 }) => {
    const web = emu.seed.securityGroup({ name: "web", tags: { Stack: "prod" }, ingress: [{ port: 22, source: "10.0.0.0/8", tags: { grant: "g1" } }] });
    const vm = emu.seed.instance({ interfaces: [{ groupIds: [web.id] }], tags: { Stack: "test", Name: "Beta Server" } });
    const all = await ec2.send(new DescribeTagsCommand({}));
    assert.deepEqual(all.Tags?.map((t) => [t.ResourceType, t.ResourceId, t.Key, t.Value]), [
      ["security-group", web.id, "Stack", "prod"],
      ["security-group-rule", web.rules.find((r) => !r.egress)?.id, "grant", "g1"],
      ["instance", vm.id, "Stack", "test"],
      ["instance", vm.id, "Name", "Beta Server"],
    ]);
    const byResource = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [vm.id] }, { Name: "key", Values: ["Stack"] }] }));
    assert.deepEqual(byResource.Tags, [{ ResourceId: vm.id, ResourceType: "instance", Key: "Stack", Value: "test" }]);
    const byType = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "resource-type", Values: ["security-group"] }, { Name: "value", Values: ["p*"] }] }));
    assert.deepEqual(byType.Tags?.map((t) => t.ResourceId), [web.id]);
  }));

test("the new calls are authorised on the resources they touch", () =>
  withEmulator({}, async ({ emu, as }) => {
    const dev = emu.seed.instance({ tags: { env: "dev" } });
    const prod = emu.seed.instance({ tags: { env: "prod" } });
    const subnetId = [...emu.state.subnets.values()][0].id;
    emu.seed.principal({
      name: "dev-ops",
      policies: [
        {
          name: "p",
          document: {
            Statement: [
              { Effect: "Allow", Action: ["ec2:TerminateInstances", "ec2:AttachNetworkInterface"], Resource: arn("instance", "*"), Condition: { StringEquals: { "aws:ResourceTag/env": "dev" } } },
              { Effect: "Allow", Action: ["ec2:AttachNetworkInterface", "ec2:DeleteNetworkInterface"], Resource: arn("network-interface", "*") },
            ],
          },
        },
      ],
    });
    const ops = as("dev-ops").ec2;
    const refused = await failsWith(ops.send(new TerminateInstancesCommand({ InstanceIds: [dev.id, prod.id] })), "UnauthorizedOperation");
    assert.match(refused.message, new RegExp(`on resource: ${arn("instance", prod.id)} because`));
    assert.equal(emu.state.instance(dev.id).state, "running", "nothing was terminated");
    await failsWith(ops.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId })), "UnauthorizedOperation", /ec2:CreateNetworkInterface on resource: .*network-interface\/\*/);
    const spare = emu.seed.networkInterface({ subnetId });
    await failsWith(ops.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: spare.id, InstanceId: prod.id, DeviceIndex: 1 })), "UnauthorizedOperation");
    await ops.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: spare.id, InstanceId: dev.id, DeviceIndex: 1 }));
    await ops.send(new TerminateInstancesCommand({ InstanceIds: [dev.id] }));
    await ops.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: spare.id }));
  }));
