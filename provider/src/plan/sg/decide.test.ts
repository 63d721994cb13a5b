import { test } from "node:test";
import assert from "node:assert/strict";
import { adoptStrays, decideGroup, tagsIn, untrackedOpenings, type SgSurvey } from "./decide";
import { planSgGrantIngress } from "./grant";
import { BASELINE_SPLIT_ROLE, GRANT_GROUP_ROLE, TAG_POLICY, TAG_ROLE } from "./tags";
import type { SecurityGroup, SecurityGroupRule } from "./types";

const SSH = [{ number: 22, protocol: "TCP" as const }];
const grantTags = planSgGrantIngress({ grantId: "g1", policy: "web", instanceId: "i-1", ports: [{ number: 22, protocol: "TCP", source: "203.0.113.7", expiresAt: new Date("2030-01-01T01:00:00Z") }] })[0].tags;

function rule(id: string, groupId: string, cidr: string, from: number, to: number, tags?: SecurityGroupRule["Tags"], description?: string): SecurityGroupRule {
  return { SecurityGroupRuleId: id, GroupId: groupId, IsEgress: false, IpProtocol: "tcp", FromPort: from, ToPort: to, CidrIpv4: cidr, ...(tags ? { Tags: tags } : {}), ...(description ? { Description: description } : {}) };
}

function surveyOf(groups: Array<{ group: SecurityGroup; rules: SecurityGroupRule[] }>, wearers: Record<string, string[]>, jitGroups: string[] = []): SgSurvey {
  const iface = (instanceId: string, groupIds: string[]) => ({ networkInterfaceId: `eni-${instanceId}`, vpcId: "vpc-1", groupIds, instanceId });
  const byInstance = new Map<string, string[]>();
  for (const [groupId, instances] of Object.entries(wearers)) for (const i of instances) byInstance.set(i, [...(byInstance.get(i) ?? []), groupId]);
  return {
    region: "us-east-1",
    instances: new Map([...byInstance].map(([id, g]) => [id, { instanceId: id, state: "running", interfaces: [iface(id, g)] }])),
    groups: new Map(groups.map((g) => [g.group.GroupId ?? "", { ...g.group, IpPermissions: g.rules.map((r) => ({ IpProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, IpRanges: [{ CidrIp: r.CidrIpv4, ...(r.Description ? { Description: r.Description } : {}) }] })) }])),
    rules: new Map(groups.map((g) => [g.group.GroupId ?? "", g.rules])),
    wearers: new Map(Object.entries(wearers).map(([g, instances]) => [g, instances.map((i) => iface(i, byInstance.get(i) ?? []))])),
    jitGroups: new Set(jitGroups),
  };
}

const members = [{ instanceId: "i-1", ports: SSH }];

test("a group of the policy's instances is narrowed around their ports; one also worn outside is left alone unless allowed", () => {
  const s = surveyOf([{ group: { GroupId: "sg-web" }, rules: [rule("sgr-1", "sg-web", "0.0.0.0/0", 22, 22)] }], { "sg-web": ["i-1", "i-2"] });
  const alone = decideGroup(s, "sg-web", members, undefined, "web", false);
  assert.deepEqual([alone.leftAlone, alone.holdsGrants, alone.plan.changes.length, alone.outsiders.map((o) => o.instanceId)], [true, false, 0, ["i-2"]]);
  const allowed = decideGroup(s, "sg-web", members, undefined, "web", true);
  assert.deepEqual(allowed.plan.changes.map((c) => c.revoke.length), [1]);
  const removal = decideGroup(s, "sg-web", [], { groupId: "sg-web", revoked: [{ permission: { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }, tags: [] }], added: [] }, "web", false, "none");
  assert.deepEqual(removal.plan.changes.map((c) => c.authorize.flatMap((b) => b.permissions).length), [1], "no ports: the record's revoked rules go back");
});

test("the record's JIT group is never narrowed: grants' rules stay, a rule no grant made is revoked and reported", () => {
  const rules = [rule("sgr-g", "sg-jit", "203.0.113.7/32", 22, 22, grantTags), rule("sgr-x", "sg-jit", "0.0.0.0/0", 22, 22)];
  const s = surveyOf([{ group: { GroupId: "sg-jit", Tags: [{ Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }] }, rules }], { "sg-jit": ["i-1"] }, ["sg-jit"]);
  const d = decideGroup(s, "sg-jit", members, undefined, "web", false);
  assert.deepEqual([d.holdsGrants, d.leftAlone, d.untracked.map((u) => u.ruleId)], [true, false, ["sgr-x"]]);
  assert.deepEqual(d.plan.changes, [{ groupId: "sg-jit", authorize: [], revoke: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }], order: "revoke-first" }]);
  assert.deepEqual(d.plan.records, [], "nothing to put back: the JIT group is not the user's");
  assert.equal(untrackedOpenings(d, SSH).length, 1);
  assert.equal(untrackedOpenings(d, [{ number: 80, protocol: "TCP" }]).length, 0);
  assert.deepEqual(decideGroup(s, "sg-jit", [], undefined, "web", true, "none").plan.changes, [], "removal retires the group instead");
});

test("a group only tagged as a grant group is reported, never changed: sweep empties it", () => {
  const s = surveyOf([{ group: { GroupId: "sg-tag", Tags: [{ Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }] }, rules: [rule("sgr-x", "sg-tag", "0.0.0.0/0", 0, 65535)] }], { "sg-tag": ["i-1"] });
  const d = decideGroup(s, "sg-tag", members, undefined, "web", true);
  assert.deepEqual([d.holdsGrants, d.leftAlone, d.plan.changes.length, d.untracked.length], [true, true, 0, 1]);
});

test("narrower rules of ours the record lacks are adopted; tags are found by rule identity", () => {
  const split = [{ Key: TAG_POLICY, Value: "web" }, { Key: TAG_ROLE, Value: BASELINE_SPLIT_ROLE }];
  const rules = [rule("sgr-1", "sg-web", "10.0.0.0/8", 0, 21, split), rule("sgr-2", "sg-web", "10.0.0.0/8", 23, 65535, [{ Key: "owner", Value: "net" }])];
  assert.deepEqual(adoptStrays(rules, "sg-web", undefined, "web")?.added.map((p) => [p.FromPort, p.ToPort]), [[0, 21]]);
  assert.equal(adoptStrays(rules, "sg-web", undefined, "other"), undefined, "another policy's pieces are not ours");
  assert.deepEqual(tagsIn([{ permission: { IpProtocol: "tcp", FromPort: 23, ToPort: 65535, IpRanges: [{ CidrIp: "10.0.0.0/8", Description: "x" }] }, tags: [{ Key: "owner", Value: "net" }] }], { IpProtocol: "tcp", FromPort: 23, ToPort: 65535, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }), [{ Key: "owner", Value: "net" }]);
});
