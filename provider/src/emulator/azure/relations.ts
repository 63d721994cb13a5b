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
  for (const vm of store.list<VmProps>(TYPES.vm)) {
    const nics = vm.properties.networkProfile.networkInterfaces;
    const index = nics.findIndex((n) => sameId(n.id, nicId));
    if (index < 0) continue;
    const flagged = nics.findIndex((n) => n.properties?.primary === true);
    return { vm, primary: index === (flagged >= 0 ? flagged : 0) };
  }
  return undefined;
}

export interface IpConfigRef {
  id: string;
  owner: Resource;
  props: IpConfigProps;
}

/** Every IP configuration there is: NICs' and Azure Firewalls'. */
function allIpConfigs(store: Store): IpConfigRef[] {
  const nics = store.list<NicProps>(TYPES.nic).flatMap((nic) =>
    nic.properties.ipConfigurations.map((c) => ({ id: childId(nic.id, "ipConfigurations", c.name), owner: nic as Resource, props: c.properties })),
  );
  const firewalls = store.list<FirewallProps>(TYPES.firewall).flatMap((fw) =>
    (fw.properties.ipConfigurations ?? []).map((c) => ({ id: childId(fw.id, "ipConfigurations", c.name), owner: fw as Resource, props: c.properties })),
  );
  return [...nics, ...firewalls];
}

export function ipConfigsInSubnet(store: Store, subnetId: string): IpConfigRef[] {
  return allIpConfigs(store).filter((c) => sameId(c.props.subnet?.id, subnetId));
}

export function ipConfigOfPublicIp(store: Store, publicIpId: string): IpConfigRef | undefined {
  return allIpConfigs(store).find((c) => sameId(c.props.publicIPAddress?.id, publicIpId));
}
