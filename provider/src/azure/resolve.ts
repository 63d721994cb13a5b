import type { VirtualMachine } from "@azure/arm-compute";
import type { NetworkInterface, Subnet } from "@azure/arm-network";
import { z } from "zod";
import { JitError, parseVmId } from "../model";
import { describeUnfiltered, type AdminRule, type PublicIpView } from "../plan";
import type { AzureClients } from "./clients";
import { cloudError, isNotFound } from "./errors";
import { NIC, PUBLIC_IP, SUBNET, VNET, idKey, parseResourceId, vnetIdOf } from "./ids";
import { mapLimit } from "../util/parallel";

/**
 * Where a VM's inbound traffic goes through: for each network interface and subnet, the private
 * addresses there, the subnet's NSG (met first) and the interface's own NSG. Both must allow.
 */
export interface NicPath {
  nicId: string;
  subnetId?: string;
  subnetNsgId?: string;
  nicNsgId?: string;
  addresses: string[];
  publicIpIds: string[];
  /** The application security groups (lower-cased id) the interface's IP configurations here are in, with their addresses. */
  applicationSecurityGroups: Record<string, string[]>;
}

export interface ResolvedVm {
  /** As the policy or grant spells it. */
  id: string;
  name: string;
  /** False when ARM says there is no such VM (deleted, or never there): it then has no paths. */
  exists: boolean;
  paths: NicPath[];
}

/**
 * From how many VMs (or interfaces) of one resource group on a listing is cheaper: it costs a call
 * per page (ARM pages lists by a hundred or so), a GET one call each.
 */
const LIST_FROM = 8;

/**
 * Reads VMs, their network interfaces (which may live in other resource groups, or other
 * subscriptions), their subnets and public IPs, each once per operation: a VM resolved for one
 * operation is never reused by the next, which must see NICs or NSGs attached since.
 */
export class Resolver {
  private readonly memo = new Map<string, Promise<unknown>>();
  /** VMs (`vm:<id>`) and network interfaces (`nic:<id>`) as their resource group's listing answered them. */
  private readonly listed = new Map<string, unknown>();

  constructor(private readonly clients: AzureClients) {}

  /**
   * Many VMs of one resource group are read by listing the group (a call per page) instead of one
   * GET each, and so are their network interfaces; a VM or interface the listing did not have is
   * read on its own.
   */
  async vms(ids: readonly string[]): Promise<ResolvedVm[]> {
    await this.listMany(
      ids.flatMap((id) => {
        const ref = parseVmId(id);
        return ref.cloud === "azure" ? [{ id, subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup }] : [];
      }),
      "vm",
      async (subscriptionId, resourceGroup) => (await this.clients.compute(subscriptionId)).virtualMachines.list(resourceGroup),
    );
    const nicIds = [...this.listed.values()].flatMap((vm) => ((vm as VirtualMachine).networkProfile?.networkInterfaces ?? []).flatMap((n) => (n.id ? [n.id] : [])));
    await this.listMany(
      nicIds.flatMap((id) => {
        try {
          const ref = parseResourceId(id, NIC);
          return [{ id, subscriptionId: ref.subscriptionId, resourceGroup: ref.resourceGroup }];
        } catch {
          return [];
        }
      }),
      "nic",
      async (subscriptionId, resourceGroup) => (await this.clients.network(subscriptionId)).networkInterfaces.list(resourceGroup),
    );
    return mapLimit(ids, this.clients.connection.readConcurrency, (id) => this.vm(id));
  }

  /** Lists each resource group holding at least `LIST_FROM` of `wanted`, keeping what it lists by `kind` and id. */
  private async listMany(
    wanted: ReadonlyArray<{ id: string; subscriptionId: string; resourceGroup: string }>,
    kind: "vm" | "nic",
    list: (subscriptionId: string, resourceGroup: string) => Promise<AsyncIterable<{ id?: string }>>,
  ): Promise<void> {
    const groups = new Map<string, { subscriptionId: string; resourceGroup: string; count: number }>();
    for (const w of wanted) {
      if (this.listed.has(`${kind}:${idKey(w.id)}`)) continue;
      const key = `${w.subscriptionId}/${w.resourceGroup}`.toLowerCase();
      const group = groups.get(key) ?? { subscriptionId: w.subscriptionId, resourceGroup: w.resourceGroup, count: 0 };
      group.count += 1;
      groups.set(key, group);
    }
    const many = [...groups.values()].filter((g) => g.count >= LIST_FROM);
    await mapLimit(many, this.clients.connection.readConcurrency, async ({ subscriptionId, resourceGroup }) => {
      try {
        for await (const item of await list(subscriptionId, resourceGroup)) if (item.id) this.listed.set(`${kind}:${idKey(item.id)}`, item);
      } catch (err) {
        // Each VM is then read on its own, which says precisely what is wrong with which.
        if (!isNotFound(err)) throw cloudError(err, `listing the ${kind === "vm" ? "VMs" : "network interfaces"} of resource group ${resourceGroup}`);
      }
    });
  }

  vm(id: string): Promise<ResolvedVm> {
    return this.once(`vm:${idKey(id)}`, async () => {
      const ref = parseVmId(id);
      if (ref.cloud !== "azure") throw new JitError("InvalidInput", `${id} is not an Azure VM`);
      const compute = await this.clients.compute(ref.subscriptionId);
      let vm: VirtualMachine;
      try {
        vm = (this.listed.get(`vm:${idKey(id)}`) as VirtualMachine | undefined) ?? (await compute.virtualMachines.get(ref.resourceGroup, ref.name));
      } catch (err) {
        if (isNotFound(err)) return { id, name: ref.name, exists: false, paths: [] };
        throw cloudError(err, `reading VM ${id}`);
      }
      const nicIds = (vm.networkProfile?.networkInterfaces ?? []).flatMap((n) => (n.id ? [n.id] : []));
      const paths = (await Promise.all(nicIds.map((nicId) => this.nicPaths(nicId)))).flat();
      return { id, name: ref.name, exists: true, paths };
    });
  }

  /** The public IP address behind a public IP resource, if one is allocated. */
  async publicAddress(publicIpId: string): Promise<string | undefined> {
    return (await this.publicIp(publicIpId)).address;
  }

  /**
   * A public IP: its address, and whether it is closed to inbound traffic by itself. A Standard SKU
   * public IP is ("secure by default and closed to inbound traffic ... NSGs are required to allow
   * inbound traffic", Azure's public IP overview); a Basic one (retired in September 2025) is open.
   */
  publicIp(publicIpId: string): Promise<PublicIpView> {
    return this.once(`pip:${idKey(publicIpId)}`, async () => {
      const ref = parseResourceId(publicIpId, PUBLIC_IP);
      const network = await this.clients.network(ref.subscriptionId);
      const pip = await read(`public IP ${publicIpId}`, () => network.publicIPAddresses.get(ref.resourceGroup, ref.name));
      return { ...(pip.ipAddress ? { address: pip.ipAddress } : {}), closedByDefault: pip.sku?.name?.toLowerCase() === "standard" };
    });
  }

  /** What a VM with no NSG anywhere on its paths is open to: said truthfully for each kind of public IP. */
  async withoutNsg(vm: ResolvedVm): Promise<string> {
    return describeUnfiltered(await Promise.all(vm.paths.flatMap((p) => p.publicIpIds).map((id) => this.publicIp(id))));
  }

  private async nicPaths(nicId: string): Promise<NicPath[]> {
    const ref = parseResourceId(nicId, NIC);
    const network = await this.clients.network(ref.subscriptionId);
    const nic: NetworkInterface =
      (this.listed.get(`nic:${idKey(nicId)}`) as NetworkInterface | undefined) ?? (await read(`network interface ${nicId}`, () => network.networkInterfaces.get(ref.resourceGroup, ref.name)));
    const bySubnet = new Map<string, NicPath>();
    for (const config of nic.ipConfigurations ?? []) {
      const subnetId = config.subnet?.id ?? "";
      let path = bySubnet.get(idKey(subnetId));
      if (!path) {
        const subnetNsgId = subnetId ? await this.subnetNsg(subnetId) : undefined;
        path = {
          nicId: nic.id ?? nicId,
          ...(subnetId ? { subnetId } : {}),
          ...(subnetNsgId ? { subnetNsgId } : {}),
          ...(nic.networkSecurityGroup?.id ? { nicNsgId: nic.networkSecurityGroup.id } : {}),
          addresses: [],
          publicIpIds: [],
          applicationSecurityGroups: {},
        };
        bySubnet.set(idKey(subnetId), path);
      }
      if (config.privateIPAddress) {
        path.addresses.push(config.privateIPAddress);
        for (const group of config.applicationSecurityGroups ?? []) {
          if (group.id) (path.applicationSecurityGroups[group.id.toLowerCase()] ??= []).push(config.privateIPAddress);
        }
      }
      if (config.publicIPAddress?.id) path.publicIpIds.push(config.publicIPAddress.id);
    }
    return [...bySubnet.values()];
  }

  /** A subnet: its NSG, its address prefixes. */
  subnet(subnetId: string): Promise<Subnet> {
    return this.once(`subnet:${idKey(subnetId)}`, async () => {
      const ref = parseResourceId(subnetId, SUBNET);
      const network = await this.clients.network(ref.subscriptionId);
      return read(`subnet ${subnetId}`, () => network.subnets.get(ref.resourceGroup, ref.parent ?? "", ref.name));
    });
  }

  /**
   * What the `VirtualNetwork` service tag stands for in a virtual network: its own address space
   * and that of every peered network it is connected to and lets in (`peeringState` Connected,
   * `allowVirtualNetworkAccess` not false; Azure's service-tags overview: "the virtual network
   * address space ..., peered virtual networks"), each prefix once. Read once per network per
   * operation. What the tag also takes in and no read shows (on-premises spaces behind a gateway,
   * user-defined routes, which "might also contain default routes") is not here: see README Limits.
   */
  virtualNetworkPrefixes(vnetId: string): Promise<string[]> {
    return this.once(`vnet:${idKey(vnetId)}`, async () => {
      const ref = parseResourceId(vnetId, VNET);
      const network = await this.clients.network(ref.subscriptionId);
      const vnet = await read(`virtual network ${vnetId}`, () => network.virtualNetworks.get(ref.resourceGroup, ref.name));
      const peered = (vnet.virtualNetworkPeerings ?? [])
        .filter((p) => p.peeringState?.toLowerCase() === "connected" && p.allowVirtualNetworkAccess !== false)
        .flatMap((p) => [...(p.remoteAddressSpace?.addressPrefixes ?? []), ...(p.remoteVirtualNetworkAddressSpace?.addressPrefixes ?? [])]);
      return [...new Set([...(vnet.addressSpace?.addressPrefixes ?? []), ...peered])];
    });
  }

  /** The `VirtualNetwork` prefixes seen from these paths (a VM, or the VMs behind one NSG): every network's, with the paths' own addresses. */
  async virtualNetworkOf(paths: readonly NicPath[]): Promise<string[]> {
    const prefixes = await Promise.all(vnetsOf(paths).map((id) => this.virtualNetworkPrefixes(id)));
    return [...new Set([...prefixes.flat(), ...paths.flatMap((p) => p.addresses)])];
  }

  /**
   * The Virtual Network Manager security admin rules in effect on a virtual network (every page),
   * read once per network per operation. Rules that do not parse as the API documents them are
   * refused rather than guessed at: a misread admin rule could hide an open port.
   */
  adminRules(vnetId: string): Promise<AdminRule[]> {
    return this.once(`admin:${idKey(vnetId)}`, async () => {
      const ref = parseResourceId(vnetId, VNET);
      const network = await this.clients.network(ref.subscriptionId);
      const rules: AdminRule[] = [];
      let skipToken: string | undefined;
      for (let page = 0; page < MAX_ADMIN_RULE_PAGES; page++) {
        const answer = await read(`the network manager's admin rules on ${vnetId}`, () => network.listNetworkManagerEffectiveSecurityAdminRules(ref.resourceGroup, ref.name, skipToken ? { skipToken } : {}));
        for (const item of answer.value ?? []) rules.push(parseAdminRule(item, vnetId));
        skipToken = answer.skipToken || undefined;
        if (skipToken === undefined) return rules;
      }
      throw new JitError("CloudError", `the network manager's admin rules on ${vnetId} ran past ${MAX_ADMIN_RULE_PAGES} pages`);
    });
  }

  /** The admin rules in effect on the networks of these paths, each network read once. */
  async adminRulesOf(paths: readonly NicPath[]): Promise<AdminRule[]> {
    const lists = await Promise.all(vnetsOf(paths).map((id) => this.adminRules(id)));
    return [...new Map(lists.flat().map((r) => [idKey(r.id), r])).values()];
  }

  /** A NIC's answer carries only its subnet's id; the subnet says which NSG it has. */
  private async subnetNsg(subnetId: string): Promise<string | undefined> {
    return (await this.subnet(subnetId)).networkSecurityGroup?.id;
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.memo.get(key) as Promise<T> | undefined;
    if (!value) this.memo.set(key, (value = load()));
    return value;
  }
}

/** The virtual networks of these paths, each once. */
function vnetsOf(paths: readonly NicPath[]): string[] {
  return [...new Map(paths.flatMap((p) => (p.subnetId ? [[idKey(vnetIdOf(p.subnetId)), vnetIdOf(p.subnetId)] as const] : []))).values()];
}

/** Far more than any network manager deploys (a configuration holds at most a few hundred rules), and a bound on a server that keeps paging. */
const MAX_ADMIN_RULE_PAGES = 100;

const text = z.string().max(4096);
const prefixItems = z.array(z.object({ addressPrefix: text.optional() })).max(1000).optional();
const ports = z.array(z.string().max(64)).max(1000).optional();
/** An effective security admin rule as the SDK flattens it (kind `Custom` or `Default`: the same fields). */
const ADMIN_RULE = z.object({
  id: text,
  access: z.enum(["Allow", "Deny", "AlwaysAllow"]),
  priority: z.number().int().min(1).max(4096),
  direction: z.enum(["Inbound", "Outbound"]),
  protocol: text.optional(),
  sources: prefixItems,
  destinations: prefixItems,
  sourcePortRanges: ports,
  destinationPortRanges: ports,
});

function parseAdminRule(item: unknown, vnetId: string): AdminRule {
  const parsed = ADMIN_RULE.safeParse(item);
  if (!parsed.success) throw new JitError("CloudError", `an admin rule in effect on ${vnetId} is not as the API documents it: ${parsed.error.issues[0]?.message ?? "unreadable"}`);
  const r = parsed.data;
  const prefixes = (items: typeof r.sources) => (items ?? []).flatMap((i) => (i.addressPrefix ? [i.addressPrefix] : []));
  return {
    id: r.id,
    access: r.access,
    priority: r.priority,
    direction: r.direction,
    protocol: r.protocol ?? "Any",
    sources: prefixes(r.sources),
    destinations: prefixes(r.destinations),
    sourcePortRanges: r.sourcePortRanges ?? [],
    destinationPortRanges: r.destinationPortRanges ?? [],
  };
}

async function read<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isNotFound(err)) throw new JitError("NotFound", `${what} does not exist`, { cause: err });
    throw cloudError(err, `reading ${what}`);
  }
}
