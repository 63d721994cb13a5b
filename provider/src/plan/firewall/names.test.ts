import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../model/errors";
import { allowCollectionName, denyCollectionName, dnatCollectionName, parseJitCollection } from "./names";

test("collection names are read back as what they are for, and nobody else's is taken for ours", () => {
  const deny = denyCollectionName("web.prod-1");
  assert.match(deny, /^jit-deny-web\.prod-1-[0-9a-f]{8}$/);
  assert.deepEqual(parseJitCollection(deny), { kind: "deny", policy: "web.prod-1" });
  assert.deepEqual(parseJitCollection(dnatCollectionName("abcdefgh2345")), { kind: "dnat", grantId: "abcdefgh2345" });
  assert.deepEqual(parseJitCollection(allowCollectionName("abcdefgh2345")), { kind: "allow", grantId: "abcdefgh2345" });
  for (const other of ["jit-deny-web-00000000", "jit-dnat-abcdefgh2345", "ssh-in", deny.replace("jit-deny", "jit-allow"), `${deny}x`]) {
    assert.equal(parseJitCollection(other), undefined, other);
  }
});

test("names fit Azure's 80 characters for the longest policy name, end as Azure wants, and differ by owner", () => {
  const longest = "p".repeat(55);
  for (const name of [denyCollectionName(longest), dnatCollectionName("a".repeat(12)), allowCollectionName("a".repeat(12))]) {
    assert.ok(name.length <= 80, name);
    assert.match(name, /^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_]$/);
  }
  assert.notEqual(dnatCollectionName("aaaaaaaaaaaa"), dnatCollectionName("aaaaaaaaaaab"));
  assert.throws(() => denyCollectionName("p".repeat(70)), (e) => isJitError(e, "InvalidInput") && /80 characters/.test(e.message));
  assert.throws(() => denyCollectionName("a b"), (e) => isJitError(e, "InvalidInput"));
});
