import type { Firewall, Nsg, NsgPath, NsgRule } from "../../plan";
import type { AzureEmulator } from "./index";

/**
 * The emulator's NSGs and firewalls in the shapes the planners and their evaluators take, read
 * straight from its state. Reads are not API calls, so asking "what would Azure decide now?" leaves the call log
 * alone: tests and the demo count calls around them.
 */

/** Where a VM's inbound traffic meets NSGs, as `seed.typicalVm()` describes it. */
export interface NsgPlacement {
  subnetNsgId?: string;
  nicNsgId?: string;
}

/** An NSG's own rules (not the defaults), flattened the way the SDK models them. */
export function rulesOf(emu: AzureEmulator, nsgId: string): NsgRule[] {
  const parts = nsgId.split("/");
  return emu.state.nsgRules(parts[4], parts[8]) as unknown as NsgRule[];
}

export function nsgOf(emu: AzureEmulator, nsgId: string): Nsg {
  return { id: nsgId, securityRules: rulesOf(emu, nsgId) };
}

/** The inbound path of a VM's NIC: its subnet's NSG, then its own. */
export function pathOf(emu: AzureEmulator, vm: NsgPlacement): NsgPath {
  return { ...(vm.subnetNsgId ? { subnet: nsgOf(emu, vm.subnetNsgId) } : {}), ...(vm.nicNsgId ? { nic: nsgOf(emu, vm.nicNsgId) } : {}) };
}

/** A NIC's addresses and the application security groups they are in, for the evaluator's `groups` option. */
export function groupsOfNic(emu: AzureEmulator, nicId: string): { vmAddresses: string[]; membership: Record<string, string[]> } {
  const nic = emu.state.resource(nicId) as { properties: { ipConfigurations: { properties: { privateIPAddress?: string; applicationSecurityGroups?: { id: string }[] } }[] } } | undefined;
  if (!nic) throw new Error(`no network interface ${nicId}`);
  const vmAddresses: string[] = [];
  const membership: Record<string, string[]> = {};
  for (const { properties: c } of nic.properties.ipConfigurations) {
    if (c.privateIPAddress === undefined) continue;
    vmAddresses.push(c.privateIPAddress);
    for (const g of c.applicationSecurityGroups ?? []) (membership[g.id.toLowerCase()] ??= []).push(c.privateIPAddress);
  }
  return { vmAddresses, membership };
}

interface WireVnet {
  properties: {
    addressSpace: { addressPrefixes: string[] };
    virtualNetworkPeerings: { properties: { peeringState: string; allowVirtualNetworkAccess: boolean; remoteAddressSpace?: { addressPrefixes: string[] } } }[];
  };
}

/**
 * What the `VirtualNetwork` service tag stands for at a NIC, as Azure has it: its network's address
 * space and those of the networks peered with it and connected (traffic allowed), plus the NIC's own
 * addresses (for the evaluator's `virtualNetwork` option).
 */
export function virtualNetworkOfNic(emu: AzureEmulator, nicId: string): string[] {
  const nic = emu.state.resource(nicId) as { properties: { ipConfigurations: { properties: { subnet?: { id: string } } }[] } } | undefined;
  if (!nic) throw new Error(`no network interface ${nicId}`);
  const { vmAddresses } = groupsOfNic(emu, nicId);
  const vnets = nic.properties.ipConfigurations.flatMap(({ properties: c }) => (c.subnet ? [c.subnet.id.slice(0, c.subnet.id.toLowerCase().lastIndexOf("/subnets/"))] : []));
  const prefixes = vnets.flatMap((id) => {
    const vnet = emu.state.resource(id) as WireVnet | undefined;
    if (!vnet) return [];
    const peered = vnet.properties.virtualNetworkPeerings.filter((p) => p.properties.peeringState === "Connected" && p.properties.allowVirtualNetworkAccess);
    return [...vnet.properties.addressSpace.addressPrefixes, ...peered.flatMap((p) => p.properties.remoteAddressSpace?.addressPrefixes ?? [])];
  });
  return [...new Set([...prefixes, ...vmAddresses])];
}

/** The NSG ids of a VM, subnet first. */
export function nsgIdsOf(vm: NsgPlacement): string[] {
  return [vm.subnetNsgId, vm.nicNsgId].filter((id): id is string => id !== undefined);
}

/** Every rule of every NSG, sorted, for comparing whole networks before and after. */
export function snapshot(emu: AzureEmulator, nsgIds: readonly string[]): Record<string, NsgRule[]> {
  return Object.fromEntries(nsgIds.map((id) => [id, [...rulesOf(emu, id)].sort((a, b) => a.name.localeCompare(b.name))]));
}

interface WireFirewall {
  properties: {
    natRuleCollections: WireCollection[];
    networkRuleCollections: WireCollection[];
    ipConfigurations: { properties: { privateIPAddress?: string } }[];
  };
}

interface WireCollection {
  name: string;
  properties: { priority: number; action: { type: string }; rules: unknown[] };
}

function wireFirewall(emu: AzureEmulator, firewallId: string): WireFirewall {
  const parts = firewallId.split("/");
  const wire = emu.state.firewall(parts[4], parts[8]) as WireFirewall | undefined;
  if (!wire) throw new Error(`no Azure Firewall ${firewallId}`);
  return wire;
}

/** A firewall's classic rule collections (DNAT and network; application rules do not apply inbound). */
export function firewallOf(emu: AzureEmulator, firewallId: string): Firewall {
  const wire = wireFirewall(emu, firewallId);
  const collections = (list: WireCollection[]) => list.map((c) => ({ name: c.name, priority: c.properties.priority, action: c.properties.action.type, rules: c.properties.rules }));
  return {
    id: firewallId,
    natRuleCollections: collections(wire.properties.natRuleCollections) as Firewall["natRuleCollections"],
    networkRuleCollections: collections(wire.properties.networkRuleCollections) as Firewall["networkRuleCollections"],
  };
}

/** The firewall's own private address: where the connections it forwards come from, as the VM's NSGs see them. */
export function firewallPrivateAddress(emu: AzureEmulator, firewallId: string): string {
  const address = wireFirewall(emu, firewallId).properties.ipConfigurations[0]?.properties.privateIPAddress;
  if (address === undefined) throw new Error(`Azure Firewall ${firewallId} has no private address`);
  return address;
}
