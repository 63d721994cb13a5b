import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateInbound, evaluateNsg, inboundEvaluator, whoCanReach, type Flow } from "./evaluator";
import { nsg, userRule } from "../testing/nsg-fixtures";

const VM = "10.1.2.4";
const ssh = (source: string, fields: Partial<Flow> = {}): Flow => ({ source, destination: VM, port: 22, protocol: "Tcp", ...fields });

test("without NSGs everything passes; the default rules decide when nothing else does", () => {
  assert.deepEqual(evaluateInbound({}, ssh("8.8.8.8")), { allowed: true, subnet: { allowed: true }, nic: { allowed: true } });
  const empty = nsg("nsg-a");
  assert.deepEqual(evaluateNsg(empty, ssh("8.8.8.8")).rule, { nsgId: "nsg-a", name: "DenyAllInBound", priority: 65500, access: "Deny" });
  assert.equal(evaluateNsg(empty, ssh("10.9.9.9")).rule?.name, "AllowVnetInBound");
  assert.equal(evaluateNsg(empty, ssh("168.63.129.16")).rule?.name, "AllowAzureLoadBalancerInBound");
  assert.equal(evaluateNsg(empty, ssh("172.16.0.1", { destination: "8.8.4.4" }), { virtualNetwork: ["10.0.0.0/8"] }).allowed, false, "VirtualNetwork → VirtualNetwork only");
});

test("the subnet NSG and the NIC NSG must both allow; each level names its deciding rule", () => {
  const subnet = nsg("subnet", [userRule("ssh-in", 200, { sourceAddressPrefix: "Internet" })]);
  const nic = nsg("nic", [userRule("no-ssh", 300, { access: "Deny" })]);
  const d = evaluateInbound({ subnet, nic }, ssh("8.8.8.8"));
  assert.equal(d.allowed, false);
  assert.deepEqual(d.subnet, { allowed: true, rule: { nsgId: "subnet", name: "ssh-in", priority: 200, access: "Allow" } });
  assert.deepEqual(d.nic, { allowed: false, rule: { nsgId: "nic", name: "no-ssh", priority: 300, access: "Deny" } });
  assert.equal(evaluateInbound({ nic: subnet }, ssh("8.8.8.8")).allowed, true, "an absent subnet NSG allows");
});

test("the lowest priority number that matches wins", () => {
  const n = nsg("n", [userRule("allow", 200), userRule("deny", 100, { access: "Deny", sourceAddressPrefix: "8.8.8.0/24" })]);
  assert.equal(evaluateNsg(n, ssh("8.8.8.8")).rule?.name, "deny");
  assert.equal(evaluateNsg(n, ssh("8.8.4.4")).rule?.name, "allow");
});

test("ports: *, single, ranges and plural lists; protocols must match", () => {
  const n = nsg("n", [
    userRule("range", 100, { destinationPortRange: "20-25" }),
    userRule("list", 110, { destinationPortRange: undefined, destinationPortRanges: ["80", "8000-8080"] }),
    userRule("udp-any", 120, { protocol: "Udp", destinationPortRange: "*" }),
    userRule("all-3389", 130, { protocol: "*", destinationPortRange: "3389" }),
  ]);
  const rule = (port: number, protocol: Flow["protocol"]) => evaluateNsg(n, ssh("8.8.8.8", { port, protocol })).rule?.name;
  assert.equal(rule(20, "Tcp"), "range");
  assert.equal(rule(25, "Tcp"), "range");
  assert.equal(rule(26, "Tcp"), "DenyAllInBound");
  assert.equal(rule(8080, "Tcp"), "list");
  assert.equal(rule(22, "Udp"), "udp-any");
  assert.equal(rule(3389, "Udp"), "udp-any");
  assert.equal(rule(3389, "Icmp"), "all-3389");
  assert.equal(rule(3389, "Tcp"), "all-3389");
});

test("service tags: Internet is public addresses, VirtualNetwork is what the caller says, tags are case-insensitive", () => {
  const n = nsg("n", [userRule("internet", 100, { sourceAddressPrefix: "internet" }), userRule("vnet", 110, { sourceAddressPrefix: "VirtualNetwork", access: "Deny" })]);
  assert.equal(evaluateNsg(n, ssh("8.8.8.8")).rule?.name, "internet");
  assert.equal(evaluateNsg(n, ssh("10.9.9.9")).rule?.name, "vnet");
  assert.equal(evaluateNsg(n, ssh("203.0.113.9")).rule?.name, "internet", "documentation ranges stand in for public ones");
  assert.equal(evaluateNsg(n, ssh("100.64.0.7")).rule?.name, "DenyAllInBound", "carrier-grade NAT is neither Internet nor, by default, VirtualNetwork");
  assert.equal(evaluateNsg(n, ssh("100.64.0.7"), { virtualNetwork: ["100.64.0.0/10", VM] }).rule?.name, "vnet");
  assert.equal(evaluateNsg(n, ssh("10.9.9.9"), { virtualNetwork: [VM] }).rule?.name, "DenyAllInBound");
});

test("a prefix source is allowed only when all of it is; unresolvable sources never grant access", () => {
  const n = nsg("n", [userRule("one-host", 100, { sourceAddressPrefix: "8.8.8.8" }), userRule("asg", 110, { sourceAddressPrefix: undefined, sourceApplicationSecurityGroups: [{ id: "asg-1" }] })]);
  assert.deepEqual(evaluateNsg(n, ssh("8.8.8.0/24")), { allowed: false, rule: { nsgId: "n", name: "DenyAllInBound", priority: 65500, access: "Deny" } });
  assert.equal(evaluateNsg(n, ssh("8.8.8.8")).allowed, true);
  const wide = nsg("w", [userRule("wide", 100, { sourceAddressPrefixes: ["8.8.0.0/16", "1.2.3.4"], sourceAddressPrefix: undefined })]);
  assert.equal(evaluateNsg(wide, ssh("8.8.8.0/24")).allowed, true);
  const denyAsg = nsg("d", [userRule("asg-deny", 100, { access: "Deny", sourceAddressPrefix: undefined, sourceApplicationSecurityGroups: [{ id: "asg-1" }] }), userRule("all", 200)]);
  assert.equal(evaluateNsg(denyAsg, ssh("8.8.8.8")).rule?.name, "asg-deny", "a deny we cannot resolve is taken to match");
  assert.equal(evaluateNsg(nsg("p", [userRule("from-1024", 100, { sourcePortRange: "1024-65535" })]), ssh("8.8.8.8")).allowed, false);
  assert.equal(evaluateNsg(nsg("p", [userRule("from-1024", 100, { sourcePortRange: "1024-65535" })]), ssh("8.8.8.8", { sourcePort: 50000 })).allowed, true);
});

test("an evaluator reads the path once and decides many flows", () => {
  const decide = inboundEvaluator({ nic: nsg("n", [userRule("ssh", 100, { sourceAddressPrefix: "8.8.8.0/24" })]) });
  assert.deepEqual(
    ["8.8.8.1", "8.8.4.4"].map((s) => decide(ssh(s)).allowed),
    [true, false],
  );
});

test("whoCanReach lists the allow rules that open a port, with their sources and the denies that cut into them", () => {
  const n = nsg("n", [
    userRule("deny-bad", 100, { access: "Deny", sourceAddressPrefix: "8.8.8.0/24" }),
    userRule("ssh-internet", 200, { sourceAddressPrefix: "Internet" }),
    userRule("ssh-office", 210, { sourceAddressPrefix: "8.8.8.0/25" }),
    userRule("other-port", 220, { destinationPortRange: "80" }),
    userRule("deny-all-ssh", 300, { access: "Deny" }),
    userRule("hidden", 310, { sourceAddressPrefixes: ["1.2.3.4", "5.6.7.8"], sourceAddressPrefix: undefined }),
  ]);
  const reaches = whoCanReach(n, { destination: VM, port: 22, protocol: "Tcp" });
  assert.deepEqual(
    reaches.map((r) => [r.rule.name, r.sources, r.partlyBlockedBy.map((b) => b.name)]),
    [["ssh-internet", ["Internet"], ["deny-bad"]]],
    "ssh-office is wholly inside deny-bad; hidden and the default rules are behind deny-all-ssh",
  );
  assert.deepEqual(
    whoCanReach(nsg("e"), { destination: VM, port: 22, protocol: "Tcp" }).map((r) => [r.rule.name, r.sources]),
    [
      ["AllowVnetInBound", ["VirtualNetwork"]],
      ["AllowAzureLoadBalancerInBound", ["AzureLoadBalancer"]],
    ],
  );
});
