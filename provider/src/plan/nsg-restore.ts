import { parseJitRule, type JitRuleInfo } from "./nsg-names";
import { ruleDifferences } from "./nsg-rule-shape";
import type { AddedRule, Nsg, NsgChange, NsgRule } from "./nsg-types";

export interface RestorePlan {
  changes: NsgChange[];
  /** Rules that will be deleted exactly as recorded. */
  removed: AddedRule[];
  /** Rules that will be deleted although someone changed them since; `differences` names the fields. */
  altered: Array<{ recorded: AddedRule; current: NsgRule; differences: string[] }>;
  /** Rules already gone (or their NSG is): nothing to do. */
  gone: AddedRule[];
  /** Rules under the recorded name that no longer say they belong to this grant: someone took them over, so they stay. */
  kept: Array<{ recorded: AddedRule; current: NsgRule }>;
}

/** What a rule says it is, as one comparable text: whose it is and what for (`undefined` for nobody's). */
type Stamp = (rule: NsgRule) => string | undefined;

const allowStamp: Stamp = (rule) => {
  const info = parseJitRule(rule);
  return info?.kind === "allow" ? `${info.grantId}/${info.vm}/${info.port}/${info.protocol}` : undefined;
};

/**
 * Undoing a grant: delete what it added, verified against the record, and nothing else. A rule is
 * deleted while it still carries this grant's stamp (name and description naming the grant), even
 * if its source, ports or priority were edited meanwhile: an allow rule labelled as a grant's must
 * not outlive the grant, and the sweeper, which has only the stamp to go by, would delete it anyway.
 * Edits are reported in `altered`. A rule whose stamp was changed to something else is someone's
 * own now and is left alone (`kept`). The rest of every NSG, including what others changed while
 * the grant was active, is not touched; deletes are by name, never a rewrite of the whole NSG.
 */
export function planRestore(recorded: readonly AddedRule[], nsgs: readonly Nsg[]): RestorePlan {
  return planRemoval(recorded, nsgs, allowStamp);
}

/**
 * Taking a policy's baseline away: delete the deny rules recorded when it was laid, each while it
 * still says it is this policy's deny rule for that VM and protocol (edits to its ports or priority
 * are reported in `altered`), and nothing else: a rule re-labelled by someone is `kept`, and deny
 * rules of the same policy that the record does not list are not touched.
 */
export function planBaselineRemoval(policy: string, recorded: readonly AddedRule[], nsgs: readonly Nsg[]): RestorePlan {
  const denyStamp: Stamp = (rule) => {
    const info = parseJitRule(rule);
    return info?.kind === "deny" && info.policy === policy ? `${info.vm}/${info.protocol}` : undefined;
  };
  return planRemoval(recorded, nsgs, denyStamp);
}

function planRemoval(recorded: readonly AddedRule[], nsgs: readonly Nsg[], stampOf: Stamp): RestorePlan {
  const byId = new Map(nsgs.map((n) => [n.id, n]));
  const plan: RestorePlan = { changes: [], removed: [], altered: [], gone: [], kept: [] };
  const deletes = new Map<string, Set<string>>();
  for (const entry of recorded) {
    const current = byId.get(entry.nsgId)?.securityRules.find((r) => r.name === entry.rule.name);
    if (!current) {
      plan.gone.push(entry);
      continue;
    }
    const stamp = stampOf(entry.rule);
    if (stamp === undefined || stampOf(current) !== stamp) {
      plan.kept.push({ recorded: entry, current });
      continue;
    }
    const differences = ruleDifferences(entry.rule, current);
    if (differences.length === 0) plan.removed.push(entry);
    else plan.altered.push({ recorded: entry, current, differences });
    deletes.set(entry.nsgId, (deletes.get(entry.nsgId) ?? new Set()).add(current.name));
  }
  plan.changes = [...deletes].map(([nsgId, names]) => ({ nsgId, put: [], delete: [...names].sort() }));
  return plan;
}

export interface SweepPlan {
  change: NsgChange;
  expired: Array<{ rule: NsgRule; info: JitRuleInfo & { kind: "allow" } }>;
}

/**
 * Our allow rules in this NSG whose stamped expiry has passed: found from the NSG alone, no ledger
 * needed. With `ended`, also those whose grant the caller knows has ended (revoked, superseded or
 * failed before its expiry).
 */
export function planSweep(nsg: Nsg, now: Date, ended: (grantId: string) => boolean = () => false): SweepPlan {
  const expired = nsg.securityRules.flatMap((rule) => {
    const info = parseJitRule(rule);
    return info?.kind === "allow" && (info.expiresAt.getTime() <= now.getTime() || ended(info.grantId)) ? [{ rule, info }] : [];
  });
  return { change: { nsgId: nsg.id, put: [], delete: expired.map((e) => e.rule.name).sort() }, expired };
}
