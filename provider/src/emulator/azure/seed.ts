import { ResponseError } from "../common";
import type { Json } from "./arm";
import { writeVm } from "./compute";
import type { Ctx } from "./context";
import { writeFirewall } from "./firewall";
import { childId, resourceGroupId } from "./ids";
import type { LockLevel } from "./management-locks";
import { writeNic } from "./nic";
import { writeNsg, writeRule } from "./nsg";
import { writePublicIp } from "./public-ip";
import { subnetById } from "./relations";
import { AdminRuleDoc, NicProps, NsgProps, ResourceType, TYPES, VnetProps } from "./store";
import { writePeering, writeSubnet, writeVnet } from "./vnet";

/**
 * Typed shortcuts that put resources straight into the emulator's state, as if they had been
 * created long ago: no calls are logged and nothing is in progress. They go through the same
 * validation as the API, so a test cannot seed what Azure would refuse. Every helper returns the
 * ARM id of what it made; references take an id, or a name in the same resource group.
 */
export interface SeedRule {
  name: string;
  priority: number;
  direction: "Inbound" | "Outbound";
  access: "Allow" | "Deny";
  protocol: "Tcp" | "Udp" | "Icmp" | "Esp" | "Ah" | "*";
  description?: string;
  /** Without source/destination prefixes and port ranges, a rule matches any (`*`). */
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  sourcePortRange?: string;
  sourcePortRanges?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  sourceApplicationSecurityGroups?: { id: string }[];
  destinationApplicationSecurityGroups?: { id: string }[];
}

export interface SeedCollection {
  name: string;
  priority: number;
  action: string;
  rules: Json[];
}

export interface SeedPermissions {
  actions: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
  /** Where the role assignment is: the subscription by default; a resource group or resource id narrows it. */
  scope?: string;
}

export interface TypicalVmOptions {
  resourceGroup?: string;
  name?: string;
  os?: "Linux" | "Windows";
  location?: string;
  /** VNet and subnet are reused when they already exist, so several VMs can share them. */
  vnet?: string;
  addressSpace?: string;
  subnet?: string;
  subnetPrefix?: string;
  /** An NSG on the subnet (only when the subnet is created here). */
  subnetNsg?: boolean;
  /** An NSG on the NIC. */
  nicNsg?: boolean;
  publicIp?: boolean;
  privateIp?: string;
  /** Application security group ids the NIC's IP configuration is in. */
  applicationSecurityGroups?: string[];
}

export interface TypicalVm {
  resourceGroup: string;
  vmName: string;
  vmId: string;
  nicId: string;
  nicNsgId?: string;
  vnetId: string;
  subnetId: string;
  subnetNsgId?: string;
  publicIpId?: string;
  publicIpAddress?: string;
  privateIpAddress: string;
}

function ruleBody(rule: SeedRule): Json {
  const { name, ...props } = rule;
  const anyUnless = (singular: keyof SeedRule, ...others: (keyof SeedRule)[]) => (rule[singular] === undefined && others.every((o) => rule[o] === undefined) ? { [singular]: "*" } : {});
  return {
    name,
    properties: {
      ...anyUnless("sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups"),
      ...anyUnless("sourcePortRange", "sourcePortRanges"),
      ...anyUnless("destinationAddressPrefix", "destinationAddressPrefixes", "destinationApplicationSecurityGroups"),
      ...anyUnless("destinationPortRange", "destinationPortRanges"),
      ...props,
    },
  };
}

/** A refusal reads as the ARM error it is, not as an HTTP response object. */
function seeded<T>(what: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof ResponseError) throw new Error(`cannot seed ${what}: ${err.response.status} ${String(err.response.body)}`);
    throw err;
  }
}

export class AzureSeed {
  constructor(private readonly ctx: Ctx) {}

  private ref(type: ResourceType, resourceGroup: string, nameOrId: string): string {
    return nameOrId.startsWith("/") ? nameOrId : this.ctx.store.idOf(type, resourceGroup, nameOrId);
  }

  private location(location: string | undefined): string {
    return location ?? this.ctx.options.location;
  }

  resourceGroup(name: string, options: { location?: string } = {}): string {
    this.ctx.store.addResourceGroup(name, this.location(options.location));
    return resourceGroupId(this.ctx.options.subscriptionId, name);
  }

  vnet(resourceGroup: string, name: string, options: { addressPrefixes?: string[]; location?: string } = {}): string {
    const body = { location: this.location(options.location), properties: { addressSpace: { addressPrefixes: options.addressPrefixes ?? ["10.0.0.0/16"] }, subnets: [] } };
    return seeded(`virtual network ${name}`, () => writeVnet(this.ctx, resourceGroup, name, body, "Succeeded").resource.id);
  }

  /**
   * Peers two virtual networks (ids or names in `resourceGroup`): both sides, so the peering is
   * `Connected`, unless `oneSided` (then `Initiated`: no traffic flows). `allowVirtualNetworkAccess`
   * false keeps the remote out of the `VirtualNetwork` service tag.
   */
  peering(resourceGroup: string, vnet: string, remote: string, options: { oneSided?: boolean; allowVirtualNetworkAccess?: boolean } = {}): void {
    const ids = [this.ref(TYPES.vnet, resourceGroup, vnet), this.ref(TYPES.vnet, resourceGroup, remote)];
    const sides = options.oneSided ? [ids] : [ids, [ids[1], ids[0]]];
    for (const [from, to] of sides) {
      seeded(`peering of ${from} with ${to}`, () => {
        const parent = this.ctx.store.get<VnetProps>(from);
        if (parent?.type !== TYPES.vnet) throw new Error(`no virtual network ${from}`);
        const remoteName = to.split("/").pop() ?? to;
        writePeering(this.ctx, parent, `peer-${remoteName}`, to, options.allowVirtualNetworkAccess === undefined ? {} : { allowVirtualNetworkAccess: options.allowVirtualNetworkAccess });
      });
    }
  }

  /**
   * A security admin rule of Azure Virtual Network Manager, deployed to these virtual networks (ids
   * or names in `resourceGroup`); sources and destinations are prefixes or service tags. Returns its id.
   */
  adminRule(
    resourceGroup: string,
    vnets: string[],
    rule: { name: string; access: "Allow" | "Deny" | "AlwaysAllow"; priority: number; protocol?: AdminRuleDoc["properties"]["protocol"]; sources?: string[]; destinations?: string[]; destinationPortRanges?: string[]; direction?: "Inbound" | "Outbound"; manager?: string },
  ): string {
    const prefix = (text: string) => ({ addressPrefix: text, addressPrefixType: /^[\d.:a-f]+(\/\d+)?$/i.test(text) || text === "*" ? ("IPPrefix" as const) : ("ServiceTag" as const) });
    const manager = rule.manager ?? "avnm";
    const id = `${resourceGroupId(this.ctx.options.subscriptionId, resourceGroup)}/providers/Microsoft.Network/networkManagers/${manager}/securityAdminConfigurations/baseline/ruleCollections/platform/rules/${rule.name}`;
    this.ctx.store.adminRules.push({
      id,
      vnets: vnets.map((v) => this.ref(TYPES.vnet, resourceGroup, v)),
      configurationDescription: "Security admin configuration",
      properties: {
        protocol: rule.protocol ?? "Tcp",
        sources: (rule.sources ?? ["*"]).map(prefix),
        destinations: (rule.destinations ?? ["*"]).map(prefix),
        sourcePortRanges: ["0-65535"],
        destinationPortRanges: rule.destinationPortRanges ?? ["22"],
        access: rule.access,
        priority: rule.priority,
        direction: rule.direction ?? "Inbound",
      },
    });
    return id;
  }

  /** `addressPrefixes` (one IPv4 and one IPv6 prefix, say) makes a dual-stack subnet. */
  subnet(resourceGroup: string, vnet: string, name: string, options: { addressPrefix?: string; addressPrefixes?: string[]; nsg?: string } = {}): string {
    return seeded(`subnet ${name}`, () => {
      const parent = this.ctx.store.require<VnetProps>(TYPES.vnet, resourceGroup, vnet);
      const properties = {
        ...(options.addressPrefixes ? { addressPrefixes: options.addressPrefixes } : { addressPrefix: options.addressPrefix ?? "10.0.0.0/24" }),
        ...(options.nsg ? { networkSecurityGroup: { id: this.ref(TYPES.nsg, resourceGroup, options.nsg) } } : {}),
      };
      writeSubnet(this.ctx, parent, name, properties, "Succeeded");
      return childId(parent.id, "subnets", name);
    });
  }

  nsg(resourceGroup: string, name: string, options: { rules?: SeedRule[]; location?: string; tags?: Record<string, string>; flushConnection?: boolean } = {}): string {
    const properties = { securityRules: (options.rules ?? []).map(ruleBody), ...(options.flushConnection === undefined ? {} : { flushConnection: options.flushConnection }) };
    const body = { location: this.location(options.location), tags: options.tags, properties };
    return seeded(`network security group ${name}`, () => writeNsg(this.ctx, resourceGroup, name, body, "Succeeded").resource.id);
  }

  /** Adds (or replaces) one rule of an existing NSG. */
  rule(resourceGroup: string, nsg: string, rule: SeedRule): void {
    seeded(`security rule ${rule.name}`, () => {
      const parent = this.ctx.store.require<NsgProps>(TYPES.nsg, resourceGroup, nsg);
      writeRule(this.ctx, parent, rule.name, ruleBody(rule).properties, "Succeeded");
    });
  }

  publicIp(resourceGroup: string, name: string, options: { ipAddress?: string; allocation?: "Static" | "Dynamic"; sku?: "Basic" | "Standard"; location?: string } = {}): string {
    const body = {
      location: this.location(options.location),
      ...(options.sku ? { sku: { name: options.sku } } : {}),
      properties: { publicIPAllocationMethod: options.allocation ?? "Static" },
    };
    return seeded(`public IP ${name}`, () => writePublicIp(this.ctx, resourceGroup, name, body, "Succeeded", options.ipAddress).resource.id);
  }

  /** `ipv6`: a second, IPv6 IP configuration (dual-stack), its address from the subnet's IPv6 prefix. */
  nic(resourceGroup: string, name: string, options: { subnet: string; nsg?: string; publicIp?: string; privateIp?: string; location?: string; applicationSecurityGroups?: string[]; ipv6?: boolean }): string {
    const ipConfiguration = {
      name: "ipconfig1",
      properties: {
        ...(options.applicationSecurityGroups ? { applicationSecurityGroups: options.applicationSecurityGroups.map((id) => ({ id })) } : {}),
        subnet: { id: options.subnet },
        privateIPAllocationMethod: options.privateIp ? "Static" : "Dynamic",
        ...(options.privateIp ? { privateIPAddress: options.privateIp } : {}),
        ...(options.publicIp ? { publicIPAddress: { id: this.ref(TYPES.publicIp, resourceGroup, options.publicIp) } } : {}),
      },
    };
    const body = {
      location: this.location(options.location),
      properties: {
        ipConfigurations: [
          ipConfiguration,
          ...(options.ipv6 ? [{ name: "ipconfig-v6", properties: { subnet: { id: options.subnet }, privateIPAllocationMethod: "Dynamic", privateIPAddressVersion: "IPv6" } }] : []),
        ],
        ...(options.nsg ? { networkSecurityGroup: { id: this.ref(TYPES.nsg, resourceGroup, options.nsg) } } : {}),
      },
    };
    return seeded(`network interface ${name}`, () => writeNic(this.ctx, resourceGroup, name, body, "Succeeded").resource.id);
  }

  /** The first NIC is the primary one. */
  vm(resourceGroup: string, options: { name: string; os: "Linux" | "Windows"; nics: string[]; size?: string; location?: string }): string {
    const body = {
      location: this.location(options.location),
      properties: {
        hardwareProfile: { vmSize: options.size ?? "Standard_B2s" },
        storageProfile: { osDisk: { osType: options.os, name: `${options.name}_OsDisk_1`, createOption: "FromImage", caching: "ReadWrite" } },
        osProfile: { computerName: options.name, adminUsername: "azureuser" },
        networkProfile: {
          networkInterfaces: options.nics.map((nic, i) => ({ id: this.ref(TYPES.nic, resourceGroup, nic), properties: { primary: i === 0 } })),
        },
      },
    };
    return seeded(`virtual machine ${options.name}`, () => writeVm(this.ctx, resourceGroup, options.name, body, "Succeeded").resource.id);
  }

  firewall(
    resourceGroup: string,
    name: string,
    options: {
      subnet?: string;
      publicIp?: string;
      natRuleCollections?: SeedCollection[];
      networkRuleCollections?: SeedCollection[];
      applicationRuleCollections?: SeedCollection[];
      firewallPolicy?: string;
      location?: string;
    } = {},
  ): string {
    const collections = (list: SeedCollection[] | undefined) =>
      (list ?? []).map(({ name: collection, priority, action, rules }) => ({ name: collection, properties: { priority, action: { type: action }, rules } }));
    const body = {
      location: this.location(options.location),
      properties: {
        sku: { name: "AZFW_VNet", tier: "Standard" },
        threatIntelMode: "Alert",
        ipConfigurations: options.subnet
          ? [
              {
                name: "azureFirewallIpConfiguration",
                properties: {
                  subnet: { id: options.subnet },
                  ...(options.publicIp ? { publicIPAddress: { id: this.ref(TYPES.publicIp, resourceGroup, options.publicIp) } } : {}),
                },
              },
            ]
          : [],
        natRuleCollections: collections(options.natRuleCollections),
        networkRuleCollections: collections(options.networkRuleCollections),
        applicationRuleCollections: collections(options.applicationRuleCollections),
        ...(options.firewallPolicy ? { firewallPolicy: { id: options.firewallPolicy } } : {}),
      },
    };
    return seeded(`Azure Firewall ${name}`, () => writeFirewall(this.ctx, resourceGroup, name, body, "Succeeded").resource.id);
  }

  /**
   * A management lock on a scope (subscription, resource group or resource id), as an administrator
   * puts one: ARM then refuses deletes (`CanNotDelete`) or all writes (`ReadOnly`) under it with 409
   * `ScopeLocked`. Returns a function that removes it.
   */
  lock(scope: string, level: LockLevel = "CanNotDelete"): () => void {
    this.ctx.lro.managementLocks.add(scope, level);
    return () => this.ctx.lro.managementLocks.remove(scope);
  }

  /** Grants a principal permissions (one role assignment's worth); the bearer token names the principal. */
  principal(name: string, permissions: SeedPermissions): void {
    const scope = "/" + (permissions.scope ?? `/subscriptions/${this.ctx.options.subscriptionId}`).split("/").filter((s) => s !== "").join("/");
    this.ctx.store.grant(name, {
      scope,
      actions: permissions.actions,
      notActions: permissions.notActions ?? [],
      dataActions: permissions.dataActions ?? [],
      notDataActions: permissions.notDataActions ?? [],
    });
  }

  /**
   * A VM as a portal deployment makes it: a resource group, a VNet and subnet (with an NSG), a NIC
   * (with its own NSG) with a private address and a static public IP, and the VM.
   */
  typicalVm(options: TypicalVmOptions = {}): TypicalVm {
    const rg = options.resourceGroup ?? "rg";
    const vmName = options.name ?? "vm1";
    const vnetName = options.vnet ?? `${rg}-vnet`;
    const subnetName = options.subnet ?? "default";
    const location = options.location;
    this.resourceGroup(rg, { location });
    const { store } = this.ctx;
    const vnetId = store.find(TYPES.vnet, rg, vnetName)?.id ?? this.vnet(rg, vnetName, { location, addressPrefixes: [options.addressSpace ?? "10.0.0.0/16"] });
    const existingSubnet = subnetById(store, childId(vnetId, "subnets", subnetName));
    let subnetId = existingSubnet?.id;
    let subnetNsgId = existingSubnet?.subnet.properties.networkSecurityGroup?.id;
    if (!subnetId) {
      subnetNsgId = options.subnetNsg === false ? undefined : this.nsg(rg, `${vnetName}-${subnetName}-nsg`, { location });
      subnetId = this.subnet(rg, vnetName, subnetName, { addressPrefix: options.subnetPrefix ?? "10.0.0.0/24", nsg: subnetNsgId });
    }
    const nicNsgId = options.nicNsg === false ? undefined : this.nsg(rg, `${vmName}-nsg`, { location });
    const publicIpId = options.publicIp === false ? undefined : this.publicIp(rg, `${vmName}-ip`, { location });
    const nicId = this.nic(rg, `${vmName}-nic`, { subnet: subnetId, nsg: nicNsgId, publicIp: publicIpId, privateIp: options.privateIp, location, applicationSecurityGroups: options.applicationSecurityGroups });
    const vmId = this.vm(rg, { name: vmName, os: options.os ?? "Linux", nics: [nicId], location });
    const nic = store.get<NicProps>(nicId)!;
    const publicIp = publicIpId === undefined ? undefined : store.get(publicIpId);
    return {
      resourceGroup: rg,
      vmName,
      vmId,
      nicId,
      nicNsgId,
      vnetId,
      subnetId,
      subnetNsgId,
      publicIpId,
      publicIpAddress: publicIp?.properties.ipAddress as string | undefined,
      privateIpAddress: nic.properties.ipConfigurations[0].properties.privateIPAddress!,
    };
  }
}
