import { parsePrefix, prefixContains } from "../../model/address";
import { Json, checkName, childNotFound, empty, fail, invalidReference, invalidRequest, isObject, json, refId } from "./arm";
import type { Ctx } from "./context";
import { childId, key, sameId } from "./ids";
import { ipConfigsInSubnet, subnetById } from "./relations";
import { ArmRoute, page } from "./router";
import { ChildDoc, PeeringProps, ProvisioningState, Resource, SubnetProps, TYPES, VnetProps } from "./store";
import { deleteRoute, locationOf, omit, renderChild, renderTracked, settleTo, trackedFields, updateTagsRoute } from "./tracked";

/** Virtual networks and their subnets, which is where NSGs attach to a subnet. */
const SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets";
const SUBNET_READ_ONLY = ["provisioningState", "ipConfigurations", "ipConfigurationProfiles", "privateEndpoints", "resourceNavigationLinks", "serviceAssociationLinks", "purpose"];

function renderSubnet(ctx: Ctx, vnet: Resource<VnetProps>, subnet: ChildDoc<SubnetProps>): Json {
  const id = childId(vnet.id, "subnets", subnet.name);
  const users = ipConfigsInSubnet(ctx.store, id);
  return renderChild(vnet, id, SUBNET_TYPE, subnet.name, {
    privateEndpointNetworkPolicies: "Disabled",
    privateLinkServiceNetworkPolicies: "Enabled",
    delegations: [],
    ...subnet.properties,
    ...(users.length ? { ipConfigurations: users.map((u) => ({ id: u.id })) } : {}),
  });
}

const PEERING_TYPE = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";

/**
 * A peering as NRP answers it (the SDK's `VirtualNetworkPeering`): `Initiated` until the remote
 * network peers back, then `Connected` on both sides, `Disconnected` once the remote network is
 * gone. The remote's address space is shown as it is now, both as the space peered
 * (`remoteAddressSpace`) and as the remote's current one (`remoteVirtualNetworkAddressSpace`).
 */
function renderPeering(ctx: Ctx, vnet: Resource<VnetProps>, peering: ChildDoc<PeeringProps>): Json {
  const remote = ctx.store.get<VnetProps>(peering.properties.remoteVirtualNetwork.id);
  const back = remote?.type === TYPES.vnet && (remote.properties.peerings ?? []).some((p) => sameId(p.properties.remoteVirtualNetwork.id, vnet.id));
  const space = remote?.type === TYPES.vnet ? { addressSpace: { addressPrefixes: [...remote.properties.addressSpace.addressPrefixes] } } : undefined;
  return renderChild(vnet, childId(vnet.id, "virtualNetworkPeerings", peering.name), PEERING_TYPE, peering.name, {
    ...peering.properties,
    peeringState: remote?.type !== TYPES.vnet ? "Disconnected" : back ? "Connected" : "Initiated",
    peeringSyncLevel: "FullyInSync",
    ...(space ? { remoteAddressSpace: space.addressSpace, remoteVirtualNetworkAddressSpace: space.addressSpace } : {}),
    localAddressSpace: vnet.properties.addressSpace,
    localVirtualNetworkAddressSpace: vnet.properties.addressSpace,
    peerCompleteVnets: true,
  });
}

export function renderVnet(ctx: Ctx, vnet: Resource<VnetProps>): Json {
  const { peerings = [], ...properties } = vnet.properties;
  return renderTracked(vnet, {
    provisioningState: vnet.provisioningState,
    resourceGuid: vnet.resourceGuid,
    enableDdosProtection: false,
    ...properties,
    virtualNetworkPeerings: peerings.map((p) => renderPeering(ctx, vnet, p)),
    subnets: vnet.properties.subnets.map((s) => renderSubnet(ctx, vnet, s)),
  });
}

/** Peers `vnet` with `remote` (one side: the remote must peer back for traffic to flow). */
export function writePeering(ctx: Ctx, vnet: Resource<VnetProps>, name: string, remoteId: string, options: Partial<Omit<PeeringProps, "remoteVirtualNetwork">> = {}): void {
  checkName(name);
  const remote = ctx.store.get(remoteId);
  if (remote?.type !== TYPES.vnet) invalidReference(remoteId, childId(vnet.id, "virtualNetworkPeerings", name));
  const peering: ChildDoc<PeeringProps> = {
    name,
    properties: { remoteVirtualNetwork: { id: remote.id }, allowVirtualNetworkAccess: true, allowForwardedTraffic: false, allowGatewayTransit: false, useRemoteGateways: false, ...options },
  };
  const peerings = [...(vnet.properties.peerings ?? []).filter((p) => key(p.name) !== key(name)), peering];
  ctx.store.write<VnetProps>({ ...vnet, properties: { ...vnet.properties, peerings } }, "Succeeded");
}

function cidr(text: unknown, what: string) {
  try {
    const p = parsePrefix(String(text));
    if (p.kind === "cidr") return p;
  } catch {
    // answered below
  }
  return invalidRequest(`${what} has an invalid address prefix: ${String(text)}.`);
}

/** A subnet as stored: its prefix inside the VNet's address space, and its NSG, which must exist. */
function checkSubnet(ctx: Ctx, vnetId: string, vnetName: string, space: string[], name: string, properties: unknown): ChildDoc<SubnetProps> {
  checkName(name);
  const props = omit(isObject(properties) ? properties : {}, SUBNET_READ_ONLY);
  const id = childId(vnetId, "subnets", name);
  const prefixes = [props.addressPrefix, ...(Array.isArray(props.addressPrefixes) ? props.addressPrefixes : [])].filter((p) => p !== undefined);
  if (prefixes.length === 0) invalidRequest(`Subnet ${name} must have an addressPrefix.`);
  for (const text of prefixes) {
    const prefix = cidr(text, `Subnet ${name}`);
    if (!space.some((s) => prefixContains(cidr(s, `Virtual network ${vnetName}`), prefix))) {
      fail(400, "NetcfgSubnetRangeOutsideVnet", `Subnet '${name}' is not valid because its IP address range is outside the IP address range of virtual network '${vnetName}'.`);
    }
  }
  const nsgId = refId(props.networkSecurityGroup);
  const nsg = nsgId === undefined ? undefined : ctx.store.get(nsgId);
  if (nsgId !== undefined && nsg?.type !== TYPES.nsg) invalidReference(nsgId, id);
  return { name, properties: { ...omit(props, ["networkSecurityGroup"]), ...(nsg ? { networkSecurityGroup: { id: nsg.id } } : {}) } };
}

/** A subnet that goes away must not have anything in it. */
function checkRemovable(ctx: Ctx, vnet: Resource<VnetProps>, kept: ChildDoc<SubnetProps>[]): void {
  for (const old of vnet.properties.subnets) {
    if (kept.some((s) => key(s.name) === key(old.name))) continue;
    const users = ipConfigsInSubnet(ctx.store, childId(vnet.id, "subnets", old.name));
    if (users.length) {
      fail(400, "InUseSubnetCannotBeDeleted", `Subnet ${old.name} is in use by ${users[0].id} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.`);
    }
  }
}

const nsgsOf = (subnets: ChildDoc<SubnetProps>[]): string[] => subnets.flatMap((s) => (s.properties.networkSecurityGroup ? [s.properties.networkSecurityGroup.id] : []));

/** NSGs that gained or lost an association: each is written too (new ETag). */
function touchChanged(ctx: Ctx, before: string[], after: string[]): void {
  for (const id of [...before, ...after]) {
    if (before.some((b) => sameId(b, id)) !== after.some((a) => sameId(a, id))) ctx.store.touch(id);
  }
}

export function writeVnet(ctx: Ctx, resourceGroup: string, name: string, body: Json, state: ProvisioningState): { resource: Resource<VnetProps>; created: boolean } {
  ctx.store.requireResourceGroup(resourceGroup);
  checkName(name);
  const id = ctx.store.idOf(TYPES.vnet, resourceGroup, name);
  const existing = ctx.store.get<VnetProps>(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const props = omit(isObject(body.properties) ? body.properties : {}, ["provisioningState", "resourceGuid", "virtualNetworkPeerings"]);
  const space = isObject(props.addressSpace) && Array.isArray(props.addressSpace.addressPrefixes) ? props.addressSpace.addressPrefixes.map(String) : [];
  if (space.length === 0) invalidRequest(`Virtual network ${name} must have an addressSpace with addressPrefixes.`);
  const given = Array.isArray(props.subnets) ? props.subnets : [];
  const subnets = given.map((s) => checkSubnet(ctx, existing?.id ?? id, name, space, isObject(s) ? String(s.name ?? "") : "", isObject(s) ? s.properties : undefined));
  if (existing) checkRemovable(ctx, existing, subnets);
  const before = nsgsOf(existing?.properties.subnets ?? []);
  const written = ctx.store.write<VnetProps>(
    { id, type: TYPES.vnet, name, resourceGroup, ...tracked, properties: { ...props, addressSpace: { addressPrefixes: space }, subnets, ...(existing?.properties.peerings ? { peerings: existing.properties.peerings } : {}) } },
    state,
  );
  touchChanged(ctx, before, nsgsOf(subnets));
  return written;
}

export function writeSubnet(ctx: Ctx, vnet: Resource<VnetProps>, name: string, properties: unknown, state: ProvisioningState): { vnet: Resource<VnetProps>; subnet: ChildDoc<SubnetProps>; created: boolean } {
  const index = vnet.properties.subnets.findIndex((s) => key(s.name) === key(name));
  const subnet = checkSubnet(ctx, vnet.id, vnet.name, vnet.properties.addressSpace.addressPrefixes, index >= 0 ? vnet.properties.subnets[index].name : name, properties);
  const subnets = [...vnet.properties.subnets];
  if (index >= 0) subnets[index] = subnet;
  else subnets.push(subnet);
  const before = nsgsOf(vnet.properties.subnets);
  const { resource } = ctx.store.write<VnetProps>({ ...vnet, properties: { ...vnet.properties, subnets } }, state);
  touchChanged(ctx, before, nsgsOf(subnets));
  return { vnet: resource, subnet, created: index < 0 };
}

/** The NSG ids a subnet body refers to, so the write can lock them before it is validated. */
const nsgIn = (properties: unknown): string[] => {
  const id = isObject(properties) ? refId(properties.networkSecurityGroup) : undefined;
  return id === undefined ? [] : [id];
};

export function vnetRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/virtualNetworks";
  const vnetPath = `${rgPath}/{virtualNetworkName}`;
  const subnetPath = `${vnetPath}/subnets/{subnetName}`;
  const vnetOf = (p: Record<string, string>) => store.require<VnetProps>(TYPES.vnet, p.resourceGroupName, p.virtualNetworkName);

  const tracked = { path: vnetPath, type: TYPES.vnet };
  return [
    updateTagsRoute<VnetProps>(ctx, { ...tracked, render: (v) => renderVnet(ctx, v) }, "VirtualNetworks_UpdateTags"),
    deleteRoute<VnetProps>(ctx, tracked, "VirtualNetworks_Delete", {
      what: "VirtualNetwork",
      provider: "Microsoft.Network",
      check: (vnet) => checkRemovable(ctx, vnet, []),
    }),
    { method: "GET", path: vnetPath, operation: "VirtualNetworks_Get", handle: (req) => json(200, renderVnet(ctx, vnetOf(req.params))) },
    {
      method: "GET",
      path: rgPath,
      operation: "VirtualNetworks_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<VnetProps>(TYPES.vnet, req.params.resourceGroupName), options.pageSize, (v) => renderVnet(ctx, v));
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Network/virtualNetworks",
      operation: "VirtualNetworks_ListAll",
      handle: (req) => page(req, store.list<VnetProps>(TYPES.vnet), options.pageSize, (v) => renderVnet(ctx, v)),
    },
    {
      method: "PUT",
      path: vnetPath,
      operation: "VirtualNetworks_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, virtualNetworkName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<VnetProps>(TYPES.vnet, rg, name);
        const subnets = isObject(body.properties) && Array.isArray(body.properties.subnets) ? body.properties.subnets : [];
        return lro.write(req, {
          kind: "Put",
          what: "VirtualNetwork",
          provider: "Microsoft.Network",
          location: locationOf(ctx, body, existing),
          locks: [existing?.id ?? store.idOf(TYPES.vnet, rg, name), ...nsgsOf(existing?.properties.subnets ?? []), ...subnets.flatMap((s) => nsgIn(isObject(s) ? s.properties : undefined))],
          etag: existing?.etag,
          apply: () => {
            const { resource, created } = writeVnet(ctx, rg, name, body, "Updating");
            return { status: created ? 201 : 200, body: renderVnet(ctx, resource), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
    {
      method: "GET",
      path: `${vnetPath}/virtualNetworkPeerings/{virtualNetworkPeeringName}`,
      operation: "VirtualNetworkPeerings_Get",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        const peering = (vnet.properties.peerings ?? []).find((p) => key(p.name) === key(req.params.virtualNetworkPeeringName));
        return json(200, renderPeering(ctx, vnet, peering ?? childNotFound(childId(vnet.id, "virtualNetworkPeerings", req.params.virtualNetworkPeeringName))));
      },
    },
    {
      method: "GET",
      path: `${vnetPath}/virtualNetworkPeerings`,
      operation: "VirtualNetworkPeerings_List",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        return page(req, (vnet.properties.peerings ?? []).map((p) => renderPeering(ctx, vnet, p)), options.pageSize);
      },
    },
    {
      method: "GET",
      path: subnetPath,
      operation: "Subnets_Get",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        const subnet = subnetById(store, childId(vnet.id, "subnets", req.params.subnetName)) ?? childNotFound(childId(vnet.id, "subnets", req.params.subnetName));
        return json(200, renderSubnet(ctx, vnet, subnet.subnet));
      },
    },
    {
      method: "GET",
      path: `${vnetPath}/subnets`,
      operation: "Subnets_List",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        return page(req, vnet.properties.subnets.map((s) => renderSubnet(ctx, vnet, s)), options.pageSize);
      },
    },
    {
      method: "PUT",
      path: subnetPath,
      operation: "Subnets_CreateOrUpdate",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        const body = req.body();
        const current = vnet.properties.subnets.find((s) => key(s.name) === key(req.params.subnetName));
        return lro.write(req, {
          kind: "Put",
          what: "Subnet",
          provider: "Microsoft.Network",
          location: vnet.location,
          locks: [vnet.id, ...nsgsOf(current ? [current] : []), ...nsgIn(body.properties)],
          etag: current ? vnet.etag : undefined,
          apply: () => {
            const written = writeSubnet(ctx, vnet, req.params.subnetName, body.properties, "Updating");
            return { status: written.created ? 201 : 200, body: renderSubnet(ctx, written.vnet, written.subnet), settle: settleTo(ctx, vnet.id) };
          },
        });
      },
    },
    {
      method: "DELETE",
      path: subnetPath,
      operation: "Subnets_Delete",
      handle: (req) => {
        const vnet = vnetOf(req.params);
        const current = vnet.properties.subnets.find((s) => key(s.name) === key(req.params.subnetName));
        if (!current) return lro.writeNow(req, [], undefined, () => empty(204));
        const kept = vnet.properties.subnets.filter((s) => s !== current);
        return lro.write(req, {
          kind: "Delete",
          what: "Subnet",
          provider: "Microsoft.Network",
          location: vnet.location,
          locks: [vnet.id, ...nsgsOf([current])],
          etag: vnet.etag,
          apply: () => {
            checkRemovable(ctx, vnet, kept);
            // A subnet's removal is an update of its VNet: the subnet is gone at once, the VNet is Updating.
            ctx.store.write<VnetProps>({ ...vnet, properties: { ...vnet.properties, subnets: kept } }, "Updating");
            touchChanged(ctx, nsgsOf(vnet.properties.subnets), nsgsOf(kept));
            return { status: 202, settle: settleTo(ctx, vnet.id) };
          },
        });
      },
    },
  ];
}
