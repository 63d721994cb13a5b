import { JitError } from "../../model/errors";
import { fieldValues } from "./match";
import { MAX_RULES_PER_NSG } from "./priorities";
import type { Nsg, NsgRule } from "./types";

/**
 * Azure's per-NSG limits, checked on the NSG as a plan would leave it, so that a plan Azure would
 * refuse fails before anything is written: at most 1,000 rules, and at most 4,000 addresses and
 * ports over all of them (Azure's "source/destination IP addresses and ports per security group",
 * which shared deny rules, listing many VMs' addresses each, are the first to reach).
 */
export const MAX_ADDRESSES_AND_PORTS = 4000;

/** What a rule counts towards the 4,000: each source and destination prefix and port range it lists. */
export function addressesAndPorts(rule: NsgRule): number {
  return [
    fieldValues(rule.sourceAddressPrefix, rule.sourceAddressPrefixes),
    fieldValues(rule.destinationAddressPrefix, rule.destinationAddressPrefixes),
    fieldValues(rule.sourcePortRange, rule.sourcePortRanges),
    fieldValues(rule.destinationPortRange, rule.destinationPortRanges),
  ].reduce((sum, values) => sum + values.length, 0);
}

/**
 * Fails with `CapacityExceeded`, naming the NSG and the limit, when `after` breaks a limit that
 * `before` kept (an NSG already past one, which Azure no longer allows, is not made worse).
 */
export function checkNsgLimits(before: Nsg, after: Nsg): void {
  const rules = after.securityRules.length;
  if (rules > MAX_RULES_PER_NSG && rules > before.securityRules.length) {
    throw new JitError("CapacityExceeded", `NSG ${after.id} would hold ${rules} rules; Azure allows ${MAX_RULES_PER_NSG} in one NSG`);
  }
  const count = (nsg: Nsg) => nsg.securityRules.reduce((sum, r) => sum + addressesAndPorts(r), 0);
  const listed = count(after);
  if (listed > MAX_ADDRESSES_AND_PORTS && listed > count(before)) {
    throw new JitError(
      "CapacityExceeded",
      `NSG ${after.id} would list ${listed} addresses and ports over its rules; Azure allows ${MAX_ADDRESSES_AND_PORTS} in one NSG (split the policy's VMs over more NSGs, or tidy the NSG's rules)`,
    );
  }
}
