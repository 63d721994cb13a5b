import { JitError } from "../model";

/**
 * ARM resource ids of the things the driver reads and writes. ARM compares ids case-insensitively
 * and hands them back in whatever case they were created with, so ids are compared by `idKey`.
 */
export interface ResourceRef {
  subscriptionId: string;
  resourceGroup: string;
  /** The resource's name, and its parent's for a child (a subnet: the VNet). */
  name: string;
  parent?: string;
}

const TOP = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)(?:\/([^/]+)\/([^/]+))?$/i;

/** Parses an id of type `provider/type` (or `provider/type/child`), or fails saying what was expected. */
export function parseResourceId(id: string, type: string): ResourceRef {
  const m = TOP.exec(id);
  const [provider, parentType, childType] = type.split("/");
  const matches =
    m !== null &&
    m[3].toLowerCase() === provider.toLowerCase() &&
    m[4].toLowerCase() === parentType.toLowerCase() &&
    (childType === undefined ? m[6] === undefined : m[6]?.toLowerCase() === childType.toLowerCase());
  if (!m || !matches) throw new JitError("InvalidInput", `"${id}" is not the id of a ${type}`);
  return childType === undefined
    ? { subscriptionId: m[1], resourceGroup: m[2], name: m[5] }
    : { subscriptionId: m[1], resourceGroup: m[2], parent: m[5], name: m[7] };
}

export const NSG = "Microsoft.Network/networkSecurityGroups";
export const NIC = "Microsoft.Network/networkInterfaces";
export const SUBNET = "Microsoft.Network/virtualNetworks/subnets";
export const PUBLIC_IP = "Microsoft.Network/publicIPAddresses";
export const FIREWALL = "Microsoft.Network/azureFirewalls";
export const VNET = "Microsoft.Network/virtualNetworks";

/** The id of the virtual network a subnet id names (`.../virtualNetworks/<vnet>`). */
export function vnetIdOf(subnetId: string): string {
  const at = subnetId.toLowerCase().lastIndexOf("/subnets/");
  return at < 0 ? subnetId : subnetId.slice(0, at);
}

/** The virtual network a subnet id names (`.../virtualNetworks/<vnet>`), by its key. */
export function vnetKeyOf(subnetId: string): string {
  return idKey(vnetIdOf(subnetId));
}

export function idKey(id: string): string {
  return id.toLowerCase();
}

/** The short name of a resource, for messages. */
export function shortName(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}
