import { test } from "node:test";
import assert from "node:assert/strict";
import { planSgGrantIngress } from "./grant";
import { GRANT_GROUP_ROLE, TAG_INSTANCE, TAG_ROLE } from "./tags";
import { grantGroupStamp, planSgOrphanSweep } from "./orphans";
import type { SecurityGroupRule } from "./types";

const NOW = new Date("2030-01-01T12:00:00Z");
const hours = (h: number) => new Date(NOW.getTime() + h * 3_600_000);

function ruleOf(id: string, groupId: string, grantId: string, expiresAt: Date): SecurityGroupRule {
  const [{ tags }] = planSgGrantIngress({ grantId, policy: "web", instanceId: "i-1", ports: [{ number: 22, protocol: "TCP", source: "203.0.113.7", expiresAt }] });
  return { SecurityGroupRuleId: id, GroupId: groupId, IsEgress: false, IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "203.0.113.7/32", Tags: tags };
}

function groupOf(id: string, grantId: string, expiresAt: Date) {
  return { GroupId: id, GroupName: `jit-i-1-${grantId}`, Tags: [{ Key: TAG_INSTANCE, Value: "i-1" }, { Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }, ...grantGroupStamp(grantId, "web", expiresAt)] };
}

test("expired rules and rules of ended grants go; unknown unexpired ones stay, and so does their group", () => {
  const states: Record<string, "live" | "ended" | "unknown"> = { aaaa: "live", bbbb: "ended", cccc: "unknown" };
  const plan = planSgOrphanSweep({
    groups: [groupOf("sg-a", "aaaa", hours(1)), groupOf("sg-b", "bbbb", hours(1)), groupOf("sg-c", "cccc", hours(-1))],
    rules: [
      ruleOf("sgr-1", "sg-a", "aaaa", hours(-1)),
      ruleOf("sgr-2", "sg-a", "aaaa", hours(1)),
      ruleOf("sgr-3", "sg-b", "bbbb", hours(1)),
      ruleOf("sgr-4", "sg-c", "cccc", hours(1)),
      { SecurityGroupRuleId: "sgr-5", GroupId: "sg-a", IsEgress: true, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" },
    ],
    now: NOW,
    grantState: (id) => states[id] ?? "unknown",
  });
  assert.deepEqual(plan.revoke, [{ groupId: "sg-a", ruleIds: ["sgr-1"] }, { groupId: "sg-b", ruleIds: ["sgr-3"] }]);
  assert.deepEqual(plan.deleteGroups, ["sg-b"], "sg-a still holds a live rule, sg-c an unknown unexpired one");
  assert.deepEqual(plan.orphans.map((o) => [o.name, o.why]), [["sgr-1", "expired"], ["sgr-3", "ended"], ["jit-i-1-bbbb", "ended"]]);
});

test("an empty group is kept while its stamp is live, and an unstamped one always", () => {
  const plan = planSgOrphanSweep({
    groups: [groupOf("sg-new", "dddd", hours(1)), { GroupId: "sg-x", GroupName: "x", Tags: [{ Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }] }, groupOf("sg-old", "eeee", hours(-2))],
    rules: [],
    now: NOW,
    grantState: () => "unknown",
  });
  assert.deepEqual(plan.deleteGroups, ["sg-old"]);
});

test("a rule in a grant group that no grant made goes: untagged, or stamped further ahead than a grant may last", () => {
  const untagged: SecurityGroupRule = { SecurityGroupRuleId: "sgr-open", GroupId: "sg-j", IsEgress: false, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" };
  const plan = planSgOrphanSweep({
    groups: [{ GroupId: "sg-j", GroupName: "jit-i-1", Tags: [{ Key: TAG_INSTANCE, Value: "i-1" }, { Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }] }],
    rules: [untagged, ruleOf("sgr-far", "sg-j", "ffff", hours(24 * 365)), ruleOf("sgr-day", "sg-j", "gggg", hours(24)), ruleOf("sgr-live", "sg-j", "aaaa", hours(2))],
    now: NOW,
    grantState: (id) => (id === "aaaa" ? "live" : "unknown"),
  });
  assert.deepEqual(plan.revoke, [{ groupId: "sg-j", ruleIds: ["sgr-open", "sgr-far"] }]);
  assert.deepEqual(
    plan.orphans.map((o) => [o.name, o.why, o.grantId, o.detail]),
    [
      ["sgr-open", "not a grant's", undefined, "it carries no grant's tags"],
      ["sgr-far", "not a grant's", undefined, "its stamped expiry 2031-01-01T12:00:00.000Z is further ahead than any grant may last"],
    ],
  );
  assert.deepEqual(plan.deleteGroups, [], "a JIT group carries no stamp: its baseline owns it");
});
