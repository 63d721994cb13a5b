// azure.JitBroker under Pulumi mocks: a Flex Consumption function app with a managed identity, a
// locked-down storage account with the ledger table and expiry queue, the broker role (exactly
// `jit role azure --kind broker`) at the named scopes, and data roles on the one table, queue and
// account; nothing public that should not be.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { azure } from "../../provider/src";
import { azureActions } from "../../provider/src/roles";
import { RegisteredResource, outputOf, runMockProgram } from "../support/pulumi";

const SUB = "6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const RG = `/subscriptions/${SUB}/resourceGroups`;
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SCOPES = [`${RG}/app`, `${RG}/data`];

const mocks = {
  newResource: (a: { type: string; name: string; inputs: Record<string, unknown> }) => {
    const id = `${RG}/jit/providers/${a.type.split(":")[1]}/${a.name}`;
    const extra: Record<string, unknown> =
      a.type === "azure-native:storage:StorageAccount"
        ? { name: "jitst123" }
        : a.type === "azure-native:web:WebApp"
          ? { identity: { type: "SystemAssigned", principalId: "11111111-2222-3333-4444-555555555555" }, defaultHostName: "jit-app.azurewebsites.net" }
          : a.type === "azure-native:storage:Table"
            ? { name: a.inputs.tableName }
            : a.type === "azure-native:storage:Queue"
              ? { name: a.inputs.queueName }
              : a.type === "azure-native:storage:BlobContainer"
                ? { name: a.inputs.containerName }
                : {};
    return { id, state: { ...a.inputs, ...extra } };
  },
};

function fakePackage(): string {
  const dir = mkdtempSync(join(tmpdir(), "jit-pkg-"));
  writeFileSync(join(dir, "index.js"), "");
  return dir;
}

const one = (resources: RegisteredResource[], type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `${type} ${name} registered`);
  return found.inputs as Record<string, unknown>;
};

test("azure.JitBroker: function app with a managed identity, storage with ledger and queue, the broker role at the scopes and data roles on the one table, queue and account", async () => {
  const handlerPackage = fakePackage();
  const { result, resources } = await runMockProgram(
    () => new azure.JitBroker("jit", { resourceGroupName: "jit", location: "westeurope", scopes: SCOPES, tenants: [TENANT], admins: ["ops@contoso.com"], allowedIpRanges: ["198.51.100.0/24"], handlerPackage }),
    { mocks, runProviders: false },
  );
  assert.deepEqual(resources.map((r) => `${r.type} ${r.name}`).sort(), [
    "azure-native:authorization:RoleAssignment jit-broker-0",
    "azure-native:authorization:RoleAssignment jit-broker-1",
    "azure-native:authorization:RoleAssignment jit-expiry-data",
    "azure-native:authorization:RoleAssignment jit-host-data",
    "azure-native:authorization:RoleAssignment jit-ledger-data",
    "azure-native:authorization:RoleDefinition jit-role",
    "azure-native:storage:Blob jit-package",
    "azure-native:storage:BlobContainer jit-package",
    "azure-native:storage:Queue jit-expiry",
    "azure-native:storage:StorageAccount jitst",
    "azure-native:storage:Table jit-ledger",
    "azure-native:web:AppServicePlan jit-plan",
    "azure-native:web:WebApp jit-app",
    "pulumi-jit:azure:JitBroker jit",
    "pulumi-nodejs:dynamic/pulumi-jit/broker:BrokerGrants jit-grants",
  ]);
  assert.doesNotMatch(JSON.stringify(resources.map((r) => r.inputs)), /FullAccess|"\*"|Owner"/);

  const account = one(resources, "azure-native:storage:StorageAccount", "jitst");
  assert.equal(account.allowBlobPublicAccess, false);
  assert.equal(account.minimumTlsVersion, "TLS1_2");
  assert.equal(account.enableHttpsTrafficOnly, true);
  assert.equal(one(resources, "azure-native:storage:BlobContainer", "jit-package").publicAccess, "None");

  const plan = one(resources, "azure-native:web:AppServicePlan", "jit-plan");
  assert.deepEqual(plan.sku, { name: "FC1", tier: "FlexConsumption" });
  const app = one(resources, "azure-native:web:WebApp", "jit-app");
  assert.equal(app.kind, "functionapp,linux");
  assert.equal(app.httpsOnly, true);
  assert.deepEqual(app.identity, { type: "SystemAssigned" });
  const config = app.functionAppConfig as { runtime: unknown; deployment: { storage: { authentication: unknown } } };
  assert.deepEqual(config.runtime, { name: "node", version: "22" });
  assert.deepEqual(config.deployment.storage.authentication, { type: "SystemAssignedIdentity" }, "the package is read with the app's identity, not a key");
  const site = app.siteConfig as { appSettings: { name: string; value: string }[]; ipSecurityRestrictions: unknown[]; minTlsVersion: string; ftpsState: string };
  const settings = Object.fromEntries(site.appSettings.map((s) => [s.name, s.value]));
  assert.deepEqual(settings, {
    AzureWebJobsStorage__accountName: "jitst123",
    JIT_STORAGE__queueServiceUri: "https://jitst123.queue.core.windows.net",
    JIT_LEDGER: "https://jitst123.table.core.windows.net/jitledger",
    JIT_LEDGER_INIT: "true",
    JIT_EXPIRY_QUEUE: "https://jitst123.queue.core.windows.net/jit-expiry",
    JIT_EXPIRY_QUEUE_NAME: "jit-expiry",
    JIT_SWEEP_SCHEDULE: "0 */5 * * * *",
    JIT_AZURE_TENANTS: TENANT,
    JIT_ADMINS: "ops@contoso.com",
  });
  assert.doesNotMatch(JSON.stringify(settings), /AccountKey|SharedAccessSignature/, "no storage key in the settings");
  assert.deepEqual(site.ipSecurityRestrictions, [
    { ipAddress: "198.51.100.0/24", action: "Allow", priority: 100, name: "allow-0" },
    { ipAddress: "Any", action: "Deny", priority: 2147483647, name: "deny-all" },
  ]);
  assert.equal(site.minTlsVersion, "1.2");
  assert.equal(site.ftpsState, "Disabled");

  // The broker role: exactly the broker actions, assignable and assigned at the two scopes only.
  const role = one(resources, "azure-native:authorization:RoleDefinition", "jit-role");
  assert.deepEqual(role.permissions, [{ actions: azureActions("broker"), notActions: [], dataActions: [], notDataActions: [] }]);
  assert.deepEqual(role.assignableScopes, SCOPES);
  const principal = "11111111-2222-3333-4444-555555555555";
  const definitionId = `${RG}/jit/providers/authorization/jit-role`;
  SCOPES.forEach((scope, i) =>
    assert.deepEqual(one(resources, "azure-native:authorization:RoleAssignment", `jit-broker-${i}`), { principalId: principal, principalType: "ServicePrincipal", roleDefinitionId: definitionId, scope }),
  );
  // Data roles on the one table, the one queue, and the account's blobs (the Functions host's storage).
  const builtIn = (guid: string) => `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
  assert.deepEqual(one(resources, "azure-native:authorization:RoleAssignment", "jit-ledger-data"), {
    principalId: principal, principalType: "ServicePrincipal", roleDefinitionId: builtIn("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"), scope: `${RG}/jit/providers/storage/jit-ledger`,
  });
  assert.deepEqual(one(resources, "azure-native:authorization:RoleAssignment", "jit-expiry-data"), {
    principalId: principal, principalType: "ServicePrincipal", roleDefinitionId: builtIn("974c5e8b-45b9-4653-ba55-5f855dd0fb88"), scope: `${RG}/jit/providers/storage/jit-expiry`,
  });
  assert.deepEqual(one(resources, "azure-native:authorization:RoleAssignment", "jit-host-data"), {
    principalId: principal, principalType: "ServicePrincipal", roleDefinitionId: builtIn("b7e6dc6d-f1e8-4753-8033-0f276bb0955b"), scope: `${RG}/jit/providers/storage/jitst`,
  });

  assert.equal(await outputOf(result.brokerUrl), "https://jit-app.azurewebsites.net");
  assert.equal(await outputOf(result.ledgerUrl), "https://jitst123.table.core.windows.net/jitledger");
  assert.equal(await outputOf(result.principalId), principal);
});

test("azure.JitBroker refuses wrong arguments before anything registers", () => {
  const handlerPackage = fakePackage();
  const base = { resourceGroupName: "jit", scopes: SCOPES, tenants: [TENANT], handlerPackage };
  assert.throws(() => new azure.JitBroker("b", { ...base, scopes: [] }), (e: { field?: string }) => e.field === "scopes");
  assert.throws(() => new azure.JitBroker("b", { ...base, scopes: ["everything"] }), /not an assignable scope/);
  assert.throws(() => new azure.JitBroker("b", { ...base, tenants: ["contoso"] }), (e: { field?: string }) => e.field === "tenants[0]");
  assert.throws(() => new azure.JitBroker("b", { ...base, sweepSchedule: "*/5 * * * *" }), (e: { field?: string }) => e.field === "sweepSchedule");
  assert.throws(() => new azure.JitBroker("b", { resourceGroupName: "jit", scopes: SCOPES } as never), /needs `tenants`/);
});
