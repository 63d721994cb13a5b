import type { ChangeJournal, Progress } from "../access/driver";
import { Change, Grant, JitError, changeKey } from "../model";
import { AllowGrantPlan, GrantVm, Nsg, NsgChange, NsgRule, planAllowGrant } from "../plan";
import type { AzureClients } from "./clients";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { ruleChange } from "./record";
import { ResolvedVm, Resolver } from "./resolve";

/**
 * Opening a grant: in each NSG on the way to each VM, the allow rules `planAllowGrant` says that
 * NSG needs (none where it already lets the requester in), written one by one. Each rule is
 * journalled as intended before it is written and as applied once it is, so that a crash at any
 * point leaves a record from which restore and sweep can finish. Run again on a grant that is
 * partly applied, it writes what is missing and records what is already there.
 */
export async function applyGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress): Promise<void> {
  const resolved = await new Resolver(clients).vms(grant.virtualMachines.map((vm) => vm.id));
  const gone = resolved.filter((vm) => !vm.exists).map((vm) => vm.id);
  if (gone.length) throw new JitError("NotFound", `no such VM: ${gone.join(", ")}`);
  const writer = new NsgWriter(clients, progress);
  const recorded = new Map<string, Change>(grant.changes.map((c) => [changeKey(c), c]));
  const intend = async (changes: Change[]) => {
    const fresh = changes.filter((c) => !recorded.has(changeKey(c)));
    if (fresh.length === 0) return;
    await journal.intend(fresh);
    for (const c of fresh) recorded.set(changeKey(c), c);
  };
  const applied = async (change: Change) => {
    await intend([{ ...change, status: "intended" }]);
    if (JSON.stringify(recorded.get(changeKey(change))) === JSON.stringify(change)) return;
    await journal.update(change);
    recorded.set(changeKey(change), change);
  };

  for (const vm of resolved) {
    if (vm.paths.every((p) => p.subnetNsgId === undefined && p.nicNsgId === undefined)) {
      progress(`VM ${vm.name} has no NSG in front of it: its ports are open to everyone already, and nothing is written`);
    }
  }
  for (const nsgId of nsgsOnPaths(resolved)) {
    let planned: AllowGrantPlan | undefined;
    const plan = (nsg: Nsg) => (planned = planAllowGrant({ grantId: grant.id, policy: grant.policy, vms: grantVmsBehind(grant, resolved, nsgId, nsg) }));
    const { after } = await writer.apply(nsgId, (nsg) => plan(nsg).changes[0] ?? ({ nsgId, put: [], delete: [] } satisfies NsgChange), {
      // Every rule the plan will put in this NSG, recorded at once before the first is written.
      beforePut: () => intend((planned?.rules ?? []).map(({ rule }) => ruleChange(nsgId, rule, "intended"))),
      afterPut: async (rule) => {
        await applied(ruleChange(nsgId, rule, "applied"));
        progress(`NSG ${shortName(nsgId)}: allow rule ${describe(rule)}`);
      },
    });
    // Rules found already in place (written by an earlier, interrupted run) are the grant's too.
    for (const { rule } of plan(after).rules) await applied(ruleChange(nsgId, rule, "applied"));
  }
}

/** Every NSG on the VMs' paths, each once, subnets' before interfaces'. */
function nsgsOnPaths(vms: readonly ResolvedVm[]): string[] {
  const ids = new Map<string, string>();
  for (const path of vms.flatMap((vm) => vm.paths)) {
    for (const id of [path.subnetNsgId, path.nicNsgId]) if (id !== undefined && !ids.has(idKey(id))) ids.set(idKey(id), id);
  }
  return [...ids.values()];
}

/** The grant's VMs as seen from one NSG: only the paths through it, with the NSG as just read. */
function grantVmsBehind(grant: Grant, resolved: readonly ResolvedVm[], nsgId: string, nsg: Nsg): GrantVm[] {
  const here = (id: string | undefined) => id !== undefined && idKey(id) === idKey(nsgId);
  return resolved.flatMap((vm, i) => {
    const nics = vm.paths
      .filter((p) => here(p.subnetNsgId) || here(p.nicNsgId))
      .map((p) => ({ addresses: p.addresses, ...(here(p.subnetNsgId) ? { subnet: nsg } : {}), ...(here(p.nicNsgId) ? { nic: nsg } : {}) }));
    if (nics.length === 0) return [];
    const ports = grant.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol, source: p.sourceAddressPrefix, expiresAt: new Date(p.endTimeUtc) }));
    return [{ name: vm.name, nics, ports }];
  });
}

function describe(rule: NsgRule): string {
  return `${rule.name} from ${rule.sourceAddressPrefix ?? "?"} to port ${rule.destinationPortRange ?? (rule.destinationPortRanges ?? []).join(",")} at priority ${rule.priority}`;
}
