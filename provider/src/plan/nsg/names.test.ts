import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { isJitError } from "../../model/errors";
import type { Protocol } from "../../model/protocol";
import {
  MAX_DESCRIPTION,
  MAX_RULE_NAME,
  allowRuleDescription,
  allowRuleName,
  denyGroupKey,
  denyRuleDescription,
  denyRuleName,
  parseJitRule,
  sharedDenyRuleDescription,
  sharedDenyRuleName,
  stampTime,
} from "./names";

const AZURE_RULE_NAME = /^\w([\w.-]*\w)?$/;
const EXPIRY = new Date("2030-01-01T12:00:00.250Z");

test("names fit Azure's 80 characters and alphabet, even for the longest and oddest inputs", () => {
  const policy = "p".repeat(28);
  const vm = "v".repeat(28);
  const deny = denyRuleName(policy, vm, "TCP");
  assert.equal(deny, `jit-deny-${policy}-${vm}-tcp-${deny.slice(-8)}`);
  assert.ok(deny.length <= MAX_RULE_NAME && AZURE_RULE_NAME.test(deny), deny);
  const long = denyRuleName("a".repeat(60), "b".repeat(60), "*");
  assert.equal(long.length, MAX_RULE_NAME);
  assert.match(long, AZURE_RULE_NAME);
  assert.notEqual(long, denyRuleName("a".repeat(60), "b".repeat(59) + "c", "*"), "the hash tells apart what the cut hides");
  assert.notEqual(denyRuleName("a-b", "c", "TCP"), denyRuleName("a", "b-c", "TCP"), "the hash tells apart what the dashes hide");
  assert.notEqual(denyRuleName("a.b", "c", "TCP"), denyRuleName("a_b", "c", "TCP"));
  assert.match(denyRuleName("web policy/ü", "vm 1", "UDP"), /^jit-deny-web_policy__-vm_1-udp-[0-9a-f]{8}$/);
  const allow = allowRuleName("g".repeat(40), "vm1", 65535, "*");
  assert.ok(allow.length <= MAX_RULE_NAME && AZURE_RULE_NAME.test(allow), allow);
  assert.match(allowRuleName("abcdefghijkl", "vm1", 22, "TCP"), /^jit-allow-abcdefghijkl-22-tcp-[0-9a-f]{8}$/);
  assert.notEqual(allowRuleName("g1", "vm1", 22, "TCP"), allowRuleName("g1", "vm2", 22, "TCP"));
});

test("descriptions stay within 140 characters at the limits of the inputs, and refuse what cannot be stamped", () => {
  const longest = allowRuleDescription("g".repeat(41), "p".repeat(28), "v".repeat(28), EXPIRY);
  assert.equal(longest.length, MAX_DESCRIPTION);
  assert.equal(longest, `jit-allow g=${"g".repeat(41)} p=${"p".repeat(28)} v=${"v".repeat(28)} exp=2030-01-01T12:00:01Z`);
  assert.equal(denyRuleDescription("web", "vm1"), "jit-deny p=web v=vm1");
  assert.throws(() => allowRuleDescription("g".repeat(42), "p".repeat(28), "v".repeat(28), EXPIRY), (e: unknown) => isJitError(e, "InvalidInput") && /141 characters/.test(String(e)));
  assert.throws(() => denyRuleDescription("my policy", "vm1"), (e: unknown) => isJitError(e, "InvalidInput") && (e as { field?: string }).field === "p");
  assert.throws(() => denyRuleDescription("web", ""), /empty or has spaces/);
});

test("expiry stamps round up to the second, so nothing reading them ends a grant early", () => {
  assert.equal(stampTime(new Date("2030-01-01T12:00:00.000Z")), "2030-01-01T12:00:00Z");
  assert.equal(stampTime(new Date("2030-01-01T12:00:00.001Z")), "2030-01-01T12:00:01Z");
});

test("our rules parse back; user rules, including look-alikes, do not", () => {
  const deny = { name: denyRuleName("web", "vm-1", "*"), description: denyRuleDescription("web", "vm-1") };
  assert.deepEqual(parseJitRule(deny), { kind: "deny", policy: "web", vm: "vm-1", protocol: "*" });
  const allow = { name: allowRuleName("abcdefghijkl", "vm-1", 3389, "UDP"), description: allowRuleDescription("abcdefghijkl", "web", "vm-1", EXPIRY) };
  assert.deepEqual(parseJitRule(allow), {
    kind: "allow",
    policy: "web",
    vm: "vm-1",
    grantId: "abcdefghijkl",
    port: 3389,
    protocol: "UDP",
    expiresAt: new Date("2030-01-01T12:00:01Z"),
  });
  const lookAlikes = [
    { name: "jit-deny-web-vm-1-all-00000000", description: deny.description },
    { name: deny.name, description: undefined },
    { name: deny.name, description: "Allow SSH from the office" },
    { name: deny.name, description: denyRuleDescription("web", "vm-2") },
    { name: deny.name, description: `${deny.description} x=1` },
    { name: deny.name, description: `${deny.description}\nx=1` },
    { name: `${deny.name}\n`, description: deny.description },
    { name: allow.name, description: allow.description.replace("2030-01-01T12:00:01Z", "tomorrow") },
    { name: allow.name, description: allow.description.replace("g=abcdefghijkl", "g=abcdefghijkm") },
    { name: allow.name.replace("-3389-", "-3390-"), description: allow.description },
    { name: "AllowSSH", description: "jit-allow g=a p=b v=c exp=2030-01-01T00:00:00Z" },
  ];
  for (const rule of lookAlikes) assert.equal(parseJitRule(rule), undefined, JSON.stringify(rule));
});

test("shared deny rules: named for their policy, ports and placement, parsed back apart from one-per-VM rules", () => {
  assert.equal(denyGroupKey([3389, 22, 22], 1000), "22.3389-1000");
  const many = Array.from({ length: 12 }, (_, i) => 5000 + i);
  assert.match(denyGroupKey(many, 1101), /^h[0-9a-f]{8}-1101$/, "a long port list is hashed");
  assert.notEqual(denyGroupKey(many, 1101), denyGroupKey([...many, 6000], 1101));
  const shared = { name: sharedDenyRuleName("web", "22.3389-1000", "TCP", 6), description: sharedDenyRuleDescription("web", "22.3389-1000") };
  assert.match(shared.name, /^jit-deny-web-22\.3389-1000-tcp6-[0-9a-f]{8}$/);
  assert.equal(shared.description, "jit-deny p=web g=22.3389-1000");
  assert.deepEqual(parseJitRule(shared), { kind: "deny", policy: "web", group: "22.3389-1000", protocol: "TCP", family: 6 });
  assert.notEqual(sharedDenyRuleName("web", "vm1", "TCP"), denyRuleName("web", "vm1", "TCP"), "a group never takes a VM's rule name");
  for (const rule of [
    { name: shared.name, description: "jit-deny p=web v=22.3389-1000" },
    { name: shared.name, description: "jit-deny p=web g=22.3389-1001" },
    { name: shared.name, description: "jit-deny p=web g=22.3389-1000 v=vm1" },
  ]) {
    assert.equal(parseJitRule(rule), undefined, JSON.stringify(rule));
  }
  const longest = sharedDenyRuleDescription("p".repeat(55), denyGroupKey(many, 4096));
  assert.ok(longest.length <= MAX_DESCRIPTION);
});

test("property: every stamped rule parses back to what was stamped", () => {
  const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,27}$/);
  const protocol = fc.constantFrom<Protocol>("TCP", "UDP", "*");
  fc.assert(
    fc.property(word, word, fc.stringMatching(/^[a-z2-7]{12}$/), fc.integer({ min: 0, max: 65535 }), protocol, fc.date({ min: new Date(0), max: new Date("2100-01-01"), noInvalidDate: true }), (policy, vm, grantId, port, p, at) => {
      const deny = parseJitRule({ name: denyRuleName(policy, vm, p), description: denyRuleDescription(policy, vm) });
      const allow = parseJitRule({ name: allowRuleName(grantId, vm, port, p), description: allowRuleDescription(grantId, policy, vm, at) });
      assert.deepEqual(deny, { kind: "deny", policy, vm, protocol: p });
      assert.ok(allow?.kind === "allow" && allow.grantId === grantId && allow.port === port && allow.protocol === p);
      assert.ok(allow.expiresAt.getTime() >= at.getTime() && allow.expiresAt.getTime() - at.getTime() < 1000);
    }),
    { numRuns: 1000 },
  );
});
