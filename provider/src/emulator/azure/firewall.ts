import { assignPrivateIp, assignPublicIp } from "./addresses";
import { Json, checkName, fail, invalidReference, invalidRequest, isObject, json, parseEnum, refId } from "./arm";
import type { Ctx } from "./context";
import { childId, key, sameId } from "./ids";
import { subnetById } from "./relations";
import { ArmRoute, page } from "./router";
import { ChildDoc, FirewallProps, IpConfigProps, ProvisioningState, Resource, TYPES } from "./store";
import { deleteRoute, locationOf, omit, renderChild, renderTracked, settleTo, trackedFields, updateTagsRoute } from "./tracked";

/**
 * Azure Firewalls with classic rule collections. There are no per-collection endpoints: every
 * change is a PUT of the whole firewall. Firewall Policy and virtual hubs are accepted and kept
 * as references (neither resource type is emulated).
 */
const IP_CONFIG_TYPE = "Microsoft.Network/azureFirewalls/azureFirewallIpConfigurations";
const COLLECTIONS = ["applicationRuleCollections", "natRuleCollections", "networkRuleCollections"] as const;
type CollectionKind = (typeof COLLECTIONS)[number];

const ACTIONS: Record<CollectionKind, { values: readonly string[]; type: string }> = {
  applicationRuleCollections: { values: ["Allow", "Deny"], type: "AzureFirewallRCActionType" },
  networkRuleCollections: { values: ["Allow", "Deny"], type: "AzureFirewallRCActionType" },
  natRuleCollections: { values: ["Snat", "Dnat"], type: "AzureFirewallNatRCActionType" },
};
const NETWORK_PROTOCOLS = ["TCP", "UDP", "Any", "ICMP"] as const;
const APPLICATION_PROTOCOLS = ["Http", "Https", "Mssql"] as const;
const MIN_COLLECTION_PRIORITY = 100;
const MAX_COLLECTION_PRIORITY = 65000;
/** A hub firewall's private address comes from its virtual hub's range, which is not emulated. */
const HUB_PRIVATE_IP = "10.0.64.4";

export function renderFirewall(fw: Resource<FirewallProps>): Json {
  const collections = Object.fromEntries(
    COLLECTIONS.map((kind) => [
      kind,
      ((fw.properties[kind] as ChildDoc[] | undefined) ?? []).map((c) => renderChild(fw, childId(fw.id, kind, c.name), undefined, c.name, c.properties)),
    ]),
  );
  return renderTracked(fw, {
    provisioningState: fw.provisioningState,
    threatIntelMode: "Alert",
    additionalProperties: {},
    ...fw.properties,
    ipGroups: [],
    ipConfigurations: (fw.properties.ipConfigurations ?? []).map((c) => renderChild(fw, childId(fw.id, "ipConfigurations", c.name), IP_CONFIG_TYPE, c.name, c.properties)),
    ...collections,
  });
}

function checkRule(kind: CollectionKind, rule: unknown, path: string): Json {
  if (!isObject(rule)) return invalidRequest(`${path} must be an object.`);
  const protocols = Array.isArray(rule.protocols) ? rule.protocols : [];
  if (kind === "applicationRuleCollections") {
    return {
      ...rule,
      protocols: protocols.map((p, i) => ({
        ...(isObject(p) ? p : {}),
        protocolType: parseEnum(isObject(p) ? p.protocolType : p, APPLICATION_PROTOCOLS, "AzureFirewallApplicationRuleProtocolType", `${path}.protocols[${i}].protocolType`),
      })),
    };
  }
  return { ...rule, protocols: protocols.map((p, i) => parseEnum(p, NETWORK_PROTOCOLS, "AzureFirewallNetworkRuleProtocol", `${path}.protocols[${i}]`)) };
}

function checkCollections(kind: CollectionKind, given: unknown): ChildDoc[] {
  if (given === undefined) return [];
  if (!Array.isArray(given)) return invalidRequest(`properties.${kind} must be an array.`);
  const names = new Set<string>();
  return given.map((c, i) => {
    const path = `properties.${kind}[${i}]`;
    const name = isObject(c) && typeof c.name === "string" ? c.name : "";
    checkName(name);
    if (names.has(key(name))) invalidRequest(`Azure Firewall has more than one rule collection named ${name} in ${kind}.`);
    names.add(key(name));
    const props = isObject(c) && isObject(c.properties) ? omit(c.properties, ["provisioningState"]) : {};
    const priority = props.priority;
    if (typeof priority !== "number" || !Number.isInteger(priority) || priority < MIN_COLLECTION_PRIORITY || priority > MAX_COLLECTION_PRIORITY) {
      invalidRequest(`Rule collection ${name} has priority ${String(priority)}; it must be between ${MIN_COLLECTION_PRIORITY} and ${MAX_COLLECTION_PRIORITY}.`);
    }
    const action = isObject(props.action) ? props.action : {};
    const { values, type } = ACTIONS[kind];
    const rules = Array.isArray(props.rules) ? props.rules : [];
    return {
      name,
      properties: {
        ...props,
        action: { ...action, type: parseEnum(action.type, values, type, `${path}.properties.action.type`) },
        rules: rules.map((r, j) => checkRule(kind, r, `${path}.properties.rules[${j}]`)),
      },
    };
  });
}

function checkIpConfigurations(ctx: Ctx, ownerId: string, existing: Resource<FirewallProps> | undefined, given: unknown): ChildDoc<IpConfigProps>[] | undefined {
  if (given === undefined) return undefined;
  if (!Array.isArray(given)) return invalidRequest("properties.ipConfigurations must be an array.");
  const pending: string[] = [];
  return given.map((c) => {
    const name = isObject(c) && typeof c.name === "string" ? c.name : "";
    checkName(name);
    const configId = childId(ownerId, "ipConfigurations", name);
    const props = isObject(c) && isObject(c.properties) ? omit(c.properties, ["provisioningState", "privateIPAddress"]) : {};
    const subnetId = refId(props.subnet);
    const subnet = subnetId === undefined ? undefined : (subnetById(ctx.store, subnetId) ?? invalidReference(subnetId, configId));
    const publicIpId = refId(props.publicIPAddress);
    const publicIp = publicIpId === undefined ? undefined : ctx.store.get(publicIpId);
    if (publicIpId !== undefined && publicIp?.type !== TYPES.publicIp) invalidReference(publicIpId, configId);
    const before = existing?.properties.ipConfigurations?.find((o) => key(o.name) === key(name))?.properties;
    const address = subnet && assignPrivateIp(ctx.store, subnet, {
      ownerId,
      configId,
      method: "Dynamic",
      current: sameId(before?.subnet?.id, subnet.id) ? before?.privateIPAddress : undefined,
      pending,
    });
    if (address !== undefined) pending.push(address);
    return {
      name,
      properties: {
        ...omit(props, ["subnet", "publicIPAddress"]),
        ...(address === undefined ? {} : { privateIPAddress: address }),
        ...(subnet ? { subnet: { id: subnet.id } } : {}),
        ...(publicIp ? { publicIPAddress: { id: publicIp.id } } : {}),
      },
    };
  });
}

/** Fills a hub firewall's public addresses up to the count asked for, keeping those it has. */
function hubAddresses(ctx: Ctx, existing: Resource<FirewallProps> | undefined, given: unknown): Json | undefined {
  if (!isObject(given)) return undefined;
  const publicIPs = isObject(given.publicIPs) ? given.publicIPs : undefined;
  const previous = (existing?.properties.hubIPAddresses as { publicIPs?: { addresses?: { address: string }[] }; privateIPAddress?: string } | undefined) ?? {};
  const count = typeof publicIPs?.count === "number" ? publicIPs.count : 0;
  const addresses = (previous.publicIPs?.addresses ?? []).slice(0, count).map((a) => a.address);
  while (addresses.length < count) addresses.push(assignPublicIp(ctx.store, addresses));
  return {
    ...given,
    ...(publicIPs ? { publicIPs: { ...publicIPs, addresses: addresses.map((address) => ({ address })) } } : {}),
    privateIPAddress: previous.privateIPAddress ?? HUB_PRIVATE_IP,
  };
}

/**
 * Azure Firewall's DNAT limit (firewall-limits, 2023): "Maximum DNAT rules (Maximum external
 * destinations): 250 maximum [number of firewall public IP addresses + unique destinations
 * (destination address, port, and protocol)] ... If a rule's protocol is configured for both TCP and
 * UDP, it counts as two rules." What ARM answers past it is not documented; this answers 400 with
 * the limit's own wording.
 */
export const MAX_DNAT_DESTINATIONS = 250;

function checkDnatLimit(collections: readonly ChildDoc[], ipConfigurations: readonly ChildDoc<IpConfigProps>[] | undefined): void {
  const destinations = new Set<string>();
  for (const c of collections) {
    for (const rule of (c.properties.rules as Json[] | undefined) ?? []) {
      const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
      for (const protocol of list(rule.protocols)) for (const address of list(rule.destinationAddresses)) for (const port of list(rule.destinationPorts)) destinations.add(`${address}|${port}|${protocol.toUpperCase()}`);
    }
  }
  const publicIps = (ipConfigurations ?? []).filter((c) => c.properties.publicIPAddress !== undefined).length;
  if (publicIps + destinations.size > MAX_DNAT_DESTINATIONS) {
    invalidRequest(
      `Azure Firewall cannot have more than ${MAX_DNAT_DESTINATIONS} DNAT external destinations (public IP addresses plus unique destination address, port and protocol); this configuration has ${publicIps + destinations.size}.`,
    );
  }
}

export function writeFirewall(ctx: Ctx, resourceGroup: string, name: string, body: Json, state: ProvisioningState): { resource: Resource<FirewallProps>; created: boolean } {
  const { store } = ctx;
  store.requireResourceGroup(resourceGroup);
  checkName(name);
  const id = store.idOf(TYPES.firewall, resourceGroup, name);
  const existing = store.get<FirewallProps>(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const props = omit(isObject(body.properties) ? body.properties : {}, ["provisioningState", "ipGroups"]);
  const sku = isObject(props.sku) ? props.sku : {};
  const ipConfigurations = checkIpConfigurations(ctx, existing?.id ?? id, existing, props.ipConfigurations);
  // The firewall and its virtual network share a resource group (firewall FAQ; azure-docs#13491).
  for (const c of ipConfigurations ?? []) {
    const subnetId = c.properties.subnet?.id;
    if (subnetId !== undefined && key(subnetId.split("/")[4] ?? "") !== key(resourceGroup)) {
      fail(400, "AzureFirewallReferencesSubnetInDifferentResourceGroup", `AzureFirewall ${id} references subnet (${subnetId}) in a different resource group.`);
    }
  }
  const hub = hubAddresses(ctx, existing, props.hubIPAddresses);
  const properties: FirewallProps = {
    ...props,
    sku: {
      ...sku,
      name: parseEnum(sku.name ?? "AZFW_VNet", ["AZFW_VNet", "AZFW_Hub"], "AzureFirewallSkuName", "properties.sku.name"),
      tier: parseEnum(sku.tier ?? "Standard", ["Standard", "Premium", "Basic"], "AzureFirewallSkuTier", "properties.sku.tier"),
    },
    ...(props.threatIntelMode === undefined
      ? {}
      : { threatIntelMode: parseEnum(props.threatIntelMode, ["Alert", "Deny", "Off"], "AzureFirewallThreatIntelMode", "properties.threatIntelMode") }),
    ...(ipConfigurations ? { ipConfigurations } : {}),
    ...(hub ? { hubIPAddresses: hub } : {}),
    ...Object.fromEntries(COLLECTIONS.map((kind) => [kind, checkCollections(kind, props[kind])])),
  };
  checkDnatLimit(properties.natRuleCollections as ChildDoc[], ipConfigurations ?? existing?.properties.ipConfigurations);
  return store.write<FirewallProps>({ id, type: TYPES.firewall, name, resourceGroup, ...tracked, properties }, state);
}

export function firewallRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/azureFirewalls";
  const fwPath = `${rgPath}/{azureFirewallName}`;
  const tracked = { path: fwPath, type: TYPES.firewall };
  const longRunning = { what: "AzureFirewall", provider: "Microsoft.Network" };
  return [
    updateTagsRoute<FirewallProps>(ctx, { ...tracked, render: renderFirewall }, "AzureFirewalls_UpdateTags", longRunning),
    deleteRoute<FirewallProps>(ctx, tracked, "AzureFirewalls_Delete", longRunning),
    {
      method: "GET",
      path: fwPath,
      operation: "AzureFirewalls_Get",
      handle: (req) => json(200, renderFirewall(store.require<FirewallProps>(TYPES.firewall, req.params.resourceGroupName, req.params.azureFirewallName))),
    },
    {
      method: "GET",
      path: rgPath,
      operation: "AzureFirewalls_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<FirewallProps>(TYPES.firewall, req.params.resourceGroupName), options.pageSize, renderFirewall);
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Network/azureFirewalls",
      operation: "AzureFirewalls_ListAll",
      handle: (req) => page(req, store.list<FirewallProps>(TYPES.firewall), options.pageSize, renderFirewall),
    },
    {
      method: "PUT",
      path: fwPath,
      operation: "AzureFirewalls_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, azureFirewallName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<FirewallProps>(TYPES.firewall, rg, name);
        return lro.write(req, {
          kind: "Put",
          what: "AzureFirewall",
          provider: "Microsoft.Network",
          location: locationOf(ctx, body, existing),
          locks: [existing?.id ?? store.idOf(TYPES.firewall, rg, name)],
          etag: existing?.etag,
          apply: () => {
            const { resource, created } = writeFirewall(ctx, rg, name, body, "Updating");
            return { status: created ? 201 : 200, body: renderFirewall(resource), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
  ];
}
