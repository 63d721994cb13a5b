import { assignPrivateIp } from "./addresses";
import { Json, checkName, childNotFound, fail, invalidReference, invalidRequest, isObject, json, parseEnum, refId } from "./arm";
import type { Ctx } from "./context";
import { childId, key, sameId } from "./ids";
import { subnetById, vmOfNic } from "./relations";
import { ArmRoute, page } from "./router";
import { ChildDoc, IpConfigProps, NicProps, ProvisioningState, Resource, TYPES } from "./store";
import { deleteRoute, locationOf, omit, renderChild, renderTracked, trackedFields, updateTagsRoute } from "./tracked";

/** Network interfaces: where a VM meets its subnet, its public IP and (optionally) its own NSG. */
const IP_CONFIG_TYPE = "Microsoft.Network/networkInterfaces/ipConfigurations";
const NIC_READ_ONLY = [
  "provisioningState", "resourceGuid", "virtualMachine", "privateEndpoint", "tapConfigurations", "macAddress", "primary",
  "vnetEncryptionSupported", "defaultOutboundConnectivityEnabled", "hostedWorkloads", "dscpConfiguration",
];
const IP_CONFIG_READ_ONLY = ["provisioningState", "privateLinkConnectionProperties"];
const DNS_READ_ONLY = ["appliedDnsServers", "internalFqdn", "internalDomainNameSuffix"];

export const ALLOCATION_METHODS = ["Static", "Dynamic"] as const;
const IP_VERSIONS = ["IPv4", "IPv6"] as const;

/** Azure's vendor prefix 00-0D-3A, then three bytes of the NIC's GUID. */
function macAddress(nic: Resource): string {
  const hex = nic.resourceGuid.replace(/-/g, "").slice(0, 6).toUpperCase();
  return `00-0D-3A-${hex.slice(0, 2)}-${hex.slice(2, 4)}-${hex.slice(4, 6)}`;
}

/** NRP names each VNet's internal DNS zone after a random label; this one is taken from the VNet's GUID. */
function dnsSuffix(ctx: Ctx, nic: Resource<NicProps>): string | undefined {
  const vnet = subnetById(ctx.store, nic.properties.ipConfigurations[0]?.properties.subnet?.id)?.vnet;
  return vnet && `${vnet.resourceGuid.replace(/-/g, "").slice(0, 26)}.ax.internal.cloudapp.net`;
}

const renderIpConfig = (nic: Resource<NicProps>, c: ChildDoc<IpConfigProps>): Json =>
  renderChild(nic, childId(nic.id, "ipConfigurations", c.name), IP_CONFIG_TYPE, c.name, c.properties);

export function renderNic(ctx: Ctx, nic: Resource<NicProps>): Json {
  const attached = vmOfNic(ctx.store, nic.id);
  const { dnsSettings, ipConfigurations, ...rest } = nic.properties;
  const suffix = dnsSuffix(ctx, nic);
  const rendered = renderTracked(nic, {
    provisioningState: nic.provisioningState,
    resourceGuid: nic.resourceGuid,
    ipConfigurations: ipConfigurations.map((c) => renderIpConfig(nic, c)),
    dnsSettings: { dnsServers: [], appliedDnsServers: [], ...(isObject(dnsSettings) ? dnsSettings : {}), ...(suffix ? { internalDomainNameSuffix: suffix } : {}) },
    enableAcceleratedNetworking: false,
    disableTcpStateTracking: false,
    enableIPForwarding: false,
    nicType: "Standard",
    // What recorded answers carry for a subscription that may send mail on port 25.
    allowPort25Out: true,
    ...rest,
    ...(attached ? { macAddress: macAddress(nic), primary: attached.primary, virtualMachine: { id: attached.vm.id } } : {}),
    hostedWorkloads: [],
    tapConfigurations: [],
    vnetEncryptionSupported: false,
  });
  // NRP answers every NIC with a top-level kind, "Regular" for one a user made.
  return { ...rendered, kind: "Regular" };
}

const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export function writeNic(ctx: Ctx, resourceGroup: string, name: string, body: Json, state: ProvisioningState): { resource: Resource<NicProps>; created: boolean } {
  const { store } = ctx;
  store.requireResourceGroup(resourceGroup);
  checkName(name);
  const id = store.idOf(TYPES.nic, resourceGroup, name);
  const existing = store.get<NicProps>(id);
  const tracked = trackedFields(body, existing, name, resourceGroup);
  const given = omit(isObject(body.properties) ? body.properties : {}, NIC_READ_ONLY);
  const props = isObject(given.dnsSettings) ? { ...given, dnsSettings: omit(given.dnsSettings, DNS_READ_ONLY) } : given;

  const nsgId = refId(props.networkSecurityGroup);
  const nsg = nsgId === undefined ? undefined : store.get(nsgId);
  if (nsgId !== undefined && nsg?.type !== TYPES.nsg) invalidReference(nsgId, id);

  const list = props.ipConfigurations;
  if (!Array.isArray(list) || list.length === 0) return invalidRequest(`Network interface ${id} must have at least one IP configuration.`);
  const configs = list.map((c) => ({ name: isObject(c) && typeof c.name === "string" ? c.name : "", props: omit(isObject(c) && isObject(c.properties) ? c.properties : {}, IP_CONFIG_READ_ONLY) }));
  const flagged = configs.filter((c) => c.props.primary === true);
  if (flagged.length > 1) invalidRequest(`Network interface ${id} has more than one primary IP configuration.`);
  const primary = flagged[0] ?? configs[0];
  // A secondary configuration without a subnet is in the primary's subnet.
  const defaultSubnet = refId(primary.props.subnet) ?? configs.map((c) => refId(c.props.subnet)).find((s) => s !== undefined);

  const names = new Set<string>();
  const pending: string[] = [];
  const ipConfigurations: ChildDoc<IpConfigProps>[] = configs.map((c, i) => {
    checkName(c.name);
    if (names.has(key(c.name))) invalidRequest(`Network interface ${id} has more than one IP configuration named ${c.name}.`);
    names.add(key(c.name));
    const configId = childId(existing?.id ?? id, "ipConfigurations", c.name);
    const path = `properties.ipConfigurations[${i}].properties`;
    const subnetId = refId(c.props.subnet) ?? defaultSubnet;
    if (subnetId === undefined) return invalidRequest(`IP configuration ${configId} must reference a subnet.`);
    const subnet = subnetById(store, subnetId) ?? invalidReference(subnetId, configId);
    const publicIpId = refId(c.props.publicIPAddress);
    const publicIp = publicIpId === undefined ? undefined : store.get(publicIpId);
    if (publicIpId !== undefined && publicIp?.type !== TYPES.publicIp) invalidReference(publicIpId, configId);
    const method = parseEnum(c.props.privateIPAllocationMethod ?? "Dynamic", ALLOCATION_METHODS, "IpAllocationMethod", `${path}.privateIPAllocationMethod`);
    const version = parseEnum(c.props.privateIPAddressVersion ?? "IPv4", IP_VERSIONS, "IpVersion", `${path}.privateIPAddressVersion`);
    const before = existing?.properties.ipConfigurations.find((o) => key(o.name) === key(c.name))?.properties;
    const prefixLength = typeof c.props.privateIPAddressPrefixLength === "number" ? c.props.privateIPAddressPrefixLength : undefined;
    const address = assignPrivateIp(store, subnet, {
      ownerId: existing?.id ?? id,
      configId,
      method,
      requested: text(c.props.privateIPAddress),
      current: sameId(before?.subnet?.id, subnet.id) ? before?.privateIPAddress : undefined,
      prefixLength,
      pending,
      version,
    });
    if (address !== undefined) pending.push(address);
    return {
      name: c.name,
      properties: {
        ...omit(c.props, ["subnet", "publicIPAddress", "privateIPAddress"]),
        ...(address === undefined ? {} : { privateIPAddress: address }),
        privateIPAllocationMethod: method,
        subnet: { id: subnet.id },
        ...(publicIp ? { publicIPAddress: { id: publicIp.id } } : {}),
        primary: c === primary,
        privateIPAddressVersion: version,
      },
    };
  });

  const written = store.write<NicProps>(
    { id, type: TYPES.nic, name, resourceGroup, ...tracked, properties: { ...omit(props, ["networkSecurityGroup"]), ipConfigurations, ...(nsg ? { networkSecurityGroup: { id: nsg.id } } : {}) } },
    state,
  );
  const before = existing?.properties.networkSecurityGroup?.id;
  if (!sameId(before, nsg?.id)) {
    store.touch(before);
    store.touch(nsg?.id);
  }
  return written;
}

export function nicRoutes(ctx: Ctx): ArmRoute[] {
  const { store, lro, options } = ctx;
  const rgPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Network/networkInterfaces";
  const nicPath = `${rgPath}/{networkInterfaceName}`;
  const tracked = { path: nicPath, type: TYPES.nic };
  const nicOf = (p: Record<string, string>) => store.require<NicProps>(TYPES.nic, p.resourceGroupName, p.networkInterfaceName);
  return [
    updateTagsRoute<NicProps>(ctx, { ...tracked, render: (n) => renderNic(ctx, n) }, "NetworkInterfaces_UpdateTags"),
    deleteRoute<NicProps>(ctx, tracked, "NetworkInterfaces_Delete", {
      what: "Nic",
      provider: "Microsoft.Network",
      status: 200,
      check: (nic) => {
        const user = vmOfNic(store, nic.id);
        if (user) {
          fail(
            400,
            "NicInUse",
            `Network Interface ${nic.id} is used by existing resource ${user.vm.id}. In order to delete the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.`,
          );
        }
      },
    }),
    {
      method: "GET",
      path: `${nicPath}/ipConfigurations`,
      operation: "NetworkInterfaceIPConfigurations_List",
      handle: (req) => {
        const nic = nicOf(req.params);
        return page(req, nic.properties.ipConfigurations.map((c) => renderIpConfig(nic, c)), options.pageSize);
      },
    },
    {
      method: "GET",
      path: `${nicPath}/ipConfigurations/{ipConfigurationName}`,
      operation: "NetworkInterfaceIPConfigurations_Get",
      handle: (req) => {
        const nic = nicOf(req.params);
        const id = childId(nic.id, "ipConfigurations", req.params.ipConfigurationName);
        const config = nic.properties.ipConfigurations.find((c) => key(c.name) === key(req.params.ipConfigurationName)) ?? childNotFound(id);
        return json(200, renderIpConfig(nic, config));
      },
    },
    {
      // The emulator serves no load balancers, so no NIC is in a backend pool.
      method: "GET",
      path: `${nicPath}/loadBalancers`,
      operation: "NetworkInterfaceLoadBalancers_List",
      handle: (req) => {
        nicOf(req.params);
        return page(req, [], options.pageSize);
      },
    },
    {
      method: "GET",
      path: nicPath,
      operation: "NetworkInterfaces_Get",
      handle: (req) => json(200, renderNic(ctx, store.require<NicProps>(TYPES.nic, req.params.resourceGroupName, req.params.networkInterfaceName))),
    },
    {
      method: "GET",
      path: rgPath,
      operation: "NetworkInterfaces_List",
      handle: (req) => {
        store.requireResourceGroup(req.params.resourceGroupName);
        return page(req, store.list<NicProps>(TYPES.nic, req.params.resourceGroupName), options.pageSize, (n) => renderNic(ctx, n));
      },
    },
    {
      method: "GET",
      path: "/subscriptions/{subscriptionId}/providers/Microsoft.Network/networkInterfaces",
      operation: "NetworkInterfaces_ListAll",
      handle: (req) => page(req, store.list<NicProps>(TYPES.nic), options.pageSize, (n) => renderNic(ctx, n)),
    },
    {
      method: "PUT",
      path: nicPath,
      operation: "NetworkInterfaces_CreateOrUpdate",
      handle: (req) => {
        const { resourceGroupName: rg, networkInterfaceName: name } = req.params;
        store.requireResourceGroup(rg);
        const body = req.body();
        const existing = store.find<NicProps>(TYPES.nic, rg, name);
        const newNsg = isObject(body.properties) ? refId(body.properties.networkSecurityGroup) : undefined;
        const locks = [existing?.id ?? store.idOf(TYPES.nic, rg, name), existing?.properties.networkSecurityGroup?.id, newNsg];
        return lro.write(req, {
          kind: "Put",
          what: "Nic",
          provider: "Microsoft.Network",
          location: locationOf(ctx, body, existing),
          locks: locks.filter((l): l is string => l !== undefined),
          etag: existing?.etag,
          immediate: true,
          apply: () => {
            const { resource, created } = writeNic(ctx, rg, name, body, "Succeeded");
            return { status: created ? 201 : 200, body: renderNic(ctx, resource), settle: () => undefined };
          },
        });
      },
    },
  ];
}
