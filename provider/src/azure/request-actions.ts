/**
 * What a requester must hold on each VM, as Defender's own actions, so that an existing
 * "JIT Access Role" assignment keeps working. In direct mode the requester's credentials also
 * write, so reading the VM is checked as well; through the broker the caller only asks, and only
 * Defender's request action is required, evaluated by ARM for the caller (`jit serve`).
 */
export const AZURE_REQUEST_ACTIONS = {
  direct: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action", "Microsoft.Compute/virtualMachines/read"],
  brokered: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"],
} as const;
