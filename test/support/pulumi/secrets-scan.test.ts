import { test } from "node:test";
import assert from "node:assert/strict";
import { assertNoSecretsIn, findSecretsIn, wrapSecret } from "./index";

const TOKEN = "tok-9c41be77";

test("declared secrets and credential-shaped strings are found, by path", () => {
  const state = {
    ruleName: `allow-22-${TOKEN}`,
    rules: [{ description: "ok" }, { description: "key AKIAIOSFODNN7EXAMPLE" }],
    __provider: 'exports.handler = __f0; var __config = { secret: "abc8Q~abcdefghijklmnopqrstuvwxyz0123456" };',
    headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U" },
  };
  assert.deepEqual(findSecretsIn(state, [TOKEN]), [
    { path: "state.ruleName", what: 'the secret "tok…" (12 characters)' },
    { path: "state.rules[1].description", what: "an AWS access key id" },
    { path: "state.__provider", what: "an Azure AD client secret" },
    { path: "state.headers.authorization", what: "a JSON web token" },
    { path: "state.headers.authorization", what: "a bearer token" },
  ]);
});

test("values the engine stores encrypted (secret-wrapped) are not findings", () => {
  assert.deepEqual(findSecretsIn({ token: wrapSecret(TOKEN), nested: [wrapSecret({ t: TOKEN })] }, [TOKEN]), []);
});

test("ordinary state passes, and a failure names the path without repeating the secret", () => {
  assertNoSecretsIn({ id: "rule-1", port: 22, source: "203.0.113.0/24", ruleName: "allow-22" }, [TOKEN]);
  assert.throws(
    () => assertNoSecretsIn({ outs: { note: `token=${TOKEN}` } }, [TOKEN], "outputs"),
    (err: Error) => {
      assert.match(err.message, /outputs\.outs\.note: the secret "tok…"/);
      assert.doesNotMatch(err.message, new RegExp(TOKEN));
      return true;
    },
  );
});
