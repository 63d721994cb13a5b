import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { baselinePortStatuses, planDenyBaseline, type BaselineVm } from "./deny-baseline";
import { evaluateNsg } from "./evaluator";
import { MAX_ADDRESSES_AND_PORTS } from "./limits";
import { denyRuleDescription, denyRuleName, parseJitRule, sharedDenyRuleName } from "./names";
import type { Nsg } from "./types";
import { applyNsgChange } from "../testing/nsg-apply";
import { nsg, userRule } from "../testing/nsg-fixtures";

const vm1: BaselineVm = { name: "vm1", addresses: ["10.1.2.4"], ports: [{ number: 22, protocol: "TCP" }, { number: 3389, protocol: "TCP" }] };
const vm2: BaselineVm = { name: "vm2", addresses: ["10.1.2.5", "10.1.3.5"], ports: [{ number: 22, protocol: "TCP" }] };

function baseline(n: Nsg, vms: BaselineVm[] = [vm1, vm2], policy = "web") {
  const plan = planDenyBaseline({ policy, nsg: n, vms });
  return { plan, after: applyNsgChange(n, plan.change) };
}

const shared = (group: string, protocol: "TCP" | "UDP" | "*" = "TCP") => sharedDenyRuleName("web", group, protocol);

test("an empty NSG gets one deny rule per port set, shared by the VMs that have it, from 1000 up, to their private addresses", () => {
  const vm3: BaselineVm = { name: "vm3", addresses: ["10.1.2.6"], ports: [{ number: 22, protocol: "TCP" }] };
  const { plan } = baseline(nsg("n"), [vm1, vm2, vm3]);
  assert.deepEqual(plan.change.delete, []);
  assert.deepEqual(plan.change.put, [
    {
      name: shared("22-1000"),
      priority: 1000,
      direction: "Inbound",
      access: "Deny",
      protocol: "Tcp",
      description: "jit-deny p=web g=22-1000",
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefixes: ["10.1.2.5", "10.1.2.6", "10.1.3.5"],
      destinationPortRange: "22",
    },
    {
      name: shared("22.3389-1000"),
      priority: 1001,
      direction: "Inbound",
      access: "Deny",
      protocol: "Tcp",
      description: "jit-deny p=web g=22.3389-1000",
      sourceAddressPrefix: "*",
      sourcePortRange: "*",
      destinationAddressPrefix: "10.1.2.4",
      destinationPortRanges: ["22", "3389"],
    },
  ]);
  assert.ok(plan.ports.every((p) => p.status === "protected"));
});

test("ports with different protocols get one rule per protocol", () => {
  const vm: BaselineVm = { name: "vm1", addresses: ["10.1.2.4"], ports: [{ number: 22, protocol: "TCP" }, { number: 53, protocol: "UDP" }, { number: 5985, protocol: "*" }, { number: 5986, protocol: "*" }] };
  const { plan } = baseline(nsg("n"), [vm]);
  assert.deepEqual(
    plan.change.put.map((r) => [r.protocol, r.destinationPortRange ?? r.destinationPortRanges, r.priority]),
    [["Tcp", "22", 1000], ["Udp", "53", 1001], ["*", ["5985", "5986"], 1002]],
  );
});

test("rules already there for the ports keep precedence, and the ones that open a port are reported", () => {
  const n = nsg("n", [
    userRule("ssh-office", 300, { sourceAddressPrefix: "203.0.113.0/24" }),
    userRule("rdp-anywhere", 2000, { destinationPortRange: "3389", destinationAddressPrefix: "10.1.2.0/24" }),
    userRule("deny-telnet", 2100, { access: "Deny", destinationPortRange: "23" }),
    userRule("http-vm2", 2200, { destinationPortRange: "80", destinationAddressPrefix: "10.1.2.5" }),
    userRule("ssh-vm2-only", 2300, { destinationAddressPrefix: "10.1.3.5", access: "Deny" }),
  ]);
  const { plan, after } = baseline(n);
  assert.deepEqual(
    plan.change.put.map((r) => [r.description, r.priority]),
    [["jit-deny p=web g=22-1000", 1000], ["jit-deny p=web g=22.3389-2001", 2001]],
    "vm1 goes after rdp-anywhere (its port 3389); vm2 needs to follow no allow rule (a user's deny, ssh-vm2-only, denies the same either way); telnet and http do not touch their ports",
  );
  assert.deepEqual(
    plan.ports.map((p) => [p.vm, p.port, p.status === "exposed" ? p.exposedBy.map((r) => r.name) : p.status]),
    [
      ["vm1", 22, ["ssh-office"]],
      ["vm1", 3389, ["rdp-anywhere"]],
      ["vm2", 22, ["ssh-office"]],
    ],
  );
  const flow = { source: "8.8.8.8", destination: "10.1.2.4", port: 22, protocol: "Tcp" as const };
  assert.equal(evaluateNsg(after, flow).rule?.name, shared("22.3389-2001"));
  assert.equal(evaluateNsg(after, { ...flow, source: "203.0.113.7" }).rule?.name, "ssh-office");
});

test("a user deny ahead of ours leaves the port protected", () => {
  const { plan } = baseline(nsg("n", [userRule("no-ssh", 500, { access: "Deny" }), userRule("ssh-late", 600)]), [vm2]);
  assert.deepEqual(plan.ports, [{ vm: "vm2", port: 22, protocol: "TCP", status: "protected" }]);
  assert.equal(plan.change.put[0].priority, 1000);
});

test("planning again against the result changes nothing, even after rules were added behind ours", () => {
  const { after } = baseline(nsg("n", [userRule("ssh-office", 300, { sourceAddressPrefix: "203.0.113.0/24" })]));
  const again = planDenyBaseline({ policy: "web", nsg: after, vms: [vm2, vm1] });
  assert.deepEqual(again.change, { nsgId: "n", put: [], delete: [] });
  const later = { ...after, securityRules: [...after.securityRules, userRule("ssh-later", 3000)] };
  assert.deepEqual(planDenyBaseline({ policy: "web", nsg: later, vms: [vm1, vm2] }).change.put, []);
});

test("a drifted deny rule is rewritten under its name, where it is when that is still right", () => {
  const { after } = baseline(nsg("n"));
  const name = shared("22.3389-1000");
  const drifted = { ...after, securityRules: after.securityRules.map((r) => (r.name === name ? { ...r, destinationPortRanges: ["3389"], sourceAddressPrefix: "Internet" } : r)) };
  const plan = planDenyBaseline({ policy: "web", nsg: drifted, vms: [vm1, vm2] });
  assert.deepEqual(plan.change.put, [after.securityRules.find((r) => r.name === name)]);
  assert.deepEqual(applyNsgChange(drifted, plan.change), after);

  const overtaken = { ...drifted, securityRules: [...drifted.securityRules, userRule("ssh-late", 1500, { destinationAddressPrefix: "10.1.2.4" })] };
  const moved = planDenyBaseline({ policy: "web", nsg: overtaken, vms: [vm1, vm2] }).change;
  assert.deepEqual(moved.put.map((r) => [r.name, r.priority]), [[shared("22.3389-1501"), 1501]], "a rewrite that would jump ahead of a rule for its ports moves behind it, named for its new placement");
  assert.deepEqual(moved.delete, [name]);
});

test("ports or VMs leaving the policy update or delete our rules, and only ours", () => {
  const other = { name: denyRuleName("db", "vm9", "TCP"), priority: 1100, direction: "Inbound" as const, access: "Deny" as const, protocol: "Tcp" as const, description: denyRuleDescription("db", "vm9"), sourceAddressPrefix: "*", destinationAddressPrefix: "10.1.9.9", destinationPortRange: "22" };
  const { after } = baseline(nsg("n", [other, userRule("ssh-office", 300)]), [vm1, { ...vm2, ports: [{ number: 22, protocol: "TCP" }, { number: 53, protocol: "UDP" }] }]);
  const plan = planDenyBaseline({ policy: "web", nsg: after, vms: [{ ...vm1, ports: [{ number: 22, protocol: "TCP" }] }] });
  assert.deepEqual(
    plan.change.put.map((r) => [r.name, r.destinationAddressPrefix, r.destinationPortRange, r.priority]),
    [[shared("22-1000"), "10.1.2.4", "22", 1000]],
    "vm2 leaving shrinks the rule it shared to vm1's address, in place",
  );
  assert.deepEqual(plan.change.delete, [shared("22.3389-1000"), shared("53-1000", "UDP")].sort());
  const removed = applyNsgChange(after, planDenyBaseline({ policy: "web", nsg: after, vms: [] }).change);
  assert.deepEqual(removed.securityRules.map((r) => r.name).sort(), [other.name, "ssh-office"].sort());
  assert.ok(removed.securityRules.every((r) => parseJitRule(r)?.kind !== "deny" || parseJitRule(r)?.policy === "db"));
});

test("a port whose existing rules sit at 4096 cannot get a deny rule behind them", () => {
  assert.throws(
    () => planDenyBaseline({ policy: "web", nsg: nsg("nsg-x", [userRule("ssh-last", 4096)]), vms: [vm1] }),
    (e: unknown) => isJitError(e, "CapacityExceeded") && /nsg-x/.test(String(e)) && /ssh-last/.test(String(e)),
  );
});

test("a full NSG takes no deny rule", () => {
  const full = nsg("nsg-full", Array.from({ length: 1000 }, (_, i) => userRule(`r${i}`, 3000 + (i % 1000), { destinationPortRange: "80", direction: i < 500 ? "Inbound" : "Outbound" })));
  assert.throws(() => planDenyBaseline({ policy: "web", nsg: full, vms: [vm1] }), (e: unknown) => isJitError(e, "CapacityExceeded") && /NSG nsg-full already has 1000 rules/.test(String(e)));
});

test("the ports' status in the NSG as it is, with no change planned", () => {
  const open = nsg("n", [userRule("ssh-any", 4000, { destinationAddressPrefix: "10.1.2.4" })]);
  const exposed = baselinePortStatuses({ policy: "web", nsg: open, vms: [vm1] });
  assert.deepEqual(exposed.map((p) => [p.port, p.status]), [[22, "exposed"], [3389, "protected"]]);
  assert.deepEqual(exposed[0].status === "exposed" && exposed[0].exposedBy.map((r) => r.name), ["ssh-any"]);
  const { after } = baseline(open, [vm1]);
  assert.deepEqual(baselinePortStatuses({ policy: "web", nsg: after, vms: [vm1] }), exposed, "the user rule keeps precedence over the deny rule");
  const allowAll = nsg("n", [userRule("ssh-any", 200, { destinationAddressPrefix: "10.1.2.4", destinationPortRange: "*" })]);
  assert.deepEqual(baselinePortStatuses({ policy: "web", nsg: allowAll, vms: [vm1] }).map((p) => p.status), ["exposed", "exposed"]);
  assert.deepEqual(planDenyBaseline({ policy: "web", nsg: allowAll, vms: [vm1] }).ports.map((p) => p.status), ["exposed", "exposed"], "the plan reports the NSG as it will be");
});

test("the one-per-VM deny rules of an earlier version are replaced by shared ones in the same change, where they were", () => {
  const legacy = (vm: BaselineVm, priority: number, ports: string[]) => ({
    name: denyRuleName("web", vm.name, "TCP"),
    priority,
    direction: "Inbound" as const,
    access: "Deny" as const,
    protocol: "Tcp" as const,
    description: denyRuleDescription("web", vm.name),
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefixes: [...vm.addresses],
    destinationPortRanges: ports,
  });
  const vm3: BaselineVm = { name: "vm3", addresses: ["10.1.2.6"], ports: [{ number: 22, protocol: "TCP" }] };
  const old = nsg("n", [legacy(vm1, 1000, ["22", "3389"]), legacy(vm2, 1001, ["22"]), legacy(vm3, 1002, ["22"]), userRule("ssh-late", 1500, { destinationAddressPrefix: "10.1.2.5" })]);
  const { plan, after } = baseline(old, [vm1, vm2, vm3]);
  assert.deepEqual(plan.change.delete, [vm1, vm2, vm3].map((vm) => denyRuleName("web", vm.name, "TCP")).sort());
  assert.deepEqual(plan.change.put.map((r) => [r.name, r.priority]), [[shared("22-1000"), 1000], [shared("22.3389-1000"), 1001]], "the numbers the old rules held are free again");
  const flow = { source: "8.8.8.8", destination: "10.1.2.5", port: 22, protocol: "Tcp" as const };
  assert.equal(evaluateNsg(after, flow).rule?.name, shared("22-1000"), "ssh-late, placed behind vm2's old deny rule, stays behind its new one");
  assert.deepEqual(planDenyBaseline({ policy: "web", nsg: after, vms: [vm1, vm2, vm3] }).change, { nsgId: "n", put: [], delete: [] });
});

test("a VM whose allow rules ask for a later placement gets a rule of its own; joining VMs extend a shared rule in place", () => {
  const n = nsg("n", [userRule("ssh-vm1", 1200, { destinationAddressPrefix: "10.1.2.4" })]);
  const vm3: BaselineVm = { name: "vm3", addresses: ["10.1.2.6"], ports: vm1.ports };
  const { plan, after } = baseline(n, [vm1, vm3]);
  assert.deepEqual(plan.change.put.map((r) => [r.description, r.priority]), [["jit-deny p=web g=22.3389-1000", 1000], ["jit-deny p=web g=22.3389-1201", 1201]]);
  const vm4: BaselineVm = { name: "vm4", addresses: ["10.1.2.7"], ports: vm1.ports };
  const joined = planDenyBaseline({ policy: "web", nsg: after, vms: [vm1, vm3, vm4] }).change;
  assert.deepEqual(joined.put.map((r) => [r.name, r.priority, r.destinationAddressPrefixes]), [[shared("22.3389-1000"), 1000, ["10.1.2.6", "10.1.2.7"]]]);
  assert.deepEqual(joined.delete, []);
});

test("Azure's limits: 2,000 VMs behind one NSG share one rule; a second protocol would list more than 4,000 addresses and ports", () => {
  const many = Array.from({ length: 2000 }, (_, i): BaselineVm => ({ name: `vm${i}`, addresses: [`10.2.${i >> 8}.${i & 255}`], ports: [{ number: 22, protocol: "TCP" }] }));
  const { plan } = baseline(nsg("nsg-big"), many);
  assert.equal(plan.change.put.length, 1);
  assert.equal(plan.change.put[0].destinationAddressPrefixes?.length, 2000);
  const twice = many.map((vm) => ({ ...vm, ports: [...vm.ports, { number: 53, protocol: "UDP" as const }] }));
  assert.throws(
    () => planDenyBaseline({ policy: "web", nsg: nsg("nsg-big"), vms: twice }),
    (e: unknown) => isJitError(e, "CapacityExceeded") && /NSG nsg-big would list 4006 addresses and ports/.test(String(e)) && String(e).includes(String(MAX_ADDRESSES_AND_PORTS)),
  );
});
