import fc from "fast-check";
import type { Protocol } from "../../model/protocol";
import { RFC1918 } from "../nsg/addresses";
import type { Nsg, NsgProtocol, NsgRule } from "../nsg/types";
import type { PortSpec } from "../types";

/**
 * Random NSGs for the property tests: user rules over a small universe of prefixes, tags, ports and
 * priorities, chosen so that every combination of memberships has a representative address below.
 */

export const VM1 = { name: "vm1", addresses: ["10.1.2.4"] };
export const VM2 = { name: "vm2", addresses: ["10.1.2.5", "10.1.3.5"] };
export const VIRTUAL_NETWORK = [...RFC1918, ...VM1.addresses, ...VM2.addresses];

const SOURCES = ["*", "Internet", "VirtualNetwork", "AzureLoadBalancer", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.9", "8.8.8.0/24", "8.8.8.8", "1.2.3.4", "203.0.113.0/24", "0.0.0.0/0", "192.168.0.0/16", "100.64.0.0/10"];
const SOURCE_CIDRS = SOURCES.filter((s) => /\d/.test(s));
const DESTINATIONS = ["*", "VirtualNetwork", "10.1.2.4", "10.1.2.5", "10.1.3.5", "10.1.2.0/24", "10.0.0.0/8", "Internet", "10.9.9.9"];
const DESTINATION_CIDRS = DESTINATIONS.filter((s) => /\d/.test(s));
const PORT_EXPRESSIONS = ["22", "3389", "20-25", "1000-4000", "80", "5985-5986", "53", "0-65535"];

/** Addresses that between them fall in every region the universe above can tell apart. */
export const SOURCE_SAMPLES = [
  "10.1.2.9", "10.1.2.77", "10.1.7.1", "10.2.0.1", "8.8.8.8", "8.8.8.9", "8.8.4.4", "1.2.3.4", "203.0.113.5", "198.51.100.7",
  "168.63.129.16", "192.168.1.1", "172.16.0.1", "100.64.0.7", "2001:4860::1",
];
/** The policy's ports, and one that shares ranges with 22 without being selected. */
export const PORT_SAMPLES = [22, 3389, 53, 5985, 21];

export const POLICY_PORTS: PortSpec[] = [
  { number: 22, protocol: "TCP" },
  { number: 3389, protocol: "TCP" },
  { number: 53, protocol: "UDP" },
  { number: 5985, protocol: "*" },
];

/** The flows a policy protocol stands for. */
export function flowProtocols(protocol: Protocol): NsgProtocol[] {
  return protocol === "TCP" ? ["Tcp"] : protocol === "UDP" ? ["Udp"] : ["Tcp", "Udp", "Icmp"];
}

function side(terms: string[], cidrs: string[]) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...terms).map((t) => ({ single: t })) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...cidrs), { minLength: 1, maxLength: 3 }).map((list) => ({ plural: list })) },
  );
}

const ruleBody = fc.record({
  direction: fc.constantFrom<NsgRule["direction"]>("Inbound", "Inbound", "Inbound", "Outbound"),
  access: fc.constantFrom<NsgRule["access"]>("Allow", "Deny"),
  protocol: fc.constantFrom<NsgProtocol>("Tcp", "Udp", "*", "Icmp"),
  source: side(SOURCES, SOURCE_CIDRS),
  destination: side(DESTINATIONS, DESTINATION_CIDRS),
  ports: fc.oneof(
    fc.constantFrom("*", ...PORT_EXPRESSIONS).map((p) => ({ single: p })),
    fc.uniqueArray(fc.constantFrom(...PORT_EXPRESSIONS), { minLength: 1, maxLength: 3 }).map((list) => ({ plural: list })),
  ),
});

export const priorityArb = fc.oneof(fc.integer({ min: 100, max: 4096 }), fc.integer({ min: 100, max: 106 }), fc.integer({ min: 996, max: 1003 }), fc.integer({ min: 4090, max: 4096 }));

export function userRuleArb(name: string, priority: number) {
  return ruleBody.map(
    (b): NsgRule => ({
      name,
      priority,
      direction: b.direction,
      access: b.access,
      protocol: b.protocol,
      sourcePortRange: "*",
      ...("single" in b.source ? { sourceAddressPrefix: b.source.single } : { sourceAddressPrefixes: b.source.plural }),
      ...("single" in b.destination ? { destinationAddressPrefix: b.destination.single } : { destinationAddressPrefixes: b.destination.plural }),
      ...("single" in b.ports ? { destinationPortRange: b.ports.single } : { destinationPortRanges: b.ports.plural }),
    }),
  );
}

export function nsgArb(id: string, maxRules = 12): fc.Arbitrary<Nsg> {
  return fc
    .uniqueArray(priorityArb, { maxLength: maxRules })
    .chain((priorities) => fc.tuple(...priorities.map((p, i) => userRuleArb(`${id}-user-${i}`, p))))
    .map((securityRules) => ({ id, securityRules }));
}

/** A subnet NSG in front of both VMs and a NIC NSG in front of vm1, either possibly absent. */
export const topologyArb = fc.record({
  subnet: fc.option(nsgArb("subnet"), { freq: 5 }),
  nic: fc.option(nsgArb("nic"), { freq: 5 }),
  vm1Ports: fc.subarray(POLICY_PORTS, { minLength: 1 }),
  vm2Ports: fc.subarray(POLICY_PORTS, { minLength: 1 }),
});

export const GRANT_SOURCES = ["8.8.8.8", "1.2.3.4", "203.0.113.0/24", "10.1.0.0/16", "*", "198.51.100.7", "8.8.8.0/24"];
