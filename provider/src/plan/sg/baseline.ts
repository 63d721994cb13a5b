import { JitError } from "../../model/errors";
import { ALL_PORTS, subtractPorts } from "../port-ranges";
import { ec2Protocols } from "../protocols";
import { entriesOfGroup, entriesOfPermission, entryKey, permissionOfEntry, type SgEntry } from "./permissions";
import { BASELINE_SPLIT_ROLE, TAG_POLICY, TAG_ROLE } from "./tags";
import type { IpPermission, SecurityGroup, Tag } from "./types";
import type { PortSpec } from "../types";

/**
 * The AWS baseline. Security groups cannot deny, so closing a port means revoking every ingress
 * rule that opens it; a rule that opens more than the selected ports is replaced by narrower rules
 * for the rest (tcp 0-65535 around port 22 becomes 0-21 and 23-65535), with the same source and
 * description, so nothing else closes.
 *
 * An all-protocols rule (`-1`) becomes tcp and udp rules around the selected ports plus an ICMP rule
 * (`icmp` for IPv4 sources, `icmpv6` for IPv6, both for groups and prefix lists). Security groups
 * cannot say "every protocol except tcp 22", and one rule per protocol number would blow the
 * 60-rule limit, so the other IP protocols (ESP, GRE, SCTP, ...) that the rule let in are no longer
 * let in: the plan lists such rules in `narrowed`, and the restore brings them back whole.
 *
 * Planning is relative to the groups as they were before any baseline: the `records` of earlier
 * plans are undone on paper first, then the selected ports are closed, and the difference to the
 * groups as they are now is what to authorize and revoke. So the same function applies a baseline,
 * changes it when the policy's ports change, re-closes a port that someone re-opened, and (with no
 * ports) restores the groups, without ever duplicating a rule someone re-added meanwhile or
 * revoking one someone already removed. A narrower rule of ours counts as ours only while its
 * description is still the one we gave it: EC2 has no other way to tell it from the same rule
 * re-added by someone else. Restored rules get new rule ids; EC2 cannot give back the
 * old ones, nor tags that were on them.
 */

export interface SgBaselineRecord {
  groupId: string;
  /** Rules the baseline revoked, one source each, exactly as they were. */
  revoked: IpPermission[];
  /** Narrower rules it authorized in their place. */
  added: IpPermission[];
}

export interface SgBaselineInput {
  policy: string;
  groups: readonly SecurityGroup[];
  /** The ports to keep closed; none restores the groups. */
  ports: readonly PortSpec[];
  /** What earlier plans of this policy did to these groups (as they returned it). */
  records?: readonly SgBaselineRecord[];
  /** Groups the policy may not change (shared with instances outside it): reported, left alone. */
  leaveAlone?: readonly string[];
  /** EC2's inbound rule limit per group and address family. */
  maxRulesPerGroup?: number;
  /**
   * What a rule referencing each prefix list counts as against that limit: the list's maximum
   * entries, or an AWS-managed list's weight (see `prefixListWeight`). A list not given counts as 1.
   */
  prefixListWeights?: ReadonlyMap<string, number>;
}

export interface SgGroupChange {
  groupId: string;
  /** Authorize calls: each batch with the tags for its `security-group-rule` TagSpecifications. */
  authorize: Array<{ permissions: IpPermission[]; tags: Tag[] }>;
  revoke: IpPermission[];
  /**
   * `authorize-first` keeps every other port open throughout; `revoke-first` when the group has no
   * room to hold both for a moment (the other ports then close briefly, never open).
   */
  order: "authorize-first" | "revoke-first";
}

export interface SgBaselinePlan {
  changes: SgGroupChange[];
  /** The record to keep for every group planned (replacing earlier ones); empty when nothing is left to undo. */
  records: SgBaselineRecord[];
  /** All-protocol rules now replaced by tcp/udp/icmp rules (other IP protocols no longer let in). */
  narrowed: Array<{ groupId: string; permission: IpPermission }>;
  /** Rules in groups left alone that open a selected port. */
  leftOpen: Array<{ groupId: string; permission: IpPermission }>;
  /** Groups of earlier records that were not passed in (deleted?); their records are kept. */
  missing: string[];
}

export const MAX_RULES_PER_GROUP = 60;

/**
 * The published weights of AWS-managed prefix lists, by name with the region taken out
 * (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html).
 */
const AWS_MANAGED_WEIGHTS: ReadonlyArray<[RegExp, number]> = [
  [/^com\.amazonaws\.global\.(ipv6\.)?cloudfront\.origin-facing$/, 55],
  [/^com\.amazonaws\.[a-z0-9-]+\.(dynamodb|s3)$/, 1],
  [/^com\.amazonaws\.[a-z0-9-]+\.(ipv6\.)?ec2-instance-connect$/, 2],
  [/^com\.amazonaws\.global\.groundstation$/, 5],
  [/^com\.amazonaws\.[a-z0-9-]+\.(ipv6\.)?route53-healthchecks$/, 25],
  [/^com\.amazonaws\.[a-z0-9-]+\.s3express$/, 6],
  [/^com\.amazonaws\.[a-z0-9-]+\.(ipv6\.)?vpc-lattice$/, 10],
];

/**
 * What a rule referencing a prefix list counts as against the rules-per-group quota: a
 * customer-managed list its maximum entries, an AWS-managed one its published weight. An
 * AWS-managed list whose weight is not known here counts as its maximum entries, and a list whose
 * size is not known as the whole quota: counting too many refuses up front, counting too few
 * would fail half-way through a baseline.
 */
export function prefixListWeight(list: { name?: string; maxEntries?: number; awsManaged: boolean }, limit = MAX_RULES_PER_GROUP): number {
  if (list.awsManaged) {
    const known = AWS_MANAGED_WEIGHTS.find(([pattern]) => pattern.test(list.name ?? ""));
    if (known) return known[1];
  }
  return list.maxEntries ?? limit;
}
/** Tags on the narrower rules, so that they can be told apart from the user's without the ledger. */
function splitTags(policy: string): Tag[] {
  return [
    { Key: TAG_POLICY, Value: policy },
    { Key: TAG_ROLE, Value: BASELINE_SPLIT_ROLE },
  ];
}

interface Closing {
  protocol: "tcp" | "udp";
  port: number;
}

function opens(e: SgEntry, c: Closing): boolean {
  return e.protocol === "-1" || (e.protocol === c.protocol && e.fromPort <= c.port && c.port <= e.toPort);
}

function icmpFor(e: SgEntry): string[] {
  return e.source.kind === "ipv4" ? ["icmp"] : e.source.kind === "ipv6" ? ["icmpv6"] : ["icmp", "icmpv6"];
}

/** What replaces an entry that opens some of the closing ports. */
function pieces(e: SgEntry, closing: readonly Closing[]): SgEntry[] {
  const around = (protocol: "tcp" | "udp", range: { from: number; to: number }) =>
    subtractPorts(range, closing.filter((c) => c.protocol === protocol).map((c) => c.port)).map((r) => ({ ...e, protocol, fromPort: r.from, toPort: r.to }));
  if (e.protocol !== "-1") return around(e.protocol as "tcp" | "udp", { from: e.fromPort, to: e.toPort });
  return [...around("tcp", ALL_PORTS), ...around("udp", ALL_PORTS), ...icmpFor(e).map((protocol) => ({ ...e, protocol, fromPort: -1, toPort: -1 }))];
}

class EntrySet {
  readonly byKey = new Map<string, SgEntry>();
  constructor(entries: Iterable<SgEntry> = []) {
    for (const e of entries) this.add(e);
  }
  add(e: SgEntry): void {
    if (!this.byKey.has(entryKey(e))) this.byKey.set(entryKey(e), e);
  }
  has(e: SgEntry): boolean {
    return this.byKey.has(entryKey(e));
  }
  get(e: SgEntry): SgEntry | undefined {
    return this.byKey.get(entryKey(e));
  }
  delete(e: SgEntry): void {
    this.byKey.delete(entryKey(e));
  }
  /** Entries here that `other` lacks. */
  minus(other: EntrySet): SgEntry[] {
    return [...this.byKey.values()].filter((e) => !other.has(e));
  }
}

/** Rules count per address family: a CIDR in its own, a group or prefix list reference in both, a prefix list as its weight. */
function countsFit(entries: EntrySet, limit: number, weights: ReadonlyMap<string, number> | undefined): boolean {
  let v4 = 0;
  let v6 = 0;
  for (const { source } of entries.byKey.values()) {
    const weight = source.kind === "prefixList" ? (weights?.get(source.id) ?? 1) : 1;
    if (source.kind !== "ipv6") v4 += weight;
    if (source.kind !== "ipv4") v6 += weight;
  }
  return v4 <= limit && v6 <= limit;
}

const entriesOf = (permissions: readonly IpPermission[]) => permissions.flatMap(entriesOfPermission);

export function planSgBaseline(input: SgBaselineInput): SgBaselinePlan {
  const closing = input.ports.flatMap((p) => ec2Protocols(p.protocol).map((protocol) => ({ protocol, port: p.number })));
  const limit = input.maxRulesPerGroup ?? MAX_RULES_PER_GROUP;
  const leave = new Set(input.leaveAlone ?? []);
  const records = new Map((input.records ?? []).map((r) => [r.groupId, r]));
  const plan: SgBaselinePlan = { changes: [], records: [], narrowed: [], leftOpen: [], missing: [] };

  for (const group of input.groups) {
    const groupId = group.GroupId ?? "";
    const earlier = records.get(groupId);
    records.delete(groupId);
    const now = new EntrySet(entriesOfGroup(group));
    if (leave.has(groupId)) {
      for (const e of now.byKey.values()) if (closing.some((c) => opens(e, c))) plan.leftOpen.push({ groupId, permission: permissionOfEntry(e) });
      if (earlier) plan.records.push(earlier);
      continue;
    }

    // A rule under the key of one of our pieces but with another description was put there by someone else.
    const original = new EntrySet(now.byKey.values());
    for (const e of entriesOf(earlier?.added ?? [])) if (original.get(e)?.description === e.description) original.delete(e);
    for (const e of entriesOf(earlier?.revoked ?? [])) original.add(e);

    const closed = new EntrySet();
    for (const e of original.byKey.values()) if (!closing.some((c) => opens(e, c))) closed.add(e);
    for (const e of original.byKey.values()) if (closing.some((c) => opens(e, c))) pieces(e, closing).forEach((p) => closed.add(p));
    if (!countsFit(closed, limit, input.prefixListWeights)) {
      const lists = [...closed.byKey.values()].some((e) => e.source.kind === "prefixList") ? " (a prefix list counts as its maximum entries, or an AWS-managed list as its weight)" : "";
      throw new JitError("CapacityExceeded", `security group ${groupId} would need more than ${limit} inbound rules per address family once narrowed around the selected ports${lists}`);
    }

    const revoked = original.minus(closed);
    const added = closed.minus(original);
    if (revoked.length > 0 || added.length > 0) plan.records.push({ groupId, revoked: revoked.map(permissionOfEntry), added: added.map(permissionOfEntry) });
    plan.narrowed.push(...revoked.filter((e) => e.protocol === "-1").map((e) => ({ groupId, permission: permissionOfEntry(e) })));

    const toAuthorize = closed.minus(now);
    const toRevoke = now.minus(closed);
    if (toAuthorize.length === 0 && toRevoke.length === 0) continue;
    const split = new EntrySet(added);
    const batches = [
      { permissions: toAuthorize.filter((e) => !split.has(e)).map(permissionOfEntry), tags: [] },
      { permissions: toAuthorize.filter((e) => split.has(e)).map(permissionOfEntry), tags: splitTags(input.policy) },
    ].filter((b) => b.permissions.length > 0);
    const both = new EntrySet([...now.byKey.values(), ...toAuthorize]);
    plan.changes.push({ groupId, authorize: batches, revoke: toRevoke.map(permissionOfEntry), order: countsFit(both, limit, input.prefixListWeights) ? "authorize-first" : "revoke-first" });
  }
  for (const [groupId, record] of records) {
    plan.missing.push(groupId);
    plan.records.push(record);
  }
  return plan;
}

/** Puts groups back as they were before the baseline: the plan for no selected ports (policy removal). */
export function planSgRestore(input: Omit<SgBaselineInput, "ports" | "leaveAlone"> & { records: readonly SgBaselineRecord[] }): SgBaselinePlan {
  return planSgBaseline({ ...input, ports: [] });
}
