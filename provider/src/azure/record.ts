import { z } from "zod";
import type { BaselineRecord } from "../driver";
import { ChangeOf, ChangeStatus, JitError } from "../model";
import type { AddedRule, FirewallGrantRule, FwNatRule, FwNetworkRule, NsgRule, RecordedFwRule } from "../plan";

/**
 * What the driver records, in shapes it can read back: a baseline's deny rules (in Pulumi state and
 * the ledger) and a grant's allow and DNAT rules (in the grant's journal).
 *
 * An Azure baseline records, in Pulumi state and in the ledger: every deny rule it placed, with the
 * NSG (or the firewall and rule collection) it is in and its properties as written, so that
 * removing the baseline deletes exactly those (verified) and an inspection can say which went
 * missing or were changed. JSON only: no SDK objects, no secrets.
 */
const Strings = z.array(z.string());
const RecordedRule = z.strictObject({
  name: z.string().min(1),
  priority: z.number().int(),
  direction: z.enum(["Inbound", "Outbound"]),
  access: z.enum(["Allow", "Deny"]),
  protocol: z.enum(["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"]),
  description: z.string().optional(),
  sourceAddressPrefix: z.string().optional(),
  sourceAddressPrefixes: Strings.optional(),
  destinationAddressPrefix: z.string().optional(),
  destinationAddressPrefixes: Strings.optional(),
  sourcePortRange: z.string().optional(),
  sourcePortRanges: Strings.optional(),
  destinationPortRange: z.string().optional(),
  destinationPortRanges: Strings.optional(),
});

const FwRuleProperties = z.strictObject({
  description: z.string().optional(),
  protocols: z.array(z.enum(["TCP", "UDP", "Any", "ICMP"])),
  sourceAddresses: Strings.optional(),
  sourceIpGroups: Strings.optional(),
  destinationAddresses: Strings.optional(),
  destinationPorts: Strings.optional(),
});
const NetworkRuleProperties = FwRuleProperties.extend({ destinationIpGroups: Strings.optional(), destinationFqdns: Strings.optional() });
const NatRuleProperties = FwRuleProperties.extend({ translatedAddress: z.string().optional(), translatedFqdn: z.string().optional(), translatedPort: z.string().optional() });

/** A firewall deny rule of a baseline: the firewall, its collection (and that collection's number), the rule as written. */
const RecordedFirewallDeny = z.strictObject({
  firewallId: z.string().min(1),
  collectionName: z.string().min(1),
  priority: z.number().int(),
  rule: NetworkRuleProperties.extend({ name: z.string().min(1) }),
});
export type FirewallDenyRule = z.output<typeof RecordedFirewallDeny>;

/** Where a VM's traffic comes in, as resolved when the baseline was applied (see `ResolvedVm`). */
const RecordedPath = z.strictObject({
  nicId: z.string().min(1),
  subnetId: z.string().min(1).optional(),
  subnetNsgId: z.string().min(1).optional(),
  nicNsgId: z.string().min(1).optional(),
  addresses: Strings,
  publicIpIds: Strings,
  applicationSecurityGroups: z.record(z.string(), Strings),
});
const RecordedPlacement = z.strictObject({ vmId: z.string().min(1), name: z.string().min(1), paths: z.array(RecordedPath) });
export type Placement = z.output<typeof RecordedPlacement>;

const AzureBaselineRecord = z.strictObject({
  denyRules: z.array(z.strictObject({ nsgId: z.string().min(1), rule: RecordedRule })).default([]),
  firewallDenyRules: z.array(RecordedFirewallDeny).default([]),
  placements: z.array(RecordedPlacement).default([]),
});

function parseRecord(record: BaselineRecord | undefined): z.output<typeof AzureBaselineRecord> {
  const parsed = AzureBaselineRecord.safeParse(record ?? {});
  if (!parsed.success) {
    throw new JitError("InvalidInput", `the recorded Azure baseline is not one pulumi-jit wrote: ${parsed.error.issues[0]?.message ?? "malformed"}`, { field: "baseline" });
  }
  return parsed.data;
}

/** The deny rules a record lists; a record from before any rule was placed (`{}`) lists none. */
export function recordedDenyRules(record: BaselineRecord | undefined): AddedRule[] {
  return parseRecord(record).denyRules;
}

/** The firewall deny rules a record lists (none in a record from before firewalls were handled). */
export function recordedFirewallDenyRules(record: BaselineRecord | undefined): FirewallDenyRule[] {
  return parseRecord(record).firewallDenyRules;
}

/**
 * Where each VM the baseline protects was found (VMs behind an Azure Firewall aside): a grant on
 * the policy starts from there instead of reading the VM, its interfaces and subnets again, and
 * checks it against the NSGs it reads anyway (see grant.ts). None in a record from before.
 */
export function recordedPlacements(record: BaselineRecord | undefined): Placement[] {
  return parseRecord(record).placements;
}

/** The record of a baseline; `firewallDenyRules` and `placements` only when there are some, so that an older record keeps its shape. */
export function baselineRecord(denyRules: readonly AddedRule[], firewallDenyRules: readonly FirewallDenyRule[] = [], placements: readonly Placement[] = []): BaselineRecord {
  return {
    denyRules: denyRules.map(({ nsgId, rule }) => ({ nsgId, rule: jsonRule(rule) })),
    ...(firewallDenyRules.length ? { firewallDenyRules: firewallDenyRules.map((r) => ({ ...r, rule: jsonRule(r.rule) })) } : {}),
    ...(placements.length ? { placements: placements.map((p) => structuredClone(p)) } : {}),
  };
}

export type NsgRuleChange = ChangeOf<"azure-nsg-rule">;

/** A grant's allow rule as its journal records it: the NSG, the name, and the properties as written. */
export function ruleChange(nsgId: string, rule: NsgRule, status: ChangeStatus): NsgRuleChange {
  const { name, ...properties } = jsonRule(rule);
  return { kind: "azure-nsg-rule", status, nsgId, ruleName: String(name), priority: rule.priority, rule: properties as NsgRuleChange["rule"] };
}

/** The rule a journal entry recorded, or undefined when the entry is not one this driver wrote. */
export function recordedRule(change: NsgRuleChange): NsgRule | undefined {
  const parsed = RecordedRule.safeParse({ ...change.rule, name: change.ruleName });
  return parsed.success ? parsed.data : undefined;
}

/**
 * The rule as plain JSON: no `undefined` fields (the Pulumi wire refuses them) and none of the
 * empty lists Azure answers for the form of a field that is not used.
 */
function jsonRule(rule: NsgRule | FwNatRule | FwNetworkRule): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).flatMap(([k, v]) => (v === undefined || (Array.isArray(v) && v.length === 0) ? [] : [[k, Array.isArray(v) ? [...v] : v]])));
}

export type FirewallNatChange = ChangeOf<"azure-firewall-nat-rule">;

/**
 * What a firewall grant change keeps in `rule`: the DNAT rule's properties as written, and, under
 * `allow`, the network rule that lets its translated traffic past a deny, when one was needed. Both
 * go in one write of the firewall and out in one, so they are one change.
 */
const NatChangeRule = NatRuleProperties.extend({
  allow: z.strictObject({ collectionName: z.string().min(1), rule: NetworkRuleProperties }).optional(),
});

/** A grant's port through a firewall, as its journal records it. */
export function natChange(firewallId: string, vmId: string, planned: FirewallGrantRule, status: ChangeStatus): FirewallNatChange {
  const properties = (rule: FwNatRule | FwNetworkRule) => {
    const { name: _, ...rest } = jsonRule(rule);
    return rest;
  };
  const allow = planned.allow && { collectionName: planned.allow.collection, rule: properties(planned.allow.rule) };
  return {
    kind: "azure-firewall-nat-rule",
    status,
    firewallId,
    collectionName: planned.dnatCollection,
    ruleName: planned.dnat.name,
    vmId,
    port: planned.port,
    mappedPort: planned.mappedPort,
    rule: { ...properties(planned.dnat), ...(allow ? { allow } : {}) } as FirewallNatChange["rule"],
  };
}

/** The firewall rules a journal entry recorded, or undefined when the entry is not one this driver wrote. */
export function recordedFirewallRules(change: FirewallNatChange): RecordedFwRule[] | undefined {
  const parsed = NatChangeRule.safeParse(change.rule);
  if (!parsed.success) return undefined;
  const { allow, ...dnat } = parsed.data;
  return [
    { kind: "nat", collection: change.collectionName, rule: { name: change.ruleName, ...dnat } satisfies FwNatRule },
    ...(allow ? [{ kind: "network" as const, collection: allow.collectionName, rule: { name: change.ruleName, ...allow.rule } satisfies FwNetworkRule }] : []),
  ];
}
