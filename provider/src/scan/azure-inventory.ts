import type { VirtualMachine } from "@azure/arm-compute";
import { AzureClients } from "../azure/clients";
import { AzureConnection, resolveConnection } from "../azure/connection";
import { cloudError, isNotFound } from "../azure/errors";
import { FirewallFinder } from "../azure/firewall-resolve";
import { idKey } from "../azure/ids";
import { NsgWriter } from "../azure/nsg-writer";
import { mapLimit } from "../util/parallel";
import { Resolver } from "../azure/resolve";
import type { Nsg } from "../plan";
import type { AzureVmInventory } from "./types";

export interface AzureScope {
  subscriptionId: string;
  /** Only this resource group (default: the whole subscription). */
  resourceGroup?: string;
}

/**
 * Every VM of a subscription or resource group with the NSGs on each NIC's inbound path and the
 * classic Azure Firewall in its network, read with the Azure driver's own resolver: one list of
 * VMs, then each VM's NICs and subnets, each NSG and virtual network (its address space, peerings and
 * network manager admin rules) once however many VMs share it, and one list of each subscription's firewalls. A VM deleted meanwhile is left out.
 */
export async function readAzureInventory(scope: AzureScope, connection: AzureConnection = {}): Promise<AzureVmInventory[]> {
  const clients = new AzureClients(resolveConnection(connection));
  const compute = await clients.compute(scope.subscriptionId);
  const listed: VirtualMachine[] = [];
  try {
    const pages = scope.resourceGroup ? compute.virtualMachines.list(scope.resourceGroup) : compute.virtualMachines.listAll();
    for await (const vm of pages) if (vm.id) listed.push(vm);
  } catch (err) {
    throw cloudError(err, `listing the VMs of ${scope.resourceGroup ? `resource group ${scope.resourceGroup}` : `subscription ${scope.subscriptionId}`}`);
  }

  const resolver = new Resolver(clients);
  const resolved = await mapLimit(listed, clients.connection.readConcurrency, (vm) =>
    resolver.vm(vm.id as string).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    }),
  );

  const finder = new FirewallFinder(clients, resolver);
  const firewalls = await mapLimit(resolved, clients.connection.readConcurrency, (vm) => (vm ? finder.classicIn(vm) : Promise.resolve(undefined)));
  const writer = new NsgWriter(clients);
  const nsgIds = [...new Map(resolved.flatMap((vm) => vm?.paths.flatMap((p) => [p.subnetNsgId, p.nicNsgId]) ?? []).flatMap((id) => (id ? [[idKey(id), id] as const] : []))).values()];
  const snapshots = await mapLimit(nsgIds, clients.connection.readConcurrency, (id) => writer.read(id));
  const nsgs = new Map<string, Nsg>(snapshots.map((s, i) => [idKey(nsgIds[i]), s.nsg]));
  const nsgOf = (id: string | undefined) => (id === undefined ? undefined : nsgs.get(idKey(id)));
  // Each network once (the resolver remembers it), for what `VirtualNetwork` stands for on each path.
  const virtualNetworks = await mapLimit(resolved, clients.connection.readConcurrency, (vm) => Promise.all((vm?.paths ?? []).map((p) => resolver.virtualNetworkOf([p]))));
  // Only where no NSG filters a path does its public IP decide what the Internet reaches.
  const publicIps = await mapLimit(resolved, clients.connection.readConcurrency, (vm) =>
    Promise.all((vm?.paths ?? []).map((p) => (p.subnetNsgId || p.nicNsgId ? Promise.resolve(undefined) : Promise.all(p.publicIpIds.map((id) => resolver.publicIp(id)))))),
  );
  const adminRules = await mapLimit(resolved, clients.connection.readConcurrency, (vm) => Promise.all((vm?.paths ?? []).map((p) => resolver.adminRulesOf([p]))));

  return listed.flatMap((vm, i) => {
    const found = resolved[i];
    if (!found) return [];
    return [
      {
        id: found.id,
        ...(vm.location ? { location: vm.location } : {}),
        ...(firewalls[i] ? { firewallId: firewalls[i] } : {}),
        nics: found.paths.map((p, j) => {
          const subnet = nsgOf(p.subnetNsgId);
          const nic = nsgOf(p.nicNsgId);
          const admin = adminRules[i][j];
          const pips = publicIps[i][j];
          return {
            id: p.nicId,
            addresses: p.addresses,
            virtualNetwork: virtualNetworks[i][j],
            ...(admin.length ? { adminRules: admin } : {}),
            ...(pips ? { publicIps: pips } : {}),
            ...(subnet ? { subnet } : {}),
            ...(nic ? { nic } : {}),
          };
        }),
      },
    ];
  });
}
