import type { FwNatRule, FwNetworkRule } from "./types";

type FwRule = FwNetworkRule | FwNatRule;

const LIST_FIELDS = ["protocols", "sourceAddresses", "sourceIpGroups", "destinationAddresses", "destinationIpGroups", "destinationFqdns", "destinationPorts"] as const;
const TEXT_FIELDS = ["description", "translatedAddress", "translatedFqdn", "translatedPort"] as const;

/**
 * Everything that decides what a firewall rule does, one comparable text per field (`name` aside).
 * Lists compare as sets, and an absent list equals an empty one: Azure answers either for a field
 * that is not used.
 */
function fields(rule: FwRule): Record<string, string> {
  const r = rule as Partial<Record<(typeof LIST_FIELDS)[number], readonly string[]>> & Partial<Record<(typeof TEXT_FIELDS)[number], string>>;
  return {
    ...Object.fromEntries(LIST_FIELDS.map((f) => [f, [...new Set((r[f] ?? []).map((v) => v.toLowerCase()))].sort().join(",")])),
    ...Object.fromEntries(TEXT_FIELDS.map((f) => [f, r[f] ?? ""])),
  };
}

/** The fields in which two firewall rules differ. */
export function fwRuleDifferences(a: FwRule, b: FwRule): string[] {
  const fa = fields(a);
  const fb = fields(b);
  return Object.keys(fa).filter((k) => fa[k] !== fb[k]);
}

/** Same name (as Azure compares names) and same effect. */
export function sameFwRule(a: FwRule, b: FwRule): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && fwRuleDifferences(a, b).length === 0;
}
