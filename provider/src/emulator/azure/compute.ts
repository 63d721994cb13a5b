import { randomUUID } from "node:crypto";
import { Json, fail, invalidReference, invalidRequest, isObject, json } from "./arm";
import type { Ctx } from "./context";
import { sameId } from "./ids";
import { vmOfNic } from "./relations";
import { ArmRoute, page } from "./router";
import { ProvisioningState, Resource, TYPES, VmNicRef, VmProps } from "./store";
import { deleteRoute, locationOf, omit, renderTracked, settleTo, trackedFields } from "./tracked";

/** Virtual machines, as far as network access needs them: their NICs and their OS type. */
const OS_TYPES = ["Linux", "Windows"];

export function renderVm(vm: Resource<VmProps>): Json {
  return renderTracked(vm, { ...vm.properties, provisioningState: vm.provisioningState });
}

export function writeVm(ctx: Ctx, resourceGroup: string, name: string, body: Json, state: ProvisioningState): { resource: Resource<VmProps>; created: boolean } {
  const { store } = ctx;
  store.requireResourceGroup(resourceGroup);
  const id = store.idOf(TYPES.vm, resourceGroup, name);
  const existing = store.get<VmProps>(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const props = omit(isObject(body.properties) ? body.properties : {}, ["provisioningState", "vmId", "instanceView", "timeCreated"]);
  const profile = isObject(props.networkProfile) ? props.networkProfile : {};
  const given = Array.isArray(profile.networkInterfaces) ? profile.networkInterfaces : [];
  if (given.length === 0) invalidRequest(`Virtual machine ${id} must have at least one network interface.`);
  const nics: VmNicRef[] = given.map((ref) => {
    const nicId = isObject(ref) && typeof ref.id === "string" ? ref.id : "";
    const nic = store.get(nicId);
    if (nic?.type !== TYPES.nic) return invalidReference(nicId, id);
    const user = vmOfNic(store, nic.id);
    if (user && !sameId(user.vm.id, id)) {
      fail(
        400,
        "NicInUse",
        `Network Interface ${nic.id} is used by existing resource ${user.vm.id}. In order to use this network interface, first detach it from the existing resource, or use it with a different resource.`,
      );
    }
    return { ...(isObject(ref) ? ref : {}), id: nic.id };
  });
  const osDisk = isObject(props.storageProfile) && isObject(props.storageProfile.osDisk) ? props.storageProfile.osDisk : {};
  const osType = OS_TYPES.find((t) => typeof osDisk.osType === "string" && t.toLowerCase() === osDisk.osType.toLowerCase());
  if (osDisk.osType !== undefined && osType === undefined) {
    fail(400, "InvalidParameter", `The value '${String(osDisk.osType)}' of parameter 'osDisk.osType' is out of range.`);
  }
  const before = existing?.properties.networkProfile.networkInterfaces.map((n) => n.id) ?? [];
  const written = store.write<VmProps>(
    {
      id,
      type: TYPES.vm,
      name,
      resourceGroup,
      ...tracked,
      properties: {
        vmId: existing?.properties.vmId ?? randomUUID(),
        ...props,
        ...(osType ? { storageProfile: { ...(props.storageProfile as Json), osDisk: { ...osDisk, osType } } } : {}),
        networkProfile: { ...profile, networkInterfaces: nics },
      },
    },
    state,
  );
  // A NIC whose `virtualMachine` back-reference changes is written too.
  for (const nicId of [...before, ...nics.map((n) => n.id)]) {
    if (before.some((b) => sameId(b, nicId)) !== nics.some((n) => sameId(n.id, nicId))) store.touch(nicId);
  }
  return written;
}

export function computeRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachines";
  const vmPath = `${rgPath}/{vmName}`;
  return [
    {
      method: "GET",
      path: vmPath,
      operation: "VirtualMachines_Get",
      handle: (req) => json(200, renderVm(store.require<VmProps>(TYPES.vm, req.params.resourceGroupName, req.params.vmName))),
    },
    {
      method: "GET",
      path: rgPath,
      operation: "VirtualMachines_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<VmProps>(TYPES.vm, req.params.resourceGroupName), options.pageSize, renderVm);
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/virtualMachines",
      operation: "VirtualMachines_ListAll",
      handle: (req) => page(req, store.list<VmProps>(TYPES.vm), options.pageSize, renderVm),
    },
    {
      method: "PUT",
      path: vmPath,
      operation: "VirtualMachines_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, vmName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<VmProps>(TYPES.vm, rg, name);
        return lro.write(req, {
          kind: "Put",
          what: "VirtualMachine",
          provider: "Microsoft.Compute",
          location: locationOf(ctx, body, existing),
          locks: [existing?.id ?? store.idOf(TYPES.vm, rg, name)],
          etag: existing?.etag,
          apply: () => {
            const { resource, created } = writeVm(ctx, rg, name, body, "Updating");
            return { status: created ? 201 : 200, body: renderVm(resource), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
    {
      method: "PATCH",
      path: vmPath,
      operation: "VirtualMachines_Update",
      handle: (req) => {
        const vm = store.require<VmProps>(TYPES.vm, req.params.resourceGroupName, req.params.vmName);
        const body = req.body();
        // A PATCH changes what it names: the other fields are the VM's own, then checked as a PUT would be.
        const merged: Json = {
          ...vm.top,
          ...omit(body, ["properties"]),
          location: vm.location,
          tags: body.tags === undefined ? vm.tags : body.tags,
          properties: { ...vm.properties, ...(isObject(body.properties) ? body.properties : {}) },
        };
        return lro.write(req, {
          kind: "Put",
          what: "VirtualMachine",
          provider: "Microsoft.Compute",
          location: vm.location,
          locks: [vm.id],
          etag: vm.etag,
          apply: () => {
            const { resource } = writeVm(ctx, vm.resourceGroup, vm.name, merged, "Updating");
            return { status: 200, body: renderVm(resource), settle: settleTo(ctx, resource.id) };
          },
        });
      },
    },
    deleteRoute<VmProps>(ctx, { path: vmPath, type: TYPES.vm }, "VirtualMachines_Delete", { what: "VirtualMachine", provider: "Microsoft.Compute" }),
  ];
}
