import fc from "fast-check";
import type { PortSpec } from "../types";
import { entryKey, permissionOfEntry, type SgEntry, type SgSource } from "../sg/permissions";
import type { IpPermission, SecurityGroup } from "../sg/types";
import type { SgFlow } from "../sg/evaluator";

/** Random security groups over a small universe of sources and port ranges, and flows that probe every part of it. */

const SOURCES: SgSource[] = [
  { kind: "ipv4", cidr: "10.0.0.0/8" },
  { kind: "ipv4", cidr: "10.1.0.0/16" },
  { kind: "ipv4", cidr: "0.0.0.0/0" },
  { kind: "ipv4", cidr: "203.0.113.7/32" },
  { kind: "ipv4", cidr: "8.8.8.0/24" },
  { kind: "ipv6", cidr: "::/0" },
  { kind: "ipv6", cidr: "2001:db8::/32" },
  { kind: "group", pair: { GroupId: "sg-peer", UserId: "111122223333" } },
  { kind: "group", pair: { GroupId: "sg-other", UserId: "111122223333" } },
  { kind: "prefixList", id: "pl-1" },
];
const RANGES: Array<[number, number]> = [[0, 65535], [0, 1023], [20, 25], [22, 22], [1000, 4000], [3389, 3389], [53, 53], [5985, 5986], [80, 80]];

const entryArb: fc.Arbitrary<SgEntry> = fc
  .record({
    protocol: fc.constantFrom("tcp", "tcp", "udp", "-1", "icmp", "icmpv6", "50"),
    range: fc.constantFrom(...RANGES),
    icmp: fc.constantFrom<[number, number]>([-1, -1], [8, 0], [8, -1]),
    source: fc.constantFrom(...SOURCES),
    description: fc.option(fc.constantFrom("office", "vpn", "monitoring"), { nil: undefined }),
  })
  .map(({ protocol, range, icmp, source, description }) => {
    const [fromPort, toPort] = protocol === "tcp" || protocol === "udp" ? range : protocol.startsWith("icmp") ? icmp : [-1, -1];
    return { protocol, fromPort, toPort, source, ...(description === undefined ? {} : { description }) };
  });

/** Entries grouped the way DescribeSecurityGroups groups them: one permission per protocol and ports. */
export function grouped(entries: readonly SgEntry[]): IpPermission[] {
  const byRule = new Map<string, IpPermission>();
  for (const e of entries) {
    const single = permissionOfEntry(e);
    const key = `${e.protocol}|${e.fromPort}|${e.toPort}`;
    const into = byRule.get(key);
    if (!into) {
      byRule.set(key, single);
      continue;
    }
    into.IpRanges = [...(into.IpRanges ?? []), ...(single.IpRanges ?? [])];
    into.Ipv6Ranges = [...(into.Ipv6Ranges ?? []), ...(single.Ipv6Ranges ?? [])];
    into.UserIdGroupPairs = [...(into.UserIdGroupPairs ?? []), ...(single.UserIdGroupPairs ?? [])];
    into.PrefixListIds = [...(into.PrefixListIds ?? []), ...(single.PrefixListIds ?? [])];
  }
  return [...byRule.values()];
}

export const entriesArb = fc.uniqueArray(entryArb, { maxLength: 8, selector: entryKey });

export const groupsArb: fc.Arbitrary<SecurityGroup[]> = fc
  .array(entriesArb, { minLength: 1, maxLength: 3 })
  .map((lists) => lists.map((entries, i) => ({ GroupId: `sg-${i}`, IpPermissions: grouped(entries) })));

export const policyPortsArb = fc.subarray<PortSpec>(
  [
    { number: 22, protocol: "TCP" },
    { number: 3389, protocol: "TCP" },
    { number: 53, protocol: "UDP" },
    { number: 5985, protocol: "*" },
  ],
  { minLength: 1 },
);

const ADDRESSES = ["10.1.2.3", "10.2.0.1", "203.0.113.7", "8.8.8.8", "1.1.1.1", "2001:db8::1", "2001:4860::1"];
/** Each selected port with its neighbours, and the edges of the ranges above. */
const PORTS = [0, 19, 20, 21, 22, 23, 25, 26, 52, 53, 54, 79, 80, 999, 1023, 1024, 3388, 3389, 3390, 4000, 4001, 5984, 5985, 5986, 5987, 65535];

/** Every flow worth asking about: each kind of source, every port next to an edge, TCP, UDP and the ICMP of the source's family. */
export const FLOWS: SgFlow[] = [
  ...[...ADDRESSES.map((address) => ({ address })), { groupId: "sg-peer" }, { groupId: "sg-other" }, { groupId: "sg-unrelated" }, { prefixListId: "pl-1" }, { prefixListId: "pl-2" }].flatMap((source) => [
    ...["tcp", "udp"].flatMap((protocol) => PORTS.map((port) => ({ source, protocol, port }))),
    ...(!("address" in source) || !source.address.includes(":") ? [{ source, protocol: "icmp", port: 8 }, { source, protocol: "icmp", port: 3 }] : []),
    ...(!("address" in source) || source.address.includes(":") ? [{ source, protocol: "icmpv6", port: 128 }] : []),
  ]),
];
