import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { DENY_FLOOR, MAX_PRIORITY, MAX_RULES_PER_NSG, MIN_PRIORITY, PrioritySlots } from "./priorities";
import type { RuleRef } from "./types";
import { nsg, userRule } from "../testing/nsg-fixtures";

const ref = (name: string, priority: number): RuleRef => ({ nsgId: "n", name, priority, access: "Allow" });
const capacity = (pattern: RegExp) => (e: unknown) => isJitError(e, "CapacityExceeded") && pattern.test((e as Error).message);

test("deny rules start at 1000, after the rules that keep precedence, at the lowest free number", () => {
  const slots = new PrioritySlots(nsg("n", [userRule("a", 1000), userRule("b", 1001), userRule("c", 2500), userRule("out", 1002, { direction: "Outbound" })]));
  assert.equal(slots.forDeny(undefined), 1002, "outbound numbers do not count: priorities are unique per direction");
  assert.equal(slots.forDeny(ref("early", 300)), 1003);
  assert.equal(slots.forDeny(ref("c", 2500)), 2501);
  assert.equal(slots.forDeny(ref("c", 2500)), 2502, "numbers handed out in this plan are taken");
});

test("allow rules take the lowest free number from 100 up, ahead of what blocks them", () => {
  const slots = new PrioritySlots(nsg("n", [userRule("a", 100), userRule("b", 101), userRule("c", 103)]));
  assert.equal(slots.forAllow(ref("deny", 1000)), 102);
  assert.equal(slots.forAllow(ref("deny", 1000)), 104);
  assert.equal(new PrioritySlots(nsg("e")).forAllow(ref("DenyAllInBound", 65500)), MIN_PRIORITY);
});

test("a rule rewritten under its name keeps its number while that still fits, else gives it back for a new one", () => {
  const ours = userRule("ours", 100);
  const slots = new PrioritySlots(nsg("n", [ours, userRule("b", 101)]));
  assert.equal(slots.forRule(ours, (p) => p < 500, () => slots.forAllow(ref("deny", 500))), 100, "still fits: stays");
  assert.equal(slots.forRule(ours, (p) => p > 300, () => slots.forDeny(ref("last", 300))), 1000, "no longer fits: moves");
  assert.equal(slots.forAllow(ref("deny", 500)), 100, "and its old number is free again");
  assert.equal(slots.forRule(undefined, () => true, () => slots.forAllow(ref("deny", 500))), 102, "a new rule counts against the limit");
});

test("no free number where one is needed fails with CapacityExceeded naming the NSG and the rule in the way", () => {
  const top = nsg("nsg-top", [userRule("last", MAX_PRIORITY)]);
  assert.throws(() => new PrioritySlots(top).forDeny(ref("last", MAX_PRIORITY)), capacity(/NSG nsg-top has no free priority after rule last \(4096\)/));
  const tail = nsg("nsg-tail", [4090, 4091, 4092, 4093, 4094, 4095, 4096].map((p) => userRule(`r${p}`, p)));
  assert.throws(() => new PrioritySlots(tail).forDeny(ref("r4090", 4090)), capacity(/nsg-tail/));
  assert.throws(() => new PrioritySlots(tail).forDeny(ref("r4089", 4089)), capacity(/after rule r4089/), "4090 to 4096 are all taken");
  assert.equal(new PrioritySlots(tail).forDeny(ref("r4088", 4088)), 4089);
  const front = nsg("nsg-front", [100, 101, 102, 103, 104].map((p) => userRule(`r${p}`, p)));
  assert.throws(() => new PrioritySlots(front).forAllow(ref("JIT deny", 105)), capacity(/NSG nsg-front has no free priority ahead of rule JIT deny \(105\)/));
  assert.equal(new PrioritySlots(front).forAllow(ref("JIT deny", 106)), 105);
});

test("a full NSG (1,000 rules) takes no more", () => {
  const full = nsg("nsg-full", Array.from({ length: MAX_RULES_PER_NSG }, (_, i) => userRule(`r${i}`, DENY_FLOOR + i)));
  const slots = new PrioritySlots(full);
  assert.throws(() => slots.addRule(), capacity(/NSG nsg-full already has 1000 rules, the most Azure allows/));
  const almost = new PrioritySlots(nsg("n", full.securityRules.slice(1)));
  almost.addRule();
  assert.throws(() => almost.addRule(), capacity(/already has 1000 rules/));
});

test("rules the same plan deletes give back their numbers and their place in the limit; a deny rule can be held ahead of a rule", () => {
  const full = nsg("nsg-full", Array.from({ length: MAX_RULES_PER_NSG }, (_, i) => userRule(`r${i}`, DENY_FLOOR + i)));
  const slots = new PrioritySlots(full, ["r0", "r1"]);
  assert.equal(slots.forDeny(undefined), DENY_FLOOR, "r0's number is free: the NSG is written whole");
  slots.addRule();
  slots.addRule();
  assert.throws(() => slots.addRule(), capacity(/already has 1000 rules/), "r0 and r1 leave, two new ones fit, a third does not");
  const behind = nsg("nsg-b", [userRule("a", 1000), userRule("b", 1001), userRule("late", 1003)]);
  assert.equal(new PrioritySlots(behind).forDeny(undefined, ref("late", 1003)), 1002);
  assert.throws(() => new PrioritySlots(behind).forDeny(undefined, ref("b", 1001)), capacity(/NSG nsg-b has no free priority ahead of rule b \(1001\), which must stay behind it, between 1000 and 1000/));
});
