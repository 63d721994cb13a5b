import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isJitError } from "../../model/errors";
import { planFirewallDenyBaseline } from "./deny-baseline";
import { evaluateFirewallInbound } from "./evaluator";
import { planFirewallGrant, type FirewallGrantPlan } from "./grant";
import { planFirewallRestore } from "./restore";
import { isEmptyFirewallChange, type Firewall } from "./types";
import type { GrantPort } from "../types";
import { FIREWALL_IP, VM_ADDRESS, applyChecked, firewall, forward, natCollection, networkCollection, networkRule } from "../testing/fw-fixtures";

const EXPIRES = new Date("2030-01-01T12:00:00Z");
const SOURCES = ["203.0.113.7", "203.0.113.8", "198.51.100.0/28", "*"];
const STRANGER = "192.0.2.200";

/** A user's firewall: DNAT rules crowding the mapped range, network collections that allow or deny SSH. */
const firewallArb = fc
  .record({
    listens: fc.uniqueArray(fc.integer({ min: 50020, max: 50030 }), { maxLength: 6 }),
    network: fc.uniqueArray(fc.record({ priority: fc.oneof(fc.integer({ min: 100, max: 103 }), fc.integer({ min: 100, max: 30000 })), action: fc.constantFrom("Allow" as const, "Deny" as const), port: fc.constantFrom("22", "20-25", "*", "80") }), {
      maxLength: 4,
      selector: (c) => c.priority,
    }),
  })
  .map(({ listens, network }) =>
    firewall(
      listens.length ? [natCollection("user-dnat", 300, listens.map((port, i) => forward(`f${i}`, port, 80)))] : [],
      network.map((c, i) => networkCollection(`user-${i}`, c.priority, c.action, [networkRule(`r${i}`, c.port, { sourceAddresses: ["203.0.113.0/24"] })])),
    ),
  );

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant("grant" as const), source: fc.constantFrom(...SOURCES), ports: fc.subarray([22, 3389], { minLength: 1 }) }),
  fc.record({ kind: fc.constant("end" as const), which: fc.nat() }),
);

/** Runs a plan, or says that it refused for lack of room (allowed, as long as it names the firewall). */
function unlessFull<T>(plan: () => T): T | undefined {
  try {
    return plan();
  } catch (e) {
    if (!isJitError(e, "CapacityExceeded")) throw e;
    assert.match(e.message, /Azure Firewall fw /);
    return undefined;
  }
}

const sortedFirewall = (fw: Firewall) => ({
  ...fw,
  natRuleCollections: [...fw.natRuleCollections].sort((a, b) => a.name.localeCompare(b.name)),
  networkRuleCollections: [...fw.networkRuleCollections].sort((a, b) => a.name.localeCompare(b.name)),
});

test("any sequence of grants and ends through one firewall: distinct mapped ports clear of others' DNAT rules, each grant open to its source only, and back to the baseline at the end", () => {
  fc.assert(
    fc.property(firewallArb, fc.array(stepArb, { minLength: 1, maxLength: 12 }), (user, steps) => {
      const vms = [{ name: "vm1", addresses: [VM_ADDRESS], ports: [{ number: 22, protocol: "TCP" as const }, { number: 3389, protocol: "TCP" as const }] }];
      const baseline = applyChecked(user, planFirewallDenyBaseline({ policy: "web", firewall: user, vms }).change);
      const userPorts = new Set(user.natRuleCollections.flatMap((c) => c.rules.flatMap((r) => (r.destinationPorts ?? []).map(Number))));
      let fw = baseline;
      let live: Array<{ id: string; source: string; plan: FirewallGrantPlan }> = [];
      steps.forEach((step, n) => {
        if (step.kind === "grant") {
          const id = `grant${n}`;
          const ports: GrantPort[] = step.ports.map((number) => ({ number, protocol: "TCP", source: step.source, expiresAt: EXPIRES }));
          const plan = unlessFull(() => planFirewallGrant({ grantId: id, policy: "web", firewall: fw, publicAddress: FIREWALL_IP, vms: [{ name: "vm1", address: VM_ADDRESS, ports }] }));
          if (!plan) return;
          fw = applyChecked(fw, plan.change);
          assert.ok(isEmptyFirewallChange(planFirewallGrant({ grantId: id, policy: "web", firewall: fw, publicAddress: FIREWALL_IP, vms: [{ name: "vm1", address: VM_ADDRESS, ports }] }).change), "planned again: nothing to do");
          live.push({ id, source: step.source, plan });
        } else if (live.length) {
          const [ending] = live.splice(step.which % live.length, 1);
          const recorded = ending.plan.rules.flatMap((r) => [
            { kind: "nat" as const, collection: r.dnatCollection, rule: r.dnat },
            ...(r.allow ? [{ kind: "network" as const, collection: r.allow.collection, rule: r.allow.rule }] : []),
          ]);
          fw = applyChecked(fw, planFirewallRestore(recorded, fw).change);
        }
        const mapped = live.flatMap((g) => g.plan.rules.map((r) => r.mappedPort));
        assert.equal(new Set(mapped).size, mapped.length, `distinct mapped ports: ${mapped.join(", ")}`);
        assert.ok(mapped.every((p) => !userPorts.has(p) && p >= 50000 && p <= 59999), mapped.join(", "));
        for (const g of live) {
          for (const r of g.plan.rules) {
            const at = (source: string) => evaluateFirewallInbound(fw, { source, destination: FIREWALL_IP, port: r.mappedPort, protocol: "Tcp" });
            const inside = g.source === "*" ? "8.8.8.8" : g.source.replace(/\/\d+$/, "");
            assert.deepEqual(at(inside).translated, { address: VM_ADDRESS, port: r.port });
            assert.equal(at(inside).allowed, true, `${g.id} from ${inside} on ${r.mappedPort}`);
            if (g.source !== "*") assert.equal(at(STRANGER).allowed, false, `${STRANGER} on ${r.mappedPort}`);
          }
        }
      });
      for (const g of live) {
        const recorded = g.plan.rules.flatMap((r) => [
          { kind: "nat" as const, collection: r.dnatCollection, rule: r.dnat },
          ...(r.allow ? [{ kind: "network" as const, collection: r.allow.collection, rule: r.allow.rule }] : []),
        ]);
        fw = applyChecked(fw, planFirewallRestore(recorded, fw).change);
      }
      assert.deepEqual(sortedFirewall(fw), sortedFirewall(baseline));
    }),
    { numRuns: 300 },
  );
});
