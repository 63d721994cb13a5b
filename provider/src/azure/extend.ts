import type { ChangeJournal, Progress } from "../driver";
import { Change, ChangeOf, Grant, JitError, openChanges } from "../model";
import { allowCollectionName, allowRuleDescription, dnatCollectionName, parseJitRule, type FirewallChange, type NsgChange } from "../plan";
import { FirewallWriter } from "./firewall-writer";
import type { AzureClients } from "./clients";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { NsgRuleChange, recordedRule, ruleChange } from "./record";

/**
 * Moves the expiry stamped on a grant's allow rules to the grant's new ends: in NSGs rule by rule,
 * each put again under its own name with only its description changed, under the NSG's ETag; in a
 * classic Azure Firewall, the grant's collections in one write of the firewall. Every rule is
 * replaced in place and never absent. `grant` carries the new ends (on its changes, or the
 * grant's own end). A rule somebody else removed meanwhile is not put back; one already stamped
 * with the new end is left as it is, so a second run after a crash finishes the first.
 */
export async function extendGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress): Promise<void> {
  const open = openChanges(grant);
  await Promise.all([restampNsgs(clients, grant, open, journal, progress), restampFirewalls(clients, grant, open, journal, progress)]);
}

/** The description our allow rule for a change should carry once the grant is extended. */
function newStamp(grant: Grant, ruleName: string, description: unknown, endTimeUtc: string | undefined, where: string): string {
  const info = parseJitRule({ name: ruleName, description: typeof description === "string" ? description : undefined });
  if (info?.kind !== "allow") throw new JitError("CloudError", `the record of rule ${ruleName} in ${where} is not one of our allow rules`);
  return allowRuleDescription(grant.id, grant.policy, info.vm, new Date(endTimeUtc ?? grant.endTimeUtc));
}

async function restampNsgs(clients: AzureClients, grant: Grant, open: Change[], journal: ChangeJournal, progress: Progress): Promise<void> {
  const byNsg = new Map<string, NsgRuleChange[]>();
  for (const c of open) if (c.kind === "azure-nsg-rule" && c.status === "applied") byNsg.set(c.nsgId, [...(byNsg.get(c.nsgId) ?? []), c]);
  const writer = new NsgWriter(clients, progress);
  await Promise.all(
    [...byNsg].map(async ([nsgId, changes]) => {
      const wanted = new Map(
        changes.map((change) => [idKey(change.ruleName), { change, description: newStamp(grant, change.ruleName, recordedRule(change)?.description, change.endTimeUtc, `NSG ${nsgId}`) }] as const),
      );
      await writer.apply(
        nsgId,
        (nsg): NsgChange => {
          const stale = nsg.securityRules.find((r) => wanted.has(idKey(r.name)) && r.description !== wanted.get(idKey(r.name))?.description);
          return { nsgId, put: stale ? [{ ...stale, description: wanted.get(idKey(stale.name))?.description }] : [], delete: [] };
        },
        {
          afterPut: async (rule) => {
            const { change } = wanted.get(idKey(rule.name))!;
            await journal.update({ ...ruleChange(nsgId, rule, "applied"), ...(change.endTimeUtc ? { endTimeUtc: change.endTimeUtc } : {}) });
            progress(`NSG ${shortName(nsgId)}: rule ${rule.name} now expires ${rule.description?.split("exp=")[1] ?? ""}`);
          },
        },
      );
    }),
  );
}

/**
 * A grant's DNAT rules (and the network rules let through with them) carry the same stamp: the
 * grant's two collections are put back with only their descriptions changed, in one write of the
 * firewall under its ETag, which replaces the rules in place.
 */
async function restampFirewalls(clients: AzureClients, grant: Grant, open: Change[], journal: ChangeJournal, progress: Progress): Promise<void> {
  const byFirewall = new Map<string, ChangeOf<"azure-firewall-nat-rule">[]>();
  for (const c of open) if (c.kind === "azure-firewall-nat-rule" && c.status === "applied") byFirewall.set(c.firewallId, [...(byFirewall.get(c.firewallId) ?? []), c]);
  const writer = new FirewallWriter(clients, progress);
  const ours = new Set([dnatCollectionName(grant.id), allowCollectionName(grant.id)].map(idKey));
  for (const [firewallId, changes] of byFirewall) {
    const wanted = new Map(changes.map((c) => [idKey(c.ruleName), newStamp(grant, c.ruleName, c.rule.description, c.endTimeUtc, `Azure Firewall ${firewallId}`)]));
    const restamped = <R extends { name: string; description?: string }>(r: R): R => {
      const description = wanted.get(idKey(r.name));
      return description !== undefined && parseJitRule(r)?.kind === "allow" ? { ...r, description } : r;
    };
    const stale = (c: { name: string; rules: readonly { name: string; description?: string }[] }) => ours.has(idKey(c.name)) && c.rules.some((r) => restamped(r).description !== r.description);
    await writer.apply(
      firewallId,
      (fw): FirewallChange => ({
        firewallId,
        nat: { put: fw.natRuleCollections.filter(stale).map((c) => ({ ...c, rules: c.rules.map(restamped) })), delete: [] },
        network: { put: fw.networkRuleCollections.filter(stale).map((c) => ({ ...c, rules: c.rules.map(restamped) })), delete: [] },
      }),
      {
        afterWrite: async () => {
          for (const c of changes) {
            const description = wanted.get(idKey(c.ruleName)) as string;
            const allow = c.rule.allow as { collectionName: string; rule: Record<string, unknown> } | undefined;
            const rule = { ...c.rule, description, ...(allow ? { allow: { ...allow, rule: { ...allow.rule, description } } } : {}) };
            await journal.update({ ...c, rule });
          }
          progress(`Azure Firewall ${shortName(firewallId)}: the DNAT rules of grant ${grant.id} now expire ${grant.endTimeUtc}`);
        },
      },
    );
  }
}
