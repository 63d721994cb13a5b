import { formatPrefix, isPrefix, isPublicAddress, parsePrefix, prefixContains, prefixesOverlap, type Prefix } from "../../model/address";
import { JitError } from "../../model/errors";
import { memoized } from "../memo";

/**
 * The address side of NSG rules: `*`, IPs and CIDRs, and service tags. `VirtualNetwork` stands for
 * the prefixes the caller says make up the VNet (by default RFC 1918 plus the VM's own addresses),
 * `AzureLoadBalancer` for the platform's health-probe address, `Internet` for public addresses.
 * An application security group (`asg`) holds network interfaces of one virtual network: when the
 * caller says which of the VM's addresses are in which groups, a group is exact for those
 * addresses, and any other address it may hold lies inside `VirtualNetwork`. Anything planning
 * cannot resolve (regional service tags, groups whose membership is not given) is `opaque`: it may
 * match anything and is known to cover nothing.
 *
 * Sets are compared two ways. `covers` errs towards "no" and `touches` towards "yes", so a planner
 * that asks "does this allow cover my flow?" and "could this deny hit my flow?" never assumes access
 * it does not have. For a single address and known terms the two answers agree and are exact.
 */
export type AddressTerm =
  | { kind: "any" }
  | CidrTerm
  | { kind: "internet" }
  | { kind: "virtualNetwork" }
  | { kind: "loadBalancer" }
  | { kind: "asg"; id: string }
  | { kind: "opaque"; text: string };

/** A prefix, and whether it is a single public address (worked out once: it is asked constantly). */
export interface CidrTerm {
  kind: "cidr";
  prefix: Prefix;
  publicHost: boolean;
}

function isHost(p: Prefix): boolean {
  return p.kind === "cidr" && p.bits === (p.family === 4 ? 32 : 128);
}

function cidrTerm(prefix: Prefix): CidrTerm {
  return { kind: "cidr", prefix, publicHost: isHost(prefix) && isPublicAddress(formatPrefix(prefix)) };
}

/** The address Azure's load balancer probes come from (the `AzureLoadBalancer` tag). */
export const AZURE_LOAD_BALANCER_ADDRESS = "168.63.129.16";
const LOAD_BALANCER = cidrTerm(parsePrefix(AZURE_LOAD_BALANCER_ADDRESS));

export const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** What `VirtualNetwork` means when the caller knows no better: RFC 1918 and the VM's own addresses. */
export function defaultVirtualNetwork(vmAddresses: readonly string[]): string[] {
  return [...RFC1918, ...vmAddresses];
}

/** The prefixes `VirtualNetwork` stands for, parsed once per evaluation. */
export interface AddressContext {
  virtualNetwork: readonly CidrTerm[];
  /** When known: the VM's addresses, and which of them each application security group (by lower-cased id) holds. */
  groups?: { addresses: ReadonlySet<string>; members: ReadonlyMap<string, ReadonlySet<string>> };
}

/** Application security group ids and the VM addresses (IP configurations) in each, as a NIC says. */
export type GroupMembership = Readonly<Record<string, readonly string[]>>;

/**
 * `groups`: the VMs' addresses and their groups, when the caller read them from the VMs' network
 * interfaces (`vmAddresses` lists every address of those VMs, in a group or not).
 */
export function addressContext(virtualNetwork: readonly string[], groups?: { vmAddresses: readonly string[]; membership: GroupMembership }): AddressContext {
  return {
    virtualNetwork: virtualNetwork.map((p) => {
      const term = addressTerm(p);
      if (term.kind !== "cidr") throw new JitError("InvalidInput", `"${p}" is not an IP address or a CIDR block`, { field: "virtualNetwork" });
      return term;
    }),
    ...(groups === undefined
      ? {}
      : {
          groups: {
            addresses: new Set(groups.vmAddresses.map(hostKey)),
            members: new Map(Object.entries(groups.membership).map(([id, addresses]) => [id.toLowerCase(), new Set(addresses.map(hostKey))])),
          },
        }),
  };
}

/**
 * The group membership of some VMs' addresses, for `addressContext`: undefined unless every one of
 * them says which groups it is in (an empty record when in none), since an address whose groups are
 * unknown could be in any.
 */
export function groupsOf(items: readonly { addresses: readonly string[]; applicationSecurityGroups?: GroupMembership }[]): { vmAddresses: string[]; membership: GroupMembership } | undefined {
  if (items.length === 0 || items.some((i) => i.applicationSecurityGroups === undefined)) return undefined;
  const membership: Record<string, string[]> = {};
  for (const item of items) {
    for (const [id, addresses] of Object.entries(item.applicationSecurityGroups ?? {})) (membership[id.toLowerCase()] ??= []).push(...addresses);
  }
  return { vmAddresses: items.flatMap((i) => i.addresses), membership };
}

const hostKey = (address: string): string => formatPrefix(parsePrefix(address));

/** An application security group named by a rule. */
export function groupTerm(id: string | undefined): AddressTerm {
  return id === undefined || id === "" ? { kind: "opaque", text: "application security group" } : { kind: "asg", id: id.toLowerCase() };
}

/** Is `t` one of the VM's own addresses, whose groups the context knows? */
function knownHost(t: AddressTerm, ctx: AddressContext): t is CidrTerm {
  return t.kind === "cidr" && isHost(t.prefix) && ctx.groups !== undefined && ctx.groups.addresses.has(formatPrefix(t.prefix));
}

function inGroup(group: { id: string }, host: CidrTerm, ctx: AddressContext): boolean {
  return ctx.groups?.members.get(group.id)?.has(formatPrefix(host.prefix)) ?? false;
}

const VIRTUAL_NETWORK: AddressTerm = { kind: "virtualNetwork" };

const TAGS: Record<string, AddressTerm> = {
  "*": { kind: "any" },
  any: { kind: "any" },
  internet: { kind: "internet" },
  virtualnetwork: { kind: "virtualNetwork" },
  virtual_network: { kind: "virtualNetwork" },
  azureloadbalancer: { kind: "loadBalancer" },
  azure_loadbalancer: { kind: "loadBalancer" },
};

function parseTerm(text: string): AddressTerm {
  const tag = TAGS[text.trim().toLowerCase()];
  if (tag) return tag;
  return isPrefix(text) ? cidrTerm(parsePrefix(text)) : { kind: "opaque", text };
}

export const addressTerm = memoized(parseTerm);

/** Tags that stand for a list of prefixes. */
type ListTag = Extract<AddressTerm, { kind: "virtualNetwork" } | { kind: "loadBalancer" }>;
type Resolved = Exclude<AddressTerm, ListTag | { kind: "asg" }>;
const LOAD_BALANCER_SET: readonly Resolved[] = [LOAD_BALANCER];

function isListTag(t: AddressTerm): t is ListTag {
  return t.kind === "virtualNetwork" || t.kind === "loadBalancer";
}

function expand(t: ListTag, ctx: AddressContext): readonly Resolved[] {
  return t.kind === "virtualNetwork" ? ctx.virtualNetwork : LOAD_BALANCER_SET;
}

function covers(a: Resolved, b: Resolved): boolean {
  if (a.kind === "any") return true;
  if (b.kind === "any") return false;
  if (a.kind === "opaque" || b.kind === "opaque") return a.kind === "opaque" && b.kind === "opaque" && a.text === b.text;
  if (a.kind === "internet") return b.kind === "internet" || b.publicHost;
  return b.kind === "cidr" && prefixContains(a.prefix, b.prefix);
}

function touches(a: Resolved, b: Resolved): boolean {
  if (a.kind === "any" || b.kind === "any" || a.kind === "opaque" || b.kind === "opaque") return true;
  if (a.kind === "cidr" && b.kind === "cidr") return prefixesOverlap(a.prefix, b.prefix);
  const other = a.kind === "cidr" ? a : b.kind === "cidr" ? b : undefined;
  return other === undefined || !isHost(other.prefix) || other.publicHost;
}

/**
 * A long list of terms (a shared deny rule lists up to a thousand VMs' addresses) split into its
 * single addresses, as a set, and the rest: a host term covers or touches another host exactly when
 * it is the same address, so asking about one address is a set lookup plus a scan of the few other
 * terms, not a scan of the whole list for every VM of the plan. Worked out once per list.
 */
interface IndexedTerms {
  hosts: ReadonlySet<string>;
  others: readonly AddressTerm[];
}

const INDEXED_FROM = 16;
const indexes = new WeakMap<readonly AddressTerm[], IndexedTerms>();

/** The list's index when it is long enough to be worth one and `b` is a single address; undefined otherwise. */
function indexFor(terms: readonly AddressTerm[], b: AddressTerm): IndexedTerms | undefined {
  if (terms.length < INDEXED_FROM || b.kind !== "cidr" || !isHost(b.prefix)) return undefined;
  let index = indexes.get(terms);
  if (!index) {
    const hosts = new Set<string>();
    const others: AddressTerm[] = [];
    for (const t of terms) {
      if (t.kind === "cidr" && isHost(t.prefix)) hosts.add(formatPrefix(t.prefix));
      else others.push(t);
    }
    indexes.set(terms, (index = { hosts, others }));
  }
  return index;
}

// Written without intermediate arrays: these run for every rule of every flow evaluated.
function coveredBy(outer: readonly AddressTerm[], b: AddressTerm, ctx: AddressContext): boolean {
  // `*` covers every prefix a tag stands for; said first, since `VirtualNetwork` may stand for
  // every VM's address (see defaultVirtualNetwork).
  if (isListTag(b)) return outer.some((o) => o.kind === "any") || expand(b, ctx).every((p) => coveredBy(outer, p, ctx));
  // A group is covered by itself, and (its members being in the virtual network) by whatever covers that.
  if (b.kind === "asg") return outer.some((o) => o.kind === "asg" && o.id === b.id) || (ctx.groups !== undefined && coveredBy(outer, VIRTUAL_NETWORK, ctx));
  const index = indexFor(outer, b);
  if (index) return index.hosts.has(formatPrefix((b as CidrTerm).prefix)) || coveredBy(index.others, b, ctx);
  return outer.some((o) => {
    if (o.kind === "asg") return knownHost(b, ctx) && inGroup(o, b, ctx);
    return isListTag(o) ? expand(o, ctx).some((a) => covers(a, b)) : covers(o, b as Resolved);
  });
}

function touchesTerm(x: AddressTerm, y: AddressTerm, ctx: AddressContext): boolean {
  if (y.kind === "asg" && x.kind !== "asg") return touchesTerm(y, x, ctx);
  if (x.kind === "asg") {
    // Without membership a group may be anywhere; two groups may share members.
    if (ctx.groups === undefined || y.kind === "asg") return true;
    return knownHost(y, ctx) ? inGroup(x, y, ctx) : touchesTerm(VIRTUAL_NETWORK, y, ctx);
  }
  if (isListTag(x)) return expand(x, ctx).some((r) => touchesTerm(r, y, ctx));
  if (isListTag(y)) return expand(y, ctx).some((r) => touches(x, r as Resolved));
  return touches(x, y as Resolved);
}

/** Is every address of `inner` inside `outer`? (Answers "no" when unsure.) */
export function termsCover(outer: readonly AddressTerm[], inner: readonly AddressTerm[], ctx: AddressContext): boolean {
  return inner.every((b) => coveredBy(outer, b, ctx));
}

/** Could `a` and `b` share an address? (Answers "yes" when unsure.) */
export function termsTouch(a: readonly AddressTerm[], b: readonly AddressTerm[], ctx: AddressContext): boolean {
  return b.some((y) => {
    const index = indexFor(a, y);
    if (index) return index.hosts.has(formatPrefix((y as CidrTerm).prefix)) || index.others.some((x) => touchesTerm(x, y, ctx));
    return a.some((x) => touchesTerm(x, y, ctx));
  });
}
