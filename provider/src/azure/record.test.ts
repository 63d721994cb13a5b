import { test } from "node:test";
import assert from "node:assert/strict";
import { Change, isJitError } from "../model";
import type { NsgRule } from "../plan";
import { baselineRecord, natChange, recordedDenyRules, recordedFirewallDenyRules, recordedFirewallRules, recordedRule, ruleChange } from "./record";

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

test("a firewall grant change holds the DNAT rule as written and the allow rule beside it, and gives both back", () => {
  const dnat = { name: "jit-allow-abc-22-tcp-01234567", description: "jit-allow g=abc p=web v=vm1 exp=2030-01-01T00:00:00Z", protocols: ["TCP" as const], sourceAddresses: ["203.0.113.7"], destinationAddresses: ["198.51.100.10"], destinationPorts: ["50022"], translatedAddress: "10.0.0.4", translatedPort: "22" };
  const allow = { name: dnat.name, description: dnat.description, protocols: ["TCP" as const], sourceAddresses: ["203.0.113.7"], destinationAddresses: ["10.0.0.4"], destinationPorts: ["22"], destinationFqdns: [] };
  const change = natChange("/fw", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", { vm: "vm1", port: 22, protocol: "TCP", mappedPort: 50022, dnatCollection: "jit-dnat-abc-0", dnat, allow: { collection: "jit-allow-abc-0", rule: allow } }, "applied");
  assert.equal(Change.parse(change).kind, "azure-firewall-nat-rule", "a valid change of the model");
  assert.deepEqual([change.collectionName, change.ruleName, change.mappedPort, change.rule.destinationAddresses], ["jit-dnat-abc-0", dnat.name, 50022, ["198.51.100.10"]]);
  const { destinationFqdns: _, ...written } = allow;
  assert.deepEqual(recordedFirewallRules(change), [
    { kind: "nat", collection: "jit-dnat-abc-0", rule: dnat },
    { kind: "network", collection: "jit-allow-abc-0", rule: written },
  ]);
  assert.equal(recordedFirewallRules({ ...change, rule: { protocols: "TCP" } }), undefined, "an entry this driver did not write is not taken for rules");
});

test("a baseline record keeps firewall deny rules beside the NSG ones, and an NSG-only record keeps its shape", () => {
  const deny = { firewallId: "/fw", collectionName: "jit-deny-web-0", priority: 10000, rule: { name: "jit-deny-web-vm1-tcp-0", protocols: ["TCP" as const], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.4"], destinationPorts: ["22"] } };
  const record = JSON.parse(JSON.stringify(baselineRecord([{ nsgId: "/nsg", rule }], [deny])));
  assert.deepEqual(recordedFirewallDenyRules(record), [deny]);
  assert.deepEqual(Object.keys(baselineRecord([{ nsgId: "/nsg", rule }])), ["denyRules"]);
  assert.deepEqual(recordedFirewallDenyRules({ denyRules: [] }), []);
});
