import type { BaselineRecord, ChangeJournal, Progress } from "../driver";
import { Grant, JitError, Policy, findPolicyVm, isJitError } from "../model";
import { AllowGrantPlan, GrantVm, Nsg, NsgChange, NsgRule, parseJitRule, planAllowGrant, sessionsCutNote } from "../plan";
import type { AzureClients } from "./clients";
import { FirewallPath, applyFirewallGrant, checkFirewallGrant } from "./firewall-grant";
import { FirewallFinder } from "./firewall-resolve";
import { GrantRecorder } from "./grant-journal";
import { idKey, shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import type { NsgSnapshot } from "./nsgs";
import { recordedPlacements, ruleChange } from "./record";
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
 * checked against: it may name the firewall in front of a VM (`publicIpAddress`). `baseline` is
 * what the policy's last apply recorded: where it found each VM, so that a grant reads only the
 * NSGs it writes (checked against them, see `placementsHold`) instead of every VM, interface and
 * subnet again.
 */
export async function applyGrant(clients: AzureClients, grant: Grant, journal: ChangeJournal, progress: Progress, policy?: Policy, baseline?: BaselineRecord): Promise<void> {
  const writer = new NsgWriter(clients, progress);
  const placed = placedAsRecorded(grant, baseline);
  if (placed) {
    const read = await readNsgs(writer, nsgsOnPaths(placed));
    if (read && placementsHold(grant.policy, placed, read)) {
      // What `VirtualNetwork` stands for matters only to a user rule that names it: the policy's
      // deny rule (just checked) stands before the default rules that do.
      const namesVnet = [...read.values()].some(({ nsg }) => (nsg.securityRules ?? []).some(namesVirtualNetwork));
      const virtualNetworks = namesVnet ? await virtualNetworksOf(new Resolver(clients), placed) : undefined;
      await writeAllowRules(writer, grant, journal, progress, placed, () => undefined, virtualNetworks, read);
      return;
    }
    progress("the VMs are no longer where the policy's last apply found them; reading them again");
  }
  const resolver = new Resolver(clients);
  const resolved = await resolver.vms(grant.virtualMachines.map((vm) => vm.id));
  const gone = resolved.filter((vm) => !vm.exists).map((vm) => vm.id);
  if (gone.length) throw new JitError("NotFound", `no such VM: ${gone.join(", ")}`);
  const firewalls = await firewallPaths(new FirewallFinder(clients, resolver), resolved, (i) => (policy ? findPolicyVm(policy, grant.virtualMachines[i].id)?.publicIpAddress : undefined));
  checkFirewallGrant(grant, resolved, firewalls);
  for (const [i, vm] of resolved.entries()) {
    if (!firewalls[i] && vm.paths.every((p) => p.subnetNsgId === undefined && p.nicNsgId === undefined)) {
      progress(`VM ${vm.name} has no NSG in front of it, so nothing is written: ${await resolver.withoutNsg(vm)}`);
    }
  }
  const recorder = await writeAllowRules(writer, grant, journal, progress, resolved, (i) => firewalls[i]?.subnetPrefix, await virtualNetworksOf(resolver, resolved));
  // The firewall last: its DNAT rules open the way in, once the NSGs behind it are ready.
  await applyFirewallGrant(clients, grant, resolved, firewalls, recorder, progress);
}

/**
 * The allow rules in each NSG on the VMs' paths, NSGs side by side: each has its own write lock in
 * ARM, and a write there waits ~10 s for its operation, so a grant takes one write's time however
 * many NSGs it crosses. `read`: the NSGs as just read, written under those reads' ETags.
 */
async function writeAllowRules(
  writer: NsgWriter,
  grant: Grant,
  journal: ChangeJournal,
  progress: Progress,
  resolved: readonly ResolvedVm[],
  firewallSubnet: (i: number) => string | undefined,
  virtualNetworks: readonly (readonly string[])[] | undefined,
  read?: ReadonlyMap<string, NsgSnapshot>,
): Promise<GrantRecorder> {
  const recorder = new GrantRecorder(grant, journal);
  const sourceFor = (i: number, requested: string) => firewallSubnet(i) ?? requested;
  const written = await Promise.all(
    nsgsOnPaths(resolved).map(async (nsgId) => {
      let planned: AllowGrantPlan | undefined;
      const plan = (nsg: Nsg) => (planned = planAllowGrant({ grantId: grant.id, policy: grant.policy, vms: grantVmsBehind(grant, resolved, nsgId, nsg, sourceFor, virtualNetworks) }));
      const hooks = {
        // Every rule the plan will put in this NSG, recorded at once before the first is written.
        beforePut: () => recorder.intend((planned?.rules ?? []).map(({ rule }) => ruleChange(nsgId, rule, "intended"))),
        afterPut: async (rule: NsgRule) => {
          await recorder.applied(ruleChange(nsgId, rule, "applied"));
          progress(`NSG ${shortName(nsgId)}: allow rule ${describe(rule)}`);
        },
      };
      const { after } = await writer.apply(nsgId, (nsg) => plan(nsg).changes[0] ?? ({ nsgId, put: [], delete: [] } satisfies NsgChange), hooks, read?.get(idKey(nsgId)));
      // Rules found already in place (written by an earlier, interrupted run) are the grant's too.
      for (const { rule } of plan(after).rules) await recorder.applied(ruleChange(nsgId, rule, "applied"));
      return after;
    }),
  );
  const cut = sessionsCutNote(written);
  if (cut) progress(cut);
  return recorder;
}

/** What `VirtualNetwork` stands for around each VM: its VNet's address space and connected peerings. */
function virtualNetworksOf(resolver: Resolver, vms: readonly ResolvedVm[]): Promise<string[][]> {
  return Promise.all(vms.map((vm) => resolver.virtualNetworkOf(vm.paths)));
}

function namesVirtualNetwork(rule: NsgRule): boolean {
  return [rule.sourceAddressPrefix, ...(rule.sourceAddressPrefixes ?? [])].some((p) => p?.toLowerCase() === "virtualnetwork");
}

/**
 * The grant's VMs where the policy's last apply found them, when it recorded all of them with an
 * NSG on their way (a VM behind a firewall, or with no NSG at all, is resolved afresh); else undefined.
 */
function placedAsRecorded(grant: Grant, baseline: BaselineRecord | undefined): ResolvedVm[] | undefined {
  if (baseline === undefined) return undefined;
  let placements;
  try {
    placements = new Map(recordedPlacements(baseline).map((p) => [idKey(p.vmId), p]));
  } catch {
    return undefined; // a record this driver cannot read: the VMs are read instead
  }
  const placed: ResolvedVm[] = [];
  for (const vm of grant.virtualMachines) {
    const p = placements.get(idKey(vm.id));
    if (!p || p.paths.every((path) => path.subnetNsgId === undefined && path.nicNsgId === undefined)) return undefined;
    placed.push({ id: vm.id, name: p.name, exists: true, paths: p.paths });
  }
  return placed;
}

/** The NSGs as they are now, by `idKey`; undefined when one is gone (the placement is then out of date). */
async function readNsgs(writer: NsgWriter, ids: readonly string[]): Promise<Map<string, NsgSnapshot> | undefined> {
  try {
    return new Map(await Promise.all(ids.map(async (id) => [idKey(id), await writer.read(id)] as const)));
  } catch (err) {
    if (isJitError(err, "NotFound")) return undefined;
    throw err;
  }
}

/**
 * Whether the recorded placement still holds, as far as the NSGs just read tell: each NSG recorded
 * on a VM's way still holds deny rules of the policy (shared by its VMs there) naming each of the
 * VM's recorded addresses. A VM moved to another subnet or interface, or given another address, fails this (its
 * deny rules are where it was), and the grant then resolves the VMs afresh; the next sweep's
 * baseline repair records the new placement.
 */
function placementsHold(policy: string, placed: readonly ResolvedVm[], read: ReadonlyMap<string, NsgSnapshot>): boolean {
  return placed.every((vm) =>
    vm.paths.every((path) =>
      [path.subnetNsgId, path.nicNsgId].every((nsgId) => {
        if (nsgId === undefined) return true;
        const denies = (read.get(idKey(nsgId))?.nsg.securityRules ?? []).filter((r) => {
          const info = parseJitRule(r);
          return info?.kind === "deny" && info.policy === policy;
        });
        const named = new Set(denies.flatMap((r) => [...(r.destinationAddressPrefixes ?? []), ...(r.destinationAddressPrefix === undefined ? [] : [r.destinationAddressPrefix])]));
        return denies.length > 0 && path.addresses.every((a) => named.has(a));
      }),
    ),
  );
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
function grantVmsBehind(grant: Grant, resolved: readonly ResolvedVm[], nsgId: string, nsg: Nsg, sourceFor: (i: number, requested: string) => string, virtualNetworks: readonly (readonly string[])[] | undefined): GrantVm[] {
  const here = (id: string | undefined) => id !== undefined && idKey(id) === idKey(nsgId);
  return resolved.flatMap((vm, i) => {
    const nics = vm.paths
      .filter((p) => here(p.subnetNsgId) || here(p.nicNsgId))
      .map((p) => ({ addresses: p.addresses, applicationSecurityGroups: p.applicationSecurityGroups, ...(here(p.subnetNsgId) ? { subnet: nsg } : {}), ...(here(p.nicNsgId) ? { nic: nsg } : {}) }));
    if (nics.length === 0) return [];
    const ports = grant.virtualMachines[i].ports.map((p) => ({ number: p.number, protocol: p.protocol, source: sourceFor(i, p.sourceAddressPrefix), expiresAt: new Date(p.endTimeUtc) }));
    return [{ name: vm.name, nics, ports, ...(virtualNetworks ? { virtualNetwork: virtualNetworks[i] } : {}) }];
  });
}

function describe(rule: NsgRule): string {
  return `${rule.name} from ${rule.sourceAddressPrefix ?? "?"} to port ${rule.destinationPortRange ?? (rule.destinationPortRanges ?? []).join(",")} at priority ${rule.priority}`;
}
