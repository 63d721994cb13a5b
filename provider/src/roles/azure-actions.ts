import type { RoleKind } from "./kinds";

/**
 * Every Azure RBAC action pulumi-jit performs or checks, once, with the kinds of role that need it
 * and why. The role documents are read off this table and nothing else, so that a new call in a
 * driver means one new row here (and the emulator test that runs `requestAccess` with the
 * `request` role fails until it is added).
 *
 * Compared with Defender for Cloud (its docs' RBAC table and `Set-JitLeastPrivilegedRole.ps1`):
 * - Defender's request role is `jitNetworkAccessPolicies/initiate/action`,
 *   `jitNetworkAccessPolicies/read` (or `*\/read`), `Microsoft.Security/policies/read`,
 *   `virtualMachines/read`, `networkInterfaces/*\/read`, `publicIPAddresses/read` and, for the
 *   portal, `Microsoft.Network/*\/read`. The service then writes the NSG with its own identity.
 *   `requestAccess` runs with the requester's credentials, so our request role also holds the NSG
 *   rule (and classic firewall) writes a grant makes, and the deletes that end a grant it supersedes
 *   or undo a failed one, but none of the Microsoft.Security reads: we keep policies in the ledger.
 *   `initiate/action` stays, as the marker `requestAccess` checks on each VM, so a Defender
 *   "JIT Access Role" assignment keeps working as the authorisation half.
 * - Defender's configure role is `jitNetworkAccessPolicies/write` plus `virtualMachines/write`.
 *   Ours writes no Defender policy and no VM; it writes the NSG rules and firewall rules of the
 *   baseline, and sweeps (lists NSGs, deletes expired rules).
 * - Defender's read role includes `Microsoft.Network/*\/read`; ours names the few reads we make.
 */
export interface AzureActionEntry {
  action: string;
  kinds: readonly RoleKind[];
  why: string;
}

const ALL: readonly RoleKind[] = ["configure", "request", "read"];
const WRITERS: readonly RoleKind[] = ["configure", "request"];

export const AZURE_ACTIONS: readonly AzureActionEntry[] = [
  {
    action: "Microsoft.Compute/virtualMachines/read",
    kinds: ALL,
    why: "the VM's network interfaces; listing VMs (scan); requestAccess also checks it on each VM, as Defender does",
  },
  {
    action: "Microsoft.Network/networkInterfaces/read",
    kinds: ALL,
    why: "each NIC's private addresses (the rules' destination), its NSG and its subnet",
  },
  {
    action: "Microsoft.Network/virtualNetworks/subnets/read",
    kinds: ALL,
    why: "the subnet's NSG, the first half of the inbound path",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/read",
    kinds: ALL,
    why: "the rules to plan against and the ETag every write carries; sweep lists NSGs for orphaned rules",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/securityRules/write",
    kinds: WRITERS,
    why: "the baseline's deny rules (configure) and a grant's allow rules (request)",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/securityRules/delete",
    kinds: WRITERS,
    why: "restore: removing a grant's allow rules when it ends (sweep), when a newer grant supersedes it or an apply fails (request), and deny rules no longer wanted",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/securityRules/read",
    kinds: WRITERS,
    why: "each rule written is read back when its long-running operation completes (the SDK's final GET)",
  },
  {
    action: "Microsoft.Network/azureFirewalls/read",
    kinds: ALL,
    why: "finding the classic Azure Firewall in a VM's network (the subscription's firewalls are listed), and the collections to plan against with the ETag its write carries; sweep lists firewalls for expired DNAT rules",
  },
  {
    action: "Microsoft.Network/azureFirewalls/write",
    kinds: WRITERS,
    why: "a firewall is written whole: the baseline's deny collection (configure), a grant's DNAT and allow collections and their removal when it ends, is superseded or fails (request), expired ones (sweep)",
  },
  {
    action: "Microsoft.Network/publicIPAddresses/read",
    kinds: ALL,
    why: "the public IP of the firewall in front of a VM, where a grant's DNAT rule listens and which a policy's publicIpAddress names; a VM's own public IP where no NSG or firewall protects it",
  },
  {
    action: "Microsoft.Network/locations/operations/read",
    kinds: WRITERS,
    why: "polling the long-running operation each NSG rule write and delete, and each firewall write, starts",
  },
  {
    action: "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
    kinds: ["request"],
    why: "the authorisation requestAccess checks on each VM (Defender's own action, so its roles keep working)",
  },
];

/** The actions a role of this kind holds, in table order. */
export function azureActions(kind: RoleKind): string[] {
  return AZURE_ACTIONS.filter((e) => e.kinds.includes(kind)).map((e) => e.action);
}

