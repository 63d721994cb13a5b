import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../model";
import { principalOfToken, tokenClaims } from "./token";

const jwt = (claims: object) => `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;
const OID = "6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";

test("the caller is the token's object id, named by its UPN, unique name or application id", () => {
  assert.deepEqual(principalOfToken(jwt({ oid: OID, upn: "ana@contoso.com", unique_name: "other" })), { id: OID, name: "ana@contoso.com" });
  assert.deepEqual(principalOfToken(jwt({ oid: OID, unique_name: "live.com#ana@outlook.com" })), { id: OID, name: "live.com#ana@outlook.com" });
  assert.deepEqual(principalOfToken(jwt({ oid: OID, appid: "0f7a2b3c-0000-4000-8000-000000000001" })), { id: OID, name: "0f7a2b3c-0000-4000-8000-000000000001" });
  assert.deepEqual(principalOfToken(jwt({ oid: OID })), { id: OID });
});

test("a token that is not a JWT, or names no object id, cannot identify the caller", () => {
  assert.equal(tokenClaims("opaque"), undefined);
  assert.equal(tokenClaims("a.b.c"), undefined);
  assert.deepEqual(tokenClaims(jwt({ exp: 1 })), { exp: 1 });
  for (const token of ["opaque", jwt({ upn: "ana@contoso.com" })]) {
    assert.throws(() => principalOfToken(token), (e: unknown) => isJitError(e, "Unsupported") && /no object id/.test(String(e)));
  }
});
