import { parseJitRule, type JitRuleInfo } from "./names";
import { ruleDifferences } from "./rule-shape";
import type { AddedRule, Nsg, NsgChange, NsgRule } from "./types";

/**
 * `removed`: rules that will be deleted exactly as recorded; `altered`: rules that will be deleted
 * although someone changed them since (`differences` names the fields); `gone`: rules already gone
 * (or their NSG is), nothing to do; `kept`: rules under the recorded name that no longer say they
 * belong to this grant: someone took them over, so they stay.
 */
export interface RestorePlan extends Verdicts<AddedRule, NsgRule> {
  changes: NsgChange[];
}

/**
 * What a rule says it is, as one comparable text: whose it is and what for (`undefined` for
 * nobody's). Read from name and description alone, so it serves firewall rules as well.
 */
export type Stamp = (rule: Pick<NsgRule, "name" | "description">) => string | undefined;

/** A grant's rule: which grant, VM, port and protocol. */
export const allowStamp: Stamp = (rule) => {
  const info = parseJitRule(rule);
  return info?.kind === "allow" ? `${info.grantId}/${info.vm}/${info.port}/${info.protocol}` : undefined;
};

/** One of `policy`'s deny rules: which VM (or, shared, which group of VMs) and protocol. */
export function denyStamp(policy: string): Stamp {
  return (rule) => {
    const info = parseJitRule(rule);
    if (info?.kind !== "deny" || info.policy !== policy) return undefined;
    return `${"vm" in info ? info.vm : `g=${info.group}`}/${info.protocol}`;
  };
}

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
  return planRemoval(recorded, nsgs, denyStamp(policy));
}

function planRemoval(recorded: readonly AddedRule[], nsgs: readonly Nsg[], stampOf: Stamp): RestorePlan {
  const byId = new Map(nsgs.map((n) => [n.id, n]));
  const deletes = new Map<string, Set<string>>();
  const verdicts = judgeRecorded(
    recorded,
    (entry) => entry.rule,
    (entry) => byId.get(entry.nsgId)?.securityRules.find((r) => r.name === entry.rule.name),
    stampOf,
    ruleDifferences,
    (entry, current) => deletes.set(entry.nsgId, (deletes.get(entry.nsgId) ?? new Set()).add(current.name)),
  );
  return { changes: [...deletes].map(([nsgId, names]) => ({ nsgId, put: [], delete: [...names].sort() })), ...verdicts };
}

/** Recorded rules sorted by how they stand now, as `RestorePlan` (and the firewall's removal plan) report them. */
export interface Verdicts<E, R> {
  removed: E[];
  altered: Array<{ recorded: E; current: R; differences: string[] }>;
  gone: E[];
  kept: Array<{ recorded: E; current: R }>;
}

/**
 * Judges each recorded rule against the rule under its name now (`current`): gone; taken over by
 * someone (its stamp says something else: kept); or still ours, as recorded (removed) or edited
 * since (altered), and then `remove` is told to take it out.
 */
export function judgeRecorded<E, R extends Pick<NsgRule, "name" | "description">>(
  recorded: readonly E[],
  ruleOf: (entry: E) => R,
  current: (entry: E) => R | undefined,
  stampOf: Stamp,
  differences: (a: R, b: R) => string[],
  remove: (entry: E, current: R) => void,
): Verdicts<E, R> {
  const verdicts: Verdicts<E, R> = { removed: [], altered: [], gone: [], kept: [] };
  for (const entry of recorded) {
    const now = current(entry);
    if (!now) {
      verdicts.gone.push(entry);
      continue;
    }
    const stamp = stampOf(ruleOf(entry));
    if (stamp === undefined || stampOf(now) !== stamp) {
      verdicts.kept.push({ recorded: entry, current: now });
      continue;
    }
    const edited = differences(ruleOf(entry), now);
    if (edited.length === 0) verdicts.removed.push(entry);
    else verdicts.altered.push({ recorded: entry, current: now, differences: edited });
    remove(entry, now);
  }
  return verdicts;
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
