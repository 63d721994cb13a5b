import { JitError, Policy, parseVmId, vmKey, vmName } from "../../model";

/** The policy's VM for what a person typed: a full id, an instance ARN or id, or a VM name. */
export function findVm(policy: Policy, typed: string): Policy["virtualMachines"][number] {
  const byName = policy.virtualMachines.filter((vm) => vmName(parseVmId(vm.id)).toLowerCase() === typed.toLowerCase());
  if (byName.length === 1) return byName[0];
  if (byName.length > 1) {
    throw new JitError("InvalidInput", `"${typed}" names ${byName.length} VMs in policy "${policy.name}"; give the full id (${byName.map((v) => v.id).join(", ")})`, { field: "--vm" });
  }
  let key: string | undefined;
  try {
    key = vmKey(parseVmId(typed));
  } catch {
    key = undefined;
  }
  const found = key === undefined ? undefined : policy.virtualMachines.find((vm) => vmKey(parseVmId(vm.id)) === key);
  if (!found) {
    const names = policy.virtualMachines.map((vm) => vmName(parseVmId(vm.id)));
    throw new JitError("RequestNotAllowed", `VM "${typed}" is not in policy "${policy.name}" (it has ${names.join(", ")})`, { field: "--vm" });
  }
  return found;
}
