import type { AzureFirewall } from "@azure/arm-network";
import { JitError, parsePrefix, prefixContains } from "../model";
import type { AzureClients } from "./clients";
import { cloudError, isNotFound } from "./errors";
import { refuseManaged } from "./firewall-writer";
import { idKey, shortName, vnetKeyOf } from "./ids";
import type { ResolvedVm, Resolver } from "./resolve";

/**
 * Which classic Azure Firewall stands in front of a VM. As in Defender for Cloud, that is a
 * firewall in the VM's own virtual network (one of its IP configurations sits in a subnet of it),
 * named by the policy through `publicIpAddress` (its public IP) or else found there. A firewall
 * under a Firewall Policy is refused before anything is written (see `refuseManaged`).
 */
export interface FirewallFront {
  id: string;
  /** As listed: its IP configurations, for the public address and the subnet. */
  sdk: AzureFirewall;
  /** The VM's private addresses in the firewall's virtual network: where its rules point. */
  addresses: string[];
}

/**
 * Finds firewalls for one operation. A classic firewall lives in the resource group of its virtual
 * network (Azure refuses anything else: `AzureFirewallReferencesSubnetInDifferentResourceGroup`, and
 * the firewall FAQ), so only the resource groups of the VMs' virtual networks are listed, each once:
 * never the whole subscription, which a requester with rights on a resource group may not read.
 */
export class FirewallFinder {
  private readonly listed = new Map<string, Promise<AzureFirewall[]>>();

  constructor(
    private readonly clients: AzureClients,
    private readonly resolver: Resolver,
  ) {}

  /** The firewall in front of `vm`, or undefined; `named` is the policy's `publicIpAddress` for it. Reads only. */
  async frontOf(vm: ResolvedVm, named: string | undefined): Promise<FirewallFront | undefined> {
    const candidates = await this.inNetworkOf(vm);
    let chosen: AzureFirewall | undefined;
    if (named !== undefined) {
      for (const f of candidates) if ((await this.publicAddresses(f)).includes(named)) chosen = f;
      if (!chosen) {
        const found = await Promise.all(candidates.map(async (f) => `${f.name} (${(await this.publicAddresses(f)).join(", ") || "no public IP"})`));
        throw new JitError(
          "InvalidInput",
          `the policy puts VM ${vm.name} behind the Azure Firewall with public IP ${named}, but ${found.length ? `the firewalls in its virtual network are ${found.join("; ")}` : "there is no Azure Firewall in its virtual network"}; name one of those addresses, or leave publicIpAddress out`,
          { field: "publicIpAddress" },
        );
      }
    } else if (candidates.length > 1) {
      throw new JitError("InvalidInput", `VM ${vm.name} has several Azure Firewalls in its virtual network (${candidates.map((f) => f.name).join(", ")}); name the one in front of it by its public IP (publicIpAddress)`, {
        field: "publicIpAddress",
      });
    } else {
      chosen = candidates[0];
    }
    if (!chosen?.id) return undefined;
    refuseManaged(chosen, chosen.id, `in front of VM ${vm.name}`);
    const fwVnets = new Set((chosen.ipConfigurations ?? []).flatMap((c) => (c.subnet?.id ? [vnetKeyOf(c.subnet.id)] : [])));
    const addresses = [...new Set(vm.paths.filter((p) => p.subnetId && fwVnets.has(vnetKeyOf(p.subnetId))).flatMap((p) => p.addresses))];
    return { id: chosen.id, sdk: chosen, addresses };
  }

  /** The public address a grant's DNAT rules listen on: the one the policy names, else the firewall's first. */
  async publicAddress(front: FirewallFront, named: string | undefined): Promise<string> {
    const address = named ?? (await this.publicAddresses(front.sdk))[0];
    if (address === undefined) {
      throw new JitError("Unsupported", `Azure Firewall ${shortName(front.id)} (${front.id}) has no public IP address, and a grant through it needs one for its DNAT rule; give the firewall a public IP`);
    }
    return address;
  }

  /**
   * The address prefix of the firewall's own subnet (AzureFirewallSubnet): the firewall passes on
   * DNAT traffic from its private addresses there, so that is the source NSGs behind it see.
   */
  async subnetPrefix(front: FirewallFront): Promise<string> {
    const config = (front.sdk.ipConfigurations ?? []).find((c) => c.subnet?.id !== undefined);
    const subnet = config?.subnet?.id === undefined ? undefined : await this.resolver.subnet(config.subnet.id);
    const prefixes = [...(subnet?.addressPrefix ? [subnet.addressPrefix] : []), ...(subnet?.addressPrefixes ?? [])];
    const own = config?.privateIPAddress;
    const prefix = prefixes.find((p) => own !== undefined && prefixContains(parsePrefix(p), parsePrefix(own))) ?? prefixes[0];
    if (prefix === undefined) throw new JitError("CloudError", `the subnet of Azure Firewall ${front.id} came back without an address prefix`);
    return prefix;
  }

  /** The id of a classic firewall in the VM's network, for a scan: one under a Firewall Policy does not count, and nothing is refused. */
  async classicIn(vm: ResolvedVm): Promise<string | undefined> {
    return (await this.inNetworkOf(vm)).find((f) => f.firewallPolicy?.id === undefined && f.virtualHub?.id === undefined)?.id;
  }

  /** The firewalls with an IP configuration in a subnet of the VM's virtual network(s). */
  private async inNetworkOf(vm: ResolvedVm): Promise<AzureFirewall[]> {
    const vnets = new Set(vm.paths.flatMap((p) => (p.subnetId ? [vnetKeyOf(p.subnetId)] : [])));
    const groups = new Map(vm.paths.flatMap((p) => (p.subnetId ? [[idKey(resourceGroupOf(p.subnetId)), resourceGroupOf(p.subnetId)] as const] : [])));
    const inVnet = (f: AzureFirewall) => (f.ipConfigurations ?? []).some((c) => c.subnet?.id !== undefined && vnets.has(vnetKeyOf(c.subnet.id)));
    return (await Promise.all([...groups.values()].map((g) => this.firewalls(g)))).flat().filter(inVnet);
  }

  private async publicAddresses(f: AzureFirewall): Promise<string[]> {
    const ids = (f.ipConfigurations ?? []).flatMap((c) => (c.publicIPAddress?.id ? [c.publicIPAddress.id] : []));
    return (await Promise.all(ids.map((id) => this.resolver.publicAddress(id)))).filter((a): a is string => a !== undefined);
  }

  /** The firewalls of a resource group (`/subscriptions/<s>/resourceGroups/<g>`). */
  private firewalls(resourceGroupId: string): Promise<AzureFirewall[]> {
    const key = idKey(resourceGroupId);
    let list = this.listed.get(key);
    if (!list) {
      list = (async () => {
        const [, , subscriptionId, , resourceGroup] = resourceGroupId.split("/");
        const network = await this.clients.network(subscriptionId);
        const out: AzureFirewall[] = [];
        try {
          for await (const f of network.azureFirewalls.list(resourceGroup)) out.push(f);
        } catch (err) {
          if (isNotFound(err)) return out;
          throw cloudError(err, `listing the Azure Firewalls of resource group ${resourceGroupId}`);
        }
        return out;
      })();
      this.listed.set(key, list);
    }
    return list;
  }
}

/** `/subscriptions/<s>/resourceGroups/<g>` of a resource id. */
function resourceGroupOf(id: string): string {
  return id.split("/").slice(0, 5).join("/");
}
