import { parseJitRule, type JitRuleInfo } from "../nsg/names";
import { allowStamp, denyStamp, judgeRecorded, type Stamp, type Verdicts } from "../nsg/restore";
import { parseJitCollection } from "./names";
import { fwRuleDifferences } from "./rule-shape";
import { noFirewallChange, type CollectionEdits, type Firewall, type FirewallChange, type FwCollection, type FwNatRule, type FwNetworkRule } from "./types";

/** A rule we wrote in a firewall, as recorded: its kind of collection, the collection, the rule as written. */
export interface RecordedFwRule {
  kind: "nat" | "network";
  collection: string;
  rule: FwNatRule | FwNetworkRule;
}

/** Removed, altered, gone and kept as for NSGs (`RestorePlan`); `gone` also when the rule's collection is. */
export interface FirewallRemovalPlan extends Verdicts<RecordedFwRule, FwNatRule | FwNetworkRule> {
  change: FirewallChange;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The collection named `name` without the rules `names`: written back, or deleted once it holds none. */
function takeOut<C extends FwCollection<string, { name: string }>>(edits: CollectionEdits<C>, collections: readonly C[], name: string, names: ReadonlySet<string>): void {
  const collection = collections.find((c) => c.name === name);
  if (!collection) return;
  const rules = collection.rules.filter((r) => !names.has(r.name));
  if (rules.length === 0) edits.delete.push(name);
  else edits.put.push({ ...collection, rules });
}

/**
 * Removing recorded rules from a firewall, verified as NSG rules are (`planRestore`): a rule goes
 * while it still carries its stamp (edits are reported in `altered`), a rule re-labelled by
 * someone stays (`kept`), and nothing else is touched. A collection left without rules is deleted
 * (Azure holds no empty collection); one that still holds rules, somebody else's included, is
 * written back with just the recorded rules taken out.
 */
function planRemoval(recorded: readonly RecordedFwRule[], firewall: Firewall, stampOf: Stamp): FirewallRemovalPlan {
  const lists = { nat: firewall.natRuleCollections, network: firewall.networkRuleCollections };
  const collectionOf = (entry: RecordedFwRule) => lists[entry.kind].find((c) => same(c.name, entry.collection));
  const removing = { nat: new Map<string, Set<string>>(), network: new Map<string, Set<string>>() };
  const verdicts = judgeRecorded(
    recorded,
    (entry) => entry.rule,
    (entry) => collectionOf(entry)?.rules.find((r: FwNatRule | FwNetworkRule) => same(r.name, entry.rule.name)),
    stampOf,
    fwRuleDifferences,
    (entry, current) => {
      const name = collectionOf(entry)?.name ?? entry.collection;
      removing[entry.kind].set(name, (removing[entry.kind].get(name) ?? new Set<string>()).add(current.name));
    },
  );
  const change = noFirewallChange(firewall.id);
  for (const [name, names] of removing.nat) takeOut(change.nat, firewall.natRuleCollections, name, names);
  for (const [name, names] of removing.network) takeOut(change.network, firewall.networkRuleCollections, name, names);
  return { change, ...verdicts };
}

/** Ending a grant on a firewall: its recorded DNAT and allow rules go, and its collections once empty. */
export function planFirewallRestore(recorded: readonly RecordedFwRule[], firewall: Firewall): FirewallRemovalPlan {
  return planRemoval(recorded, firewall, allowStamp);
}

/** Taking a policy's baseline off a firewall: its recorded deny rules go, and its collection once empty. */
export function planFirewallBaselineRemoval(policy: string, recorded: readonly RecordedFwRule[], firewall: Firewall): FirewallRemovalPlan {
  return planRemoval(recorded, firewall, denyStamp(policy));
}

export interface FirewallSweepPlan extends FirewallRemovalPlan {
  /** Each grant rule being removed, with what its stamp says. */
  expired: Array<{ found: RecordedFwRule; info: JitRuleInfo & { kind: "allow" } }>;
}

/**
 * Grants' rules in this firewall whose stamped expiry has passed, or whose grant the caller knows
 * has ended: found from the firewall alone, in our grants' collections only, no ledger needed.
 */
export function planFirewallSweep(firewall: Firewall, now: Date, ended: (grantId: string) => boolean = () => false): FirewallSweepPlan {
  const expired: FirewallSweepPlan["expired"] = [];
  const scan = (kind: RecordedFwRule["kind"], collections: ReadonlyArray<{ name: string; rules: ReadonlyArray<FwNatRule | FwNetworkRule> }>) => {
    for (const c of collections) {
      const owner = parseJitCollection(c.name);
      if (owner === undefined || owner.kind === "deny") continue;
      for (const rule of c.rules) {
        const info = parseJitRule(rule);
        if (info?.kind === "allow" && (info.expiresAt.getTime() <= now.getTime() || ended(info.grantId))) expired.push({ found: { kind, collection: c.name, rule }, info });
      }
    }
  };
  scan("nat", firewall.natRuleCollections);
  scan("network", firewall.networkRuleCollections);
  return { ...planFirewallRestore(expired.map((e) => e.found), firewall), expired };
}
