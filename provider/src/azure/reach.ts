import type { Reach, ReachQuery } from "../driver";
import { JitError } from "../model";
import { evaluateFirewallInbound, evaluateInbound, groupsOf, type NsgProtocol, type PathDecision } from "../plan";
import type { AzureClients } from "./clients";
import { FirewallFinder } from "./firewall-resolve";
import { FirewallWriter } from "./firewall-writer";
import { shortName } from "./ids";
import { NsgWriter } from "./nsg-writer";
import { NicPath, Resolver } from "./resolve";

/**
 * How the caller reaches a VM's port, read afresh: directly, the VM's public address and the NSGs
 * on the way (subnet, then interface) for the caller's address; through a classic Azure Firewall,
 * the grant's DNAT rule on the firewall's public address, its network rules, and then the NSGs for
 * the firewall's own address, which is what they see. Reads only.
 */
export async function reach(clients: AzureClients, query: ReachQuery): Promise<Reach> {
  const resolver = new Resolver(clients);
  const vm = await resolver.vm(query.vmId);
  if (!vm.exists) throw new JitError("NotFound", `no such VM: ${query.vmId}`);
  const protocol: NsgProtocol = query.protocol === "UDP" ? "Udp" : "Tcp";
  const nsgs = new NsgWriter(clients);
  const pathDecision = async (path: NicPath, source: string, destination: string, port: number): Promise<PathDecision> => {
    const [subnet, nic] = await Promise.all([path.subnetNsgId, path.nicNsgId].map((id) => (id === undefined ? undefined : nsgs.read(id).then((s) => s.nsg))));
    const groups = groupsOf([path]);
    return evaluateInbound({ ...(subnet ? { subnet } : {}), ...(nic ? { nic } : {}) }, { source, destination, port, protocol }, groups ? { groups } : {});
  };

  if (query.via) {
    const { address, port } = query.via;
    const front = await new FirewallFinder(clients, resolver).frontOf(vm, address);
    if (!front) throw new JitError("NotFound", `VM ${vm.name} has no Azure Firewall in front of it with public IP ${address}`);
    const firewall = (await new FirewallWriter(clients).read(front.id)).firewall;
    const decision = evaluateFirewallInbound(firewall, { source: query.source, destination: address, port, protocol });
    const target = decision.translated;
    const endpoint = { host: address, port };
    if (!decision.allowed || !target || !front.addresses.includes(target.address)) {
      const why = decision.network ? `network rule ${decision.network.collection}/${decision.network.rule} denies it` : decision.dnat ? `DNAT rule ${decision.dnat.rule} forwards it elsewhere` : "no DNAT rule forwards it";
      return { ...endpoint, allowed: false, detail: `Azure Firewall ${shortName(front.id)}: ${why}` };
    }
    const fwAddress = (front.sdk.ipConfigurations ?? []).map((c) => c.privateIPAddress).find((a): a is string => a !== undefined);
    if (fwAddress === undefined) throw new JitError("CloudError", `Azure Firewall ${front.id} came back without a private address`);
    const path = vm.paths.find((p) => p.addresses.includes(target.address));
    if (!path) return { ...endpoint, allowed: false, detail: `Azure Firewall ${shortName(front.id)} forwards to ${target.address}, which is not an address of VM ${vm.name}` };
    const nsg = await pathDecision(path, fwAddress, target.address, target.port);
    return { ...endpoint, allowed: nsg.allowed, detail: nsg.allowed ? `through Azure Firewall ${shortName(front.id)} to ${target.address}:${target.port}` : blockedBy(nsg) };
  }

  for (const path of vm.paths) {
    const [publicIpId] = path.publicIpIds;
    if (publicIpId === undefined) continue;
    const host = await resolver.publicAddress(publicIpId);
    if (host === undefined) continue;
    const destination = path.addresses[0];
    if (destination === undefined) continue;
    const nsg = await pathDecision(path, query.source, destination, query.port);
    return { host, port: query.port, allowed: nsg.allowed, detail: nsg.allowed ? `public IP ${host} of VM ${vm.name}` : blockedBy(nsg) };
  }
  return { port: query.port, allowed: false, detail: `VM ${vm.name} has no public IP address; connect from its virtual network, or put it behind an Azure Firewall the policy names` };
}

function blockedBy(decision: PathDecision): string {
  const level = decision.subnet.allowed ? decision.nic : decision.subnet;
  const rule = level.rule;
  return rule ? `NSG ${shortName(rule.nsgId)}: rule ${rule.name} (priority ${rule.priority}) denies it` : "an NSG denies it";
}
