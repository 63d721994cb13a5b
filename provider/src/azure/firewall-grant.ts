import type { ChangeJournal, Progress, RestoreReport } from "../driver";
import { Grant, isJitError } from "../model";
import { Firewall, FirewallGrantPlan, FirewallGrantVm, FirewallRemovalPlan, RecordedFwRule, noFirewallChange, planFirewallGrant, planFirewallRestore } from "../plan";
import type { AzureClients } from "./clients";
import type { FirewallFront } from "./firewall-resolve";
import { FirewallWriter } from "./firewall-writer";
import { fromSdkFirewall } from "./firewalls";
import type { GrantRecorder } from "./grant-journal";
import { idKey, shortName } from "./ids";
import { FirewallNatChange, natChange, recordedFirewallRules } from "./record";
import type { ResolvedVm } from "./resolve";

/** How a grant reaches a VM through a firewall: the firewall, the public address it listens on, its own subnet, the VM's address. */
export interface FirewallPath {
  front: FirewallFront;
  publicAddress: string;
  /** What NSGs behind the firewall see as the source of DNAT traffic; their allow rules admit this. */
  subnetPrefix: string;
  /** Where DNAT rules forward to: the VM's first private address in the firewall's network. */
  address: string;
}

/** The grant's VMs behind one firewall. */
interface Through {
  path: FirewallPath;
  vms: FirewallGrantVm[];
  /** VM ids by name, for the journal. */
  ids: Map<string, string>;
}

/** The grant's VMs grouped by the firewall in front of them. */
function throughFirewalls(grant: Grant, resolved: readonly ResolvedVm[], paths: ReadonlyArray<FirewallPath | undefined>): Map<string, Through> {
  const byFirewall = new Map<string, Through>();
  resolved.forEach((vm, i) => {
    const path = paths[i];
    if (!path) return;
    const entry: Through = byFirewall.get(idKey(path.front.id)) ?? { path, vms: [], ids: new Map() };
    byFirewall.set(idKey(path.front.id), entry);
    entry.ids.set(vm.name, vm.id);
    const ports = grant.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol, source: p.sourceAddressPrefix, expiresAt: new Date(p.endTimeUtc) }));
    entry.vms.push({ name: vm.name, address: path.address, ports });
  });
  return byFirewall;
}

function grantInput(grant: Grant, firewall: Firewall, path: FirewallPath, vms: FirewallGrantVm[]) {
  const publicAddresses = (path.front.sdk.ipConfigurations ?? []).filter((c) => c.publicIPAddress?.id !== undefined).length;
  return { grantId: grant.id, policy: grant.policy, firewall, publicAddress: path.publicAddress, publicAddresses: Math.max(publicAddresses, 1), vms };
}

/**
 * Plans the firewall half of a grant on each firewall as listed, before anything is written, so
 * that a grant the firewall has no room for (`CapacityExceeded`: the DNAT limit) changes nothing.
 */
export function checkFirewallGrant(grant: Grant, resolved: readonly ResolvedVm[], paths: ReadonlyArray<FirewallPath | undefined>): void {
  for (const { path, vms } of throughFirewalls(grant, resolved, paths).values()) planFirewallGrant(grantInput(grant, fromSdkFirewall(path.front.sdk).firewall, path, vms));
}

/**
 * The firewall half of a grant: for each firewall in front of some of the grant's VMs, the DNAT
 * rules (and allow rules) `planFirewallGrant` says it needs, in one write of the firewall. Every
 * port's change is journalled as intended before the write and as applied after it; run again on
 * a partly applied grant, it writes what is missing and records what is already there.
 */
export async function applyFirewallGrant(
  clients: AzureClients,
  grant: Grant,
  resolved: readonly ResolvedVm[],
  paths: ReadonlyArray<FirewallPath | undefined>,
  recorder: GrantRecorder,
  progress: Progress,
): Promise<void> {
  const writer = new FirewallWriter(clients, progress);
  const byFirewall = throughFirewalls(grant, resolved, paths);
  for (const { path, vms, ids } of byFirewall.values()) {
    const firewallId = path.front.id;
    const change = (rule: FirewallGrantPlan["rules"][number], status: "intended" | "applied") => natChange(firewallId, ids.get(rule.vm) ?? rule.vm, rule, status);
    let planned: FirewallGrantPlan | undefined;
    const plan = (firewall: Firewall) =>
      (planned = planFirewallGrant(grantInput(grant, firewall, path, vms)));
    const { after } = await writer.apply(firewallId, (firewall) => plan(firewall).change, {
      beforeWrite: () => recorder.intend((planned?.rules ?? []).map((r) => change(r, "intended"))),
      afterWrite: async () => {
        for (const r of planned?.rules ?? []) {
          await recorder.applied(change(r, "applied"));
          progress(`Azure Firewall ${shortName(firewallId)}: ${path.publicAddress}:${r.mappedPort} → ${r.vm}:${r.port} for ${r.dnat.sourceAddresses?.join(",") ?? "?"}`);
        }
      },
    });
    // Rules found already in place (written by an earlier, interrupted run) are the grant's too.
    for (const r of plan(after).rules) await recorder.applied(change(r, "applied"));
  }
}

/**
 * The firewall half of ending a grant: per firewall, one write that takes out the DNAT and allow
 * rules the journal recorded, each verified first (see `planFirewallRestore`), and the grant's
 * collections once empty. A change whose rules are all gone is marked removed; one whose rule
 * somebody took over stays open and is reported.
 */
export async function restoreFirewallChanges(clients: AzureClients, changes: readonly FirewallNatChange[], journal: ChangeJournal, progress: Progress, report: RestoreReport): Promise<void> {
  const writer = new FirewallWriter(clients, progress);
  const byFirewall = new Map<string, Array<{ change: FirewallNatChange; rules: RecordedFwRule[] }>>();
  for (const change of changes) {
    const rules = recordedFirewallRules(change);
    if (!rules) {
      report.mismatches.push(`the firewall change ${change.collectionName}/${change.ruleName} is not one the Azure driver recorded; left as it is`);
      continue;
    }
    byFirewall.set(idKey(change.firewallId), [...(byFirewall.get(idKey(change.firewallId)) ?? []), { change, rules }]);
  }

  for (const entries of byFirewall.values()) {
    const firewallId = entries[0].change.firewallId;
    const recorded = entries.flatMap((e) => e.rules);
    let last: FirewallRemovalPlan | undefined;
    let written: FirewallRemovalPlan | undefined;
    let left: FirewallRemovalPlan;
    try {
      const { after } = await writer.apply(firewallId, (firewall) => (last = planFirewallRestore(recorded, firewall)).change, {
        afterWrite: async () => {
          written = last;
        },
      });
      left = planFirewallRestore(recorded, after);
    } catch (err) {
      if (!isJitError(err, "NotFound")) throw err;
      left = { change: noFirewallChange(firewallId), removed: [], altered: [], gone: recorded, kept: [] };
    }
    for (const { recorded: r, differences } of written?.altered ?? []) {
      progress(`Azure Firewall ${shortName(firewallId)}: rule ${r.collection}/${r.rule.name} had been edited (${differences.join(", ")}); it still carried the grant's stamp, so it was removed all the same`);
    }
    const takenNow = new Set([...(written?.removed ?? []), ...(written?.altered.map((a) => a.recorded) ?? [])]);
    for (const { change, rules } of entries) {
      const kept = left.kept.filter((k) => rules.includes(k.recorded));
      if (kept.length > 0) {
        for (const { current, recorded: r } of kept) {
          report.mismatches.push(`rule ${r.collection}/${current.name} of Azure Firewall ${firewallId} no longer says it belongs to this grant (its description is now "${current.description ?? ""}"); left in place`);
        }
        continue;
      }
      await journal.update({ ...change, status: "removed" });
      if (rules.some((r) => takenNow.has(r))) report.removed += 1;
      else report.alreadyGone += 1;
    }
  }
}
