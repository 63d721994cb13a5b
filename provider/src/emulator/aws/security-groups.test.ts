import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  GetManagedPrefixListEntriesCommand,
  IpPermission,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { failsWith, withEmulator } from "./testing/harness";

const ssh = (...cidrs: string[]): IpPermission => ({ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: cidrs.map((CidrIp) => ({ CidrIp })) });

test("a new group has no inbound rules and one allow-all outbound rule; its name is unique per VPC", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const vpc = emu.seed.vpc({ cidrBlock: "10.1.0.0/16" });
    const created = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "jit-grant",
        Description: "jit grant g-1 expires 2026-01-01T10:00:00Z",
        VpcId: vpc.id,
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "jit:grant", Value: "g-1" }] }],
      }),
    );
    assert.match(created.GroupId ?? "", /^sg-[0-9a-f]{17}$/);
    assert.deepEqual(created.Tags, [{ Key: "jit:grant", Value: "g-1" }]);
    assert.equal(created.SecurityGroupArn, `arn:aws:ec2:us-east-1:123456789012:security-group/${created.GroupId}`);

    const [group] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [created.GroupId!] }))).SecurityGroups ?? [];
    assert.equal(group.Description, "jit grant g-1 expires 2026-01-01T10:00:00Z");
    assert.deepEqual(group.IpPermissions, []);
    assert.deepEqual(group.IpPermissionsEgress, [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] }]);

    await failsWith(ec2Once.send(new CreateSecurityGroupCommand({ GroupName: "jit-grant", Description: "again", VpcId: vpc.id })), "InvalidGroup.Duplicate");
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: "jit-grant", Description: "another VPC" })); // the default VPC
    await failsWith(ec2Once.send(new CreateSecurityGroupCommand({ GroupName: "x", Description: "quote \" is not allowed", VpcId: vpc.id })), "InvalidParameterValue");
    await failsWith(ec2Once.send(new CreateSecurityGroupCommand({ GroupName: "x", Description: "d", VpcId: "vpc-00000000000000000" })), "InvalidVpcID.NotFound");
  }));

test("each VPC has a default group (self-referencing ingress, allow-all egress) that cannot be deleted", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const vpc = emu.seed.vpc();
    const { SecurityGroups = [] } = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.id] }, { Name: "group-name", Values: ["default"] }] }),
    );
    assert.equal(SecurityGroups.length, 1);
    const [group] = SecurityGroups;
    assert.deepEqual(group.IpPermissions, [
      { IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: group.GroupId, UserId: "123456789012" }], IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] },
    ]);
    assert.equal(group.IpPermissionsEgress?.[0].IpRanges?.[0].CidrIp, "0.0.0.0/0");
    await failsWith(ec2Once.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId })), "CannotDelete", /name: "default" cannot be deleted by a user/);
  }));

test("authorize returns sgr- rule ids and tags the rules; describes show them grouped and flat", () =>
  withEmulator({}, async ({ emu, ec2 }) => {
    const group = emu.seed.securityGroup({ name: "web" });
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group.id,
        IpPermissions: [
          { IpProtocol: "6", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.0/24", Description: "office" }, { CidrIp: "198.51.100.7/32" }] },
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: "2001:DB8::/32" }] },
          { IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: group.id }] },
        ],
        TagSpecifications: [{ ResourceType: "security-group-rule", Tags: [{ Key: "jit:grant", Value: "g-7" }] }],
      }),
    );
    assert.equal(out.Return, true);
    const rules = out.SecurityGroupRules ?? [];
    assert.equal(rules.length, 4, "one rule per source");
    for (const r of rules) {
      assert.match(r.SecurityGroupRuleId ?? "", /^sgr-[0-9a-f]{17}$/);
      assert.deepEqual(r.Tags, [{ Key: "jit:grant", Value: "g-7" }]);
      assert.equal(r.IsEgress, false);
    }
    assert.deepEqual(
      rules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4 ?? r.CidrIpv6 ?? r.ReferencedGroupInfo?.GroupId, r.Description]),
      [
        ["tcp", 22, 22, "203.0.113.0/24", "office"],
        ["tcp", 22, 22, "198.51.100.7/32", undefined],
        ["tcp", 22, 22, "2001:db8::/32", undefined],
        ["-1", -1, -1, group.id, undefined],
      ],
      "protocol 6 is shown as tcp, IPv6 in canonical form, all-traffic with ports -1",
    );

    const [described] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [group.id] }))).SecurityGroups ?? [];
    assert.deepEqual(described.IpPermissions, [
      {
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        UserIdGroupPairs: [],
        IpRanges: [{ CidrIp: "203.0.113.0/24", Description: "office" }, { CidrIp: "198.51.100.7/32" }],
        Ipv6Ranges: [{ CidrIpv6: "2001:db8::/32" }],
        PrefixListIds: [],
      },
      { IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: group.id, UserId: "123456789012" }], IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] },
    ]);

    const flat = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [group.id] }] }));
    assert.equal(flat.SecurityGroupRules?.length, 5, "four ingress rules and the egress rule");
    const tagged = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "tag:jit:grant", Values: ["g-*"] }] }));
    assert.deepEqual(
      tagged.SecurityGroupRules?.map((r) => r.SecurityGroupRuleId),
      rules.map((r) => r.SecurityGroupRuleId),
    );
  }));

test("a rule that exists (description aside) is a duplicate, and a request with one adds nothing", () =>
  withEmulator({}, async ({ emu, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "1.2.3.4/32", description: "first" }] });
    await failsWith(
      ec2Once.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group.id,
          IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "1.2.3.4/32", Description: "other text" }] }],
        }),
      ),
      "InvalidPermission.Duplicate",
      /the specified rule "peer: 1\.2\.3\.4\/32, TCP, from port: 22, to port: 22, ALLOW" already exists/,
    );
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("5.6.7.8/32", "1.2.3.4/32")] })), "InvalidPermission.Duplicate");
    assert.equal(emu.state.group(group.id).rules.filter((r) => !r.egress).length, 1, "5.6.7.8/32 was not added either: authorize is atomic");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("9.9.9.9/32", "9.9.9.9/32")] })), "InvalidParameterValue");
  }));

test("CIDRs are validated, host bits are masked, and group ids are checked", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "web" });
    for (const cidr of ["1.2.3.4", "1.2.3.4/33", "300.1.1.1/32", "10.1/8", "::/0"]) {
      await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh(cidr)] })), "InvalidParameterValue", /CIDR block .* is malformed/);
    }
    const out = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("10.0.0.28/29")] }));
    assert.equal(out.SecurityGroupRules?.[0].CidrIpv4, "10.0.0.24/29");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ IpProtocol: "tcp", IpRanges: [{ CidrIp: "1.1.1.1/32" }] }] })), "InvalidParameterValue");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ ...ssh("1.1.1.1/32"), IpProtocol: "bogus" }] })), "InvalidParameterValue");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: "web", IpPermissions: [ssh("1.1.1.1/32")] })), "InvalidGroupId.Malformed");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: "sg-00000000000000000", IpPermissions: [ssh("1.1.1.1/32")] })), "InvalidGroup.NotFound");
    await failsWith(
      ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ ...ssh(), UserIdGroupPairs: [{ GroupId: "sg-00000000000000000" }] }] })),
      "InvalidGroup.NotFound",
    );
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ ...ssh("1.1.1.1/32"), IpRanges: [{ CidrIp: "1.1.1.1/32", Description: "<script>" }] }] })), "InvalidParameterValue");
  }));

test("60 inbound rules per group, counted per address family; a group reference counts in both", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "full" });
    const peer = emu.seed.securityGroup({ name: "peer" });
    const v4 = (i: number) => `10.0.${i}.0/24`;
    const v6 = (i: number) => `2001:db8:${i.toString(16)}::/48`;
    const add = (permission: IpPermission) => ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [permission] }));

    await add(ssh(...Array.from({ length: 59 }, (_, i) => v4(i))));
    await add({ ...ssh(), Ipv6Ranges: Array.from({ length: 59 }, (_, i) => ({ CidrIpv6: v6(i) })) });
    await add({ ...ssh(), UserIdGroupPairs: [{ GroupId: peer.id }] }); // 60 IPv4, 60 IPv6
    await failsWith(add(ssh(v4(100))), "RulesPerSecurityGroupLimitExceeded", /maximum number of rules per security group/);
    await failsWith(add({ ...ssh(), Ipv6Ranges: [{ CidrIpv6: v6(100) }] }), "RulesPerSecurityGroupLimitExceeded");

    // Without the group reference, both families have room for exactly one more.
    const reference = emu.state.group(group.id).rules.find((r) => r.peer.kind === "group");
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, SecurityGroupRuleIds: [reference!.id] }));
    await add(ssh(v4(100)));
    await add({ ...ssh(), Ipv6Ranges: [{ CidrIpv6: v6(100) }] });
    await failsWith(add(ssh(v4(101))), "RulesPerSecurityGroupLimitExceeded");
    assert.equal(emu.state.group(group.id).rules.filter((r) => !r.egress).length, 120);
  }));

test("revoke by rule ids, and by permissions that must match (description optional)", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const vpc = emu.seed.vpc();
    const group = emu.seed.securityGroup({
      name: "app",
      vpcId: vpc.id,
      ingress: [
        { port: 22, source: "1.2.3.4/32", description: "jit" },
        { port: 22, source: "5.6.7.8/32" },
        { port: 3389, source: "5.6.7.8/32" },
      ],
    });
    const [first, second, third] = emu.state.group(group.id).rules.filter((r) => !r.egress);

    const byId = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, SecurityGroupRuleIds: [third.id] }));
    assert.deepEqual(
      byId.RevokedSecurityGroupRules?.map((r) => [r.SecurityGroupRuleId, r.IpProtocol, r.FromPort, r.CidrIpv4]),
      [[third.id, "tcp", 3389, "5.6.7.8/32"]],
    );
    await failsWith(ec2Once.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, SecurityGroupRuleIds: [third.id] })), "InvalidSecurityGroupRuleId.NotFound");
    await failsWith(ec2Once.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, SecurityGroupRuleIds: ["sgr-1"] })), "InvalidSecurityGroupRuleId.Malformed");

    // Non-default VPC: one unmatched permission fails the call, and nothing is revoked.
    await failsWith(
      ec2Once.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("1.2.3.4/32", "9.9.9.9/32")] })),
      "InvalidPermission.NotFound",
    );
    assert.deepEqual(
      emu.state.group(group.id).rules.filter((r) => !r.egress).map((r) => r.id),
      [first.id, second.id],
    );

    const byPermission = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("1.2.3.4/32", "5.6.7.8/32")] }));
    assert.deepEqual(byPermission.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId), [first.id, second.id]);
    assert.equal(byPermission.UnknownIpPermissions, undefined);
    assert.deepEqual(emu.state.group(group.id).rules.filter((r) => !r.egress), []);
  }));

test("in the default VPC, revoke removes what matches and lists the rest as UnknownIpPermissions", () =>
  withEmulator({}, async ({ emu, ec2 }) => {
    const group = emu.seed.securityGroup({ name: "legacy", ingress: [{ port: 22, source: "1.2.3.4/32" }] });
    assert.equal(emu.state.vpc(group.vpcId).isDefault, true);
    const out = await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupName: "legacy", IpPermissions: [ssh("1.2.3.4/32", "9.9.9.9/32"), { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }),
    );
    assert.equal(out.Return, true);
    assert.deepEqual(out.RevokedSecurityGroupRules?.map((r) => r.CidrIpv4), ["1.2.3.4/32"]);
    assert.deepEqual(out.UnknownIpPermissions, [
      { IpProtocol: "tcp", FromPort: 22, ToPort: 22, UserIdGroupPairs: [], IpRanges: [{ CidrIp: "9.9.9.9/32" }], Ipv6Ranges: [], PrefixListIds: [] },
      { IpProtocol: "udp", FromPort: 53, ToPort: 53, UserIdGroupPairs: [], IpRanges: [{ CidrIp: "0.0.0.0/0" }], Ipv6Ranges: [], PrefixListIds: [] },
    ]);
  }));

test("a group attached to an interface or referenced by another group's rule cannot be deleted", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const attached = emu.seed.securityGroup({ name: "attached" });
    emu.seed.instance({ groupIds: [attached.id] });
    await failsWith(ec2Once.send(new DeleteSecurityGroupCommand({ GroupId: attached.id })), "DependencyViolation", new RegExp(`resource ${attached.id} has a dependent object`));

    const referenced = emu.seed.securityGroup({ name: "referenced", ingress: [{ protocol: -1, source: "10.0.0.0/8" }] });
    const referrer = emu.seed.securityGroup({ name: "referrer", ingress: [{ port: 443, source: referenced.id }] });
    await failsWith(ec2Once.send(new DeleteSecurityGroupCommand({ GroupId: referenced.id })), "DependencyViolation");

    // A group's reference to itself does not hold it.
    emu.seed.rules(referrer.id, [{ port: 8080, source: referrer.id }]);
    const out = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: referrer.id }));
    assert.deepEqual([out.Return, out.GroupId], [true, referrer.id]);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: referenced.id }));
    await failsWith(ec2Once.send(new DeleteSecurityGroupCommand({ GroupId: referenced.id })), "InvalidGroup.NotFound");
  }));

test("rule tags: CreateTags and DeleteTags on sgr- ids, and tag filters", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "1.2.3.4/32" }, { port: 22, source: "5.6.7.8/32" }] });
    const [a, b] = emu.state.group(group.id).rules.filter((r) => !r.egress);
    await ec2.send(new CreateTagsCommand({ Resources: [a.id, b.id, group.id], Tags: [{ Key: "jit:expires", Value: "2026-01-01T10:00:00Z" }, { Key: "owner", Value: "" }] }));
    await ec2.send(new DeleteTagsCommand({ Resources: [b.id], Tags: [{ Key: "jit:expires" }, { Key: "owner", Value: "someone" }] }));

    const rules = async (filter: { Name: string; Values: string[] }) =>
      (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [filter] }))).SecurityGroupRules?.map((r) => r.SecurityGroupRuleId);
    assert.deepEqual(await rules({ Name: "tag:jit:expires", Values: ["2026-*"] }), [a.id]);
    assert.deepEqual(await rules({ Name: "tag-key", Values: ["owner"] }), [a.id, b.id], "a value that does not match leaves the tag");
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:jit:expires", Values: ["*"] }] }));
    assert.deepEqual(groups.SecurityGroups?.map((g) => g.GroupId), [group.id]);

    await failsWith(ec2Once.send(new CreateTagsCommand({ Resources: [a.id, "sgr-00000000000000000"], Tags: [{ Key: "x", Value: "y" }] })), "InvalidSecurityGroupRuleId.NotFound");
    assert.equal(emu.state.rule(a.id).tags.has("x"), false, "a failed CreateTags tags nothing");
    await failsWith(ec2Once.send(new CreateTagsCommand({ Resources: [a.id], Tags: [{ Key: "aws:reserved", Value: "y" }] })), "InvalidParameterValue");
    await failsWith(
      ec2Once.send(new CreateTagsCommand({ Resources: [a.id], Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: "v" })) })),
      "TagLimitExceeded",
    );
    await failsWith(ec2Once.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })), "InvalidParameterValue");
  }));

test("describes filter by rule contents and page with MaxResults and NextToken", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const open = emu.seed.securityGroup({ name: "open-ssh", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
    emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 80, toPort: 443, source: "0.0.0.0/0" }] });
    for (let i = 0; i < 10; i++) emu.seed.securityGroup({ name: `extra-${i}` });

    const filtered = await ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.from-port", Values: ["22"] }, { Name: "ip-permission.cidr", Values: ["0.0.0.0/0"] }] }),
    );
    assert.deepEqual(filtered.SecurityGroups?.map((g) => g.GroupId), [open.id]);

    const names: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken }));
      names.push(...(page.SecurityGroups ?? []).map((g) => g.GroupName ?? ""));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken);
    assert.equal(pages, 3);
    assert.equal(names.length, 13, "the default group, two seeded, ten extra");
    assert.equal(new Set(names).size, 13);

    const rulePage = await ec2.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 5 }));
    assert.equal(rulePage.SecurityGroupRules?.length, 5);
    assert.ok(rulePage.NextToken);
    await failsWith(ec2Once.send(new DescribeSecurityGroupsCommand({ MaxResults: 4 })), "InvalidParameterValue");
    await failsWith(ec2Once.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, GroupIds: [open.id] })), "InvalidParameterCombination");
    await failsWith(ec2Once.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: rulePage.NextToken })), "InvalidPaginationToken");
    await failsWith(ec2Once.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-00000000000000000"] })), "InvalidGroup.NotFound");
  }));

test("a prefix-list rule counts as the list's maximum entries, an AWS-managed list's as its weight; an unknown list is refused", () =>
  withEmulator({ limits: { rulesPerGroup: 60 } }, async ({ emu, ec2, ec2Once }) => {
    const office = emu.seed.prefixList({ name: "office", maxEntries: 30, entries: ["198.51.100.0/24"] });
    const cloudfront = emu.seed.prefixList({ name: "com.amazonaws.global.cloudfront.origin-facing", maxEntries: 100, awsManaged: { weight: 55 } });
    const group = emu.seed.securityGroup({ name: "web" });
    const from = (id: string, port: number): IpPermission => ({ IpProtocol: "tcp", FromPort: port, ToPort: port, PrefixListIds: [{ PrefixListId: id }] });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [from(office.id, 22)] }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [from(office.id, 80)] }));
    // 30 + 30 = 60 already: one more CIDR rule is over the quota, though only two rules exist.
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [ssh("10.0.0.0/8")] })), "RulesPerSecurityGroupLimitExceeded");
    const other = emu.seed.securityGroup({ name: "cdn" });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: other.id, IpPermissions: [from(cloudfront.id, 443)] }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: other.id, IpPermissions: [ssh(...Array.from({ length: 5 }, (_, i) => `10.0.${i}.0/24`))] }));
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: other.id, IpPermissions: [ssh("10.9.0.0/16")] })), "RulesPerSecurityGroupLimitExceeded");
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: other.id, IpPermissions: [from("pl-0123456789abcdef0", 22)] })), "InvalidPrefixListID.NotFound");

    const { PrefixLists = [] } = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: "owner-id", Values: ["AWS"] }] }));
    assert.deepEqual(PrefixLists.map((l) => [l.PrefixListId, l.PrefixListName, l.MaxEntries, l.OwnerId]), [[cloudfront.id, cloudfront.name, 100, "AWS"]]);
    const mine = (await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [office.id] }))).PrefixLists ?? [];
    assert.deepEqual(mine.map((l) => [l.MaxEntries, l.OwnerId, l.AddressFamily]), [[30, "123456789012", "IPv4"]]);
  }));

test("eventual consistency: a group just created is not found by the next lookups, then is", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    emu.state.consistency.newGroupLookups = 2;
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "fresh", Description: "d" }));
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [ssh("10.0.0.0/8")] })), "InvalidGroup.NotFound");
    const listed = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["fresh"] }] }))).SecurityGroups ?? [];
    assert.deepEqual(listed, [], "a describe right after the create does not list it yet");
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [ssh("10.0.0.0/8")] }));
    const seeded = emu.seed.securityGroup({ name: "seeded" });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: seeded.id, IpPermissions: [ssh("10.0.0.0/8")] }));
  }));

test("a description with & is accepted on CIDR sources but refused on group and prefix-list references, as the SDK model says", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const list = emu.seed.prefixList({ name: "office", maxEntries: 1 });
    const group = emu.seed.securityGroup({ name: "web" });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "R&D" }] }] }));
    for (const source of [{ PrefixListIds: [{ PrefixListId: list.id, Description: "R&D" }] }, { UserIdGroupPairs: [{ GroupId: group.id, Description: "R&D" }] }]) {
      await failsWith(ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, ...source }] })), "InvalidParameterValue", /rule description/);
    }
  }));

test("outbound rules: authorize and revoke egress by permission or rule id, apart from the inbound ones", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const vpc = emu.seed.vpc({ cidrBlock: "10.3.0.0/16" });
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "out", Description: "outbound", VpcId: vpc.id }));
    const https = (cidr: string): IpPermission => ({ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: cidr, Description: "api" }] });

    const added = await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: [https("10.0.0.0/8")] }));
    const [rule] = added.SecurityGroupRules ?? [];
    assert.deepEqual([rule.IsEgress, rule.IpProtocol, rule.FromPort, rule.CidrIpv4, rule.Description], [true, "tcp", 443, "10.0.0.0/8", "api"]);
    const [group] = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }))).SecurityGroups ?? [];
    assert.deepEqual(group.IpPermissions, [], "nothing inbound");
    assert.deepEqual(group.IpPermissionsEgress?.map((p) => [p.IpProtocol, p.FromPort, p.IpRanges?.[0].CidrIp]), [["-1", undefined, "0.0.0.0/0"], ["tcp", 443, "10.0.0.0/8"]]);
    await failsWith(ec2Once.send(new AuthorizeSecurityGroupEgressCommand({ GroupId, IpPermissions: [https("10.0.0.0/8")] })), "InvalidPermission.Duplicate");

    // An outbound rule is not an inbound one: neither its id nor its permission revokes it as ingress.
    await failsWith(ec2Once.send(new RevokeSecurityGroupIngressCommand({ GroupId, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] })), "InvalidSecurityGroupRuleId.NotFound");
    await failsWith(ec2Once.send(new RevokeSecurityGroupIngressCommand({ GroupId, IpPermissions: [https("10.0.0.0/8")] })), "InvalidPermission.NotFound");

    const byId = await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] }));
    assert.deepEqual(byId.RevokedSecurityGroupRules?.map((r) => [r.SecurityGroupRuleId, r.IsEgress]), [[rule.SecurityGroupRuleId, true]]);
    // The allow-all rule every group starts with goes the same way, by its permission.
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }));
    assert.deepEqual(emu.state.group(GroupId!).rules, []);
    const flat = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [GroupId!] }] }));
    assert.deepEqual(flat.SecurityGroupRules, []);
  }));

test("a prefix list's entries are listed, a page at a time", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const cidrs = Array.from({ length: 7 }, (_, i) => `198.51.${i}.0/24`);
    const office = emu.seed.prefixList({ name: "office", maxEntries: 10, entries: cidrs });
    const all = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: office.id }));
    assert.deepEqual(all.Entries?.map((e) => e.Cidr), cidrs);
    const first = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: office.id, MaxResults: 5 }));
    const rest = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: office.id, MaxResults: 5, NextToken: first.NextToken }));
    assert.deepEqual([...(first.Entries ?? []), ...(rest.Entries ?? [])].map((e) => e.Cidr), cidrs);
    assert.equal(rest.NextToken, undefined);
    await failsWith(ec2Once.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: "pl-0123456789abcdef0" })), "InvalidPrefixListID.NotFound");
  }));
