import { randomUUID } from "node:crypto";
import { Json, newEtag, resourceGroupNotFound, resourceNotFound } from "./arm";
import { key, resourceId } from "./ids";

/**
 * The emulator's state: resource groups, top-level resources and per-principal permissions.
 * A resource keeps its writable fields in wire form (as a PUT sent them, normalised); everything
 * read-only (provisioning state, ETags, back-references, default rules, child ids) is derived
 * when it is rendered, so it can never disagree with the rest of the state.
 */
export const TYPES = {
  nsg: "Microsoft.Network/networkSecurityGroups",
  nic: "Microsoft.Network/networkInterfaces",
  publicIp: "Microsoft.Network/publicIPAddresses",
  vnet: "Microsoft.Network/virtualNetworks",
  firewall: "Microsoft.Network/azureFirewalls",
  vm: "Microsoft.Compute/virtualMachines",
} as const;

export type ResourceType = (typeof TYPES)[keyof typeof TYPES];

/** Terminal states are Succeeded and Failed; the others last while a long-running operation runs. */
export type ProvisioningState = "Succeeded" | "Updating" | "Deleting" | "Failed";

export interface Resource<P extends Json = Json> {
  id: string;
  type: ResourceType;
  name: string;
  resourceGroup: string;
  location: string;
  tags?: Record<string, string>;
  /** Top-level writable fields other than location, tags and properties: sku, zones, extendedLocation. */
  top: Json;
  properties: P;
  /** Shared by the resource's children (rules, subnets, IP configurations), as NRP does. */
  etag: string;
  resourceGuid: string;
  provisioningState: ProvisioningState;
}

export interface Ref {
  id: string;
}

export interface RuleProps extends Json {
  protocol: string;
  access: string;
  priority: number;
  direction: string;
  description?: string;
  sourcePortRange?: string;
  destinationPortRange?: string;
  sourceAddressPrefix?: string;
  destinationAddressPrefix?: string;
  sourcePortRanges?: string[];
  destinationPortRanges?: string[];
  sourceAddressPrefixes?: string[];
  destinationAddressPrefixes?: string[];
}

export interface RuleDoc {
  name: string;
  properties: RuleProps;
}

export interface NsgProps extends Json {
  /** As the last PUT of the whole NSG gave it; absent when it never did. */
  flushConnection?: boolean;
  securityRules: RuleDoc[];
}

export interface ChildDoc<P extends Json = Json> {
  name: string;
  properties: P;
}

export interface SubnetProps extends Json {
  addressPrefix?: string;
  networkSecurityGroup?: Ref;
}

/** A security admin rule a network manager has deployed, and the virtual networks (ids) it applies to. */
export interface AdminRuleDoc {
  id: string;
  vnets: string[];
  configurationDescription?: string;
  ruleCollectionDescription?: string;
  properties: {
    description?: string;
    protocol: "Tcp" | "Udp" | "Icmp" | "Esp" | "Any" | "Ah";
    sources: Array<{ addressPrefix: string; addressPrefixType: "IPPrefix" | "ServiceTag" | "NetworkGroup" }>;
    destinations: Array<{ addressPrefix: string; addressPrefixType: "IPPrefix" | "ServiceTag" | "NetworkGroup" }>;
    sourcePortRanges: string[];
    destinationPortRanges: string[];
    access: "Allow" | "Deny" | "AlwaysAllow";
    priority: number;
    direction: "Inbound" | "Outbound";
  };
}

/** One side of a virtual network peering, as written; its state and the remote's space are worked out when read. */
export interface PeeringProps extends Json {
  remoteVirtualNetwork: Ref;
  allowVirtualNetworkAccess: boolean;
  allowForwardedTraffic: boolean;
  allowGatewayTransit: boolean;
  useRemoteGateways: boolean;
}

export interface VnetProps extends Json {
  addressSpace: { addressPrefixes: string[] };
  subnets: ChildDoc<SubnetProps>[];
  peerings?: ChildDoc<PeeringProps>[];
}

export interface IpConfigProps extends Json {
  privateIPAddress?: string;
  privateIPAddressPrefixLength?: number;
  privateIPAllocationMethod?: string;
  subnet?: Ref;
  publicIPAddress?: Ref;
  primary?: boolean;
}

export interface NicProps extends Json {
  ipConfigurations: ChildDoc<IpConfigProps>[];
  networkSecurityGroup?: Ref;
}

export interface PublicIpProps extends Json {
  ipAddress?: string;
  publicIPAllocationMethod: string;
}

export interface FirewallProps extends Json {
  ipConfigurations?: ChildDoc<IpConfigProps>[];
}

export interface VmNicRef {
  id: string;
  properties?: { primary?: boolean };
}

export interface VmProps extends Json {
  networkProfile: { networkInterfaces: VmNicRef[] };
  vmId: string;
}

/** One role assignment's worth of permissions, as Microsoft.Authorization/permissions lists them. */
export interface PermissionBlock {
  /** The assignment scope; the block applies there and below. */
  scope: string;
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface ResourceGroup {
  name: string;
  location: string;
}

export class Store {
  private readonly groups = new Map<string, ResourceGroup>();
  private readonly resources = new Map<string, Resource>();
  /** The same resources by type, so that listing one type does not walk every resource (a fleet has thousands of NICs and VMs). */
  private readonly byType = new Map<ResourceType, Map<string, Resource>>();
  /** Values derived from one type's resources (see `derived`), dropped when one of them is written or removed. */
  private readonly derivedOf = new Map<ResourceType, Map<string, unknown>>();
  private readonly permissions = new Map<string, PermissionBlock[]>();
  /** Security admin rules of Azure Virtual Network Manager deployed to virtual networks (see network-manager.ts). */
  readonly adminRules: AdminRuleDoc[] = [];

  constructor(readonly subscriptionId: string) {}

  addResourceGroup(name: string, location: string): ResourceGroup {
    const group = this.groups.get(key(name)) ?? { name, location };
    this.groups.set(key(name), group);
    return group;
  }

  requireResourceGroup(name: string): ResourceGroup {
    return this.groups.get(key(name)) ?? resourceGroupNotFound(name);
  }

  idOf(type: ResourceType, resourceGroup: string, name: string): string {
    return resourceId(this.subscriptionId, resourceGroup, type, name);
  }

  get<P extends Json = Json>(id: string | undefined): Resource<P> | undefined {
    return id === undefined ? undefined : (this.resources.get(key(id)) as Resource<P> | undefined);
  }

  find<P extends Json = Json>(type: ResourceType, resourceGroup: string, name: string): Resource<P> | undefined {
    return this.get<P>(this.idOf(type, resourceGroup, name));
  }

  /** The resource, or the front door's 404 (after the resource group's own 404). */
  require<P extends Json = Json>(type: ResourceType, resourceGroup: string, name: string): Resource<P> {
    this.requireResourceGroup(resourceGroup);
    return this.find<P>(type, resourceGroup, name) ?? resourceNotFound(type, name, resourceGroup);
  }

  /** Creates or replaces; a replacement keeps the resource's GUID, and every write gets a new ETag. */
  write<P extends Json>(
    fields: Omit<Resource<P>, "etag" | "resourceGuid" | "provisioningState">,
    provisioningState: ProvisioningState,
  ): { resource: Resource<P>; created: boolean } {
    const previous = this.get<P>(fields.id);
    const resource: Resource<P> = {
      ...fields,
      id: previous?.id ?? fields.id,
      name: previous?.name ?? fields.name,
      etag: newEtag(),
      resourceGuid: previous?.resourceGuid ?? randomUUID(),
      provisioningState,
    };
    this.resources.set(key(resource.id), resource as unknown as Resource);
    this.ofType(resource.type).set(key(resource.id), resource as unknown as Resource);
    this.derivedOf.delete(resource.type);
    return { resource, created: previous === undefined };
  }

  /** A change made through another resource (a new back-reference) is a write of this one too. */
  touch(id: string | undefined): void {
    const r = this.get(id);
    if (r) r.etag = newEtag();
  }

  remove(id: string): void {
    const r = this.get(id);
    if (!r) return;
    this.resources.delete(key(id));
    this.ofType(r.type).delete(key(id));
    this.derivedOf.delete(r.type);
  }

  /** In creation order, of one type, optionally in one resource group. */
  list<P extends Json = Json>(type: ResourceType, resourceGroup?: string): Resource<P>[] {
    const all = [...this.ofType(type).values()];
    const group = resourceGroup === undefined ? undefined : key(resourceGroup);
    return (group === undefined ? all : all.filter((r) => key(r.resourceGroup) === group)) as unknown as Resource<P>[];
  }

  /**
   * What `build` derives from the resources of `type` (a back-reference index, say), built once and
   * kept until a resource of that type is written or removed, so that a list of thousands of
   * resources does not scan them all again for each one it renders. `build` must read only
   * resources of `type`, and only what a write replaces (not the provisioning state or ETag,
   * which change in place).
   */
  derived<T>(type: ResourceType, name: string, build: () => T): T {
    const values = this.derivedOf.get(type) ?? new Map<string, unknown>();
    this.derivedOf.set(type, values);
    if (!values.has(name)) values.set(name, build());
    return values.get(name) as T;
  }

  private ofType(type: ResourceType): Map<string, Resource> {
    const resources = this.byType.get(type) ?? new Map<string, Resource>();
    this.byType.set(type, resources);
    return resources;
  }

  grant(principal: string, block: PermissionBlock): void {
    const blocks = this.permissions.get(key(principal)) ?? [];
    blocks.push(block);
    this.permissions.set(key(principal), blocks);
  }

  permissionsOf(principal: string): PermissionBlock[] {
    return this.permissions.get(key(principal)) ?? [];
  }
}
