import { childId, key, parseId, sameId } from "./ids";
import {
  ChildDoc,
  FirewallProps,
  IpConfigProps,
  NicProps,
  Resource,
  Store,
  SubnetProps,
  TYPES,
  VmProps,
  VnetProps,
} from "./store";

/**
 * The read-only back-references ARM shows (NSG → NICs and subnets, NIC → VM, public IP → IP
 * configuration, subnet → IP configurations), derived from the forward references each resource
 * stores, so they stay consistent whatever writes in whatever order.
 */
export interface SubnetRef {
  vnet: Resource<VnetProps>;
  subnet: ChildDoc<SubnetProps>;
  id: string;
}

export function subnetById(store: Store, id: string | undefined): SubnetRef | undefined {
  const parsed = id === undefined ? undefined : parseId(id);
  if (!parsed || parsed.segments.length !== 2 || key(parsed.segments[1][0]) !== "subnets") return undefined;
  const vnetId = id!.slice(0, id!.toLowerCase().lastIndexOf("/subnets/"));
  const vnet = store.get<VnetProps>(vnetId);
  if (vnet?.type !== TYPES.vnet) return undefined;
  const subnet = vnet.properties.subnets.find((s) => key(s.name) === key(parsed.segments[1][1]));
  return subnet && { vnet, subnet, id: childId(vnet.id, "subnets", subnet.name) };
}

function allSubnets(store: Store): SubnetRef[] {
  return store
    .list<VnetProps>(TYPES.vnet)
    .flatMap((vnet) => vnet.properties.subnets.map((subnet) => ({ vnet, subnet, id: childId(vnet.id, "subnets", subnet.name) })));
}

export function nicsWithNsg(store: Store, nsgId: string): Resource<NicProps>[] {
  return store.list<NicProps>(TYPES.nic).filter((nic) => sameId(nic.properties.networkSecurityGroup?.id, nsgId));
}

export function subnetsWithNsg(store: Store, nsgId: string): SubnetRef[] {
  return allSubnets(store).filter((s) => sameId(s.subnet.properties.networkSecurityGroup?.id, nsgId));
}

/** The VM a NIC is attached to, and whether it is that VM's primary NIC. */
export function vmOfNic(store: Store, nicId: string): { vm: Resource<VmProps>; primary: boolean } | undefined {
  return nicUsers(store).get(key(nicId));
}

/** Every attached NIC's VM, by the NIC's key: rendering a list of NICs asks this of each one. */
function nicUsers(store: Store): Map<string, { vm: Resource<VmProps>; primary: boolean }> {
  return store.derived(TYPES.vm, "nicUsers", () => {
    const users = new Map<string, { vm: Resource<VmProps>; primary: boolean }>();
    for (const vm of store.list<VmProps>(TYPES.vm)) {
      const nics = vm.properties.networkProfile.networkInterfaces;
      const flagged = nics.findIndex((n) => n.properties?.primary === true);
      // A NIC listed by two VMs (which writeVm refuses) answers with the first, as a scan in creation order would.
      nics.forEach((n, index) => {
        if (!users.has(key(n.id))) users.set(key(n.id), { vm, primary: index === (flagged >= 0 ? flagged : 0) });
      });
    }
    return users;
  });
}

export interface IpConfigRef {
  id: string;
  owner: Resource;
  props: IpConfigProps;
}

/** The IP configurations there are (NICs' and Azure Firewalls') whose properties are `wanted`. */
function ipConfigs(store: Store, wanted: (props: IpConfigProps) => boolean): IpConfigRef[] {
  const of = (owner: Resource, configs: ChildDoc<IpConfigProps>[]) =>
    configs.filter((c) => wanted(c.properties)).map((c) => ({ id: childId(owner.id, "ipConfigurations", c.name), owner, props: c.properties }));
  return [
    ...store.list<NicProps>(TYPES.nic).flatMap((nic) => of(nic as Resource, nic.properties.ipConfigurations)),
    ...store.list<FirewallProps>(TYPES.firewall).flatMap((fw) => of(fw as Resource, fw.properties.ipConfigurations ?? [])),
  ];
}

export function ipConfigsInSubnet(store: Store, subnetId: string): IpConfigRef[] {
  const subnet = key(subnetId);
  return ipConfigs(store, (c) => c.subnet !== undefined && key(c.subnet.id) === subnet);
}

export function ipConfigOfPublicIp(store: Store, publicIpId: string): IpConfigRef | undefined {
  return ipConfigs(store, (c) => sameId(c.publicIPAddress?.id, publicIpId))[0];
}
