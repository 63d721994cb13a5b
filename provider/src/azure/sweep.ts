import { GrantStates, OrphanReport, Progress, SweepScope, statesAsked } from "../driver";
import { Nsg, SweepPlan, planFirewallSweep, planSweep, type Firewall, type FirewallSweepPlan } from "../plan";
import type { AzureClients } from "./clients";
import { cloudError, isSignInFailure } from "./errors";
import { fromSdkFirewall } from "./firewalls";
import { FirewallWriter } from "./firewall-writer";
import { NsgWriter } from "./nsg-writer";
import { fromSdkNsg } from "./nsgs";
import { errorMessage } from "../model/errors";

/**
 * Our grants' rules found in the cloud itself, with no ledger needed: every NSG and every classic
 * Azure Firewall of each subscription is listed (paged), and each grant rule whose stamped expiry
 * has passed, or whose grant the ledger says has ended, is removed, verified as the writers do. A
 * rule of a grant the ledger does not know is left until its stamped expiry: it may belong to a
 * grant made with another ledger.
 */
export async function sweepOrphans(
  clients: AzureClients,
  scope: SweepScope,
  now: Date,
  grantStates: GrantStates,
  progress: Progress,
): Promise<OrphanReport[]> {
  const out: OrphanReport[] = [];
  for (const subscriptionId of scope.azureSubscriptions ?? []) {
    out.push(...(await sweepNsgs(clients, subscriptionId, now, grantStates, progress)));
    out.push(...(await sweepFirewalls(clients, subscriptionId, now, grantStates, progress)));
  }
  return out;
}

type Found = Map<string, { grantId: string; expiresAt: Date }>;

/** Reports each rule found, once: removed, or failed with the error. */
function reporter(out: OrphanReport[], container: string, found: Found) {
  const reported = new Set<string>();
  const report = (name: string, action: OrphanReport["action"], error?: string) => {
    const info = found.get(name);
    reported.add(name);
    out.push({
      cloud: "azure",
      container,
      name,
      ...(info ? { grantId: info.grantId, expiredAt: info.expiresAt.toISOString() } : {}),
      action,
      ...(error === undefined ? {} : { error }),
    });
  };
  const failRest = (err: unknown) => {
    for (const name of found.keys()) if (!reported.has(name)) report(name, "failed", errorMessage(err));
  };
  return { report, failRest };
}

/** `ended` for the grants a plan asks about, looked up together (see `statesAsked`). */
async function endedAsked(grantStates: GrantStates, plan: (ended: (grantId: string) => boolean) => unknown): Promise<(grantId: string) => boolean> {
  const state = await statesAsked(grantStates, (s) => plan((grantId) => s(grantId) === "ended"));
  return (grantId) => state(grantId) === "ended";
}

async function sweepNsgs(clients: AzureClients, subscriptionId: string, now: Date, grantStates: GrantStates, progress: Progress): Promise<OrphanReport[]> {
  const writer = new NsgWriter(clients, progress);
  const out: OrphanReport[] = [];
  try {
    const network = await clients.network(subscriptionId);
    for await (const listed of network.networkSecurityGroups.listAll()) {
      const first = fromSdkNsg(listed);
      const ended = await endedAsked(grantStates, (e) => planSweep(first.nsg, now, e));
      const found: Found = new Map();
      const plan = (nsg: Nsg) => {
        const p: SweepPlan = planSweep(nsg, now, ended);
        for (const { rule, info } of p.expired) found.set(rule.name, info);
        return p.change;
      };
      if (plan(first.nsg).delete.length === 0) continue;
      const { report, failRest } = reporter(out, first.nsg.id, found);
      try {
        await writer.apply(first.nsg.id, plan, { afterDelete: async (name) => report(name, "removed") }, first);
      } catch (err) {
        if (isSignInFailure(err)) throw err;
        failRest(err);
      }
    }
  } catch (err) {
    if (isSignInFailure(err)) throw err;
    out.push({ cloud: "azure", container: `/subscriptions/${subscriptionId}`, name: "*", action: "failed", error: cloudError(err, `listing the NSGs of subscription ${subscriptionId}`).message });
  }
  return out;
}

/** Firewalls under a Firewall Policy hold no classic collections, so none of ours: they are passed over. */
async function sweepFirewalls(clients: AzureClients, subscriptionId: string, now: Date, grantStates: GrantStates, progress: Progress): Promise<OrphanReport[]> {
  const writer = new FirewallWriter(clients, progress);
  const out: OrphanReport[] = [];
  try {
    const network = await clients.network(subscriptionId);
    for await (const listed of network.azureFirewalls.listAll()) {
      if (listed.firewallPolicy?.id !== undefined || listed.virtualHub?.id !== undefined) continue;
      const first = fromSdkFirewall(listed);
      const ended = await endedAsked(grantStates, (e) => planFirewallSweep(first.firewall, now, e));
      const found: Found = new Map();
      let planned: FirewallSweepPlan | undefined;
      const plan = (firewall: Firewall) => {
        planned = planFirewallSweep(firewall, now, ended);
        for (const { found: f, info } of planned.expired) found.set(`${f.collection}/${f.rule.name}`, info);
        return planned.change;
      };
      plan(first.firewall);
      if (found.size === 0) continue;
      const { report, failRest } = reporter(out, first.firewall.id, found);
      try {
        await writer.apply(first.firewall.id, plan, {
          afterWrite: async () => {
            for (const r of [...(planned?.removed ?? []), ...(planned?.altered.map((a) => a.recorded) ?? [])]) report(`${r.collection}/${r.rule.name}`, "removed");
          },
        }, first);
      } catch (err) {
        if (isSignInFailure(err)) throw err;
        failRest(err);
      }
    }
  } catch (err) {
    if (isSignInFailure(err)) throw err;
    out.push({ cloud: "azure", container: `/subscriptions/${subscriptionId}`, name: "*", action: "failed", error: cloudError(err, `listing the Azure Firewalls of subscription ${subscriptionId}`).message });
  }
  return out;
}
