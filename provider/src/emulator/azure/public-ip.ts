import { assignPublicIp } from "./addresses";
import { Json, checkName, fail, isObject, json, parseEnum } from "./arm";
import type { Ctx } from "./context";
import { ipConfigOfPublicIp } from "./relations";
import { ArmRoute, page } from "./router";
import { ProvisioningState, PublicIpProps, Resource, TYPES } from "./store";
import { deleteRoute, locationOf, omit, renderTracked, settleTo, trackedFields, updateTagsRoute } from "./tracked";
import { ALLOCATION_METHODS } from "./nic";

/** Public IP addresses: what a VM (or a firewall) is reached on from the Internet. */
const READ_ONLY = ["provisioningState", "resourceGuid", "ipConfiguration"];
const SKUS = ["Basic", "Standard"] as const;

export function renderPublicIp(ctx: Ctx, pip: Resource<PublicIpProps>): Json {
  const user = ipConfigOfPublicIp(ctx.store, pip.id);
  const given = isObject(pip.top.sku) ? pip.top.sku : {};
  // NRP answers the SKU it applied, Basic and Regional when the request named none.
  const sku = { ...given, name: given.name ?? "Basic", tier: given.tier ?? "Regional" };
  const rendered = renderTracked(pip, {
    provisioningState: pip.provisioningState,
    resourceGuid: pip.resourceGuid,
    publicIPAddressVersion: "IPv4",
    idleTimeoutInMinutes: 4,
    ipTags: [],
    ...pip.properties,
    ...(user ? { ipConfiguration: { id: user.id } } : {}),
  });
  return { ...rendered, sku };
}

/**
 * A Static address is assigned when the resource is created and kept; a Dynamic one has none until
 * something running uses it (the specification's own example shows none). `ipAddress` in a
 * request is not honoured, as in Azure, except when seeding (`pinned`).
 */
export function writePublicIp(
  ctx: Ctx,
  resourceGroup: string,
  name: string,
  body: Json,
  state: ProvisioningState,
  pinned?: string,
): { resource: Resource<PublicIpProps>; created: boolean } {
  const { store } = ctx;
  store.requireResourceGroup(resourceGroup);
  checkName(name);
  const id = store.idOf(TYPES.publicIp, resourceGroup, name);
  const existing = store.get<PublicIpProps>(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const props = omit(isObject(body.properties) ? body.properties : {}, [...READ_ONLY, "ipAddress"]);
  const sku = isObject(tracked.top.sku) ? parseEnum(tracked.top.sku.name ?? "Basic", SKUS, "PublicIPAddressSkuName", "sku.name") : "Basic";
  const method = parseEnum(props.publicIPAllocationMethod ?? (sku === "Standard" ? "Static" : "Dynamic"), ALLOCATION_METHODS, "IpAllocationMethod", "properties.publicIPAllocationMethod");
  if (sku === "Standard" && method === "Dynamic") {
    fail(400, "StandardSkuPublicIPAddressesCannotHaveDynamicAllocation", `Standard sku publicIp ${id} must have AllocationMethod set to Static.`);
  }
  const address = pinned ?? (method === "Static" ? (existing?.properties.ipAddress ?? assignPublicIp(store)) : undefined);
  return store.write<PublicIpProps>(
    { id, type: TYPES.publicIp, name, resourceGroup, ...tracked, properties: { ...props, publicIPAllocationMethod: method, ...(address ? { ipAddress: address } : {}) } },
    state,
  );
}

export function publicIpRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/publicIPAddresses";
  const pipPath = `${rgPath}/{publicIpAddressName}`;
  const tracked = { path: pipPath, type: TYPES.publicIp };
  return [
    updateTagsRoute<PublicIpProps>(ctx, { ...tracked, render: (p) => renderPublicIp(ctx, p) }, "PublicIPAddresses_UpdateTags"),
    deleteRoute<PublicIpProps>(ctx, tracked, "PublicIPAddresses_Delete", {
      what: "PublicIpAddress",
      provider: "Microsoft.Network",
      check: (pip) => {
        const user = ipConfigOfPublicIp(store, pip.id);
        if (user) {
          fail(
            400,
            "PublicIPAddressInUse",
            `Public IP address ${pip.id} can not be deleted since it is still allocated to resource ${user.id}. In order to delete the public IP, disassociate/detach the Public IP address from the resource. To learn how to do this, see aka.ms/deletepublicip.`,
          );
        }
      },
    }),
    {
      method: "GET",
      path: pipPath,
      operation: "PublicIPAddresses_Get",
      handle: (req) => json(200, renderPublicIp(ctx, store.require<PublicIpProps>(TYPES.publicIp, req.params.resourceGroupName, req.params.publicIpAddressName))),
    },
    {
      method: "GET",
      path: rgPath,
      operation: "PublicIPAddresses_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<PublicIpProps>(TYPES.publicIp, req.params.resourceGroupName), options.pageSize, (p) => renderPublicIp(ctx, p));
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Network/publicIPAddresses",
      operation: "PublicIPAddresses_ListAll",
      handle: (req) => page(req, store.list<PublicIpProps>(TYPES.publicIp), options.pageSize, (p) => renderPublicIp(ctx, p)),
    },
    {
      method: "PUT",
      path: pipPath,
      operation: "PublicIPAddresses_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, publicIpAddressName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<PublicIpProps>(TYPES.publicIp, rg, name);
        return lro.write(req, {
          kind: "Put",
          what: "PublicIpAddress",
          provider: "Microsoft.Network",
          location: locationOf(ctx, body, existing),
          locks: [existing?.id ?? store.idOf(TYPES.publicIp, rg, name)],
          etag: existing?.etag,
          apply: () => {
            const { resource, created } = writePublicIp(ctx, rg, name, body, "Updating");
            return { status: created ? 201 : 200, body: renderPublicIp(ctx, resource), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
  ];
}
