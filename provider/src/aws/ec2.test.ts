import { test } from "node:test";
import assert from "node:assert/strict";
import { startAwsEmulator } from "../emulator/aws";
import { JitError } from "../model";
import { AwsClients } from "./clients";

test("describes follow every page and split long filter lists; errors keep the call and the AWS error name", async () => {
  const emu = await startAwsEmulator({ randomSeed: 3 });
  const clients = new AwsClients({ ...emu.clientConfig, maxAttempts: 1, pageSize: 5 });
  try {
    const ec2 = await clients.ec2(emu.region);
    const made = Array.from({ length: 12 }, (_, i) => emu.seed.securityGroup({ name: `g${i}`, ingress: [{ port: 22, source: `10.${i}.0.0/16` }] }).id);
    const ids = [...made, ...Array.from({ length: 240 }, (_, i) => `sg-${i.toString(16).padStart(17, "0")}`)];

    let mark = emu.calls.mark();
    const groups = await ec2.groups("group-id", ids);
    assert.deepEqual(groups.map((g) => g.GroupId).sort(), [...made].sort(), "unknown ids are simply absent");
    assert.deepEqual(emu.calls.list({ since: mark }).map((c) => c.operation), Array(4).fill("DescribeSecurityGroups"), "200 values per call: 12 found in three pages of 5, then a page for the other 52");

    mark = emu.calls.mark();
    assert.equal((await ec2.rules(made)).filter((r) => !r.IsEgress).length, 12);
    emu.calls.expect({ since: mark }, 5, "24 rules (ingress and egress) in pages of five");

    emu.faults.inject({ operation: "DescribeInstances" }, { kind: "error", status: 403, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." });
    await assert.rejects(ec2.instances(["i-0123456789abcdef0"]), (e: unknown) => {
      assert.ok(e instanceof JitError);
      assert.equal(e.code, "CloudError");
      assert.match(e.message, /^DescribeInstances in us-east-1 failed: UnauthorizedOperation: You are not authorized/);
      assert.equal((e.cause as Error).name, "UnauthorizedOperation");
      return true;
    });
    emu.faults.inject({ operation: "AuthorizeSecurityGroupIngress" }, { kind: "error", status: 400, code: "RulesPerSecurityGroupLimitExceeded" });
    await assert.rejects(ec2.authorize(made[0], [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: "1.2.3.4/32" }] }], []), (e: unknown) => e instanceof JitError && e.code === "CapacityExceeded");
  } finally {
    await clients.destroy();
    await emu.close();
  }
});

test("recentInstances serves reads made at most maxAgeMs ago, and reads the rest; an instance not found is read again", async () => {
  const emu = await startAwsEmulator({ randomSeed: 4 });
  const clients = new AwsClients({ ...emu.clientConfig, maxAttempts: 1 });
  try {
    const ec2 = await clients.ec2(emu.region);
    const group = emu.seed.securityGroup({ name: "web", ingress: [] }).id;
    const [a, b] = [emu.seed.instance({ groupIds: [group] }).id, emu.seed.instance({ groupIds: [group] }).id];
    const missing = "i-0000000000000dead";
    await ec2.instanceTags([a, missing]);

    let mark = emu.calls.mark();
    assert.deepEqual((await ec2.recentInstances([a], 60_000)).map((i) => i.instanceId), [a]);
    emu.calls.expect({ since: mark }, 0, "read by instanceTags a moment ago");

    mark = emu.calls.mark();
    assert.deepEqual((await ec2.recentInstances([a, b, missing], 60_000)).map((i) => i.instanceId), [a, b]);
    assert.deepEqual(emu.calls.list({ since: mark }).map((c) => c.operation), ["DescribeInstances"], "b and the missing one read, a not");

    await new Promise((r) => setTimeout(r, 20));
    mark = emu.calls.mark();
    await ec2.recentInstances([a], 10);
    emu.calls.expect({ since: mark }, 1, "older than maxAgeMs: read again");
  } finally {
    await clients.destroy();
    await emu.close();
  }
});
