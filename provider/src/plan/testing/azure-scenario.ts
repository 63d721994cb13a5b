import { planAllowGrant, type GrantVm } from "../nsg/allow";
import { planDenyBaseline } from "../nsg/deny-baseline";
import type { Nsg, VmNic } from "../nsg/types";
import type { GrantPort, PortSpec } from "../types";
import { applyNsgChange, applyNsgChanges } from "./nsg-apply";

/** A VM and the NSGs in front of it, baselined for `ports` under policy `web`. */
export function baselined(nsgs: Nsg[], vm: { name: string; addresses: string[] }, ports: PortSpec[]): Nsg[] {
  return nsgs.map((n) => applyNsgChange(n, planDenyBaseline({ policy: "web", nsg: n, vms: [{ ...vm, ports }] }).change));
}

export function nicOf(nsgs: readonly Nsg[], addresses: string[], subnetId = "subnet", nicId = "nic"): VmNic {
  return { addresses, subnet: nsgs.find((n) => n.id === subnetId), nic: nsgs.find((n) => n.id === nicId) };
}

/** Plans a grant for one VM behind `nsgs` and applies it. */
export function granted(nsgs: Nsg[], grantId: string, vm: { name: string; addresses: string[] }, ports: GrantPort[]) {
  const grantVm: GrantVm = { name: vm.name, nics: [nicOf(nsgs, vm.addresses)], ports };
  const plan = planAllowGrant({ grantId, policy: "web", vms: [grantVm] });
  return { plan, after: applyNsgChanges(nsgs, plan.changes) };
}
