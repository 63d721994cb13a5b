import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { createRequire } from "node:module";
import { AzureEmulator, startAzureEmulator } from "./index";
import { rawRequest } from "./testing/clients";

// An independent JWT implementation (the one MSAL uses) checks what the emulator signs.
const jwt = createRequire(__filename)("jsonwebtoken") as {
  verify(token: string, key: string, options: { algorithms: string[]; audience?: string; issuer?: string; clockTimestamp?: number }): Record<string, unknown>;
};

async function getJson(emu: AzureEmulator, url: string) {
  const answer = await rawRequest(emu, "GET", url.slice(emu.endpoint.length));
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

const pemOf = (jwk: Record<string, unknown>) => createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "pem" }).toString();

describe("the Azure emulator as an OIDC issuer", () => {
  it("serves Entra-shaped discovery documents (v1 and v2) and key sets on its own endpoint, for its tenant only", async () => {
    const emu = await startAzureEmulator();
    try {
      const { tenantId, authorityHost, issuer, jwksUri } = emu.identity;
      assert.equal(authorityHost, emu.endpoint);
      const v1 = await getJson(emu, `${authorityHost}/${tenantId}/.well-known/openid-configuration`);
      assert.equal(v1.status, 200);
      assert.equal(v1.body.issuer, `${emu.endpoint}/${tenantId}/`);
      assert.equal(issuer, v1.body.issuer);
      assert.equal(v1.body.jwks_uri, `${emu.endpoint}/common/discovery/keys`);
      assert.equal(jwksUri, v1.body.jwks_uri);
      assert.deepEqual(v1.body.id_token_signing_alg_values_supported, ["RS256"]);
      assert.equal(v1.body.token_endpoint, `${emu.endpoint}/${tenantId}/oauth2/token`);
      const v2 = await getJson(emu, `${authorityHost}/${tenantId}/v2.0/.well-known/openid-configuration`);
      assert.equal(v2.body.issuer, `${emu.endpoint}/${tenantId}/v2.0`);
      assert.equal(v2.body.jwks_uri, `${emu.endpoint}/${tenantId}/discovery/v2.0/keys`);
      for (const url of [jwksUri, String(v2.body.jwks_uri)]) {
        const { body } = await getJson(emu, url);
        const keys = body.keys as Record<string, unknown>[];
        assert.equal(keys.length, 1);
        assert.deepEqual(Object.keys(keys[0]).slice(0, 6).sort(), ["e", "kid", "kty", "n", "use", "x5t"]);
        assert.deepEqual([keys[0].kty, keys[0].use, keys[0].e], ["RSA", "sig", "AQAB"]);
      }
      const other = await getJson(emu, `${authorityHost}/11111111-2222-4333-8444-555555555555/.well-known/openid-configuration`);
      assert.equal(other.status, 400);
      assert.match(String(other.body.error_description), /^AADSTS90002: Tenant '11111111-2222-4333-8444-555555555555' not found/);
      emu.calls.expect({ operation: "OpenIdConnect" }, 5);
    } finally {
      await emu.close();
    }
  });

  it("issues RS256 ARM access tokens that an independent verifier accepts with the published key", async () => {
    const emu = await startAzureEmulator();
    try {
      const token = (await emu.credentialFor("ana@contoso.com").getToken("https://management.azure.com/.default")).token;
      const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
      const { body } = await getJson(emu, emu.identity.jwksUri);
      const [published] = body.keys as Record<string, unknown>[];
      assert.deepEqual([header.alg, header.kid, header.typ], ["RS256", published.kid, "JWT"]);
      const claims = jwt.verify(token, pemOf(published), { algorithms: ["RS256"], audience: "https://management.azure.com/", issuer: emu.identity.issuer });
      const now = Math.floor(Date.now() / 1000);
      assert.equal(claims.tid, emu.identity.tenantId);
      assert.equal(claims.oid, emu.claimsFor("ana@contoso.com").oid);
      assert.equal(claims.upn, "ana@contoso.com");
      assert.equal(claims.ver, "1.0");
      assert.ok(Math.abs(Number(claims.iat) - now) < 5 && claims.nbf === claims.iat && Number(claims.exp) - Number(claims.iat) === 3600);
      assert.equal(typeof claims.sub, "string");
    } finally {
      await emu.close();
    }
  });

  it("ARM refuses every forged, expired or misdirected token with its own 401, and the independent verifier agrees", async () => {
    const emu = await startAzureEmulator();
    try {
      const path = `/subscriptions/${emu.subscriptionId}/providers/Microsoft.Network/networkSecurityGroups?api-version=2024-05-01`;
      const pem = pemOf(((await getJson(emu, emu.identity.jwksUri)).body.keys as Record<string, unknown>[])[0]);
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, string, string, RegExp?][] = [
        ["expired", emu.identity.token("owner", { exp: now - 600, iat: now - 4200, nbf: now - 4200 }), "ExpiredAuthenticationToken", /^The access token expiry UTC time '\d+\/\d+\/\d{4} \d+:\d\d:\d\d [AP]M' is earlier than current UTC time/],
        ["wrong audience", emu.identity.token("owner", { aud: "https://graph.microsoft.com/" }), "InvalidAuthenticationTokenAudience", /wrong audience or resource 'https:\/\/graph\.microsoft\.com\/'/],
        ["wrong issuer", emu.identity.token("owner", { iss: "https://sts.windows.net/11111111-2222-4333-8444-555555555555/" }), "InvalidAuthenticationTokenTenant", /from the wrong issuer/],
        ["wrong tenant", emu.identity.token("owner", { tid: "11111111-2222-4333-8444-555555555555" }), "InvalidAuthenticationTokenTenant"],
        ["not yet valid", emu.identity.token("owner", { nbf: now + 3600 }), "InvalidAuthenticationToken"],
        ["alg none", emu.identity.token("owner", { alg: "none" }), "InvalidAuthenticationToken"],
        ["HS256 keyed with the public key", emu.identity.token("owner", { alg: "HS256" }), "InvalidAuthenticationToken"],
        ["another key", emu.identity.token("owner", { signWith: "foreign" }), "InvalidAuthenticationToken"],
        ["tampered payload", emu.identity.token("owner", { tamper: true }), "InvalidAuthenticationToken"],
        ["not a JWT", "owner", "InvalidAuthenticationToken"],
      ];
      for (const [what, token, code, message] of cases) {
        const answer = await rawRequest(emu, "GET", path, { token });
        const error = JSON.parse(answer.body).error;
        assert.deepEqual([answer.status, error.code], [401, code], what);
        if (message) assert.match(error.message, message, what);
        assert.match(String(answer.headers["www-authenticate"]), /^Bearer authorization_uri=".*", error="invalid_token"/, what);
        if (what !== "wrong tenant") assert.throws(() => jwt.verify(token, pem, { algorithms: ["RS256"], audience: "https://management.azure.com/", issuer: emu.identity.issuer }), what);
      }
      const missing = await rawRequest(emu, "GET", path);
      assert.deepEqual([missing.status, JSON.parse(missing.body).error.code], [401, "AuthenticationFailed"]);
      assert.equal((await rawRequest(emu, "GET", path, { token: emu.identity.token("owner") })).status, 200, "the same request with a good token");
      assert.equal(emu.calls.list({ write: true }).length, 0);
    } finally {
      await emu.close();
    }
  });

  it("rotates keys as Entra does: a new kid signs, the old one stays published until it retires", async () => {
    const clock = { t: Date.parse("2030-01-01T00:00:00Z") };
    const emu = await startAzureEmulator({ now: () => clock.t });
    try {
      const path = `/subscriptions/${emu.subscriptionId}/providers/Microsoft.Network/networkSecurityGroups?api-version=2024-05-01`;
      const kidOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString()).kid as string;
      const before = emu.identity.token("owner", { exp: Math.floor(clock.t / 1000) + 3 * 86400 });
      const kid = emu.identity.rotateKeys();
      const after = emu.identity.token("owner");
      assert.notEqual(kidOf(after), kidOf(before));
      assert.equal(kidOf(after), kid);
      const kids = async () => ((await getJson(emu, emu.identity.jwksUri)).body.keys as { kid: string }[]).map((k) => k.kid);
      assert.deepEqual(await kids(), [kidOf(before), kid]);
      assert.equal((await rawRequest(emu, "GET", path, { token: before })).status, 200, "a token signed before the rotation still verifies");
      assert.equal((await rawRequest(emu, "GET", path, { token: after })).status, 200);
      clock.t += 2 * 86400_000;
      assert.deepEqual(await kids(), [kid], "the old key has retired");
      assert.equal((await rawRequest(emu, "GET", path, { token: before })).status, 401);
    } finally {
      await emu.close();
    }
  });
});
