import type { KnownGrantState, OrphanReport, Progress, SweepScope } from "../access/driver";
import { Nsg, SweepPlan, planSweep } from "../plan";
import type { AzureClients } from "./clients";
import { cloudError } from "./errors";
import { NsgWriter } from "./nsg-writer";
import { fromSdkNsg } from "./nsgs";

/**
 * Our allow rules found in the cloud itself, with no ledger needed: every NSG of each subscription
 * is listed (paged), and each allow rule whose stamped expiry has passed, or whose grant the ledger
 * says has ended, is deleted, verified as the writer does. A rule of a grant the ledger does not
 * know is left until its stamped expiry: it may belong to a grant made with another ledger.
 */
export async function sweepOrphans(
  clients: AzureClients,
  scope: SweepScope,
  now: Date,
  grantState: (grantId: string) => KnownGrantState,
  progress: Progress,
): Promise<OrphanReport[]> {
  const writer = new NsgWriter(clients, progress);
  const ended = (grantId: string) => grantState(grantId) === "ended";
  const out: OrphanReport[] = [];
  for (const subscriptionId of scope.azureSubscriptions ?? []) {
    try {
      const network = await clients.network(subscriptionId);
      for await (const listed of network.networkSecurityGroups.listAll()) {
        const first = fromSdkNsg(listed);
        const nsgId = first.nsg.id;
        const found = new Map<string, SweepPlan["expired"][number]["info"]>();
        const plan = (nsg: Nsg) => {
          const p = planSweep(nsg, now, ended);
          for (const { rule, info } of p.expired) found.set(rule.name, info);
          return p.change;
        };
        if (plan(first.nsg).delete.length === 0) continue;
        const reported = new Set<string>();
        const report = (name: string, action: OrphanReport["action"], error?: string) => {
          const info = found.get(name);
          reported.add(name);
          out.push({
            cloud: "azure",
            container: nsgId,
            name,
            ...(info ? { grantId: info.grantId, expiredAt: info.expiresAt.toISOString() } : {}),
            action,
            ...(error === undefined ? {} : { error }),
          });
        };
        try {
          await writer.apply(nsgId, plan, { afterDelete: async (name) => report(name, "removed") }, first);
        } catch (err) {
          for (const name of found.keys()) if (!reported.has(name)) report(name, "failed", err instanceof Error ? err.message : String(err));
        }
      }
    } catch (err) {
      out.push({ cloud: "azure", container: `/subscriptions/${subscriptionId}`, name: "*", action: "failed", error: cloudError(err, `listing the NSGs of subscription ${subscriptionId}`).message });
    }
  }
  return out;
}
