import * as pulumi from "@pulumi/pulumi";
import { JitPolicyArgsBase, JitPolicyResource, JitPortArgs } from "./policy-resource";
export { JitRole, type JitRoleArgs } from "../roles/azure-component";
export { JitBroker, type AzureJitBrokerArgs } from "./azure-broker";

export interface AzureJitVirtualMachineArgs {
  /** The VM's resource id, e.g. `vm.id` from @pulumi/azure-native. */
  id: pulumi.Input<string>;
  ports: pulumi.Input<pulumi.Input<JitPortArgs>[]>;
  /** The public IP of the classic Azure Firewall in front of the VM, when access goes through its DNAT. */
  publicIpAddress?: pulumi.Input<string>;
}

export interface AzureJitPolicyArgs extends JitPolicyArgsBase {
  /** The resource group the policy belongs to, as in Defender's model (used when exporting it). */
  resourceGroupName?: pulumi.Input<string>;
  virtualMachines: pulumi.Input<pulumi.Input<AzureJitVirtualMachineArgs>[]>;
}

/**
 * Locks the selected management ports of Azure VMs: a deny rule in every NSG on each VM's inbound
 * path (subnet and NIC), placed so that existing user rules keep precedence, and registered in
 * the ledger so that `requestAccess` and `jit request` can open them for a while.
 */
export class JitPolicy extends JitPolicyResource {
  declare public readonly resourceGroupName: pulumi.Output<string | undefined>;
  declare public readonly virtualMachines: pulumi.Output<AzureJitVirtualMachineArgs[]>;

  constructor(name: string, args: AzureJitPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    super("azure", name, { ...args }, opts);
  }
}
