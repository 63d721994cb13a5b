import { test } from "node:test";
import assert from "node:assert/strict";
import { Change, isJitError } from "../model";
import type { NsgRule } from "../plan";
import { baselineRecord, recordedDenyRules, recordedRule, ruleChange } from "./record";

const rule: NsgRule = {
  name: "jit-allow-abc-22-tcp-01234567",
  priority: 100,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  description: "jit-allow g=abc p=web v=vm1 exp=2030-01-01T00:00:00Z",
  sourceAddressPrefix: "203.0.113.7",
  sourcePortRange: "*",
  destinationAddressPrefix: "10.0.0.4",
  destinationPortRange: "22",
  destinationPortRanges: [],
};

test("a journal entry holds the rule's properties as written, and gives the rule back", () => {
  const change = ruleChange("/nsg", rule, "intended");
  assert.equal(Change.parse(change).kind, "azure-nsg-rule", "a valid change of the model");
  assert.deepEqual([change.nsgId, change.ruleName, change.priority, "name" in change.rule, "destinationPortRanges" in change.rule], ["/nsg", rule.name, 100, false, false]);
  const { destinationPortRanges: _, ...written } = rule;
  assert.deepEqual(recordedRule(change), written);
  assert.equal(recordedRule({ ...change, rule: { priority: "high" } }), undefined, "an entry this driver did not write is not taken for a rule");
});

test("a baseline record round-trips as JSON; an empty one lists no rules; a foreign one is refused", () => {
  const record = baselineRecord([{ nsgId: "/nsg", rule }]);
  const { destinationPortRanges: _, ...written } = rule;
  assert.deepEqual(recordedDenyRules(JSON.parse(JSON.stringify(record))), [{ nsgId: "/nsg", rule: written }], "without the empty list Azure answers for the unused form");
  assert.deepEqual(recordedDenyRules({}), []);
  assert.deepEqual(recordedDenyRules(undefined), []);
  assert.throws(() => recordedDenyRules({ revoked: [] }), (e: unknown) => isJitError(e, "InvalidInput") && /not one pulumi-jit wrote/.test(String(e)));
});
