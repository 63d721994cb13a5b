import { test } from "node:test";
import assert from "node:assert/strict";
import { globMatches } from "./glob";

test("* matches any run, ? one character, everything else itself", () => {
  assert.ok(globMatches("arn:aws:iam::*:role/Ops*", "arn:aws:iam::123456789012:role/OpsAdmin"));
  assert.ok(globMatches("a?c", "abc"));
  assert.ok(globMatches("*", ""));
  assert.ok(!globMatches("a?c", "ac"));
  assert.ok(!globMatches("arn:aws:iam::*:role/Ops", "arn:aws:iam::123456789012:role/OpsAdmin"));
  assert.ok(globMatches("*a*b*c*", "xxaxxbxxcxx"));
  assert.ok(!globMatches("*a*b*c*d", "xxaxxbxxcxx"));
});

test("a pattern that makes regular expressions backtrack exponentially is decided (bounded by the product of the lengths)", () => {
  assert.equal(globMatches(`${"*a".repeat(1000)}b`, "a".repeat(4000)), false);
});
