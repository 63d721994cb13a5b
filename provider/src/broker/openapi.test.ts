import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { OPENAPI } from "./openapi";
import { POLICY, READER, VM, startHarness } from "./testing/harness";

const SPEC = join(__dirname, "../../../specs/openapi/schema-3.1.json");

function ajv() {
  const a = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats(a);
  return a;
}

test("/v1/openapi.json is a valid OpenAPI 3.1 document, and every schema in it compiles", () => {
  const a = ajv();
  // The schema leaves Schema Objects to the JSON Schema dialect ($dynamicRef "#meta" onto an
  // object-or-boolean anchor); Ajv resolves such a $dynamicRef only from an anchor at the root, so
  // it is pointed at that anchor's definition directly. The dialect's checks are the compiles below.
  const spec = readFileSync(SPEC, "utf8").replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"');
  const validate = a.compile(JSON.parse(spec));
  const doc = JSON.parse(JSON.stringify(OPENAPI)) as typeof OPENAPI;
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
  a.addSchema({ $id: "broker", components: doc.components });
  for (const name of Object.keys(doc.components.schemas)) a.compile({ $ref: `broker#/components/schemas/${name}` });
});

test("every route in the document answers as the document says", async (t) => {
  const h = await startHarness({ admins: [READER] });
  t.after(() => h.close());
  const a = ajv();
  a.addSchema({ $id: "broker", components: JSON.parse(JSON.stringify(OPENAPI.components)) });
  const token = h.authority.token();
  const reader = h.authority.token({ oid: READER });
  const first = await h.call("POST", "/v1/policies/web/initiate", {
    token,
    body: { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] },
  });
  await h.ledger.putPolicy({ policy: { ...POLICY, name: "held", approvers: [READER] }, baseline: {} });
  const hold = (source: string) => ({ token, body: { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] } });
  const toApprove = await h.call("POST", "/v1/policies/held/initiate", hold("203.0.113.20"));
  const toDeny = await h.call("POST", "/v1/policies/held/initiate", hold("203.0.113.21"));
  // One call per documented operation (and the error answers some of them document).
  const calls: [string, string, string, Parameters<typeof h.call>[2], number][] = [
    ["/healthz", "get", "/healthz", {}, 200],
    ["/readyz", "get", "/readyz", {}, 200],
    ["/v1/openapi.json", "get", "/v1/openapi.json", {}, 200],
    ["/v1/auth", "get", "/v1/auth", {}, 200],
    ["/v1/policies", "get", "/v1/policies", { token }, 200],
    ["/v1/policies", "get", "/v1/policies", {}, 401],
    ["/v1/policies/{policy}/initiate", "post", "/v1/policies/web/initiate", { token, body: { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT2H", allowedSourceAddressPrefix: "203.0.113.8" }] }] } }, 201],
    ["/v1/policies/{policy}/initiate", "post", "/v1/policies/web/initiate", { token, body: { virtualMachines: [{ id: VM, ports: [{ number: 23, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.8" }] }] } }, 422],
    ["/v1/policies/{policy}/connect", "post", "/v1/policies/web/connect", { token, body: { vm: VM, port: 22, duration: "PT1H", source: "203.0.113.9" } }, 200],
    ["/v1/policies/{policy}/connect", "post", "/v1/policies/web/connect", { token, body: { vm: VM, port: 23, duration: "PT1H", source: "203.0.113.9" } }, 422],
    ["/v1/grants/{grant}/extend", "post", `/v1/grants/${first.body.id}/extend`, { token, body: { duration: "PT30M" } }, 200],
    ["/v1/grants/{grant}/extend", "post", `/v1/grants/${first.body.id}/extend`, { token, body: { duration: "PT3H" } }, 422],
    ["/v1/grants", "get", "/v1/grants?state=all&limit=10", { token }, 200],
    ["/v1/grants/{grant}", "get", `/v1/grants/${first.body.id}`, { token }, 200],
    ["/v1/grants/{grant}/revoke", "post", `/v1/grants/${first.body.id}/revoke`, { token: reader }, 200],
    ["/v1/grants/{grant}/revoke", "post", `/v1/grants/${first.body.id}/revoke`, { token }, 400],
    ["/v1/policies/{policy}/initiate", "post", "/v1/policies/held/initiate", hold("203.0.113.22"), 202],
    ["/v1/approvals", "get", "/v1/approvals", { token: reader }, 200],
    ["/v1/grants/{grant}/approve", "post", `/v1/grants/${toApprove.body.id}/approve`, { token }, 403],
    ["/v1/grants/{grant}/approve", "post", `/v1/grants/${toApprove.body.id}/approve`, { token: reader }, 200],
    ["/v1/grants/{grant}/deny", "post", `/v1/grants/${toDeny.body.id}/deny`, { token: reader, body: { reason: "not now" } }, 200],
    ["/v1/grants/{grant}/deny", "post", `/v1/grants/${toApprove.body.id}/deny`, { token: reader }, 409],
    ["/v1/grants/{grant}/approve", "post", `/v1/grants/${toApprove.body.id}/approve`, { token: reader, body: { because: "x" } }, 400],
    ["/v1/audit", "get", "/v1/audit?policy=web", { token: reader }, 200],
    ["/v1/audit", "get", "/v1/audit", { token }, 403],
  ];
  const exercised = new Set<string>();
  for (const [template, method, path, options, status] of calls) {
    const res = await h.call(method.toUpperCase(), path, options);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    const operation = (OPENAPI.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>)[template][method];
    const documented = operation.responses[String(status)];
    assert.ok(documented, `${method} ${template} does not document ${status}`);
    const schema = documented.content?.["application/json"].schema as Record<string, unknown>;
    const validate = a.compile(rebase(schema));
    assert.ok(validate(res.body), `${method} ${path} ${status}: ${JSON.stringify(validate.errors)}`);
    exercised.add(`${method} ${template}`);
  }
  const all = Object.entries(OPENAPI.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
  assert.deepEqual([...exercised].sort(), all.sort(), "every operation is exercised");
});

/** Points the document's local references at the schema registered as "broker". */
function rebase(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"broker#/components/'));
}
