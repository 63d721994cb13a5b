import { test } from "node:test";
import assert from "node:assert/strict";
import { allowRuleName, sharedDenyRuleName } from "./names";
import { planBaselineRemoval, planRestore, planSweep } from "./restore";
import type { Nsg } from "./types";
import type { GrantPort } from "../types";
import { applyNsgChanges } from "../testing/nsg-apply";
import { baselined, granted } from "../testing/azure-scenario";
import { nsg, userRule } from "../testing/nsg-fixtures";

const VM = { name: "vm1", addresses: ["10.1.2.4"] };
const ssh = (source: string, expiresAt = new Date("2030-01-01T12:00:00Z")): GrantPort => ({ number: 22, protocol: "TCP", source, expiresAt });

function setUp() {
  const before = baselined([nsg("subnet", [userRule("http", 200, { destinationPortRange: "80" })]), nsg("nic")], VM, [{ number: 22, protocol: "TCP" }]);
  const { plan, after } = granted(before, "grant1", VM, [ssh("203.0.113.7")]);
  return { before, recorded: plan.rules, during: after };
}

const edit = (nsgs: Nsg[], id: string, f: (n: Nsg) => Nsg["securityRules"]) => nsgs.map((n) => (n.id === id ? { ...n, securityRules: f(n) } : n));

test("restore deletes exactly what the grant added, and keeps what others changed meanwhile", () => {
  const { before, recorded, during } = setUp();
  const concurrent = edit(during, "subnet", (n) => [...n.securityRules.filter((r) => r.name !== "http"), userRule("https", 210, { destinationPortRange: "443" })]);
  const plan = planRestore(recorded, concurrent);
  assert.deepEqual(plan.removed, recorded);
  assert.deepEqual(plan.changes, [
    { nsgId: "nic", put: [], delete: [allowRuleName("grant1", "vm1", 22, "TCP")] },
    { nsgId: "subnet", put: [], delete: [allowRuleName("grant1", "vm1", 22, "TCP")] },
  ]);
  const restored = applyNsgChanges(concurrent, plan.changes);
  const expected = edit(before, "subnet", (n) => [...n.securityRules.filter((r) => r.name !== "http"), userRule("https", 210, { destinationPortRange: "443" })]);
  assert.deepEqual(restored, expected);
});

test("a rule edited but still stamped for the grant is deleted and reported; one re-labelled is left; one gone is noted", () => {
  const { recorded, during } = setUp();
  const name = allowRuleName("grant1", "vm1", 22, "TCP");
  let changed = edit(during, "subnet", (n) => n.securityRules.map((r) => (r.name === name ? { ...r, sourceAddressPrefix: "*", priority: 150 } : r)));
  changed = edit(changed, "nic", (n) => n.securityRules.map((r) => (r.name === name ? { ...r, description: "kept for the on-call team" } : r)));
  const plan = planRestore(recorded, changed);
  assert.deepEqual(plan.altered.map((a) => [a.recorded.nsgId, a.differences]), [["subnet", ["priority", "source"]]]);
  assert.deepEqual(plan.kept.map((k) => k.recorded.nsgId), ["nic"]);
  assert.deepEqual(plan.changes, [{ nsgId: "subnet", put: [], delete: [name] }]);

  const gone = planRestore(recorded, edit(during, "nic", (n) => n.securityRules.filter((r) => r.name !== name)).filter((n) => n.id !== "subnet"));
  assert.deepEqual(gone.gone.map((g) => g.nsgId), ["nic", "subnet"]);
  assert.deepEqual(gone.changes, []);
});

test("overlapping grants: restoring one leaves the other open", () => {
  const { recorded, during } = setUp();
  const second = granted(during, "grant2", VM, [ssh("203.0.113.7")]);
  const restored = applyNsgChanges(second.after, planRestore(recorded, second.after).changes);
  assert.deepEqual(
    restored.flatMap((n) => n.securityRules.map((r) => r.name)).filter((n) => n.startsWith("jit-allow")),
    [allowRuleName("grant2", "vm1", 22, "TCP"), allowRuleName("grant2", "vm1", 22, "TCP")],
  );
});

test("the sweeper finds expired allow rules from their stamps alone", () => {
  const { during } = setUp();
  const later = granted(during, "grant2", VM, [ssh("8.8.8.8", new Date("2030-01-01T13:00:00Z"))]).after;
  const nic = later.find((n) => n.id === "nic") as Nsg;
  assert.deepEqual(planSweep(nic, new Date("2030-01-01T11:59:59Z")).change.delete, []);
  const sweep = planSweep(nic, new Date("2030-01-01T12:00:00Z"));
  assert.deepEqual(sweep.change, { nsgId: "nic", put: [], delete: [allowRuleName("grant1", "vm1", 22, "TCP")] });
  assert.equal(sweep.expired[0].info.grantId, "grant1");
  assert.deepEqual(planSweep(nic, new Date("2031-01-01T00:00:00Z")).change.delete.length, 2);
});

test("the sweeper also removes rules of grants the caller knows have ended, before their stamped expiry", () => {
  const { during } = setUp();
  const nic = during.find((n) => n.id === "nic") as Nsg;
  const early = new Date("2030-01-01T11:00:00Z");
  assert.deepEqual(planSweep(nic, early, (id) => id === "other").change.delete, []);
  assert.deepEqual(planSweep(nic, early, (id) => id === "grant1").change.delete, [allowRuleName("grant1", "vm1", 22, "TCP")]);
});

test("removing a baseline deletes the recorded deny rules that still say they are the policy's, and nothing else", () => {
  const { before, during } = setUp();
  const deny = sharedDenyRuleName("web", "22-1000", "TCP");
  const recorded = before.map((n) => ({ nsgId: n.id, rule: n.securityRules.find((r) => r.name === deny)! }));
  const plan = planBaselineRemoval("web", recorded, during);
  assert.deepEqual(plan.changes, [
    { nsgId: "subnet", put: [], delete: [deny] },
    { nsgId: "nic", put: [], delete: [deny] },
  ]);
  const left = applyNsgChanges(during, plan.changes).flatMap((n) => n.securityRules.map((r) => r.name));
  assert.deepEqual(left, ["http", allowRuleName("grant1", "vm1", 22, "TCP"), allowRuleName("grant1", "vm1", 22, "TCP")], "user rules and grants stay");

  const edited = edit(
    edit(during, "subnet", (n) => n.securityRules.map((r) => (r.name === deny ? { ...r, priority: 2000 } : r))),
    "nic",
    (n) => n.securityRules.map((r) => (r.name === deny ? { ...r, description: "our own deny rule now" } : r)),
  );
  const partial = planBaselineRemoval("web", recorded, edited);
  assert.deepEqual(partial.altered.map((a) => [a.recorded.nsgId, a.differences]), [["subnet", ["priority"]]]);
  assert.deepEqual(partial.kept.map((k) => k.recorded.nsgId), ["nic"]);
  assert.deepEqual(planBaselineRemoval("other", recorded, during).changes, [], "another policy's deny rules are not this policy's to remove");
});
