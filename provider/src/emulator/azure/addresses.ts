import * as ipaddr from "ipaddr.js";
import { fail, invalidRequest } from "./arm";
import { ipConfigsInSubnet, SubnetRef } from "./relations";
import { FirewallProps, PublicIpProps, Store, TYPES } from "./store";

/**
 * Address assignment: private addresses from a subnet's range as Azure hands them out (the first
 * free host from `.4`, since Azure keeps the network address, the next three and the broadcast
 * address), optionally whole aligned blocks (`privateIPAddressPrefixLength`), and public
 * addresses from a pool. An IPv6 configuration (dual-stack) takes its address from the subnet's
 * IPv6 prefix, the first free host from `::4` the same way.
 */
const toInt = (address: string): number => ipaddr.IPv4.parse(address).toByteArray().reduce((n, b) => n * 256 + b, 0);
const toText = (n: number): string => [3, 2, 1, 0].map((i) => Math.floor(n / 256 ** i) % 256).join(".");

interface Block {
  first: number;
  size: number;
}

function ipv4Block(cidr: string | undefined): Block | undefined {
  if (cidr === undefined || !ipaddr.IPv4.isValidCIDR(cidr)) return undefined;
  const [address, bits] = ipaddr.IPv4.parseCIDR(cidr);
  const size = 2 ** (32 - bits);
  return { first: Math.floor(toInt(address.toString()) / size) * size, size };
}

/**
 * `10.0.0.4` or, for a prefix assignment, `10.0.0.16/28`. Every assignment in a subnet reads every
 * address already taken there, so each is parsed once and remembered (an address is a string: the
 * answer cannot go stale; the memo is emptied at a cap).
 */
const blocks = new Map<string, Block | null>();
function blockOf(assigned: string): Block | undefined {
  let block = blocks.get(assigned);
  if (block === undefined) {
    if (blocks.size >= 100_000) blocks.clear();
    block = (assigned.includes("/") ? ipv4Block(assigned) : ipaddr.IPv4.isValidFourPartDecimal(assigned) ? { first: toInt(assigned), size: 1 } : undefined) ?? null;
    blocks.set(assigned, block);
  }
  return block ?? undefined;
}

const inside = (inner: Block, outer: Block): boolean => inner.first >= outer.first && inner.first + inner.size <= outer.first + outer.size;

export interface PrivateIpRequest {
  /** The NIC or firewall being written: its configurations as stored now do not count as taken. */
  ownerId: string;
  /** The IP configuration's id, for messages. */
  configId: string;
  /** Addresses given to the owner's other configurations earlier in the same write. */
  pending: string[];
  method: "Static" | "Dynamic";
  requested?: string;
  /** The address the configuration has now, kept by a Dynamic configuration that stays in the subnet. */
  current?: string;
  prefixLength?: number;
  /** `privateIPAddressVersion`; IPv4 when absent. */
  version?: "IPv4" | "IPv6";
}

function subnetPrefixes(subnet: SubnetRef): string[] {
  const p = subnet.subnet.properties;
  return [...(p.addressPrefix ? [p.addressPrefix] : []), ...((p.addressPrefixes as string[] | undefined) ?? [])];
}

export function assignPrivateIp(store: Store, subnet: SubnetRef, req: PrivateIpRequest): string | undefined {
  if (req.version === "IPv6") return assignIpv6(store, subnet, req);
  const range = ipv4Block(subnetPrefixes(subnet).find((p) => ipaddr.IPv4.isValidCIDR(p)));
  if (!range) return req.requested;
  const taken = [
    ...ipConfigsInSubnet(store, subnet.id)
      .filter((c) => c.owner.id.toLowerCase() !== req.ownerId.toLowerCase() && c.props.privateIPAddress !== undefined)
      .map((c) => ({ block: blockOf(c.props.privateIPAddress!), owner: c.id })),
    ...req.pending.map((address) => ({ block: blockOf(address), owner: req.ownerId })),
  ].filter((t): t is { block: Block; owner: string } => t.block !== undefined);
  const usable: Block = { first: range.first + 4, size: range.size - 5 };
  const clash = (b: Block) => taken.find((t) => t.block.first < b.first + b.size && b.first < t.block.first + t.block.size);
  const free = (b: Block) => inside(b, usable) && clash(b) === undefined;

  if (req.method === "Static") {
    const wanted = req.requested === undefined ? undefined : blockOf(req.requested);
    if (!wanted) return invalidRequest(`IP configuration ${req.configId} has a Static allocation method but no valid privateIPAddress.`);
    if (!inside(wanted, range)) {
      fail(400, "PrivateIPAddressNotInSubnet", `Private static IP address ${req.requested} does not belong to the range of subnet prefix ${toText(range.first)}/${32 - Math.log2(range.size)}.`);
    }
    const other = clash(wanted);
    if (other) fail(400, "PrivateIPAddressInUse", `IP configuration ${req.configId} is using the private IP address ${req.requested} which is already allocated to resource ${other.owner}.`);
    return req.requested;
  }

  const kept = req.current === undefined ? undefined : blockOf(req.current);
  if (kept && free(kept)) return req.current;
  const size = req.prefixLength === undefined ? 1 : 2 ** (32 - req.prefixLength);
  const aligned = (n: number) => Math.ceil(n / size) * size;
  // The lowest aligned block that no taken block overlaps: walking the taken blocks in address
  // order, a candidate that overlaps one moves past its end (every candidate in between overlaps it
  // too), so a subnet with thousands of addresses taken is searched once, not once per candidate.
  let first = aligned(usable.first);
  for (const t of taken.map((t) => t.block).sort((a, b) => a.first - b.first)) {
    if (t.first >= first + size) break;
    if (t.first + t.size > first) first = aligned(t.first + t.size);
  }
  if (first + size <= usable.first + usable.size) return size === 1 ? toText(first) : `${toText(first)}/${req.prefixLength}`;
  return fail(400, "SubnetIsFull", `Subnet ${subnet.id} does not have enough capacity for ${size} IP addresses.`);
}

const toBig = (a: ipaddr.IPv6): bigint => a.toByteArray().reduce((n, b) => n * 256n + BigInt(b), 0n);
const fromBig = (n: bigint): string => {
  const bytes = Array.from({ length: 16 }, (_, i) => Number((n >> BigInt(8 * (15 - i))) & 255n));
  return ipaddr.fromByteArray(bytes).toString();
};

/** An IPv6 configuration's address: from the subnet's IPv6 prefix (a dual-stack subnet has one of each family). */
function assignIpv6(store: Store, subnet: SubnetRef, req: PrivateIpRequest): string {
  const prefix = subnetPrefixes(subnet).find((p) => ipaddr.IPv6.isValidCIDR(p));
  if (prefix === undefined) return invalidRequest(`IP configuration ${req.configId} is IPv6, but subnet ${subnet.id} has no IPv6 address prefix.`);
  const [network, bits] = ipaddr.IPv6.parseCIDR(prefix);
  const taken = new Set([
    ...ipConfigsInSubnet(store, subnet.id)
      .filter((c) => c.owner.id.toLowerCase() !== req.ownerId.toLowerCase() && c.props.privateIPAddress !== undefined)
      .map((c) => c.props.privateIPAddress!),
    ...req.pending,
  ].flatMap((a) => (ipaddr.IPv6.isValid(a) ? [ipaddr.IPv6.parse(a).toString()] : [])));
  if (req.method === "Static") {
    const wanted = req.requested !== undefined && ipaddr.IPv6.isValid(req.requested) ? ipaddr.IPv6.parse(req.requested) : undefined;
    if (!wanted) return invalidRequest(`IP configuration ${req.configId} has a Static allocation method but no valid privateIPAddress.`);
    if (!wanted.match(network, bits)) fail(400, "PrivateIPAddressNotInSubnet", `Private static IP address ${req.requested} does not belong to the range of subnet prefix ${prefix}.`);
    if (taken.has(wanted.toString())) fail(400, "PrivateIPAddressInUse", `IP configuration ${req.configId} is using the private IP address ${req.requested} which is already allocated.`);
    return wanted.toString();
  }
  if (req.current !== undefined && ipaddr.IPv6.isValid(req.current) && ipaddr.IPv6.parse(req.current).match(network, bits) && !taken.has(ipaddr.IPv6.parse(req.current).toString())) return req.current;
  const first = toBig(network);
  for (let n = 4n; n < 65536n; n++) {
    const candidate = fromBig(first + n);
    if (!taken.has(candidate)) return candidate;
  }
  return fail(400, "SubnetIsFull", `Subnet ${subnet.id} does not have enough capacity for 1 IP address.`);
}

const PUBLIC_POOL = toInt("20.61.0.0");

/** The next public address no public IP or hub firewall holds, nor any in `pending`. */
export function assignPublicIp(store: Store, pending: string[] = []): string {
  const taken = new Set<string>(pending);
  for (const pip of store.list<PublicIpProps>(TYPES.publicIp)) if (pip.properties.ipAddress) taken.add(pip.properties.ipAddress);
  for (const fw of store.list<FirewallProps>(TYPES.firewall)) {
    const hub = fw.properties.hubIPAddresses as { publicIPs?: { addresses?: { address?: string }[] } } | undefined;
    for (const a of hub?.publicIPs?.addresses ?? []) if (a.address) taken.add(a.address);
  }
  for (let n = PUBLIC_POOL + 4; ; n++) {
    const candidate = toText(n);
    if (n % 256 !== 0 && n % 256 !== 255 && !taken.has(candidate)) return candidate;
  }
}
