import type { ChangeJournal, Progress } from "../driver";
import { Grant, JitError, Policy, findPolicyVm } from "../model";
import { AllowGrantPlan, GrantVm, Nsg, NsgChange, NsgRule, planAllowGrant, sessionsCutNote } from "../plan";
import type { AzureClients } from "./clients";
import { FirewallPath, applyFirewallGrant, checkFirewallGrant } from "./firewall-grant";
import { FirewallFinder } from "./firewall-resolve";
import { GrantRecorder } from "./grant-journal";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { ruleChange } from "./record";
import { ResolvedVm, Resolver } from "./resolve";

/**
 * Opening a grant. In each NSG on the way to each VM, the allow rules `planAllowGrant` says that
 * NSG needs (none where it already lets the source in), written one by one; then, for VMs behind a
 * classic Azure Firewall, the firewall's DNAT rules (see `applyFirewallGrant`). Behind a firewall
 * the NSG rules admit the firewall's subnet, which is where DNAT traffic comes from, and not the
 * requester (Defender copies the requester's address into both, and the NSG then blocks the
 * forwarded traffic). Everything about the firewall is checked before the first write, so that a
 * firewall pulumi-jit cannot use is refused with nothing changed. Each change is journalled as
 * intended before it is written and as applied once it is, so that a crash at any point leaves a
 * record from which restore and sweep can finish. Run again on a grant that is partly applied, it
 * writes what is missing and records what is already there. NSGs are written in parallel. `policy` is the policy the grant was
 * checked against: it may name the firewall in front of a VM (`publicIpAddress`).
 */
export async function applyGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress, policy?: Policy): Promise<void> {
  const resolver = new Resolver(clients);
  const resolved = await resolver.vms(grant.virtualMachines.map((vm) => vm.id));
  const gone = resolved.filter((vm) => !vm.exists).map((vm) => vm.id);
  if (gone.length) throw new JitError("NotFound", `no such VM: ${gone.join(", ")}`);
  const firewalls = await firewallPaths(new FirewallFinder(clients, resolver), resolved, (i) => (policy ? findPolicyVm(policy, grant.virtualMachines[i].id)?.publicIpAddress : undefined));
  checkFirewallGrant(grant, resolved, firewalls);
  const writer = new NsgWriter(clients, progress);
  const recorder = new GrantRecorder(grant, journal);

  for (const [i, vm] of resolved.entries()) {
    if (!firewalls[i] && vm.paths.every((p) => p.subnetNsgId === undefined && p.nicNsgId === undefined)) {
      progress(`VM ${vm.name} has no NSG in front of it, so nothing is written: ${await resolver.withoutNsg(vm)}`);
    }
  }
  const sourceFor = (i: number, requested: string) => firewalls[i]?.subnetPrefix ?? requested;
  const virtualNetworks = await Promise.all(resolved.map((vm) => resolver.virtualNetworkOf(vm.paths)));
  // Each NSG has its own write lock in ARM, and a write there waits ~10 s for its operation: the
  // NSGs are written side by side, so a grant takes one write's time however many NSGs it crosses.
  const written = await Promise.all(
    nsgsOnPaths(resolved).map(async (nsgId) => {
      let planned: AllowGrantPlan | undefined;
      const plan = (nsg: Nsg) => (planned = planAllowGrant({ grantId: grant.id, policy: grant.policy, vms: grantVmsBehind(grant, resolved, nsgId, nsg, sourceFor, virtualNetworks) }));
      const { after } = await writer.apply(nsgId, (nsg) => plan(nsg).changes[0] ?? ({ nsgId, put: [], delete: [] } satisfies NsgChange), {
        // Every rule the plan will put in this NSG, recorded at once before the first is written.
        beforePut: () => recorder.intend((planned?.rules ?? []).map(({ rule }) => ruleChange(nsgId, rule, "intended"))),
        afterPut: async (rule) => {
          await recorder.applied(ruleChange(nsgId, rule, "applied"));
          progress(`NSG ${shortName(nsgId)}: allow rule ${describe(rule)}`);
        },
      });
      // Rules found already in place (written by an earlier, interrupted run) are the grant's too.
      for (const { rule } of plan(after).rules) await recorder.applied(ruleChange(nsgId, rule, "applied"));
      return after;
    }),
  );
  const cut = sessionsCutNote(written);
  if (cut) progress(cut);
  // The firewall last: its DNAT rules open the way in, once the NSGs behind it are ready.
  await applyFirewallGrant(clients, grant, resolved, firewalls, recorder, progress);
}

/** The firewall in front of each VM, with what a grant through it needs; read (and refused) before anything is written. */
async function firewallPaths(finder: FirewallFinder, resolved: readonly ResolvedVm[], named: (i: number) => string | undefined): Promise<Array<FirewallPath | undefined>> {
  return Promise.all(
    resolved.map(async (vm, i) => {
      const front = await finder.frontOf(vm, named(i));
      if (!front) return undefined;
      const address = front.addresses[0];
      if (address === undefined) throw new JitError("CloudError", `VM ${vm.name} has no private address in the network of Azure Firewall ${front.id} for a DNAT rule to forward to`);
      return { front, address, publicAddress: await finder.publicAddress(front, named(i)), subnetPrefix: await finder.subnetPrefix(front) };
    }),
  );
}

/** Every NSG on the VMs' paths, each once, subnets' before interfaces'. */
function nsgsOnPaths(vms: readonly ResolvedVm[]): string[] {
  const ids = new Map<string, string>();
  for (const path of vms.flatMap((vm) => vm.paths)) {
    for (const id of [path.subnetNsgId, path.nicNsgId]) if (id !== undefined && !ids.has(idKey(id))) ids.set(idKey(id), id);
  }
  return [...ids.values()];
}

/**
 * The grant's VMs as seen from one NSG: only the paths through it, with the NSG as just read, the
 * source each port admits, and what `VirtualNetwork` stands for around each VM.
 */
function grantVmsBehind(grant: Grant, resolved: readonly ResolvedVm[], nsgId: string, nsg: Nsg, sourceFor: (i: number, requested: string) => string, virtualNetworks: readonly string[][]): GrantVm[] {
  const here = (id: string | undefined) => id !== undefined && idKey(id) === idKey(nsgId);
  return resolved.flatMap((vm, i) => {
    const nics = vm.paths
      .filter((p) => here(p.subnetNsgId) || here(p.nicNsgId))
      .map((p) => ({ addresses: p.addresses, applicationSecurityGroups: p.applicationSecurityGroups, ...(here(p.subnetNsgId) ? { subnet: nsg } : {}), ...(here(p.nicNsgId) ? { nic: nsg } : {}) }));
    if (nics.length === 0) return [];
    const ports = grant.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol, source: sourceFor(i, p.sourceAddressPrefix), expiresAt: new Date(p.endTimeUtc) }));
    return [{ name: vm.name, nics, ports, virtualNetwork: virtualNetworks[i] }];
  });
}

function describe(rule: NsgRule): string {
  return `${rule.name} from ${rule.sourceAddressPrefix ?? "?"} to port ${rule.destinationPortRange ?? (rule.destinationPortRanges ?? []).join(",")} at priority ${rule.priority}`;
}
