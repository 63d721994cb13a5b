import type { ChangeJournal, Progress, RestoreReport } from "../driver";
import { Grant, JitError, isJitError } from "../model";
import { AddedRule, RestorePlan, planRestore } from "../plan";
import type { AzureClients } from "./clients";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { restoreFirewallChanges } from "./firewall-grant";
import { FirewallNatChange, NsgRuleChange, recordedRule } from "./record";

/**
 * Ending a grant: first the firewall rules its journal recorded (the way in closes first; see
 * `restoreFirewallChanges`), then the NSG allow rules, each verified first (it must still carry
 * the grant's stamp; see `planRestore`) and deleted under the ETag it was verified with, and
 * nothing else. Rules already gone count as removed; a rule somebody took over is left in place and
 * reported, and stays open in the journal. Safe to run again at any point.
 *
 * A place that cannot be restored (a management lock, a refused write) does not stop the others:
 * removing the allow rule from any one NSG on the path already closes the port, so every NSG is
 * tried, and then the failures are reported together, naming what was closed all the same.
 */
export async function restoreGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress): Promise<RestoreReport> {
  const writer = new NsgWriter(clients, progress);
  const report: RestoreReport = { removed: 0, alreadyGone: 0, mismatches: [] };
  const open = grant.changes.filter((c) => c.status !== "removed");
  const failures: { where: string; err: unknown }[] = [];
  const closed: string[] = [];
  try {
    await restoreFirewallChanges(clients, open.filter((c): c is FirewallNatChange => c.kind === "azure-firewall-nat-rule"), journal, progress, report);
  } catch (err) {
    failures.push({ where: "the Azure Firewall", err });
  }
  const byNsg = new Map<string, { change: NsgRuleChange; added: AddedRule }[]>();
  for (const change of open) {
    if (change.kind === "azure-firewall-nat-rule") continue;
    const rule = change.kind === "azure-nsg-rule" ? recordedRule(change) : undefined;
    if (change.kind !== "azure-nsg-rule" || rule === undefined) {
      report.mismatches.push(`a ${change.kind} change is not one the Azure driver recorded; left as it is`);
      continue;
    }
    const entries = byNsg.get(idKey(change.nsgId)) ?? [];
    entries.push({ change, added: { nsgId: change.nsgId, rule } });
    byNsg.set(idKey(change.nsgId), entries);
  }

  // Side by side, as a grant writes them: each NSG's deletes wait for their own operations.
  await Promise.all([...byNsg.values()].map(async (entries) => {
    const nsgId = entries[0].change.nsgId;
    const where = `NSG ${shortName(nsgId)}`;
    const recorded = entries.map((e) => e.added);
    const markRemoved = async (name: string) => {
      const entry = entries.find((e) => e.added.rule.name === name);
      if (entry) await journal.update({ ...entry.change, status: "removed" });
    };
    const deletedNow = new Set<string>();
    let first: RestorePlan | undefined;
    let left: RestorePlan;
    try {
      const { after } = await writer.apply(
        nsgId,
        (nsg) => {
          const plan = planRestore(recorded, [nsg]);
          first ??= plan;
          return plan.changes[0] ?? { nsgId, put: [], delete: [] };
        },
        {
          afterDelete: async (name, vanished) => {
            await markRemoved(name);
            deletedNow.add(name);
            if (vanished) report.alreadyGone += 1;
            else report.removed += 1;
          },
        },
      );
      left = planRestore(recorded, [after]);
      closed.push(where);
    } catch (err) {
      if (!isJitError(err, "NotFound")) {
        failures.push({ where, err });
        progress(`${where}: ${(err as Error).message}; carrying on with the rest of the grant`);
        return;
      }
      left = { changes: [], removed: [], altered: [], gone: recorded, kept: [] };
    }
    for (const { recorded: r, differences } of first?.altered ?? []) {
      progress(`${where}: rule ${r.rule.name} had been edited (${differences.join(", ")}); it still carried the grant's stamp, so it was removed all the same`);
    }
    // Rules gone before this run got to them: never written, or removed by someone else.
    for (const gone of left.gone) {
      if (deletedNow.has(gone.rule.name)) continue;
      await markRemoved(gone.rule.name);
      report.alreadyGone += 1;
    }
    for (const { current } of left.kept) {
      report.mismatches.push(`rule ${current.name} in NSG ${nsgId} no longer says it belongs to grant ${grant.id} (its description is now "${current.description ?? ""}"); left in place`);
    }
  }));
  if (failures.length > 0) throw restoreFailed(grant, failures, closed);
  return report;
}

/** One error for every place a restore could not finish, carrying the first one's code and cause. */
function restoreFailed(grant: Grant, failures: { where: string; err: unknown }[], closed: string[]): JitError {
  const first = failures[0].err;
  const code = isJitError(first) ? first.code : "CloudError";
  const each = failures.map(({ where, err }) => `${where}: ${err instanceof Error ? err.message : String(err)}`).join("; ");
  const done = closed.length ? ` The grant's rules were removed from ${closed.join(", ")}, which closes the port on those paths.` : "";
  return new JitError(code, `restoring grant ${grant.id} is not finished: ${each}.${done} What is left stays on the grant's record; \`jit sweep\` tries again.`, { cause: first });
}
