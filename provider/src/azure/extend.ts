import type { ChangeJournal, Progress } from "../driver";
import { Grant, JitError, openChanges } from "../model";
import { allowRuleDescription, parseJitRule, type NsgChange } from "../plan";
import type { AzureClients } from "./clients";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { NsgRuleChange, recordedRule, ruleChange } from "./record";

/**
 * Moves the expiry stamped on a grant's allow rules to the grant's new ends, rule by rule: each is
 * put again under its own name with only its description changed, under the NSG's ETag, so that
 * it is replaced in place and never absent. `grant` carries the new ends (on its changes, or the
 * grant's own end). A rule somebody else removed meanwhile is not put back; one already stamped
 * with the new end is left as it is, so a second run after a crash finishes the first.
 */
export async function extendGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress): Promise<void> {
  const open = openChanges(grant);
  if (open.some((c) => c.kind === "azure-firewall-nat-rule")) {
    throw new JitError("Unsupported", `grant ${grant.id} goes through an Azure Firewall, whose DNAT rules are not extended in place yet; request a new grant (it replaces this one without a gap)`);
  }
  const byNsg = new Map<string, NsgRuleChange[]>();
  for (const c of open) if (c.kind === "azure-nsg-rule" && c.status === "applied") byNsg.set(c.nsgId, [...(byNsg.get(c.nsgId) ?? []), c]);
  const writer = new NsgWriter(clients, progress);
  await Promise.all(
    [...byNsg].map(async ([nsgId, changes]) => {
      const wanted = new Map(
        changes.map((change) => {
          const info = parseJitRule({ name: change.ruleName, description: recordedRule(change)?.description });
          if (info?.kind !== "allow") throw new JitError("CloudError", `the record of rule ${change.ruleName} in NSG ${nsgId} is not one of our allow rules`);
          const description = allowRuleDescription(grant.id, grant.policy, info.vm, new Date(change.endTimeUtc ?? grant.endTimeUtc));
          return [idKey(change.ruleName), { change, description }] as const;
        }),
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
