import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isJitError } from "../model";
import { DEFAULT_ENDPOINT, resolveConnection } from "./connection";

test("defaults: public ARM, its scope, and sensible retry pacing", () => {
  const c = resolveConnection({}, {});
  assert.deepEqual([c.endpoint, c.scope, c.ca, c.conflictRetries, c.backoffMs], [DEFAULT_ENDPOINT, "https://management.azure.com/.default", undefined, 8, 250]);
});

test("the environment names the endpoint (its scope follows), a CA file and a bearer token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "jit-azure-"));
  try {
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const exp = Math.floor(Date.parse("2030-01-01T00:00:00Z") / 1000);
    const token = `e30.${Buffer.from(JSON.stringify({ oid: "x", exp })).toString("base64url")}.`;
    const c = resolveConnection({}, { JIT_AZURE_ENDPOINT: "https://management.usgovcloudapi.net/", JIT_AZURE_CA_FILE: join(dir, "ca.pem"), JIT_AZURE_TOKEN: token });
    assert.equal(c.endpoint, "https://management.usgovcloudapi.net");
    assert.equal(c.scope, "https://management.usgovcloudapi.net/.default");
    assert.equal(c.ca, "-----BEGIN CERTIFICATE-----\n");
    assert.deepEqual(await (await c.credential()).getToken(c.scope), { token, expiresOnTimestamp: exp * 1000 });
    assert.equal(resolveConnection({ endpoint: "https://127.0.0.1:8443" }, { JIT_AZURE_ENDPOINT: "https://elsewhere" }).endpoint, "https://127.0.0.1:8443", "given beats the environment");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a wrong endpoint or an unreadable CA file is refused naming the variable", () => {
  assert.throws(() => resolveConnection({}, { JIT_AZURE_ENDPOINT: "not a url" }), (e: unknown) => isJitError(e, "InvalidInput") && /JIT_AZURE_ENDPOINT/.test(String(e)));
  assert.throws(() => resolveConnection({}, { JIT_AZURE_CA_FILE: "/nonexistent/ca.pem" }), (e: unknown) => isJitError(e, "InvalidInput") && /JIT_AZURE_CA_FILE/.test(String(e)));
});
