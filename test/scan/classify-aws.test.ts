import { test } from "node:test";
import assert from "node:assert/strict";
import { parsePolicy } from "../../provider/src/model";
import { GRANT_GROUP_ROLE, IpPermission, SecurityGroup, SecurityGroupRule, TAG_ROLE } from "../../provider/src/plan";
import { AwsRegionInventory, classify } from "../../provider/src/scan";

const tcp = (from: number, to: number, source: Partial<IpPermission>): IpPermission => ({ IpProtocol: "tcp", FromPort: from, ToPort: to, ...source });
const cidr = (c: string) => ({ IpRanges: [{ CidrIp: c }] });
const group = (id: string, permissions: IpPermission[], tags: SecurityGroup["Tags"] = []): SecurityGroup => ({ GroupId: id, VpcId: "vpc-1", IpPermissions: permissions, Tags: tags });

/** The flat rules DescribeSecurityGroupRules would list for a group, with made-up ids. */
function rulesOf(g: SecurityGroup): SecurityGroupRule[] {
  return (g.IpPermissions ?? []).flatMap((p, i) =>
    (p.IpRanges ?? []).map((r, j) => ({ SecurityGroupRuleId: `sgr-${g.GroupId?.slice(3)}${i}${j}`, GroupId: g.GroupId, IsEgress: false, IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort, CidrIpv4: r.CidrIp })),
  );
}

function region(instances: Array<{ id: string; groups: string[][] }>, groups: SecurityGroup[]): AwsRegionInventory {
  return {
    region: "eu-west-1",
    instances: instances.map(({ id, groups: lists }) => ({ id, interfaces: lists.map((groupIds, i) => ({ id: `eni-${id.slice(-3)}${i}`, groupIds })) })),
    groups,
    rules: groups.flatMap(rulesOf),
  };
}

const I1 = "i-0000000000000000a";
const I2 = "i-0000000000000000b";

test("an instance without security groups, or without interfaces, is not applicable", () => {
  const results = classify({ aws: [region([{ id: I1, groups: [] }, { id: I2, groups: [[]] }], [])] }, []);
  assert.deepEqual(results.map((r) => [r.name, r.verdict, r.reason]), [
    [I1, "NotApplicable", "it has no network interface: nothing to put JIT rules in"],
    [I2, "NotApplicable", "no security group on its network interfaces: nothing to put JIT rules in"],
  ]);
});

test("0.0.0.0/0 on 22: unhealthy, naming the group and the rule id; private-only rules: healthy", () => {
  const open = group("sg-open", [tcp(22, 22, cidr("0.0.0.0/0")), tcp(3389, 3389, cidr("10.0.0.0/16"))]);
  const priv = group("sg-priv", [tcp(22, 22, cidr("10.0.0.0/16")), tcp(5985, 5986, cidr("172.31.0.0/16"))]);
  const [bad, good] = classify({ aws: [region([{ id: I1, groups: [["sg-open"]] }, { id: I2, groups: [["sg-priv"]] }], [open, priv])] }, []);
  assert.equal(bad.verdict, "Unhealthy");
  assert.equal(bad.group, "eu-west-1");
  assert.deepEqual(bad.exposures.map((e) => [e.port, e.target, e.source]), [[22, "eni-00a0", "0.0.0.0/0"]]);
  assert.deepEqual(bad.exposures[0].exposedBy, [{ container: "sg-open", name: "sgr-open00", source: "0.0.0.0/0", ports: "tcp 22" }]);
  assert.equal(bad.exposures[0].reason, "port 22 on eni-00a0 is open to 0.0.0.0/0 through rule sgr-open00 of sg-open (tcp 22 from 0.0.0.0/0)");
  assert.ok(bad.details.includes("port 3389 on eni-00a0: open only to 10.0.0.0/16 (rule sgr-open10 of sg-open (tcp 3389 from 10.0.0.0/16))"), bad.details.join("\n"));

  assert.equal(good.verdict, "Healthy");
  assert.equal(good.reason, "no management port is open to a broad source");
  assert.deepEqual(good.details.slice(1), [
    "port 3389 on eni-00b0: no rule of sg-priv opens it",
    "port 5985 on eni-00b0: open only to 172.31.0.0/16 (rule sgr-priv10 of sg-priv (tcp 5985-5986 from 172.31.0.0/16))",
    "port 5986 on eni-00b0: open only to 172.31.0.0/16 (rule sgr-priv10 of sg-priv (tcp 5985-5986 from 172.31.0.0/16))",
  ]);
});

test("wide rules, IPv6, all traffic, group references; groups add up across the interface", () => {
  const wide = group("sg-wide", [tcp(0, 65535, cidr("0.0.0.0/0"))]);
  const v6 = group("sg-v6", [tcp(22, 22, { Ipv6Ranges: [{ CidrIpv6: "::/0" }] })]);
  const all = group("sg-all", [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "52.0.0.0/8" }] }]);
  const peers = group("sg-peers", [tcp(22, 22, { UserIdGroupPairs: [{ GroupId: "sg-bastion" }] }), tcp(3389, 3389, { PrefixListIds: [{ PrefixListId: "pl-123" }] })]);
  const results = classify({ aws: [region([{ id: I1, groups: [["sg-wide"]] }, { id: I2, groups: [["sg-peers", "sg-v6", "sg-all"]] }], [wide, v6, all, peers])] }, []);
  const [a, b] = results;
  assert.deepEqual(a.exposures.map((e) => e.port), [22, 3389, 5985, 5986]);
  assert.equal(a.exposures[0].exposedBy[0].ports, "tcp 0-65535");
  assert.deepEqual(b.exposures.map((e) => [e.port, e.source]), [[22, "::/0"], [3389, "52.0.0.0/8"], [5985, "52.0.0.0/8"], [5986, "52.0.0.0/8"]]);
  assert.equal(b.exposures[1].exposedBy[0].ports, "all");
  assert.equal(b.exposures[1].reason, "port 3389 on eni-00b0 is open to 52.0.0.0/8 through rule sgr-all00 of sg-all (all from 52.0.0.0/8)");

  const onlyPeers = classify({ aws: [region([{ id: I2, groups: [["sg-peers"]] }], [peers])] }, []);
  assert.equal(onlyPeers[0].verdict, "Healthy", "group references and prefix lists name known peers");
  assert.match(onlyPeers[0].details[0], /open only to sg-bastion/);
});

test("a grant's rule (from the requester's address) is not exposure, but a tag hides nothing; a policy makes a closed instance healthy and an open one says so", () => {
  const base = group("sg-base", [tcp(3389, 3389, cidr("10.0.0.0/8"))]);
  const grant = group("sg-grant", [tcp(22, 22, cidr("203.0.113.7/32"))], [{ Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }]);
  const forged = group("sg-forged", [tcp(22, 22, cidr("0.0.0.0/0"))], [{ Key: TAG_ROLE, Value: GRANT_GROUP_ROLE }]);
  const [hidden] = classify({ aws: [region([{ id: I1, groups: [["sg-base", "sg-forged"]] }], [base, forged])] }, []);
  assert.equal(hidden.verdict, "Unhealthy", "a group tagged as a grant group counts like any other");
  assert.equal(hidden.exposures[0].exposedBy[0].container, "sg-forged");
  const stale = group("sg-stale", [tcp(22, 22, cidr("0.0.0.0/0"))]);
  const policy = parsePolicy({ name: "ops", virtualMachines: [I1, I2].map((id) => ({ id, ports: [{ number: 22, protocol: "TCP" }] })) });
  const [open, closed] = classify({ aws: [region([{ id: I1, groups: [["sg-base", "sg-grant"]] }, { id: I2, groups: [["sg-base", "sg-stale"]] }], [base, grant, stale])] }, [policy]);
  // Sorted worst first: I2 (open) comes before I1.
  assert.equal(open.vmId, I2);
  assert.equal(open.verdict, "Unhealthy");
  assert.equal(open.exposures[0].policy, "ops");
  assert.match(open.exposures[0].reason, /JIT policy "ops" selects it, but this rule was left in place or put back/);
  assert.equal(closed.vmId, I1);
  assert.equal(closed.verdict, "Healthy");
  assert.equal(closed.reason, 'covered by JIT policy "ops" (22); no management port is open to a broad source');
});
