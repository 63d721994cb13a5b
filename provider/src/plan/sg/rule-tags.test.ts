import { test } from "node:test";
import assert from "node:assert/strict";
import { planSgBaseline, planSgRestore } from "./baseline";
import { preserveRuleTags, sgRuleKeys } from "./rule-tags";
import type { SecurityGroup } from "./types";

const wide = { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "office" }] };
const group: SecurityGroup = { GroupId: "sg-1", IpPermissions: [wide] };
const owner = [{ Key: "owner", Value: "net-team" }];

test("rule keys ignore the description and name each source", () => {
  assert.deepEqual(sgRuleKeys(wide), sgRuleKeys({ ...wide, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }));
  assert.equal(sgRuleKeys({ IpProtocol: "6", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "1.2.3.4/32" }], Ipv6Ranges: [{ CidrIpv6: "::/0" }] }).length, 2);
  assert.notDeepEqual(sgRuleKeys(wide), sgRuleKeys({ ...wide, ToPort: 100 }));
});

test("pieces of a split rule get its tags beside the split tags, and a rule put back gets its own", () => {
  const plan = planSgBaseline({ policy: "web", groups: [group], ports: [{ number: 22, protocol: "TCP" }] });
  const [change] = plan.changes;
  const batches = preserveRuleTags(change.authorize, [{ permission: wide, tags: owner }]);
  assert.equal(batches.length, 1);
  assert.deepEqual(
    batches[0].tags.map((t) => t.Key),
    ["owner", "pulumi-jit:policy", "pulumi-jit:role"],
  );
  assert.deepEqual(batches[0].permissions.map((p) => [p.FromPort, p.ToPort, p.IpRanges?.[0].Description]), [[0, 21, "office"], [23, 65535, "office"]]);

  const after: SecurityGroup = { GroupId: "sg-1", IpPermissions: batches[0].permissions };
  const restore = planSgRestore({ policy: "web", groups: [after], records: plan.records });
  const back = preserveRuleTags(restore.changes[0].authorize, [{ permission: wide, tags: owner }]);
  assert.deepEqual(back, [{ permissions: [wide], tags: owner }]);
});

test("rules with different tags go in different batches; the batch's own tag wins a clash", () => {
  const other = { IpProtocol: "-1", IpRanges: [{ CidrIp: "192.168.0.0/16" }] };
  const plan = planSgBaseline({ policy: "web", groups: [{ GroupId: "sg-1", IpPermissions: [wide, other] }], ports: [{ number: 22, protocol: "TCP" }] });
  const batches = preserveRuleTags(plan.changes[0].authorize, [
    { permission: wide, tags: owner },
    { permission: other, tags: [{ Key: "pulumi-jit:role", Value: "theirs" }] },
  ]);
  assert.equal(batches.length, 2);
  const [first, second] = batches;
  assert.ok(first.permissions.every((p) => p.IpRanges?.[0].CidrIp === "10.0.0.0/8"));
  assert.ok(second.permissions.every((p) => p.IpRanges?.[0].CidrIp === "192.168.0.0/16"));
  assert.deepEqual(second.tags.find((t) => t.Key === "pulumi-jit:role")?.Value, "baseline-split");
  assert.equal(second.tags.filter((t) => t.Key === "pulumi-jit:role").length, 1);
});

test("tags carried over never include reserved aws: keys, nor more than EC2's fifty per rule", () => {
  const wide = { IpProtocol: "tcp", FromPort: 0, ToPort: 65535, IpRanges: [{ CidrIp: "10.0.0.0/8" }] };
  const many = [{ Key: "aws:cloudformation:stack-name", Value: "s" }, ...Array.from({ length: 55 }, (_, i) => ({ Key: `k${i}`, Value: "v" }))];
  const piece = { IpProtocol: "tcp", FromPort: 0, ToPort: 21, IpRanges: [{ CidrIp: "10.0.0.0/8" }] };
  const [batch] = preserveRuleTags([{ permissions: [piece], tags: [{ Key: "pulumi-jit:role", Value: "baseline-split" }] }], [{ permission: wide, tags: many }]);
  assert.equal(batch.tags.length, 50);
  assert.ok(!batch.tags.some((t) => t.Key?.startsWith("aws:")));
  assert.deepEqual(batch.tags.at(-1), { Key: "pulumi-jit:role", Value: "baseline-split" }, "the batch's own tags are kept first");
});
