import { z } from "zod";
import type { BaselineRecord } from "../access/driver";
import { ChangeOf, ChangeStatus, JitError } from "../model";
import type { AddedRule, NsgRule } from "../plan";

/**
 * What the driver records, in shapes it can read back: a baseline's deny rules (in Pulumi state and
 * the ledger) and a grant's allow rules (in the grant's journal).
 *
 * An Azure baseline records, in Pulumi state and in the ledger: every deny rule it placed,
 * with the NSG it is in and its properties as written, so that removing the baseline deletes
 * exactly those (verified) and an inspection can say which went missing or were changed. JSON
 * only: no SDK objects, no secrets.
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

const AzureBaselineRecord = z.strictObject({
  denyRules: z.array(z.strictObject({ nsgId: z.string().min(1), rule: RecordedRule })).default([]),
});

/** The deny rules a record lists; a record from before any rule was placed (`{}`) lists none. */
export function recordedDenyRules(record: BaselineRecord | undefined): AddedRule[] {
  const parsed = AzureBaselineRecord.safeParse(record ?? {});
  if (!parsed.success) {
    throw new JitError("InvalidInput", `the recorded Azure baseline is not one pulumi-jit wrote: ${parsed.error.issues[0]?.message ?? "malformed"}`, { field: "baseline" });
  }
  return parsed.data.denyRules;
}

export function baselineRecord(denyRules: readonly AddedRule[]): BaselineRecord {
  return { denyRules: denyRules.map(({ nsgId, rule }) => ({ nsgId, rule: jsonRule(rule) })) };
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
function jsonRule(rule: NsgRule): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).flatMap(([k, v]) => (v === undefined || (Array.isArray(v) && v.length === 0) ? [] : [[k, Array.isArray(v) ? [...v] : v]])));
}
