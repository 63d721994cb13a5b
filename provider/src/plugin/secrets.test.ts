import { test } from "node:test";
import assert from "node:assert/strict";
import { isSecret, rewrapSecrets, secret, unwrapSecrets } from "./secrets";

test("secrets are unwrapped wherever they sit, and their top-level keys remembered", () => {
  const { plain, secretKeys } = unwrapSecrets({ a: secret("x"), b: [{ c: secret(secret(1)) }], d: "plain" });
  assert.deepEqual(plain, { a: "x", b: [{ c: 1 }], d: "plain" });
  assert.deepEqual([...secretKeys].sort(), ["a", "b"]);
});

test("outputs are re-marked where inputs were secret, and where derived from them", () => {
  const outs = rewrapSecrets({ a: "x", rules: [1], other: 2, gone: undefined }, new Set(["a", "gone"]), ["a"], ["rules"]);
  assert.ok(isSecret(outs.a) && isSecret(outs.rules));
  assert.equal(outs.other, 2);
  assert.equal(outs.gone, undefined);
  assert.equal(isSecret(rewrapSecrets({ rules: [1] }, new Set(["b"]), ["a"], ["rules"]).rules), false);
});
