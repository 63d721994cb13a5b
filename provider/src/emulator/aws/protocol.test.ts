import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsEmulator } from "./index";
import { failsWith, withEmulator } from "./testing/harness";

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("EC2, STS and IAM share one endpoint; every answer carries its request id", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once, sts, iam }) => {
    const vpcs = await ec2.send(new DescribeVpcsCommand({}));
    assert.match(vpcs.$metadata.requestId ?? "", uuid);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.match(me.$metadata.requestId ?? "", uuid);
    const sim = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: me.Arn, ActionNames: ["ec2:DescribeVpcs"] }));
    assert.equal(sim.EvaluationResults?.[0].EvalDecision, "allowed", "the default principal may do anything");

    const err = await failsWith(ec2Once.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })), "InvalidGroup.NotFound");
    assert.equal((err as unknown as { $fault: string }).$fault, "client");
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.match((err.$metadata as { requestId?: string }).requestId ?? "", uuid, "taken from the x-amzn-requestid header");
    assert.deepEqual(
      emu.calls.list().map((c) => c.operation),
      ["DescribeVpcs", "GetCallerIdentity", "SimulatePrincipalPolicy", "DescribeSecurityGroups"],
    );
  }));

test("credentials nobody was given, and clients of another region, are refused in each service's own way", () =>
  withEmulator({}, async ({ emu }) => {
    const unknown = { ...emu.clientConfig, credentials: { accessKeyId: "AKIAUNKNOWNUNKNOWNXX", secretAccessKey: "x" }, maxAttempts: 1 };
    const elsewhere = { ...emu.clientConfig, region: "eu-west-1", maxAttempts: 1 };
    const clients = [new EC2Client(unknown), new STSClient(unknown), new EC2Client(elsewhere), new STSClient(elsewhere)] as const;
    try {
      const e = await failsWith(clients[0].send(new DescribeVpcsCommand({})), "AuthFailure", /not able to validate the provided access credentials/);
      assert.equal(e.$metadata.httpStatusCode, 401);
      await failsWith(clients[1].send(new GetCallerIdentityCommand({})), "InvalidClientTokenId");
      await failsWith(clients[2].send(new DescribeVpcsCommand({})), "AuthFailure", /scoped to a valid region, not 'eu-west-1'/);
      await failsWith(clients[3].send(new GetCallerIdentityCommand({})), "SignatureDoesNotMatch");
      assert.deepEqual(emu.calls.list().map((c) => c.principal), [undefined, undefined, "admin", "admin"]);
    } finally {
      for (const client of clients) client.destroy();
    }
  }));

function snapshot(emu: AwsEmulator): string {
  const s = emu.state;
  return JSON.stringify({
    groups: [...s.groups.values()].map((g) => [g.id, g.rules.map((r) => [r.id, [...r.tags]]), [...g.tags]]),
    enis: [...s.networkInterfaces.values()].map((n) => [n.id, n.groupIds]),
    instances: [...s.instances.values()].map((i) => [i.id, i.state]),
  });
}

test("DryRun on each mutating action answers DryRunOperation (412) and changes nothing", () =>
  withEmulator({}, async ({ emu, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "1.2.3.4/32" }], tags: { a: "b" } });
    const instance = emu.seed.instance({ groupIds: [group.id] });
    const rule = emu.state.group(group.id).rules.find((r) => !r.egress)!;
    const ssh = [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "5.6.7.8/32" }] }];
    const before = snapshot(emu);
    const mark = emu.calls.mark();
    const calls = [
      ec2Once.send(new CreateSecurityGroupCommand({ DryRun: true, GroupName: "new", Description: "d" })),
      ec2Once.send(new DeleteSecurityGroupCommand({ DryRun: true, GroupId: group.id })),
      ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ DryRun: true, GroupId: group.id, IpPermissions: ssh })),
      ec2Once.send(new RevokeSecurityGroupIngressCommand({ DryRun: true, GroupId: group.id, SecurityGroupRuleIds: [rule.id] })),
      ec2Once.send(new ModifyNetworkInterfaceAttributeCommand({ DryRun: true, NetworkInterfaceId: instance.networkInterfaceIds[0], Groups: [emu.state.defaultGroup(group.vpcId).id] })),
      ec2Once.send(new ModifyInstanceAttributeCommand({ DryRun: true, InstanceId: instance.id, Groups: [emu.state.defaultGroup(group.vpcId).id] })),
      ec2Once.send(new CreateTagsCommand({ DryRun: true, Resources: [rule.id], Tags: [{ Key: "k", Value: "v" }] })),
      ec2Once.send(new DeleteTagsCommand({ DryRun: true, Resources: [group.id] })),
      ec2Once.send(new RunInstancesCommand({ DryRun: true, ImageId: "ami-abc12345", MinCount: 1, MaxCount: 1 })),
      ec2Once.send(new TerminateInstancesCommand({ DryRun: true, InstanceIds: [instance.id] })),
      ec2Once.send(new CreateNetworkInterfaceCommand({ DryRun: true, SubnetId: emu.state.networkInterface(instance.networkInterfaceIds[0]).subnetId })),
      ec2Once.send(
        new ModifySecurityGroupRulesCommand({ DryRun: true, GroupId: group.id, SecurityGroupRules: [{ SecurityGroupRuleId: rule.id, SecurityGroupRule: { IpProtocol: "tcp", FromPort: 23, ToPort: 23, CidrIpv4: "1.2.3.4/32" } }] }),
      ),
    ];
    for (const call of calls) {
      const e = await failsWith(call, "DryRunOperation", /Request would have succeeded, but DryRun flag is set/);
      assert.equal(e.$metadata.httpStatusCode, 412);
    }
    assert.equal(snapshot(emu), before);
    emu.calls.expect({ since: mark, write: true }, calls.length, "dry runs are still calls, and count as writes");
  }));

test("throttling: 503 RequestLimitExceeded surfaces with one attempt and is retried by the SDK's default strategy", () =>
  withEmulator({}, async ({ emu, ec2, ec2Once }) => {
    const throttled = { kind: "error" as const, status: 503, code: "RequestLimitExceeded" };
    emu.faults.inject({ operation: "DescribeInstances" }, throttled);
    const e = await failsWith(ec2Once.send(new DescribeInstancesCommand({})), "RequestLimitExceeded", /Request limit exceeded/);
    assert.equal(e.$metadata.httpStatusCode, 503);

    const mark = emu.calls.mark();
    emu.faults.inject({ operation: "DescribeInstances" }, throttled);
    const out = await ec2.send(new DescribeInstancesCommand({}));
    assert.equal(out.$metadata.attempts, 2);
    emu.calls.expect({ since: mark, operation: "DescribeInstances" }, 2, "one throttled attempt, one retry");
    emu.calls.expect({ since: mark, operation: "DescribeInstances", faulted: true }, 1);
  }));

test("the token bucket throttles each action on its own", () =>
  withEmulator({ throttle: { capacity: 2, refillPerSecond: 0 } }, async ({ emu, ec2Once }) => {
    await ec2Once.send(new DescribeVpcsCommand({}));
    await ec2Once.send(new DescribeVpcsCommand({}));
    const e = await failsWith(ec2Once.send(new DescribeVpcsCommand({})), "RequestLimitExceeded");
    assert.equal(e.$metadata.httpStatusCode, 503);
    await ec2Once.send(new DescribeInstancesCommand({}));
    emu.calls.expect({ faulted: true }, 0, "the bucket throttles, not the fault injector");
  }));

test("the token bucket refills, and the SDK's standard retries get through", () =>
  withEmulator({ throttle: { capacity: 1, refillPerSecond: 5 } }, async ({ emu }) => {
    // Back-to-back calls find the bucket empty; a token comes back every 200 ms, and the standard
    // strategy's randomised back-off (up to 1 s, then 2 s, ...) gets there within a few attempts.
    const ec2 = new EC2Client({ ...emu.clientConfig, maxAttempts: 6 });
    try {
      await ec2.send(new DescribeVpcsCommand({}));
      const second = await ec2.send(new DescribeVpcsCommand({}));
      assert.ok((second.$metadata.attempts ?? 1) > 1, "the second call was throttled first");
      const statuses = emu.calls.list({ operation: "DescribeVpcs" }).map((c) => c.status);
      assert.deepEqual([statuses[0], statuses[1], statuses.at(-1)], [200, 503, 200]);
    } finally {
      ec2.destroy();
    }
  }));

test("faults on STS and IAM come back in their own error format", () =>
  withEmulator({}, async ({ emu, sts, as }) => {
    emu.faults.inject({ operation: "SimulatePrincipalPolicy" }, { kind: "error", status: 400, code: "Throttling" });
    await failsWith(as("admin").iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: "arn:aws:iam::123456789012:user/admin", ActionNames: ["ec2:DescribeVpcs"] })), "Throttling");
    emu.faults.inject({ operation: "GetCallerIdentity" }, { kind: "error", status: 500, code: "InternalFailure" });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.$metadata.attempts, 2);
    assert.equal(emu.faults.injected, 2);
  }));

test("a connection dropped after the change was applied leaves the change in place", () =>
  withEmulator({}, async ({ emu, ec2Once }) => {
    const group = emu.seed.securityGroup({ name: "web" });
    const authorize = () =>
      ec2Once.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "1.2.3.4/32" }] }] }));
    emu.faults.inject({ operation: "AuthorizeSecurityGroupIngress" }, { kind: "drop", after: "after-apply" });
    await assert.rejects(authorize());
    assert.equal(emu.state.group(group.id).rules.filter((r) => !r.egress).length, 1);
    await failsWith(authorize(), "InvalidPermission.Duplicate");
  }));

test("the call log counts API calls (seeding and state reads are not calls) with principal and write flag", () =>
  // Who may do what is authorize.test.ts's subject; here alice and bob only sign.
  withEmulator({ principals: [{ name: "alice" }, { name: "bob" }], enforceIam: false }, async ({ emu, as }) => {
    const group = emu.seed.securityGroup({ name: "web" });
    assert.equal(emu.state.groups.size, 2);
    emu.calls.expect({}, 0, "seeding is not an API call");

    await as("alice").ec2.send(new DescribeSecurityGroupsCommand({}));
    await as("bob").ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group.id, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "1.2.3.4/32" }] }] }));
    await failsWith(as("bob").ec2.send(new DeleteSecurityGroupCommand({ GroupId: emu.state.defaultGroup(group.vpcId).id })), "CannotDelete");

    emu.calls.expect({ write: true }, 2);
    emu.calls.expect({ operation: "AuthorizeSecurityGroupIngress", write: true }, 1);
    assert.deepEqual(
      emu.calls.list().map((c) => [c.operation, c.principal, c.write, c.status]),
      [
        ["DescribeSecurityGroups", "alice", false, 200],
        ["AuthorizeSecurityGroupIngress", "bob", true, 200],
        ["DeleteSecurityGroup", "bob", true, 400],
      ],
    );
  }));

test("resource ids are drawn from the seeded generator, so a run replays", async () => {
  const ids = async (randomSeed: number) => {
    let out: string[] = [];
    await withEmulator({ randomSeed }, async ({ emu }) => {
      const instance = emu.seed.instance({ groupIds: [emu.seed.securityGroup({ name: "g" }).id] });
      out = [instance.id, ...instance.networkInterfaceIds, ...emu.state.groups.keys()];
    });
    return out;
  };
  assert.deepEqual(await ids(7), await ids(7));
  assert.notDeepEqual(await ids(7), await ids(8));
});
