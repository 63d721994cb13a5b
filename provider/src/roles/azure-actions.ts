import type { RoleKind } from "./kinds";

/**
 * Every Azure RBAC action pulumi-jit performs or checks, once, with the kinds of role that need it
 * and why. The role documents are read off this table and nothing else, so that a new call in a
 * driver means one new row here (and the emulator tests that run the broker and `requestAccess`
 * with these roles fail until it is added).
 *
 * Compared with Defender for Cloud (its docs' RBAC table and `Set-JitLeastPrivilegedRole.ps1`):
 * - `request` is exactly Defender's request role: `jitNetworkAccessPolicies/initiate/action`,
 *   `jitNetworkAccessPolicies/*\/read`, `virtualMachines/read`, `networkInterfaces/*\/read` and
 *   `publicIPAddresses/read`. As with Defender, the requester writes nothing: the broker checks
 *   `initiate/action` for the caller (ARM's permissions API, asked with the caller's own token),
 *   then writes with its own identity.
 * - `broker` is what that identity needs: the NSG and classic firewall writes a grant makes and
 *   that end it (both written whole, under their ETags), the linked `join` actions ARM checks on
 *   what such a write names, and the reads to plan them. Listing a caller's own permissions needs no action.
 * - `direct` is for pipelines that request without a broker and so write with their own identity:
 *   `broker`'s writes plus `initiate/action`, the marker `requestAccess` checks on each VM.
 * - Defender's configure role is `jitNetworkAccessPolicies/write` plus `virtualMachines/write`.
 *   Ours writes no Defender policy and no VM; it writes the NSG rules and firewall rules of the
 *   baseline, and sweeps (lists NSGs, writes them without expired rules).
 * - Defender's read role includes `Microsoft.Network/*\/read`; ours names the few reads we make.
 */
export interface AzureActionEntry {
  action: string;
  kinds: readonly RoleKind[];
  why: string;
}

/** Every kind that reads the network to plan or report. */
const READERS: readonly RoleKind[] = ["configure", "broker", "direct", "read"];
/** Every kind that writes rules: the baseline's (configure) or grants' (broker, direct). */
const WRITERS: readonly RoleKind[] = ["configure", "broker", "direct"];

export const AZURE_ACTIONS: readonly AzureActionEntry[] = [
  {
    action: "Microsoft.Compute/virtualMachines/read",
    kinds: [...READERS, "request"],
    why: "the VM's network interfaces; listing VMs (scan); requestAccess also checks it on each VM, as Defender does",
  },
  {
    action: "Microsoft.Network/networkInterfaces/read",
    kinds: READERS,
    why: "each NIC's private addresses (the rules' destination), its NSG and its subnet",
  },
  {
    action: "Microsoft.Network/virtualNetworks/subnets/read",
    kinds: READERS,
    why: "the subnet's NSG, the first half of the inbound path",
  },
  {
    action: "Microsoft.Network/virtualNetworks/read",
    kinds: READERS,
    why: "the VM's virtual network: its address space and connected peerings are what the VirtualNetwork service tag stands for in NSG rules",
  },
  {
    action: "Microsoft.Network/virtualNetworks/listNetworkManagerEffectiveSecurityAdminRules/action",
    // Read by status, scan and a sweep's baseline repair (the broker's), not by requests.
    kinds: ["configure", "broker", "read"],
    why: "Azure Virtual Network Manager's security admin rules in effect on the VM's virtual network, which Azure applies before any NSG: status and scan report those that open or close a port",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/read",
    kinds: READERS,
    why: "the rules to plan against and the ETag every write carries; sweep lists NSGs for orphaned rules",
  },
  {
    action: "Microsoft.Network/networkSecurityGroups/write",
    kinds: WRITERS,
    why: "an NSG is written whole, under its ETag, once per pass: the baseline's deny rules (configure), a grant's allow rules and their removal when it ends, is revoked, superseded or fails (broker, direct), expired ones (sweep)",
  },
  {
    action: "Microsoft.Network/azureFirewalls/read",
    kinds: READERS,
    why: "finding the classic Azure Firewall in a VM's network (the subscription's firewalls are listed), and the collections to plan against with the ETag its write carries; sweep lists firewalls for expired DNAT rules",
  },
  {
    action: "Microsoft.Network/azureFirewalls/write",
    kinds: WRITERS,
    why: "a firewall is written whole: the baseline's deny collection (configure), a grant's DNAT and allow collections and their removal when it ends, is superseded or fails (broker, direct), expired ones (sweep)",
  },
  {
    action: "Microsoft.Network/publicIPAddresses/read",
    kinds: [...READERS, "request"],
    why: "the public IP of the firewall in front of a VM, where a grant's DNAT rule listens and which a policy's publicIpAddress names; a VM's own public IP where no NSG or firewall protects it",
  },
  {
    action: "Microsoft.Network/locations/operations/read",
    kinds: WRITERS,
    why: "polling the long-running operation each NSG write and each firewall write starts",
  },
  {
    action: "Microsoft.Network/virtualNetworks/subnets/join/action",
    kinds: WRITERS,
    why: "linked access: a firewall is written whole, and ARM checks join on the subnet its IP configuration names",
  },
  {
    action: "Microsoft.Network/publicIPAddresses/join/action",
    kinds: WRITERS,
    why: "linked access: ARM checks join on each public IP a firewall written whole names",
  },
  {
    action: "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action",
    kinds: ["request", "direct"],
    why: "the authorisation the broker (and requestAccess without one) checks on each VM: Defender's own action, so its roles keep working",
  },
  {
    action: "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read",
    kinds: ["request"],
    why: "Defender's request role reads its JIT policies; kept so the role is Defender's exactly (pulumi-jit keeps policies in its ledger)",
  },
  {
    action: "Microsoft.Network/networkInterfaces/*/read",
    kinds: ["request"],
    why: "Defender's request role reads the VMs' interfaces; kept so the role is Defender's exactly",
  },
];

/** The actions a role of this kind holds, in table order. */
export function azureActions(kind: RoleKind): string[] {
  return AZURE_ACTIONS.filter((e) => e.kinds.includes(kind)).map((e) => e.action);
}

