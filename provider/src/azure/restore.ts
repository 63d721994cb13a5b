import type { ChangeJournal, Progress, RestoreReport } from "../driver";
import { Grant, JitError, errorMessage, isJitError } from "../model";
import { AddedRule, RestorePlan, planRestore } from "../plan";
import type { AzureClients } from "./clients";
import { idKey, shortName } from "./ids";
import { mapLimit } from "../util/parallel";
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
  const [outcome] = await restoreGrants(clients, [{ grant, journal }], progress);
  if (outcome instanceof Error) throw outcome;
  return outcome;
}

/** One grant of a batch being restored: what it reports, and where it could not finish. */
interface Restoring {
  grant: Grant;
  journal: ChangeJournal;
  report: RestoreReport;
  failures: { where: string; err: unknown }[];
  closed: string[];
}

/**
 * Restores many grants at once (a sweep of everything due): each grant's firewall rules first, then
 * every NSG they have rules in, each NSG in one write for all the grants (see `restoreGrant` for
 * what each removal checks). Each grant gets its own report, or its own error naming what it could
 * not finish; one grant's trouble does not stop the others.
 */
export async function restoreGrants(clients: AzureClients, items: ReadonlyArray<{ grant: Grant; journal: ChangeJournal }>, progress: Progress): Promise<Array<RestoreReport | JitError>> {
  const writer = new NsgWriter(clients, progress);
  const restoring: Restoring[] = items.map(({ grant, journal }) => ({ grant, journal, report: { removed: 0, alreadyGone: 0, mismatches: [] }, failures: [], closed: [] }));
  const byNsg = new Map<string, { change: NsgRuleChange; added: AddedRule; of: Restoring }[]>();
  await mapLimit(restoring, FIREWALL_GRANTS_AT_ONCE, async (r) => {
    const open = r.grant.changes.filter((c) => c.status !== "removed");
    try {
      await restoreFirewallChanges(clients, open.filter((c): c is FirewallNatChange => c.kind === "azure-firewall-nat-rule"), r.journal, progress, r.report);
    } catch (err) {
      r.failures.push({ where: "the Azure Firewall", err });
    }
    for (const change of open) {
      if (change.kind === "azure-firewall-nat-rule") continue;
      const rule = change.kind === "azure-nsg-rule" ? recordedRule(change) : undefined;
      if (change.kind !== "azure-nsg-rule" || rule === undefined) {
        r.report.mismatches.push(`a ${change.kind} change is not one the Azure driver recorded; left as it is`);
        continue;
      }
      const entries = byNsg.get(idKey(change.nsgId)) ?? [];
      entries.push({ change, added: { nsgId: change.nsgId, rule }, of: r });
      byNsg.set(idKey(change.nsgId), entries);
    }
  });

  // Side by side, as a grant writes them: each NSG's write waits for its own operation.
  await mapLimit([...byNsg.values()], NSGS_AT_ONCE, async (entries) => {
    const nsgId = entries[0].change.nsgId;
    const where = `NSG ${shortName(nsgId)}`;
    const recorded = entries.map((e) => e.added);
    const byName = new Map(entries.map((e) => [e.added.rule.name.toLowerCase(), e]));
    const grantsHere = [...new Set(entries.map((e) => e.of))];
    const markRemoved = async (name: string) => {
      const entry = byName.get(name.toLowerCase());
      if (entry) await entry.of.journal.update({ ...entry.change, status: "removed" });
      return entry;
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
            const entry = await markRemoved(name);
            deletedNow.add(name);
            if (entry && vanished) entry.of.report.alreadyGone += 1;
            else if (entry) entry.of.report.removed += 1;
          },
        },
      );
      left = planRestore(recorded, [after]);
      for (const r of grantsHere) r.closed.push(where);
    } catch (err) {
      if (!isJitError(err, "NotFound")) {
        for (const r of grantsHere) r.failures.push({ where, err });
        progress(`${where}: ${(err as Error).message}; carrying on with the rest`);
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
      const entry = await markRemoved(gone.rule.name);
      if (entry) entry.of.report.alreadyGone += 1;
    }
    for (const { current } of left.kept) {
      const entry = byName.get(current.name.toLowerCase());
      entry?.of.report.mismatches.push(`rule ${current.name} in NSG ${nsgId} no longer says it belongs to grant ${entry.of.grant.id} (its description is now "${current.description ?? ""}"); left in place`);
    }
  });
  return restoring.map((r) => (r.failures.length > 0 ? restoreFailed(r.grant, r.failures, r.closed) : r.report));
}

/** Grants whose firewall rules are restored at once (each firewall write takes minutes, and ARM holds one per firewall). */
const FIREWALL_GRANTS_AT_ONCE = 8;
/** NSGs written at once: each has its own lock in ARM, so they do not slow each other down. */
const NSGS_AT_ONCE = 100;

/** One error for every place a restore could not finish, carrying the first one's code and cause. */
function restoreFailed(grant: Grant, failures: { where: string; err: unknown }[], closed: string[]): JitError {
  const first = failures[0].err;
  const code = isJitError(first) ? first.code : "CloudError";
  const each = failures.map(({ where, err }) => `${where}: ${errorMessage(err)}`).join("; ");
  const done = closed.length ? ` The grant's rules were removed from ${closed.join(", ")}, which closes the port on those paths.` : "";
  return new JitError(code, `restoring grant ${grant.id} is not finished: ${each}.${done} What is left stays on the grant's record; \`jit sweep\` tries again.`, { cause: first });
}
