/**
 * ARM resource ids. ARM compares ids and names case-insensitively but answers with the casing a
 * resource was created with, so the store keys on the lower-cased id and keeps the original.
 */
export const key = (id: string): string => id.toLowerCase();

export const sameId = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && key(a) === key(b);

export interface ParsedId {
  subscriptionId: string;
  resourceGroup: string;
  /** Resource provider namespace, e.g. `Microsoft.Network`. */
  provider: string;
  /** Type/name pairs below the provider: `[["virtualNetworks","vnet1"],["subnets","default"]]`. */
  segments: [string, string][];
}

/** Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}[/{type}/{name}]...`. */
export function parseId(id: string): ParsedId | undefined {
  const parts = id.split("/").filter((p) => p !== "");
  if (parts.length < 8 || parts.length % 2 !== 0) return undefined;
  const [subs, subscriptionId, rgs, resourceGroup, providers, provider, ...rest] = parts;
  if (subs.toLowerCase() !== "subscriptions" || rgs.toLowerCase() !== "resourcegroups" || providers.toLowerCase() !== "providers") {
    return undefined;
  }
  const segments: [string, string][] = [];
  for (let i = 0; i < rest.length; i += 2) segments.push([rest[i], rest[i + 1]]);
  return { subscriptionId, resourceGroup, provider, segments };
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/** `type` is `Namespace/type`, e.g. `Microsoft.Network/networkSecurityGroups`. */
export function resourceId(subscriptionId: string, resourceGroup: string, type: string, name: string): string {
  return `${resourceGroupId(subscriptionId, resourceGroup)}/providers/${type}/${name}`;
}

export const childId = (parentId: string, collection: string, name: string): string => `${parentId}/${collection}/${name}`;
