import { test } from "node:test";
import assert from "node:assert/strict";
import { planSgGrantIngress } from "./grant";
import { MAX_ACCESS_MS } from "../../model/policy";
import { LONGEST_GRANT_MS, judgeGrantRule } from "./ownership";

const NOW = new Date("2030-01-01T12:00:00Z");
const stamped = (hours: number) =>
  planSgGrantIngress({ grantId: "g1", policy: "web", instanceId: "i-1", ports: [{ number: 22, protocol: "TCP", source: "203.0.113.7", expiresAt: new Date(NOW.getTime() + hours * 3_600_000) }] })[0].tags;

test("a rule is a grant's only with complete grant tags and a stamp a grant could have", () => {
  assert.equal(judgeGrantRule(stamped(1), NOW).kind, "grant");
  assert.equal(judgeGrantRule(stamped(25), NOW).kind, "grant", "a day, plus an hour for clocks");
  assert.equal(judgeGrantRule(stamped(-1), NOW).kind, "expired");
  assert.equal(judgeGrantRule(stamped(0), NOW).kind, "expired", "over at its stamp");
  assert.deepEqual(judgeGrantRule(stamped(26), NOW).kind, "foreign");
  assert.deepEqual(judgeGrantRule(undefined, NOW), { kind: "foreign", why: "it carries no grant's tags" });
  assert.equal(judgeGrantRule(stamped(1).filter((t) => t.Key !== "pulumi-jit:policy"), NOW).kind, "foreign", "every grant tag is needed");
});

test("the longest stamp believed is the longest grant a policy allows", () => {
  assert.equal(LONGEST_GRANT_MS, MAX_ACCESS_MS);
});
