import { test } from "node:test";
import assert from "node:assert/strict";
import { POLICY, READER, VM, startHarness } from "./testing/harness";

const initiate = { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }], justification: "INC-1" };

test("an Azure caller with Defender's request action gets, lists and revokes a grant; the broker's driver writes", async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const token = h.authority.token();
  const policies = await h.call("GET", "/v1/policies", { token });
  assert.equal(policies.status, 200);
  assert.deepEqual(policies.body.policies.map((p: { name: string; cloud: string }) => [p.name, p.cloud]), [["web", "azure"]]);
  const made = await h.call("POST", "/v1/policies/web/initiate", { token, body: initiate });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.state, "active");
  assert.equal(made.body.requester, "00000000-0000-0000-0000-0000000000a1");
  assert.equal(h.driver.rules.size, 1);
  assert.deepEqual(h.driver.tokensSeen.slice(-1), [token], "the caller's own token asked ARM for the caller's permissions");
  const mine = await h.call("GET", "/v1/grants", { token });
  assert.deepEqual(mine.body.grants.map((g: { id: string }) => g.id), [made.body.id]);
  const other = h.authority.token({ oid: "00000000-0000-0000-0000-0000000000c3", upn: "bob@example.com" });
  assert.deepEqual((await h.call("GET", "/v1/grants", { token: other })).body.grants, [], "others see only their own grants");
  assert.equal((await h.call("GET", `/v1/grants/${made.body.id}`, { token: other })).status, 404);
  assert.equal((await h.call("POST", `/v1/grants/${made.body.id}/revoke`, { token: other })).status, 403, "only the requester or an admin revokes");
  assert.equal((await h.call("GET", "/v1/audit", { token: other })).status, 403, "the audit log is for readers");
  const reader = h.authority.token({ oid: READER });
  assert.equal((await h.call("GET", "/v1/grants?state=all", { token: reader })).body.grants.length, 1);
  assert.ok((await h.call("GET", "/v1/audit?limit=5", { token: reader })).body.events.length >= 2);
  const revoked = await h.call("POST", `/v1/grants/${made.body.id}/revoke`, { token });
  assert.equal(revoked.status, 200);
  assert.equal(revoked.body.state, "revoked");
  assert.equal(h.driver.rules.size, 0);
});

test("refusals map to statuses: no initiate right 403, outside the policy 422, unknown policy 404, malformed 400; nothing is written", async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const token = h.authority.token();
  h.driver.missing = ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action"];
  const refused = await h.call("POST", "/v1/policies/web/initiate", { token, body: initiate });
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error.code, "Unauthorized");
  assert.match(refused.body.error.message, /lacks Microsoft\.Security\/locations\/jitNetworkAccessPolicies\/initiate\/action/);
  assert.deepEqual((await h.call("GET", "/v1/policies", { token })).body.policies, [], "nothing is listed as requestable");
  h.driver.missing = [];
  const wide = structuredClone(initiate);
  wide.virtualMachines[0].ports[0].allowedSourceAddressPrefix = "198.51.100.1";
  assert.equal((await h.call("POST", "/v1/policies/web/initiate", { token, body: wide })).status, 422);
  assert.equal((await h.call("POST", "/v1/policies/nope/initiate", { token, body: initiate })).status, 404);
  const named = await h.call("POST", "/v1/policies/web/initiate", { token, body: { ...initiate, requester: "someone-else" } });
  assert.equal(named.status, 400);
  assert.match(named.body.error.message, /requester/);
  const myIp = await h.call("POST", "/v1/policies/web/initiate", { token, body: { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H" }] }] } });
  assert.equal(myIp.status, 400, "the loopback address is not a public one to open a port for");
  assert.match(myIp.body.error.message, /not public; name the source address/);
  assert.equal(h.driver.writes, 0);
  assert.equal((await h.call("GET", "/v1/nothing", { token })).status, 404);
  assert.equal((await h.call("DELETE", "/v1/grants", { token })).status, 405);
  assert.equal((await h.call("POST", "/v1/policies/web/initiate", { token, raw: "{", headers: {} })).status, 400);
  assert.equal((await h.call("POST", "/v1/policies/web/initiate", { token, raw: "x=1", headers: { "content-type": "text/plain" } })).status, 415);
  assert.equal((await h.call("POST", "/v1/policies/web/initiate", { token, raw: JSON.stringify({ pad: "x".repeat(70_000) }) })).status, 413);
  assert.equal((await h.call("GET", "/v1/grants?limit=0", { token })).status, 400);
  assert.equal((await h.call("GET", "/v1/grants?state=live&state=all", { token })).status, 400);
});

test("each forged or unfit token is 401 before any cloud call, and an untrusted tenant before any fetch", async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const a = h.authority;
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, string, RegExp][] = [
    ["expired", a.token({ exp: now - 3600 }), /expired/],
    ["not yet valid", a.token({ nbf: now + 3600 }), /not valid yet/],
    ["wrong audience", a.token({ aud: "https://graph.microsoft.com/" }), /aud/],
    ["wrong issuer", a.token({ iss: "https://evil.example/" }), /issuer/],
    ["alg none", a.token({}, { alg: "none" }), /RS256 only/],
    ["HS256", a.token({}, { alg: "HS256" }), /RS256 only/],
    ["another key, same kid", a.token({}, { foreign: true }), /signature/],
    ["another key, unknown kid", a.token({}, { foreign: true, kid: "not-published" }), /key the issuer does not publish/],
    ["tampered payload", a.token({}, { tamper: true }), /signature/],
    ["not a JWT", "abc", /not a signed JWT/],
  ];
  for (const [name, token, reason] of cases) {
    const res = await h.call("GET", "/v1/policies", { token });
    assert.equal(res.status, 401, name);
    assert.equal(res.body.error.code, "Unauthenticated", name);
    assert.match(res.body.error.message, reason, name);
  }
  const before = a.requests.length;
  const otherTenant = await h.call("GET", "/v1/policies", { token: a.token({ tid: "11111111-2222-3333-4444-555555555555" }) });
  assert.equal(otherTenant.status, 401);
  assert.match(otherTenant.body.error.message, /tenant 11111111-2222-3333-4444-555555555555 is not allowed/);
  assert.equal(a.requests.length, before, "an untrusted tenant makes the broker fetch nothing");
  assert.equal((await h.call("GET", "/v1/policies")).status, 401, "no credentials");
  assert.equal((await h.call("GET", "/v1/policies", { headers: { authorization: "Basic YTpi" } })).status, 401);
  assert.deepEqual(h.driver.tokensSeen, [], "no cloud call for any of them");
  assert.equal(h.driver.writes, 0);
});

test("keys are fetched once, fetched again for an unknown kid at most once a minute, and a rotated key is then accepted", async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const keyFetches = () => h.authority.requests.filter((r) => r.endsWith("/keys")).length;
  assert.equal((await h.call("GET", "/v1/grants", { token: h.authority.token() })).status, 200);
  assert.equal((await h.call("GET", "/v1/grants", { token: h.authority.token() })).status, 200);
  assert.equal(keyFetches(), 1, "cached");
  h.authority.rotate();
  assert.equal((await h.call("GET", "/v1/grants", { token: h.authority.token() })).status, 401, "within the refresh interval the new kid is unknown");
  assert.equal(keyFetches(), 1, "and no fetch was made for it");
  h.clock.t += 61_000;
  assert.equal((await h.call("GET", "/v1/grants", { token: h.authority.token() })).status, 200);
  assert.equal(keyFetches(), 2);
  for (let i = 0; i < 5; i++) await h.call("GET", "/v1/grants", { token: h.authority.token({}, { foreign: true, kid: `unknown-${i}` }) });
  assert.equal(keyFetches(), 2, "unknown kids cannot make the broker fetch again and again");
});

test("the caller's token is in no log line, ledger row or response; one log line per request", async (t) => {
  const h = await startHarness();
  t.after(() => h.close());
  const token = h.authority.token();
  const answers: string[] = [];
  answers.push((await h.call("POST", "/v1/policies/web/initiate", { token, body: initiate })).text);
  answers.push((await h.call("GET", "/v1/grants?state=all", { token })).text);
  answers.push((await h.call("GET", "/v1/policies", { token: `${token}x` })).text);
  const signature = token.split(".")[2];
  const ledger = JSON.stringify([await h.ledger.listGrants(), await h.ledger.listAudit(), await h.ledger.listPolicies()]);
  for (const [where, text] of [["logs", h.logs.join("\n")], ["ledger", ledger], ["responses", answers.join("\n")]]) {
    assert.ok(!text.includes(signature) && !text.includes(token.split(".")[1]), `the token appears in the ${where}`);
  }
  const lines = h.logs.map((l) => JSON.parse(l)).filter((l) => l.level === "info");
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => [l.route, l.status, l.outcome, l.caller]),
    [
      ["/v1/policies/{policy}/initiate", 201, "ok", "00000000-0000-0000-0000-0000000000a1"],
      ["/v1/grants", 200, "ok", "00000000-0000-0000-0000-0000000000a1"],
      ["/v1/policies", 401, "Unauthenticated", null],
    ],
  );
  assert.ok(lines.every((l) => typeof l.latencyMs === "number"));
});

test("a caller over the rate limit gets 429 with Retry-After, and its tokens come back with time", async (t) => {
  const h = await startHarness({ limits: { perMinute: 60, burst: 3 } });
  t.after(() => h.close());
  const token = h.authority.token();
  for (let i = 0; i < 3; i++) assert.equal((await h.call("GET", "/v1/grants", { token })).status, 200);
  const limited = await h.call("GET", "/v1/grants", { token });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error.code, "RateLimited");
  h.clock.t += 1000;
  assert.equal((await h.call("GET", "/v1/grants", { token })).status, 200);
});

test("--dev-identity is refused on anything but a loopback address", async () => {
  const { startBroker } = await import("./server");
  await assert.rejects(startBroker({ auth: { devIdentity: "ana" } }, { host: "0.0.0.0", port: 0 }), /only allowed on a loopback address/);
  void POLICY;
});
