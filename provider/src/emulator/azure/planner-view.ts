import type { Nsg, NsgPath, NsgRule } from "../../plan";
import type { AzureEmulator } from "./index";

/**
 * The emulator's NSGs in the shapes the planners and their evaluators take, read straight from its
 * state. Reads are not API calls, so asking "what would Azure decide now?" leaves the call log
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

/** The NSG ids of a VM, subnet first. */
export function nsgIdsOf(vm: NsgPlacement): string[] {
  return [vm.subnetNsgId, vm.nicNsgId].filter((id): id is string => id !== undefined);
}

/** Every rule of every NSG, sorted, for comparing whole networks before and after. */
export function snapshot(emu: AzureEmulator, nsgIds: readonly string[]): Record<string, NsgRule[]> {
  return Object.fromEntries(nsgIds.map((id) => [id, [...rulesOf(emu, id)].sort((a, b) => a.name.localeCompare(b.name))]));
}
