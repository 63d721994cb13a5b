import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { evaluateFirewallInbound } from "./evaluator";
import { denyCollectionName } from "./names";
import { firewallPortStatuses, planFirewallDenyBaseline } from "./deny-baseline";
import { denyRuleName } from "../nsg/names";
import type { BaselineVm } from "../nsg/deny-baseline";
import { isEmptyFirewallChange, type Firewall } from "./types";
import { FIREWALL_IP, VM_ADDRESS, applyChecked, firewall, forward, natCollection, networkCollection, networkRule } from "../testing/fw-fixtures";

const VM: BaselineVm = { name: "vm1", addresses: [VM_ADDRESS], ports: [{ number: 22, protocol: "TCP" }, { number: 3389, protocol: "TCP" }] };
/** A firewall where a user forwards 2222 to the VM's SSH and 3390 to its RDP. */
const forwarding = (network = [networkCollection("allow-web", 200, "Allow", [networkRule("https", "443")])]) =>
  firewall([natCollection("user-dnat", 100, [forward("ssh-vm1", 2222, 22), forward("rdp-vm1", 3390, 3389)])], network);
const reaches = (fw: Firewall, source: string, port: number) => evaluateFirewallInbound(fw, { source, destination: FIREWALL_IP, port, protocol: "Tcp" }).allowed;

test("rule processing: DNAT first, then network rules by priority; no DNAT rule drops, no network rule is the implicit allow", () => {
  const fw = forwarding();
  const decision = evaluateFirewallInbound(fw, { source: "203.0.113.7", destination: FIREWALL_IP, port: 2222, protocol: "Tcp" });
  assert.deepEqual([decision.allowed, decision.dnat?.rule, decision.translated, decision.network], [true, "ssh-vm1", { address: VM_ADDRESS, port: 22 }, undefined]);
  assert.equal(reaches(fw, "203.0.113.7", 22), false, "nothing listens on 22 of the firewall");
  assert.equal(evaluateFirewallInbound(fw, { source: "203.0.113.7", destination: FIREWALL_IP, port: 2222, protocol: "Udp" }).allowed, false, "the DNAT rule is TCP only");

  const denied = forwarding([networkCollection("no-ssh", 300, "Deny", [networkRule("ssh", "22")]), networkCollection("ssh-office", 250, "Allow", [networkRule("office", "22", { sourceAddresses: ["203.0.113.0/24"] })])]);
  assert.equal(reaches(denied, "203.0.113.7", 2222), true, "the allow at 250 comes before the deny at 300");
  const verdict = evaluateFirewallInbound(denied, { source: "198.51.100.77", destination: FIREWALL_IP, port: 2222, protocol: "Tcp" });
  assert.deepEqual([verdict.allowed, verdict.network?.collection], [false, "no-ssh"], "an explicit deny overrides the DNAT rule's implicit allow");
});

test("the baseline is a deny collection at 10000 that closes every DNAT path to the ports, and re-planning changes nothing", () => {
  const fw = forwarding();
  assert.deepEqual(firewallPortStatuses({ policy: "web", firewall: fw, vms: [VM] }).map((p) => [p.port, p.status, p.status === "exposed" ? p.exposedBy.map((r) => r.rule) : []]), [
    [22, "exposed", ["ssh-vm1"]],
    [3389, "exposed", ["rdp-vm1"]],
  ]);
  const plan = planFirewallDenyBaseline({ policy: "web", firewall: fw, vms: [VM] });
  assert.deepEqual(plan.change.network.put, [
    {
      name: denyCollectionName("web"),
      priority: 10000,
      action: "Deny",
      rules: [
        {
          name: denyRuleName("web", "vm1", "TCP"),
          description: "jit-deny p=web v=vm1",
          protocols: ["TCP"],
          sourceAddresses: ["*"],
          destinationAddresses: [VM_ADDRESS],
          destinationPorts: ["22", "3389"],
        },
      ],
    },
  ]);
  assert.deepEqual([plan.change.nat, plan.change.network.delete], [{ put: [], delete: [] }, []], "nothing else is touched");
  assert.ok(plan.ports.every((p) => p.status === "protected"));
  const after = applyChecked(fw, plan.change);
  assert.equal(reaches(after, "203.0.113.7", 2222), false);
  assert.equal(reaches(after, "203.0.113.7", 3390), false);
  assert.ok(isEmptyFirewallChange(planFirewallDenyBaseline({ policy: "web", firewall: after, vms: [VM] }).change));
});

test("network collections for the ports keep precedence: the deny goes after them, and the exposure they leave is named", () => {
  const fw = forwarding([networkCollection("ssh-anyone", 20000, "Allow", [networkRule("ssh", "22")]), networkCollection("other-port", 30000, "Allow", [networkRule("http", "80")])]);
  const plan = planFirewallDenyBaseline({ policy: "web", firewall: fw, vms: [VM] });
  assert.equal(plan.change.network.put[0].priority, 20001, "after ssh-anyone, whatever comes later for other ports");
  assert.deepEqual(plan.ports.map((p) => [p.port, p.status, p.status === "exposed" ? p.exposedBy.map((r) => `${r.collection}/${r.rule}`) : []]), [
    [22, "exposed", ["user-dnat/ssh-vm1", "ssh-anyone/ssh"]],
    [3389, "protected", []],
  ]);
});

test("VMs leaving the policy take their rules out; rules someone else put in the collection stay; an empty collection goes", () => {
  const vm2: BaselineVm = { name: "vm2", addresses: ["10.0.0.5"], ports: [{ number: 22, protocol: "*" }] };
  const both = applyChecked(forwarding(), planFirewallDenyBaseline({ policy: "web", firewall: forwarding(), vms: [VM, vm2] }).change);
  const name = denyCollectionName("web");
  assert.deepEqual(both.networkRuleCollections.find((c) => c.name === name)?.rules.map((r) => [r.name, r.protocols]), [
    [denyRuleName("web", "vm1", "TCP"), ["TCP"]],
    [denyRuleName("web", "vm2", "*"), ["TCP", "UDP"]],
  ]);
  const theirs = { ...both, networkRuleCollections: both.networkRuleCollections.map((c) => (c.name === name ? { ...c, rules: [...c.rules, networkRule("theirs", "25")] } : c)) };
  const one = planFirewallDenyBaseline({ policy: "web", firewall: theirs, vms: [VM] });
  assert.deepEqual(one.change.network.put[0].rules.map((r) => r.name), [denyRuleName("web", "vm1", "TCP"), "theirs"]);
  assert.equal(one.change.network.put[0].priority, 10000, "it keeps its number");
  const none = planFirewallDenyBaseline({ policy: "web", firewall: both, vms: [] });
  assert.deepEqual(none.change.network, { put: [], delete: [name] });
});

test("no room after the collections that must keep precedence: CapacityExceeded, naming the firewall", () => {
  const fw = forwarding([networkCollection("ssh-last", 65000, "Allow", [networkRule("ssh", "22")])]);
  assert.throws(() => planFirewallDenyBaseline({ policy: "web", firewall: fw, vms: [VM] }), (e) => isJitError(e, "CapacityExceeded") && /Azure Firewall fw .*after ssh-last \(65000\)/.test(e.message));
});
