import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { startAzureEmulator } from "./index";
import { principalClaims } from "./tokens";
import { rawRequest, sdkClients } from "./testing/clients";

test("principal claims: a stable object id per name (case-insensitive) and a UPN", () => {
  const claims = principalClaims("alice");
  assert.match(claims.oid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(claims.upn, "alice@example.com");
  assert.equal(principalClaims("ana@contoso.com").upn, "ana@contoso.com");
  assert.equal(principalClaims("Alice").oid, claims.oid, "object ids are case-insensitive, as names are");
});

test("env() points a process at the emulator: endpoint, CA file (removed on close) and a principal's token", async () => {
  const emu = await startAzureEmulator();
  emu.seed.principal("alice", { actions: ["Microsoft.Compute/virtualMachines/read", "Microsoft.Network/networkSecurityGroups/read"] });
  const env = emu.env("alice");
  assert.equal(env.JIT_AZURE_ENDPOINT, emu.endpoint);
  assert.equal(readFileSync(env.JIT_AZURE_CA_FILE, "utf8"), emu.clientOptions.tlsOptions.ca);
  const claims = JSON.parse(Buffer.from(env.JIT_AZURE_TOKEN.split(".")[1], "base64url").toString());
  assert.deepEqual([claims.oid, claims.upn, claims.name], [emu.claimsFor("alice").oid, "alice@example.com", "alice"]);
  const path = `/subscriptions/${emu.subscriptionId}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`;
  const answer = await rawRequest(emu, "GET", path, { token: env.JIT_AZURE_TOKEN });
  assert.deepEqual(JSON.parse(answer.body).value.map((p: { actions: string[] }) => p.actions), [["Microsoft.Compute/virtualMachines/read", "Microsoft.Network/networkSecurityGroups/read"]]);
  await sdkClients(emu, { principal: "alice" }).network.networkSecurityGroups.listAll().next();
  assert.equal(emu.calls.list({ operation: "NetworkSecurityGroups_ListAll" })[0].principal, "alice");
  await emu.close();
  assert.equal(existsSync(env.JIT_AZURE_CA_FILE), false);
});
