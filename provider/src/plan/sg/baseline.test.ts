import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { planSgBaseline, planSgRestore, prefixListWeight, type SgBaselineInput } from "./baseline";
import { sgAllows } from "./evaluator";
import type { IpPermission, SecurityGroup } from "./types";
import { applySgChange, groupFingerprint } from "../testing/sg-apply";

const SSH = [{ number: 22, protocol: "TCP" as const }];
const group = (...IpPermissions: IpPermission[]): SecurityGroup => ({ GroupId: "sg-1", IpPermissions });
const tcp = (from: number, to: number, cidr: string, Description?: string): IpPermission => ({ IpProtocol: "tcp", FromPort: from, ToPort: to, IpRanges: [{ CidrIp: cidr, ...(Description ? { Description } : {}) }] });

function run(input: Omit<SgBaselineInput, "policy">) {
  const plan = planSgBaseline({ policy: "web", ...input });
  const groups = input.groups.map((g) => plan.changes.filter((c) => c.groupId === g.GroupId).reduce(applySgChange, g));
  return { plan, groups };
}

test("a wide rule is split around the selected port, keeping its source and description", () => {
  const { plan, groups } = run({ groups: [group(tcp(0, 65535, "10.0.0.0/8", "office"))], ports: SSH });
  assert.deepEqual(plan.changes, [
    {
      groupId: "sg-1",
      authorize: [
        {
          permissions: [tcp(0, 21, "10.0.0.0/8", "office"), tcp(23, 65535, "10.0.0.0/8", "office")],
          tags: [
            { Key: "pulumi-jit:policy", Value: "web" },
            { Key: "pulumi-jit:role", Value: "baseline-split" },
          ],
        },
      ],
      revoke: [tcp(0, 65535, "10.0.0.0/8", "office")],
      order: "authorize-first",
    },
  ]);
  assert.deepEqual(plan.records, [{ groupId: "sg-1", revoked: [tcp(0, 65535, "10.0.0.0/8", "office")], added: [tcp(0, 21, "10.0.0.0/8", "office"), tcp(23, 65535, "10.0.0.0/8", "office")] }]);
  const from = (port: number) => sgAllows(groups, { source: { address: "10.1.2.3" }, protocol: "tcp", port });
  assert.deepEqual([21, 22, 23].map(from), [true, false, true]);
});

test("an all-protocol rule becomes tcp and udp around the ports plus ICMP, and is reported as narrowed", () => {
  const all: IpPermission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "10.0.0.0/8" }], Ipv6Ranges: [{ CidrIpv6: "fd00::/8" }] };
  const { plan, groups } = run({ groups: [group(all)], ports: [{ number: 53, protocol: "*" }] });
  const authorized = plan.changes[0].authorize.flatMap((b) => b.permissions).map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.IpRanges?.[0]?.CidrIp ?? p.Ipv6Ranges?.[0]?.CidrIpv6]);
  assert.deepEqual(authorized, [
    ["tcp", 0, 52, "10.0.0.0/8"],
    ["tcp", 54, 65535, "10.0.0.0/8"],
    ["udp", 0, 52, "10.0.0.0/8"],
    ["udp", 54, 65535, "10.0.0.0/8"],
    ["icmp", -1, -1, "10.0.0.0/8"],
    ["tcp", 0, 52, "fd00::/8"],
    ["tcp", 54, 65535, "fd00::/8"],
    ["udp", 0, 52, "fd00::/8"],
    ["udp", 54, 65535, "fd00::/8"],
    ["icmpv6", -1, -1, "fd00::/8"],
  ]);
  assert.deepEqual(plan.narrowed.map((n) => n.permission.IpRanges?.[0]?.CidrIp ?? n.permission.Ipv6Ranges?.[0]?.CidrIpv6), ["10.0.0.0/8", "fd00::/8"]);
  assert.equal(sgAllows(groups, { source: { address: "10.9.9.9" }, protocol: "icmp", port: 8 }), true);
  assert.equal(sgAllows(groups, { source: { address: "10.9.9.9" }, protocol: "udp", port: 53 }), false);
  assert.equal(sgAllows(groups, { source: { address: "10.9.9.9" }, protocol: "50" }), false, "other IP protocols are what the narrowing costs");
});

test("a rule for exactly the port is revoked; rules for other ports, protocols and ICMP are left alone", () => {
  const others = [tcp(80, 80, "0.0.0.0/0"), { IpProtocol: "udp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }, { IpProtocol: "icmp", FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }];
  const { plan } = run({ groups: [group(tcp(22, 22, "0.0.0.0/0"), ...others)], ports: SSH });
  assert.deepEqual(plan.changes[0].authorize, []);
  assert.deepEqual(plan.changes[0].revoke, [tcp(22, 22, "0.0.0.0/0")]);
  assert.deepEqual(plan.narrowed, []);
});

test("groups and prefix lists as sources are split like addresses", () => {
  const peer: IpPermission = { IpProtocol: "tcp", FromPort: 0, ToPort: 1023, UserIdGroupPairs: [{ GroupId: "sg-peer", UserId: "111122223333", Description: "bastion" }], PrefixListIds: [{ PrefixListId: "pl-1" }] };
  const { plan } = run({ groups: [group(peer)], ports: SSH });
  assert.deepEqual(plan.changes[0].revoke, [
    { IpProtocol: "tcp", FromPort: 0, ToPort: 1023, UserIdGroupPairs: [{ GroupId: "sg-peer", UserId: "111122223333", Description: "bastion" }] },
    { IpProtocol: "tcp", FromPort: 0, ToPort: 1023, PrefixListIds: [{ PrefixListId: "pl-1" }] },
  ]);
  assert.deepEqual(plan.changes[0].authorize[0].permissions.map((p) => [p.FromPort, p.ToPort, p.UserIdGroupPairs?.[0]?.Description ?? p.PrefixListIds?.[0]?.PrefixListId]), [
    [0, 21, "bastion"],
    [23, 1023, "bastion"],
    [0, 21, "pl-1"],
    [23, 1023, "pl-1"],
  ]);
});

test("a piece that already exists is neither authorized nor recorded, so the restore leaves it", () => {
  const existing = tcp(0, 21, "10.0.0.0/8", "someone else's");
  const { plan, groups } = run({ groups: [group(tcp(0, 65535, "10.0.0.0/8"), existing)], ports: SSH });
  assert.deepEqual(plan.records[0].added, [tcp(23, 65535, "10.0.0.0/8")]);
  const restored = planSgRestore({ policy: "web", groups, records: plan.records });
  assert.deepEqual(restored.changes[0].revoke, [tcp(23, 65535, "10.0.0.0/8")]);
  assert.deepEqual(restored.records, []);
  assert.deepEqual(groupFingerprint(applySgChange(groups[0], restored.changes[0])), groupFingerprint(group(tcp(0, 65535, "10.0.0.0/8"), existing)));
});

test("planning again changes nothing; a re-opened port is closed again; the restore adds nothing twice", () => {
  const original = group(tcp(0, 65535, "10.0.0.0/8", "office"), tcp(22, 22, "8.8.8.8/32"));
  const first = run({ groups: [original], ports: SSH });
  const again = planSgBaseline({ policy: "web", groups: first.groups, ports: SSH, records: first.plan.records });
  assert.deepEqual(again.changes, []);
  assert.deepEqual(again.records, first.plan.records);

  const reopened = { ...first.groups[0], IpPermissions: [...(first.groups[0].IpPermissions ?? []), tcp(22, 22, "8.8.8.8/32"), tcp(22, 22, "1.1.1.1/32")] };
  const reclosed = planSgBaseline({ policy: "web", groups: [reopened], ports: SSH, records: first.plan.records });
  assert.deepEqual(reclosed.changes[0].revoke, [tcp(22, 22, "8.8.8.8/32"), tcp(22, 22, "1.1.1.1/32")]);
  assert.deepEqual(reclosed.changes[0].authorize, []);

  const restore = planSgRestore({ policy: "web", groups: [reopened], records: first.plan.records });
  const back = applySgChange(reopened, restore.changes[0]);
  assert.deepEqual(groupFingerprint(back), groupFingerprint({ ...original, IpPermissions: [...(original.IpPermissions ?? []), tcp(22, 22, "1.1.1.1/32")] }));
});

test("changing the policy's ports moves the split", () => {
  const original = group(tcp(0, 65535, "10.0.0.0/8"));
  const first = run({ groups: [original], ports: SSH });
  const moved = planSgBaseline({ policy: "web", groups: first.groups, ports: [{ number: 3389, protocol: "TCP" }], records: first.plan.records });
  const after = applySgChange(first.groups[0], moved.changes[0]);
  const open = (port: number) => sgAllows([after], { source: { address: "10.0.0.1" }, protocol: "tcp", port });
  assert.deepEqual([22, 3389].map(open), [true, false]);
  assert.deepEqual(moved.records, [{ groupId: "sg-1", revoked: [tcp(0, 65535, "10.0.0.0/8")], added: [tcp(0, 3388, "10.0.0.0/8"), tcp(3390, 65535, "10.0.0.0/8")] }]);
});

test("groups the policy may not change are reported and left; records of groups not passed in are kept", () => {
  const old = { groupId: "sg-gone", revoked: [tcp(22, 22, "0.0.0.0/0")], added: [] };
  const plan = planSgBaseline({ policy: "web", groups: [group(tcp(0, 1023, "0.0.0.0/0"))], ports: SSH, leaveAlone: ["sg-1"], records: [old] });
  assert.deepEqual(plan.changes, []);
  assert.deepEqual(plan.leftOpen, [{ groupId: "sg-1", permission: tcp(0, 1023, "0.0.0.0/0") }]);
  assert.deepEqual(plan.missing, ["sg-gone"]);
  assert.deepEqual(plan.records, [old]);
});

test("a group without room for the narrower rules fails with CapacityExceeded; one without room for both at once revokes first", () => {
  const full = group(...Array.from({ length: 59 }, (_, i) => tcp(1000 + i, 1000 + i, "10.0.0.0/8")), tcp(0, 65535, "0.0.0.0/0"));
  assert.throws(() => planSgBaseline({ policy: "web", groups: [full], ports: SSH }), (e: unknown) => isJitError(e, "CapacityExceeded") && /sg-1/.test(String(e)));
  const tight = group(...Array.from({ length: 58 }, (_, i) => tcp(1000 + i, 1000 + i, "10.0.0.0/8")), tcp(0, 65535, "0.0.0.0/0"));
  assert.equal(planSgBaseline({ policy: "web", groups: [tight], ports: SSH }).changes[0].order, "revoke-first");
});

test("a prefix-list rule counts as its weight: the plan goes revoke-first where both would not fit, and refuses where the pieces cannot", () => {
  const wide = (id: string): SecurityGroup => ({ GroupId: "sg-1", IpPermissions: [{ IpProtocol: "tcp", FromPort: 0, ToPort: 65535, PrefixListIds: [{ PrefixListId: id }] }] });
  const ports = [{ number: 22, protocol: "TCP" as const }];
  const fits = planSgBaseline({ policy: "web", groups: [wide("pl-a")], ports, prefixListWeights: new Map([["pl-a", 25]]) });
  assert.equal(fits.changes[0].order, "revoke-first", "25 now + 50 split > 60");
  assert.equal(planSgBaseline({ policy: "web", groups: [wide("pl-a")], ports }).changes[0].order, "authorize-first", "an unweighed list counts as one");
  assert.throws(() => planSgBaseline({ policy: "web", groups: [wide("pl-a")], ports, prefixListWeights: new Map([["pl-a", 55]]) }), (e: unknown) => isJitError(e, "CapacityExceeded") && /prefix list counts as its maximum entries/.test(String(e)));
  assert.equal(prefixListWeight({ name: "com.amazonaws.global.cloudfront.origin-facing", maxEntries: 120, awsManaged: true }), 55);
  assert.equal(prefixListWeight({ name: "com.amazonaws.eu-west-1.s3", maxEntries: 40, awsManaged: true }), 1);
  assert.equal(prefixListWeight({ name: "com.amazonaws.unknown", maxEntries: 40, awsManaged: true }), 40, "an unknown AWS list counts as its size");
  assert.equal(prefixListWeight({ name: "office", maxEntries: 12, awsManaged: false }), 12);
  assert.equal(prefixListWeight({ awsManaged: false }), 60, "a list that could not be read counts as the whole quota");
});
