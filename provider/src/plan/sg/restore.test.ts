import { test } from "node:test";
import assert from "node:assert/strict";
import { planSgGrantIngress } from "./grant";
import { emptiedGroups, planSgGrantRestore, type RecordedSgRule } from "./restore";
import type { SecurityGroupRule } from "./types";

const AT = new Date("2030-01-01T12:00:00Z");
const tags = (grantId: string) => planSgGrantIngress({ grantId, policy: "web", instanceId: "i-1", ports: [{ number: 22, protocol: "TCP", source: "8.8.8.8", expiresAt: AT }] })[0].tags;
const ssh = (cidr: string) => ({ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] });
const rule = (id: string, groupId: string, cidr: string, grantId?: string, port = 22): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: groupId,
  IsEgress: false,
  IpProtocol: "tcp",
  FromPort: port,
  ToPort: port,
  CidrIpv4: cidr,
  ...(grantId ? { Tags: tags(grantId) } : {}),
});

test("a restore revokes the recorded rules by id, one call per group, and only while they are still the grant's", () => {
  const open: RecordedSgRule[] = [
    { groupId: "sg-j", ruleIds: ["sgr-1"], permission: ssh("8.8.8.8/32") },
    { groupId: "sg-j", ruleIds: ["sgr-2"], permission: ssh("8.8.4.4/32") },
    { groupId: "sg-g", ruleIds: ["sgr-3"], permission: ssh("1.1.1.1/32") },
    { groupId: "sg-j", ruleIds: ["sgr-9"], permission: ssh("9.9.9.9/32") },
  ];
  const rules = [
    rule("sgr-1", "sg-j", "8.8.8.8/32", "g1"),
    rule("sgr-2", "sg-j", "8.8.4.4/32", "g1"),
    rule("sgr-3", "sg-g", "1.1.1.1/32"), // its tags were removed: somebody's edit
    rule("sgr-7", "sg-j", "7.7.7.7/32", "g1"), // tagged as ours, never recorded
    rule("sgr-8", "sg-j", "8.8.8.8/32", "g2"),
  ];
  const plan = planSgGrantRestore({ grantId: "g1", open, recordedIds: new Set(["sgr-1", "sgr-2", "sgr-3", "sgr-9"]), rules });
  assert.deepEqual(plan.revoke, [{ groupId: "sg-j", ruleIds: ["sgr-1", "sgr-2"] }]);
  assert.deepEqual(plan.found.map((f) => f.ruleIds), [["sgr-1"], ["sgr-2"], [], []]);
  assert.deepEqual(plan.mismatches, [
    "rule sgr-3 in sg-g was changed since the grant made it; left in place",
    "rule sgr-7 in sg-j is tagged as this grant's but is not in its record; left for sweep at its stamped expiry",
  ]);
  assert.deepEqual(emptiedGroups(["sg-j", "sg-g"], rules, plan.revoke), [], "sg-j keeps other rules, sg-g the edited one");
  assert.deepEqual(emptiedGroups(["sg-j"], rules.slice(0, 2), plan.revoke), ["sg-j"]);
});

test("an intent whose answer was lost is found by its grant tag and permission in the recorded group", () => {
  const open: RecordedSgRule[] = [{ groupId: "sg-j", ruleIds: [], permission: ssh("8.8.8.8/32") }];
  const rules = [rule("sgr-1", "sg-j", "8.8.8.8/32", "g1"), rule("sgr-2", "sg-other", "8.8.8.8/32", "g1"), rule("sgr-3", "sg-j", "8.8.8.8/32", "g1", 23)];
  const plan = planSgGrantRestore({ grantId: "g1", open, recordedIds: new Set(), rules });
  assert.deepEqual(plan.revoke, [{ groupId: "sg-j", ruleIds: ["sgr-1"] }]);
});
