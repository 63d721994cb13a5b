import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { sgAllows } from "./evaluator";
import { groupsWith, groupsWithout, jitGroupName, jitGroupOn, parseGrantTags, planGrantPlacement, planSgGrantIngress, type GrantIngress } from "./grant";

const AT = new Date("2030-01-01T12:00:00Z");
const LATER = new Date("2030-01-01T13:00:00.500Z");
const ingress = (grantId: string, source = "203.0.113.7") =>
  planSgGrantIngress({ grantId, policy: "web", instanceId: "i-1", ports: [{ number: 22, protocol: "TCP", source, expiresAt: AT }] });

test("a grant's ingress: its ports from its source, * as tcp and udp, one tagged batch per expiry", () => {
  const plan = planSgGrantIngress({
    grantId: "g1",
    policy: "web",
    instanceId: "i-1",
    ports: [
      { number: 22, protocol: "TCP", source: "203.0.113.7", expiresAt: AT },
      { number: 5985, protocol: "*", source: "2001:db8::/32", expiresAt: LATER },
      { number: 53, protocol: "UDP", source: "*", expiresAt: AT },
    ],
  });
  assert.deepEqual(plan, [
    {
      permissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.7/32", Description: "jit grant g1 until 2030-01-01T12:00:00Z" }] },
        {
          IpProtocol: "udp",
          FromPort: 53,
          ToPort: 53,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "jit grant g1 until 2030-01-01T12:00:00Z" }],
          Ipv6Ranges: [{ CidrIpv6: "::/0", Description: "jit grant g1 until 2030-01-01T12:00:00Z" }],
        },
      ],
      tags: [
        { Key: "pulumi-jit:grant", Value: "g1" },
        { Key: "pulumi-jit:policy", Value: "web" },
        { Key: "pulumi-jit:instance", Value: "i-1" },
        { Key: "pulumi-jit:expires-at", Value: "2030-01-01T12:00:00Z" },
      ],
    },
    {
      permissions: ["tcp", "udp"].map((IpProtocol) => ({ IpProtocol, FromPort: 5985, ToPort: 5985, Ipv6Ranges: [{ CidrIpv6: "2001:db8::/32", Description: "jit grant g1 until 2030-01-01T13:00:01Z" }] })),
      tags: [
        { Key: "pulumi-jit:grant", Value: "g1" },
        { Key: "pulumi-jit:policy", Value: "web" },
        { Key: "pulumi-jit:instance", Value: "i-1" },
        { Key: "pulumi-jit:expires-at", Value: "2030-01-01T13:00:01Z" },
      ],
    },
  ]);
  assert.deepEqual(parseGrantTags(plan[1].tags), { grantId: "g1", policy: "web", instanceId: "i-1", expiresAt: new Date("2030-01-01T13:00:01Z") });
  assert.equal(parseGrantTags(plan[1].tags.slice(1)), undefined);
  assert.equal(parseGrantTags([...plan[1].tags.slice(0, 3), { Key: "pulumi-jit:expires-at", Value: "soon" }]), undefined);
});

const placement = (grantGroups: Array<{ GroupId: string; ingress: GrantIngress }>, groupIds = ["sg-own", ...grantGroups.map((g) => g.GroupId)], next: GrantIngress = ingress("g9")) =>
  planGrantPlacement({
    grantId: "g9",
    instanceId: "i-1",
    ingress: next,
    interfaces: [{ networkInterfaceId: "eni-1", groupIds }],
    grantGroups: grantGroups.map((g) => ({ GroupId: g.GroupId, IpPermissions: g.ingress.flatMap((b) => b.permissions) })),
  });

test("grants share a grant group with room, but never one that already holds the same rule", () => {
  assert.deepEqual(placement([]), {
    kind: "new",
    groupName: "jit-i-1-g9",
    description: "pulumi-jit grant group for i-1",
    tags: [
      { Key: "pulumi-jit:instance", Value: "i-1" },
      { Key: "pulumi-jit:role", Value: "grant-group" },
    ],
  });
  assert.deepEqual(placement([{ GroupId: "sg-b", ingress: ingress("g1", "8.8.8.8") }, { GroupId: "sg-a", ingress: ingress("g2", "8.8.4.4") }]), { kind: "existing", groupId: "sg-a" });
  assert.deepEqual(placement([{ GroupId: "sg-a", ingress: ingress("g1") }]).kind, "new", "an overlapping grant gets a group of its own");
  assert.deepEqual(placement([{ GroupId: "sg-a", ingress: ingress("g1", "8.8.8.8") }], ["sg-own"]).kind, "new", "a group not on every interface is not used");
  const crowded = Array.from({ length: 60 }, (_, i) => ingress(`g${i}`, `10.0.0.${i}`)).flat();
  assert.equal(placement([{ GroupId: "sg-a", ingress: crowded }]).kind, "new", "a full group is not used");
});

test("no room for another group on an interface, or too many rules for one group, is CapacityExceeded", () => {
  assert.throws(() => placement([{ GroupId: "sg-a", ingress: ingress("g1") }], ["sg-1", "sg-2", "sg-3", "sg-4", "sg-a"]), (e: unknown) => isJitError(e, "CapacityExceeded") && /eni-1 already has 5 security groups/.test(String(e)));
  const huge = planSgGrantIngress({ grantId: "g9", policy: "web", instanceId: "i-1", ports: Array.from({ length: 31 }, (_, i) => ({ number: 1000 + i, protocol: "*" as const, source: "8.8.8.8", expiresAt: AT })) });
  assert.throws(() => placement([], undefined, huge), (e: unknown) => isJitError(e, "CapacityExceeded") && /62 rules/.test(String(e)));
  assert.deepEqual(groupsWith(["sg-1"], "sg-2", "eni-1"), ["sg-1", "sg-2"]);
  assert.deepEqual(groupsWith(["sg-1", "sg-2"], "sg-2", "eni-1"), ["sg-1", "sg-2"]);
  assert.deepEqual(groupsWithout(["sg-1", "sg-2"], "sg-1"), ["sg-2"]);
});

test("the JIT group is the one named for the instance that every interface of the VPC wears", () => {
  const on = (...names: (string | undefined)[][]) => jitGroupOn("i-1", names.map((n) => ({ groups: n.map((name, k) => ({ id: name === "jit-i-1" ? "sg-j" : `sg-${k}`, name })) })));
  assert.equal(jitGroupName("i-1"), "jit-i-1");
  assert.equal(on(["web", "jit-i-1"]), "sg-j");
  assert.equal(on(["web", "jit-i-1"], ["jit-i-1"]), "sg-j");
  assert.equal(on(["web", "jit-i-1"], ["web"]), undefined, "not on every interface: a grant there would not reach the second");
  assert.equal(on(["web", "jit-i-1-g1"]), undefined, "a grant group is not the JIT group");
  assert.equal(on([undefined]), undefined);
  assert.equal(jitGroupOn("i-1", []), undefined);
});

test("groups add up: a grant group opens its ports next to the instance's own groups", () => {
  const grantGroup = { GroupId: "sg-g", IpPermissions: ingress("g1").flatMap((b) => b.permissions) };
  const own = { GroupId: "sg-own", IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] };
  const flow = (address: string, port: number) => sgAllows([own, grantGroup], { source: { address }, protocol: "tcp", port });
  assert.deepEqual([flow("203.0.113.7", 22), flow("203.0.113.8", 22), flow("203.0.113.8", 80)], [true, false, true]);
});
