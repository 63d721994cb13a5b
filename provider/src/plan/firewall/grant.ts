import { JitError } from "../../model/errors";
import { formatPrefix, parsePrefix } from "../../model/address";
import type { Protocol } from "../../model/protocol";
import { addressContext, defaultVirtualNetwork } from "../nsg/addresses";
import { flowSet } from "../nsg/match";
import { allowRuleDescription, allowRuleName, parseJitRule } from "../nsg/names";
import { decideTranslated } from "./evaluator";
import { compileNetwork, dnatPortsInUse, flowProtocols, fwProtocols } from "./match";
import { allowCollectionName, dnatCollectionName, parseJitCollection } from "./names";
import { CollectionSlots, chooseMappedPort } from "./priorities";
import { sameFwRule } from "./rule-shape";
import { noFirewallChange, type Firewall, type FirewallChange, type FwCollection, type FwNatRule, type FwNetworkRule, type FwRuleRef, type NatCollection } from "./types";
import type { PortRange } from "../port-ranges";
import type { GrantPort } from "../types";

export interface FirewallGrantVm {
  name: string;
  /** The private address the DNAT rules forward to (the VM's first address in the firewall's network). */
  address: string;
  ports: readonly GrantPort[];
}

export interface FirewallGrantInput {
  grantId: string;
  policy: string;
  firewall: Firewall;
  /** The firewall's public address the DNAT rules listen on. */
  publicAddress: string;
  /** How many public addresses the firewall has: each counts against its DNAT limit (default 1). */
  publicAddresses?: number;
  vms: readonly FirewallGrantVm[];
  /** The prefixes `VirtualNetwork` stands for; RFC 1918 plus the VM's address when absent. */
  virtualNetwork?: readonly string[];
}

/** One port of the grant through the firewall: its DNAT rule, and the allow rule its traffic needs past a deny. */
export interface FirewallGrantRule {
  vm: string;
  port: number;
  protocol: Protocol;
  /** The port on the public address that reaches `port` on the VM. */
  mappedPort: number;
  dnatCollection: string;
  dnat: FwNatRule;
  allow?: { collection: string; rule: FwNetworkRule };
}

export interface FirewallGrantPlan {
  /** Every port of the grant once `change` is applied: record these before applying it. */
  rules: FirewallGrantRule[];
  change: FirewallChange;
  /** Other people's deny collections the grant's allow collection now comes ahead of, for the audit log. */
  overrides: FwRuleRef[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The single port a DNAT rule of ours listens on at `address`, if it still does. */
function mappedPortOf(rule: FwNatRule | undefined, address: string): number | undefined {
  const ports = rule?.destinationPorts ?? [];
  const addresses = rule?.destinationAddresses ?? [];
  return addresses.length === 1 && same(addresses[0], address) && ports.length === 1 && /^\d+$/.test(ports[0]) ? Number(ports[0]) : undefined;
}

function collection<A extends string, R extends { name: string }>(name: string, priority: number, action: A, rules: R[]): FwCollection<A, R> {
  return { name, priority, action, rules };
}

function sameRules<R extends FwNatRule | FwNetworkRule>(a: FwCollection<string, R> | undefined, b: FwCollection<string, R>): boolean {
  return a !== undefined && a.priority === b.priority && a.rules.length === b.rules.length && a.rules.every((r, i) => sameFwRule(r, b.rules[i]));
}

/**
 * A grant through a classic firewall, in one collection of each kind that belongs to the grant
 * alone (so ending it, or ending an overlapping grant, leaves the other's rules in place):
 *
 * - DNAT: per VM and port, a rule from the grant's source to the firewall's public address on a
 *   mapped port (see `chooseMappedPort`), translated to the VM's private address and the port;
 * - Allow (network): per VM and port whose translated traffic the firewall's network rules would
 *   otherwise deny (judged without any grant's allow rules, as for NSGs), a rule admitting exactly
 *   that traffic, in a collection ahead of the first collection that would deny it. Without a deny
 *   in the way the DNAT rule's implicit allow suffices and nothing is added.
 *
 * Re-planning a grant that is (partly) in place keeps its mapped ports and its collections'
 * numbers while they still work, and changes nothing when nothing is missing; rules somebody else
 * put in the grant's collections stay.
 */
export function planFirewallGrant(input: FirewallGrantInput): FirewallGrantPlan {
  const { grantId, policy, firewall, publicAddress } = input;
  const dnatName = dnatCollectionName(grantId);
  const allowName = allowCollectionName(grantId);
  const existingDnat = firewall.natRuleCollections.find((c) => same(c.name, dnatName));
  const existingAllow = firewall.networkRuleCollections.find((c) => same(c.name, allowName));
  const isOurs = (rule: { name: string; description?: string }) => {
    const info = parseJitRule(rule);
    return info?.kind === "allow" && info.grantId === grantId;
  };
  const used: PortRange[] = dnatPortsInUse(firewall, publicAddress, addressContext(defaultVirtualNetwork([])), (c, r) => c === existingDnat && isOurs(r));
  const judged = compileNetwork(firewall, (name) => parseJitCollection(name)?.kind !== "allow");
  const rules: FirewallGrantRule[] = [];
  const nat: FwNatRule[] = [];
  const allow: FwNetworkRule[] = [];
  const overrides = new Map<string, FwRuleRef>();
  let firstBlocker: FwRuleRef | undefined;

  for (const vm of [...input.vms].sort((a, b) => a.name.localeCompare(b.name))) {
    const ctx = addressContext(input.virtualNetwork ?? defaultVirtualNetwork([vm.address]));
    for (const port of [...vm.ports].sort((a, b) => a.number - b.number || a.protocol.localeCompare(b.protocol))) {
      const name = allowRuleName(grantId, vm.name, port.number, port.protocol);
      const description = allowRuleDescription(grantId, policy, vm.name, port.expiresAt);
      const source = formatPrefix(parsePrefix(port.source, "source"));
      const kept = mappedPortOf(existingDnat?.rules.find((r) => same(r.name, name) && isOurs(r)), publicAddress);
      const mappedPort =
        kept !== undefined && !used.some((r) => r.from <= kept && kept <= r.to) ? kept : chooseMappedPort(port.number, used, `${publicAddress} of Azure Firewall ${firewall.id}`);
      used.push({ from: mappedPort, to: mappedPort });
      const dnat: FwNatRule = {
        name,
        description,
        protocols: fwProtocols(port.protocol),
        sourceAddresses: [source],
        destinationAddresses: [publicAddress],
        destinationPorts: [String(mappedPort)],
        translatedAddress: vm.address,
        translatedPort: String(port.number),
      };
      nat.push(dnat);
      const planned: FirewallGrantRule = { vm: vm.name, port: port.number, protocol: port.protocol, mappedPort, dnatCollection: dnatName, dnat };
      rules.push(planned);

      const blockers = flowProtocols(port.protocol)
        .map((p) => decideTranslated(judged, flowSet(source, vm.address, port.number, p), ctx))
        .flatMap((d) => (!d.allowed && d.by ? [d.by] : []));
      const present = existingAllow?.rules.find((r) => same(r.name, name) && isOurs(r));
      if (blockers.length === 0) {
        // Not needed now, but an allow rule already there is the grant's: it stays, and is recorded.
        if (present) {
          allow.push(present);
          planned.allow = { collection: allowName, rule: present };
        }
        continue;
      }
      for (const b of blockers) {
        if (firstBlocker === undefined || b.priority < firstBlocker.priority) firstBlocker = b;
        if (parseJitCollection(b.collection) === undefined) overrides.set(`${b.collection}/${b.rule}`, b);
      }
      const rule: FwNetworkRule = {
        name,
        description,
        protocols: fwProtocols(port.protocol),
        sourceAddresses: [source],
        destinationAddresses: [vm.address],
        destinationPorts: [String(port.number)],
      };
      allow.push(rule);
      planned.allow = { collection: allowName, rule };
    }
  }

  const change = noFirewallChange(firewall.id);
  // Somebody else's rules in the grant's collections stay, unless they took a name the grant needs.
  const foreign = <R extends { name: string; description?: string }>(rules: readonly R[] | undefined, ours: readonly R[]) =>
    (rules ?? []).filter((r) => !isOurs(r) && !ours.some((o) => same(o.name, r.name)));
  const natSlots = new CollectionSlots(firewall.id, "NAT", firewall.natRuleCollections);
  const dnatCollection = collection(existingDnat?.name ?? dnatName, natSlots.forCollection(existingDnat, () => true, () => natSlots.forDnat()), "Dnat" as const, [
    ...foreign(existingDnat?.rules, nat),
    ...nat,
  ]);
  if (nat.length > 0 && !sameRules(existingDnat, dnatCollection)) change.nat.put.push(dnatCollection);

  if (allow.length > 0) {
    const slots = new CollectionSlots(firewall.id, "network", firewall.networkRuleCollections);
    const blocker = firstBlocker;
    // Without a blocker every allow rule is one kept from the existing collection, whose number then fits.
    const priority = slots.forCollection(existingAllow, (p) => blocker === undefined || p < blocker.priority, () => slots.forAllow(blocker as FwRuleRef));
    const allowCollection = collection(existingAllow?.name ?? allowName, priority, "Allow" as const, [...foreign(existingAllow?.rules, allow), ...allow]);
    if (!sameRules(existingAllow, allowCollection)) change.network.put.push(allowCollection);
  }
  checkDnatCapacity(input, change.nat.put);
  return { rules, change, overrides: [...overrides.values()] };
}

/**
 * Azure Firewall forwards at most 250 external destinations: its public addresses plus the unique
 * (destination address, port, protocol) of its DNAT rules, TCP and UDP counted apart (firewall
 * limits). A grant that would pass that is refused up front, since what ARM answers then is not
 * documented.
 */
export const MAX_DNAT_DESTINATIONS = 250;

function checkDnatCapacity(input: FirewallGrantInput, put: readonly NatCollection[]): void {
  const replaced = new Set(put.map((c) => c.name.toLowerCase()));
  const collections = [...input.firewall.natRuleCollections.filter((c) => !replaced.has(c.name.toLowerCase())), ...put];
  const destinations = new Set(
    collections.flatMap((c) => c.rules.flatMap((r) => r.protocols.flatMap((p) => (r.destinationAddresses ?? []).flatMap((a) => (r.destinationPorts ?? []).map((port) => `${a}|${port}|${p.toUpperCase()}`))))),
  );
  const total = (input.publicAddresses ?? 1) + destinations.size;
  if (total > MAX_DNAT_DESTINATIONS) {
    throw new JitError(
      "CapacityExceeded",
      `Azure Firewall ${input.firewall.id} would forward ${total} external destinations (public addresses plus unique address, port and protocol of its DNAT rules), and Azure allows ${MAX_DNAT_DESTINATIONS}; nothing was changed. Wait for other grants through it to end, or ask for fewer ports (a port for TCP and UDP counts twice).`,
    );
  }
}
