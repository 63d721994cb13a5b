import * as pulumi from "@pulumi/pulumi";
import { JitError } from "../model/errors";
import { azureRoleDefinition } from "../roles/azure-role";
import { peerModule } from "../roles/peer";
import { plainValue, requireArgs } from "./args";
import { handlerPackage } from "./aws-broker";
import { BrokerGrants } from "./broker-grants";

export interface AzureJitBrokerArgs {
  /** The resource group the broker's parts go in. */
  resourceGroupName: pulumi.Input<string>;
  location?: pulumi.Input<string>;
  /** Where the broker may open ports: subscriptions, resource groups or resources holding the VMs, NSGs and firewalls. */
  scopes: pulumi.Input<pulumi.Input<string>[]>;
  /** Accept Entra ID tokens from these tenants (GUIDs). */
  tenants: pulumi.Input<pulumi.Input<string>[]>;
  /** Accepted token audiences (default ARM's, as the CLI's tokens carry). */
  audiences?: pulumi.Input<pulumi.Input<string>[]>;
  /** Who may see every grant and the audit log; who may also revoke anybody's grant. */
  readers?: pulumi.Input<pulumi.Input<string>[]>;
  admins?: pulumi.Input<pulumi.Input<string>[]>;
  /** The safety-net sweep's schedule, a 6-field NCRONTAB expression. Default every 5 minutes. */
  sweepSchedule?: pulumi.Input<string>;
  /** Flex Consumption scale: most instances (default 10) and memory per instance in MB (default 2048). */
  maximumInstanceCount?: pulumi.Input<number>;
  instanceMemoryMB?: pulumi.Input<number>;
  /** Admit callers only from these address ranges (CIDR); default any address (every call is authenticated by the broker). */
  allowedIpRanges?: pulumi.Input<pulumi.Input<string>[]>;
  /** The custom role's name, unique in the tenant (default "pulumi-jit Broker (<name>)"). */
  roleName?: pulumi.Input<string>;
  /** The built function package (a directory with index.js, package.json, host.json); default the one shipped in pulumi-jit. */
  handlerPackage?: string;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export const AZURE_BROKER_TYPE = "pulumi-jit:azure:JitBroker";
export const DEFAULT_AZURE_SWEEP_SCHEDULE = "0 */5 * * * *";
export const LEDGER_TABLE = "jitledger";
export const EXPIRY_QUEUE = "jit-expiry";
const DEPLOYMENT_CONTAINER = "app-package";

/** Built-in data roles, by id (the same in every tenant). */
export const DATA_ROLES = {
  tableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  queueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  blobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
} as const;

/**
 * The access broker as an Azure Functions app (Flex Consumption, Node 22, v4 model) with a
 * system-assigned managed identity: HTTP for the broker, a timer for the safety-net sweep, and a
 * queue trigger for exact-time expiry, all from one self-contained package. A storage account
 * (no public blob access, TLS 1.2, HTTPS only) holds the ledger table, the expiry queue and the
 * package. The identity gets a custom role with exactly the broker actions at the scopes named,
 * and data roles on the one table, the one queue and the account's blobs (the Functions host's
 * storage), nothing wider.
 */
export class JitBroker extends pulumi.ComponentResource {
  public readonly brokerUrl: pulumi.Output<string>;
  public readonly ledgerUrl: pulumi.Output<string>;
  /** The app's managed identity. */
  public readonly principalId: pulumi.Output<string>;

  constructor(name: string, args: AzureJitBrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    requireArgs("azure.JitBroker", args, ["resourceGroupName", "scopes", "tenants"]);
    checkArgs(name, args);
    const pkg = handlerPackage(args.handlerPackage, "azure");
    super(AZURE_BROKER_TYPE, name, {}, opts);
    const az = peerModule("@pulumi/azure-native", () => ({
      storage: require("@pulumi/azure-native/storage") as typeof import("@pulumi/azure-native/storage"),
      web: require("@pulumi/azure-native/web") as typeof import("@pulumi/azure-native/web"),
      authorization: require("@pulumi/azure-native/authorization") as typeof import("@pulumi/azure-native/authorization"),
    }));
    const p = { parent: this };
    const { resourceGroupName, tags } = args;
    const where = { resourceGroupName, ...(args.location ? { location: args.location } : {}), ...(tags ? { tags } : {}) };

    const account = new az.storage.StorageAccount(
      `${name}st`,
      {
        ...where,
        kind: "StorageV2",
        sku: { name: "Standard_LRS" },
        allowBlobPublicAccess: false,
        minimumTlsVersion: "TLS1_2",
        enableHttpsTrafficOnly: true,
        encryption: { keySource: "Microsoft.Storage", services: { blob: { enabled: true }, table: { enabled: true, keyType: "Account" }, queue: { enabled: true, keyType: "Account" } } },
      },
      p,
    );
    const inAccount = { resourceGroupName, accountName: account.name };
    const table = new az.storage.Table(`${name}-ledger`, { ...inAccount, tableName: LEDGER_TABLE }, p);
    const queue = new az.storage.Queue(`${name}-expiry`, { ...inAccount, queueName: EXPIRY_QUEUE }, p);
    const container = new az.storage.BlobContainer(`${name}-package`, { ...inAccount, containerName: DEPLOYMENT_CONTAINER, publicAccess: "None" }, p);
    new az.storage.Blob(`${name}-package`, { ...inAccount, containerName: container.name, blobName: "released-package.zip", type: "Block", source: new pulumi.asset.FileArchive(pkg) }, p);

    const endpoint = (service: "table" | "queue" | "blob") => pulumi.interpolate`https://${account.name}.${service}.core.windows.net`;
    const ledgerUrl = pulumi.interpolate`${endpoint("table")}/${LEDGER_TABLE}`;

    const plan = new az.web.AppServicePlan(`${name}-plan`, { ...where, kind: "functionapp", reserved: true, sku: { name: "FC1", tier: "FlexConsumption" } }, p);
    const settings: Record<string, pulumi.Input<string>> = {
      AzureWebJobsStorage__accountName: account.name,
      JIT_STORAGE__queueServiceUri: endpoint("queue"),
      JIT_LEDGER: ledgerUrl,
      JIT_LEDGER_INIT: "true",
      JIT_EXPIRY_QUEUE: pulumi.interpolate`${endpoint("queue")}/${EXPIRY_QUEUE}`,
      JIT_EXPIRY_QUEUE_NAME: EXPIRY_QUEUE,
      JIT_SWEEP_SCHEDULE: args.sweepSchedule ?? DEFAULT_AZURE_SWEEP_SCHEDULE,
      JIT_AZURE_TENANTS: commaList(args.tenants),
      ...(args.audiences ? { JIT_AZURE_AUDIENCES: commaList(args.audiences) } : {}),
      ...(args.readers ? { JIT_READERS: commaList(args.readers) } : {}),
      ...(args.admins ? { JIT_ADMINS: commaList(args.admins) } : {}),
    };
    const restrictions = args.allowedIpRanges
      ? pulumi.output(args.allowedIpRanges).apply((ranges) => [
          ...ranges.map((ipAddress, i) => ({ ipAddress, action: "Allow", priority: 100 + i, name: `allow-${i}` })),
          { ipAddress: "Any", action: "Deny", priority: 2147483647, name: "deny-all" },
        ])
      : undefined;
    const app = new az.web.WebApp(
      `${name}-app`,
      {
        ...where,
        kind: "functionapp,linux",
        serverFarmId: plan.id,
        httpsOnly: true,
        identity: { type: "SystemAssigned" },
        functionAppConfig: {
          deployment: { storage: { type: "blobContainer", value: pulumi.interpolate`${endpoint("blob")}/${DEPLOYMENT_CONTAINER}`, authentication: { type: "SystemAssignedIdentity" } } },
          runtime: { name: "node", version: "22" },
          scaleAndConcurrency: { maximumInstanceCount: args.maximumInstanceCount ?? 10, instanceMemoryMB: args.instanceMemoryMB ?? 2048 },
        },
        siteConfig: {
          appSettings: Object.entries(settings).map(([name, value]) => ({ name, value })),
          minTlsVersion: "1.2",
          ftpsState: "Disabled",
          http20Enabled: true,
          ...(restrictions ? { ipSecurityRestrictions: restrictions, scmIpSecurityRestrictionsUseMain: true } : {}),
        },
      },
      p,
    );
    const principalId = app.identity.apply((identity) => {
      if (!identity?.principalId) throw new JitError("CloudError", "the function app has no managed identity");
      return identity.principalId;
    });
    const subscription = account.id.apply((id) => /^\/subscriptions\/([^/]+)/i.exec(id)?.[1] ?? "");
    const builtIn = (guid: string) => pulumi.interpolate`/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
    const assign = (suffix: string, roleDefinitionId: pulumi.Input<string>, scope: pulumi.Input<string>) =>
      new az.authorization.RoleAssignment(`${name}-${suffix}`, { principalId, principalType: "ServicePrincipal", roleDefinitionId, scope }, p);

    // The data roles, each on the one resource that needs it.
    const dataAssignments = [
      assign("ledger-data", builtIn(DATA_ROLES.tableDataContributor), table.id),
      assign("expiry-data", builtIn(DATA_ROLES.queueDataContributor), queue.id),
      assign("host-data", builtIn(DATA_ROLES.blobDataOwner), account.id),
    ];

    // The broker role: exactly `jit role azure --kind broker`, assignable and assigned at the scopes named.
    const doc = pulumi.all([args.scopes, args.roleName]).apply(([scopes, roleName]) => azureRoleDefinition({ kind: "broker", scope: scopes, name: roleName ?? `pulumi-jit Broker (${name})` }));
    const definition = new az.authorization.RoleDefinition(
      `${name}-role`,
      {
        scope: doc.AssignableScopes[0],
        roleName: doc.Name,
        description: doc.Description,
        roleType: "CustomRole",
        assignableScopes: doc.AssignableScopes,
        permissions: [{ actions: doc.Actions, notActions: doc.NotActions, dataActions: doc.DataActions, notDataActions: doc.NotDataActions }],
      },
      p,
    );
    // Scopes known in the program are assigned as resources the preview shows; others once known.
    const assignAll = (scopes: readonly string[]) => scopes.map((scope, i) => assign(`broker-${i}`, definition.id, scope).id);
    const known = plainValue(args.scopes);
    const brokerAssignments = known ? pulumi.all(assignAll(known)) : pulumi.output(args.scopes).apply((scopes) => pulumi.all(assignAll(scopes)));

    // Deleted before the app and ledger it depends on: ends the live grants first.
    new BrokerGrants(`${name}-grants`, { ledgerUrl }, { parent: this, dependsOn: [app, table, definition, ...dataAssignments] });

    this.brokerUrl = pulumi.interpolate`https://${app.defaultHostName}`;
    this.ledgerUrl = ledgerUrl;
    this.principalId = principalId;
    this.registerOutputs({ brokerUrl: this.brokerUrl, ledgerUrl: this.ledgerUrl, principalId: this.principalId, brokerAssignments });
  }
}

function commaList(value: pulumi.Input<pulumi.Input<string>[]>): pulumi.Output<string> {
  return pulumi.output(value).apply((list) => list.join(","));
}

function checkArgs(name: string, args: AzureJitBrokerArgs): void {
  const plain = plainValue({ scopes: args.scopes, tenants: args.tenants, sweepSchedule: args.sweepSchedule, roleName: args.roleName });
  if (!plain) return;
  if (plain.scopes.length === 0) throw new JitError("InvalidInput", "name at least one scope the broker may open ports in", { field: "scopes" });
  azureRoleDefinition({ kind: "broker", scope: plain.scopes, name: plain.roleName ?? `pulumi-jit Broker (${name})` });
  plain.tenants.forEach((t, i) => {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) throw new JitError("InvalidInput", `"${t}" is not a tenant id (a GUID)`, { field: `tenants[${i}]` });
  });
  if (plain.sweepSchedule !== undefined && plain.sweepSchedule.trim().split(/\s+/).length !== 6) {
    throw new JitError("InvalidInput", `"${plain.sweepSchedule}" is not a 6-field NCRONTAB expression (second minute hour day month weekday, e.g. "0 */5 * * * *")`, { field: "sweepSchedule" });
  }
}
