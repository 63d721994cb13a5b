import { MAX_DESCRIPTION, MAX_RULE_NAME } from "../nsg/names";
import { MAX_PRIORITY, MAX_RULES_PER_NSG, MIN_PRIORITY } from "../nsg/priorities";
import type { Nsg, NsgChange, NsgRule } from "../nsg/types";

/** Checks a rule the way Azure does before it accepts it. */
export function assertValidRule(rule: NsgRule, nsg: Nsg): void {
  if (rule.name.length > MAX_RULE_NAME || !/^\w([\w.-]*[\w_])?$/.test(rule.name)) throw new Error(`invalid rule name ${rule.name}`);
  if ((rule.description ?? "").length > MAX_DESCRIPTION) throw new Error(`description of ${rule.name} is too long`);
  if (rule.priority < MIN_PRIORITY || rule.priority > MAX_PRIORITY) throw new Error(`SecurityRuleInvalidPriority ${rule.priority}`);
  const clash = nsg.securityRules.find((r) => r.name !== rule.name && r.direction === rule.direction && r.priority === rule.priority);
  if (clash) throw new Error(`SecurityRuleConflict: ${rule.name} and ${clash.name} share priority ${rule.priority}`);
}

/** Applies a change as Azure would take it, in one write of the whole NSG, refusing what Azure refuses. */
export function applyNsgChange(nsg: Nsg, change: NsgChange): Nsg {
  if (change.nsgId !== nsg.id) throw new Error(`change for ${change.nsgId} applied to ${nsg.id}`);
  for (const name of change.delete) if (!nsg.securityRules.some((r) => r.name === name)) throw new Error(`no rule ${name} to delete`);
  const rules = nsg.securityRules.filter((r) => !change.delete.includes(r.name));
  for (const rule of change.put) {
    assertValidRule(rule, { ...nsg, securityRules: rules });
    const at = rules.findIndex((r) => r.name === rule.name);
    if (at >= 0) rules[at] = rule;
    else rules.push(rule);
    if (rules.length > MAX_RULES_PER_NSG) throw new Error("too many rules");
  }
  return { ...nsg, securityRules: rules };
}

export function applyNsgChanges(nsgs: readonly Nsg[], changes: readonly NsgChange[]): Nsg[] {
  return nsgs.map((n) => changes.filter((c) => c.nsgId === n.id).reduce(applyNsgChange, n));
}
