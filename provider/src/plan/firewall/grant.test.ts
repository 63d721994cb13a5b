import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { planFirewallDenyBaseline } from "./deny-baseline";
import { evaluateFirewallInbound } from "./evaluator";
import { planFirewallGrant, type FirewallGrantPlan } from "./grant";
import { allowCollectionName, dnatCollectionName } from "./names";
import { planFirewallRestore, planFirewallSweep, type RecordedFwRule } from "./restore";
import { isEmptyFirewallChange, type Firewall } from "./types";
import { allowRuleName } from "../nsg/names";
import type { GrantPort } from "../types";
import { FIREWALL_IP, VM_ADDRESS, applyChecked, firewall, forward, natCollection, networkCollection, networkRule } from "../testing/fw-fixtures";

const EXPIRES = new Date("2030-01-01T12:00:00Z");
const ssh = (source: string, expiresAt = EXPIRES): GrantPort => ({ number: 22, protocol: "TCP", source, expiresAt });
const baselined = (fw: Firewall) => applyChecked(fw, planFirewallDenyBaseline({ policy: "web", firewall: fw, vms: [{ name: "vm1", addresses: [VM_ADDRESS], ports: [{ number: 22, protocol: "TCP" }] }] }).change);
const grant = (fw: Firewall, grantId: string, ports: GrantPort[]) => planFirewallGrant({ grantId, policy: "web", firewall: fw, publicAddress: FIREWALL_IP, vms: [{ name: "vm1", address: VM_ADDRESS, ports }] });
const reaches = (fw: Firewall, source: string, port: number) => evaluateFirewallInbound(fw, { source, destination: FIREWALL_IP, port, protocol: "Tcp" }).allowed;

/** What restore is given: the rules the grant's plan recorded. */
function recorded(plan: FirewallGrantPlan): RecordedFwRule[] {
  return plan.rules.flatMap((r) => [
    { kind: "nat" as const, collection: r.dnatCollection, rule: r.dnat },
    ...(r.allow ? [{ kind: "network" as const, collection: r.allow.collection, rule: r.allow.rule }] : []),
  ]);
}

test("a grant forwards a mapped port from the requester to the VM, and admits the translated traffic ahead of the deny", () => {
  const fw = baselined(firewall());
  const plan = grant(fw, "grant1", [ssh("203.0.113.7")]);
  const name = allowRuleName("grant1", "vm1", 22, "TCP");
  const description = "jit-allow g=grant1 p=web v=vm1 exp=2030-01-01T12:00:00Z";
  assert.deepEqual(plan.change.nat.put, [
    {
      name: dnatCollectionName("grant1"),
      priority: 100,
      action: "Dnat",
      rules: [{ name, description, protocols: ["TCP"], sourceAddresses: ["203.0.113.7"], destinationAddresses: [FIREWALL_IP], destinationPorts: ["50022"], translatedAddress: VM_ADDRESS, translatedPort: "22" }],
    },
  ]);
  assert.deepEqual(plan.change.network.put, [
    {
      name: allowCollectionName("grant1"),
      priority: 100,
      action: "Allow",
      rules: [{ name, description, protocols: ["TCP"], sourceAddresses: ["203.0.113.7"], destinationAddresses: [VM_ADDRESS], destinationPorts: ["22"] }],
    },
  ]);
  assert.deepEqual(plan.rules.map((r) => [r.mappedPort, r.allow?.collection]), [[50022, allowCollectionName("grant1")]]);
  const after = applyChecked(fw, plan.change);
  assert.equal(reaches(after, "203.0.113.7", 50022), true);
  assert.equal(reaches(after, "203.0.113.8", 50022), false, "only the grant's source is forwarded");
  assert.equal(reaches(after, "203.0.113.7", 22), false);
  assert.ok(isEmptyFirewallChange(grant(after, "grant1", [ssh("203.0.113.7")]).change), "planned again, nothing to do");
});

test("mapped ports stay clear of every DNAT rule on the address, and each grant gets its own", () => {
  const fw = baselined(firewall([natCollection("user-dnat", 100, [forward("web", 50022, 80), forward("range", 50023, 80, { destinationPorts: ["50023-50030"] })])]));
  const first = grant(fw, "grant1", [ssh("203.0.113.7"), { number: 3389, protocol: "TCP", source: "203.0.113.7", expiresAt: EXPIRES }]);
  assert.deepEqual(first.rules.map((r) => [r.port, r.mappedPort]), [[22, 50031], [3389, 53389]]);
  assert.equal(first.change.nat.put[0].priority, 101, "the lowest free NAT number");
  const one = applyChecked(fw, first.change);
  const second = grant(one, "grant2", [ssh("203.0.113.7")]);
  assert.deepEqual(second.rules.map((r) => r.mappedPort), [50032]);
  assert.equal(second.change.network.put[0].priority, 101, "a collection of its own, next free number ahead of the deny");
  const both = applyChecked(one, second.change);
  assert.ok(reaches(both, "203.0.113.7", 50031) && reaches(both, "203.0.113.7", 50032));
  // On another address, or elsewhere in the firewall, ports do not collide.
  const elsewhere = firewall([natCollection("other-ip", 100, [forward("x", 50022, 22, { destinationAddresses: ["198.51.100.99"] })])]);
  assert.equal(grant(elsewhere, "g", [ssh("*")]).rules[0].mappedPort, 50022);
  const wildcard = firewall([natCollection("all", 100, [forward("x", 0, 22, { destinationAddresses: ["*"], destinationPorts: ["50000-59999"] })])]);
  assert.throws(() => grant(wildcard, "g", [ssh("*")]), (e) => isJitError(e, "CapacityExceeded") && /50000 to 59999 on 198\.51\.100\.10 of Azure Firewall fw/.test(e.message));
});

test("a mapped port taken since by someone else's DNAT rule moves; one still free is kept", () => {
  const fw = applyChecked(baselined(firewall()), grant(baselined(firewall()), "grant1", [ssh("203.0.113.7")]).change);
  assert.deepEqual(grant(fw, "grant1", [ssh("203.0.113.7")]).rules.map((r) => r.mappedPort), [50022]);
  const squatted = { ...fw, natRuleCollections: [...fw.natRuleCollections, natCollection("late", 500, [forward("late", 50022, 80)])] };
  const moved = grant(squatted, "grant1", [ssh("203.0.113.7")]);
  assert.deepEqual(moved.rules.map((r) => r.mappedPort), [50023]);
  assert.deepEqual(moved.change.network.put, [], "the allow rule is unchanged");
});

test("without a deny in the way the DNAT rule's implicit allow suffices; a user's deny in the way is overridden for the source, and reported", () => {
  const open = grant(firewall(), "grant1", [ssh("203.0.113.7")]);
  assert.deepEqual([open.change.network.put, open.rules[0].allow], [[], undefined]);
  assert.ok(reaches(applyChecked(firewall(), open.change), "203.0.113.7", 50022));

  const fw = firewall([], [networkCollection("no-ssh", 500, "Deny", [networkRule("ssh", "22")])]);
  const plan = grant(fw, "grant1", [ssh("203.0.113.7")]);
  assert.equal(plan.change.network.put[0].priority, 100);
  assert.deepEqual(plan.overrides.map((r) => `${r.collection}/${r.rule}`), ["no-ssh/ssh"]);
  const after = applyChecked(fw, plan.change);
  assert.ok(reaches(after, "203.0.113.7", 50022));
  assert.equal(reaches(after, "203.0.113.8", 50022), false);
});

test("restore takes out exactly the grant's rules; another grant's and collections added meanwhile stay", () => {
  const base = baselined(firewall([natCollection("user-dnat", 100, [forward("web", 8080, 80)])]));
  const p1 = grant(base, "grant1", [ssh("203.0.113.7")]);
  const one = applyChecked(base, p1.change);
  const p2 = grant(one, "grant2", [ssh("203.0.113.7")]);
  const both = applyChecked(one, p2.change);
  const meanwhile = { ...both, networkRuleCollections: [...both.networkRuleCollections, networkCollection("added-later", 700, "Allow", [networkRule("smtp", "25")])] };

  const restore = planFirewallRestore(recorded(p1), meanwhile);
  assert.equal(restore.removed.length, 2);
  assert.deepEqual([restore.change.nat.delete, restore.change.network.delete], [[dnatCollectionName("grant1")], [allowCollectionName("grant1")]]);
  const after = applyChecked(meanwhile, restore.change);
  assert.ok(reaches(after, "203.0.113.7", p2.rules[0].mappedPort), "the other grant still works");
  assert.equal(reaches(after, "203.0.113.7", p1.rules[0].mappedPort), false);
  const done = applyChecked(after, planFirewallRestore(recorded(p2), after).change);
  assert.deepEqual(done, { ...base, networkRuleCollections: [...base.networkRuleCollections, meanwhile.networkRuleCollections.at(-1)] }, "back to the baseline, plus what others added");

  const again = planFirewallRestore(recorded(p1), done);
  assert.deepEqual([again.gone.length, isEmptyFirewallChange(again.change)], [2, true], "restoring again finds it gone");
});

test("restore removes an edited rule that still says it is the grant's, and leaves one relabelled", () => {
  const base = baselined(firewall());
  const plan = grant(base, "grant1", [ssh("203.0.113.7")]);
  const fw = applyChecked(base, plan.change);
  const edit = (f: Firewall, fields: { sourceAddresses?: string[]; description?: string }) => ({
    ...f,
    natRuleCollections: f.natRuleCollections.map((c) => ({ ...c, rules: c.rules.map((r) => ({ ...r, ...fields })) })),
  });
  const widened = planFirewallRestore(recorded(plan), edit(fw, { sourceAddresses: ["*"] }));
  assert.deepEqual(widened.altered.map((a) => a.differences), [["sourceAddresses"]]);
  assert.deepEqual(widened.change.nat.delete, [dnatCollectionName("grant1")]);
  const taken = planFirewallRestore(recorded(plan), edit(fw, { description: "mine now" }));
  assert.deepEqual([taken.kept.length, taken.change.nat, taken.removed.length], [1, { put: [], delete: [] }, 1], "the DNAT rule stays; the allow rule goes");
});

test("the sweeper finds expired and ended grants' rules by their stamps alone", () => {
  const base = baselined(firewall());
  const p1 = grant(base, "grant1", [ssh("203.0.113.7", new Date("2030-01-01T01:00:00Z"))]);
  const one = applyChecked(base, p1.change);
  const both = applyChecked(one, grant(one, "grant2", [ssh("203.0.113.8", new Date("2030-01-01T05:00:00Z"))]).change);
  const early = planFirewallSweep(both, new Date("2030-01-01T00:30:00Z"));
  assert.ok(isEmptyFirewallChange(early.change));
  const later = planFirewallSweep(both, new Date("2030-01-01T02:00:00Z"));
  assert.deepEqual(later.expired.map((e) => [e.info.grantId, e.found.kind]), [["grant1", "nat"], ["grant1", "network"]]);
  const ended = planFirewallSweep(both, new Date("2030-01-01T00:30:00Z"), (id) => id === "grant2");
  assert.deepEqual([...new Set(ended.expired.map((e) => e.info.grantId))], ["grant2"]);
  assert.deepEqual(applyChecked(both, planFirewallSweep(both, new Date("2030-01-02T00:00:00Z")).change), base);
});
