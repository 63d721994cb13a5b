import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { planAllowGrant } from "./allow";
import { evaluateInbound } from "./evaluator";
import { allowRuleName, parseJitRule } from "./names";
import type { GrantPort } from "../types";
import { baselined, granted, nicOf } from "../testing/azure-scenario";
import { nsg, userRule } from "../testing/nsg-fixtures";

const VM = { name: "vm1", addresses: ["10.1.2.4"] };
const EXPIRES = new Date("2030-01-01T12:00:00Z");
const ssh = (source: string): GrantPort => ({ number: 22, protocol: "TCP", source, expiresAt: EXPIRES });
const open = (nsgs: Parameters<typeof nicOf>[0], source: string) =>
  evaluateInbound(nicOf(nsgs, VM.addresses), { source, destination: "10.1.2.4", port: 22, protocol: "Tcp" }).allowed;

test("a grant adds its allow rule ahead of our deny rule in every NSG that would block it", () => {
  const nsgs = baselined([nsg("subnet"), nsg("nic")], VM, [{ number: 22, protocol: "TCP" }]);
  const { plan, after } = granted(nsgs, "grant1", VM, [ssh("203.0.113.7")]);
  const rule = {
    name: allowRuleName("grant1", "vm1", 22, "TCP"),
    priority: 100,
    direction: "Inbound",
    access: "Allow",
    protocol: "Tcp",
    description: "jit-allow g=grant1 p=web v=vm1 exp=2030-01-01T12:00:00Z",
    sourceAddressPrefix: "203.0.113.7",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.1.2.4",
    destinationPortRange: "22",
  };
  assert.deepEqual(plan.changes, [
    { nsgId: "nic", put: [rule], delete: [] },
    { nsgId: "subnet", put: [rule], delete: [] },
  ]);
  assert.deepEqual(plan.rules, [{ nsgId: "nic", rule }, { nsgId: "subnet", rule }]);
  assert.deepEqual(plan.overrides, []);
  assert.ok(open(after, "203.0.113.7"));
  assert.ok(!open(after, "203.0.113.8"));
});

test("an NSG that already lets the flow in gets nothing; one without our deny but blocking it gets a rule", () => {
  const nsgs = [nsg("subnet", [userRule("ssh-from-office", 200, { sourceAddressPrefix: "203.0.113.0/24" })]), nsg("nic")];
  const { plan, after } = granted(nsgs, "grant1", VM, [ssh("203.0.113.7")]);
  assert.deepEqual(
    plan.changes.map((c) => [c.nsgId, c.put.map((r) => r.priority)]),
    [["nic", [100]]],
    "the NIC NSG blocks with DenyAllInBound",
  );
  assert.ok(open(after, "203.0.113.7"));
});

test("a user deny rule in the way is overridden for the grant's source, and reported", () => {
  const nsgs = baselined([nsg("nic", [userRule("http", 100, { destinationPortRange: "80" }), userRule("no-ssh-from-internet", 150, { access: "Deny", sourceAddressPrefix: "Internet" })])], VM, [{ number: 22, protocol: "TCP" }]);
  const { plan, after } = granted(nsgs, "grant1", VM, [ssh("8.8.8.8")]);
  assert.deepEqual(plan.changes[0].put.map((r) => r.priority), [101]);
  assert.deepEqual(plan.overrides, [{ nsgId: "nic", name: "no-ssh-from-internet", priority: 150, access: "Deny" }]);
  assert.ok(open(after, "8.8.8.8"));
  assert.ok(!open(after, "8.8.4.4"));
});

test("overlapping grants each get their own rule", () => {
  const nsgs = baselined([nsg("nic")], VM, [{ number: 22, protocol: "TCP" }]);
  const first = granted(nsgs, "grant1", VM, [ssh("203.0.113.7")]);
  const second = granted(first.after, "grant2", VM, [ssh("203.0.113.0/24")]);
  assert.deepEqual(second.plan.changes[0].put.map((r) => [r.name, r.priority]), [[allowRuleName("grant2", "vm1", 22, "TCP"), 101]]);
  const third = granted(second.after, "grant3", VM, [ssh("203.0.113.7")]);
  assert.equal(third.plan.changes[0].put[0].priority, 102, "even when another grant's rule already lets the same source in");
});

test("planning a grant again keeps its rules and writes nothing; a drifted one is rewritten in place", () => {
  const nsgs = baselined([nsg("subnet"), nsg("nic")], VM, [{ number: 22, protocol: "TCP" }]);
  const { plan, after } = granted(nsgs, "grant1", VM, [ssh("203.0.113.7")]);
  const again = granted(after, "grant1", VM, [ssh("203.0.113.7")]);
  assert.deepEqual(again.plan.changes, []);
  assert.deepEqual(again.plan.rules, plan.rules);
  const name = allowRuleName("grant1", "vm1", 22, "TCP");
  const drifted = after.map((n) => ({ ...n, securityRules: n.securityRules.map((r) => (r.name === name ? { ...r, sourceAddressPrefix: "*" } : r)) }));
  const repaired = granted(drifted, "grant1", VM, [ssh("203.0.113.7")]);
  assert.deepEqual(repaired.after, after);
});

test("several VMs, NICs and protocols in one grant share the NSGs without clashing", () => {
  const subnet = nsg("subnet");
  const vm2 = { addresses: ["10.1.2.5"], subnet, nic: nsg("nic2") };
  const plan = planAllowGrant({
    grantId: "grant1",
    policy: "web",
    vms: [
      { name: "vm1", nics: [{ addresses: ["10.1.2.4"], subnet }, { addresses: ["10.1.3.4"], subnet }], ports: [ssh("8.8.8.8"), { number: 53, protocol: "*", source: "8.8.8.8", expiresAt: EXPIRES }] },
      { name: "vm2", nics: [vm2], ports: [ssh("8.8.8.8")] },
    ],
  });
  const subnetRules = plan.changes.find((c) => c.nsgId === "subnet")?.put ?? [];
  assert.deepEqual(
    subnetRules.map((r) => [r.protocol, r.destinationPortRange, r.destinationAddressPrefix ?? r.destinationAddressPrefixes, r.priority]),
    [
      ["Tcp", "22", ["10.1.2.4", "10.1.3.4"], 100],
      ["*", "53", ["10.1.2.4", "10.1.3.4"], 101],
      ["Tcp", "22", "10.1.2.5", 102],
    ],
  );
  assert.deepEqual(plan.changes.find((c) => c.nsgId === "nic2")?.put.map((r) => r.priority), [100]);
});

test("an allow rule names only the VM's addresses of the source's family", () => {
  const dualStack = { name: "vm1", addresses: ["10.1.2.4", "fd00::4"] };
  const nsgs = [nsg("nic")];
  assert.deepEqual(granted(nsgs, "grant1", dualStack, [ssh("203.0.113.7")]).plan.rules.map((r) => r.rule.destinationAddressPrefix), ["10.1.2.4"]);
  assert.deepEqual(granted(nsgs, "grant1", dualStack, [ssh("2001:db8::7")]).plan.rules.map((r) => r.rule.destinationAddressPrefix), ["fd00::4"]);
  // From anywhere: one rule per family, since Azure refuses a rule that mixes them.
  const both = granted(nsgs, "grant1", dualStack, [ssh("*")]).plan.rules;
  assert.deepEqual(both.map((r) => r.rule.destinationAddressPrefix), ["10.1.2.4", "fd00::4"]);
  assert.deepEqual(both.map((r) => parseJitRule(r.rule)?.family), [undefined, 6]);
});

test("no free priority ahead of what blocks the flow fails with CapacityExceeded", () => {
  const crowded = nsg("nic", [100, 101, 102].map((p) => userRule(`r${p}`, p, { destinationPortRange: "80" })));
  const nsgs = [{ ...crowded, securityRules: [...crowded.securityRules, userRule("deny-ssh", 103, { access: "Deny" })] }];
  assert.throws(
    () => granted(nsgs, "grant1", VM, [ssh("8.8.8.8")]),
    (e: unknown) => isJitError(e, "CapacityExceeded") && /NSG nic has no free priority/.test(String(e)) && /deny-ssh \(103\)/.test(String(e)),
  );
});
