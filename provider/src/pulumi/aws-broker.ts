import { existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { JitError } from "../model/errors";
import { peerModule } from "../roles/peer";
import { brokerFunctionPolicy } from "../serverless/aws/policy";
import { plainValue } from "./args";
import { BrokerGrants } from "./broker-grants";

export interface AwsJitBrokerArgs {
  /** The instances the broker may open, by ARN. Exclusive with `tag`; without either, every instance (as `jit role aws --kind broker`). */
  instanceArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** Or every instance carrying this tag. */
  tag?: pulumi.Input<{ key: pulumi.Input<string>; value: pulumi.Input<string> }>;
  /** Narrow the broker role's other EC2 ARNs to a region and account (default any). */
  region?: pulumi.Input<string>;
  accountId?: pulumi.Input<string>;
  /** The safety-net sweep's schedule (EventBridge). Default `rate(5 minutes)`. */
  sweepSchedule?: pulumi.Input<string>;
  /** Close each grant at its end with a one-time EventBridge Scheduler schedule. Default true. */
  exactTimeExpiry?: boolean;
  /**
   * How callers reach the broker: `AWS_IAM` (default) — the function URL only admits requests signed
   * with SigV4 by a principal allowed `lambda:InvokeFunctionUrl`, and the broker takes the identity AWS
   * verified; `NONE` — the URL is reachable by anyone and the broker authenticates every call itself
   * (`awsStsEndpoints` with `brokerId`, or `azureTenants`), as `jit serve` does.
   */
  authType?: "AWS_IAM" | "NONE";
  /** With `authType: "NONE"`: accept signed STS requests for these endpoints, signed for `brokerId`. */
  awsStsEndpoints?: pulumi.Input<pulumi.Input<string>[]>;
  brokerId?: pulumi.Input<string>;
  /** Accept Entra ID tokens from these tenants. */
  azureTenants?: pulumi.Input<pulumi.Input<string>[]>;
  /** Who may see every grant and the audit log; who may also revoke anybody's grant. */
  readers?: pulumi.Input<pulumi.Input<string>[]>;
  admins?: pulumi.Input<pulumi.Input<string>[]>;
  /** Memory of the broker function in MB (default 512); the sweep and expiry functions get the same. */
  memorySize?: pulumi.Input<number>;
  /** Days the functions' logs are kept (default 30). */
  logRetentionDays?: pulumi.Input<number>;
  /** Run the functions in a VPC (subnets and security groups), for networks that reach EC2 and DynamoDB only through endpoints. */
  vpcConfig?: pulumi.Input<{ subnetIds: pulumi.Input<pulumi.Input<string>[]>; securityGroupIds: pulumi.Input<pulumi.Input<string>[]> }>;
  /** The built function package (a directory with index.js); default the one shipped in pulumi-jit (dist/serverless/aws). */
  handlerPackage?: string;
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export const AWS_BROKER_TYPE = "pulumi-jit:aws:JitBroker";
export const DEFAULT_SWEEP_SCHEDULE = "rate(5 minutes)";
const LAMBDA_BASIC_LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"];

/**
 * The parts of @pulumi/aws the broker makes, typed one by one: `typeof import("@pulumi/aws")`
 * would have the type-check read the declarations of every AWS service (some 2,700 files).
 */
interface AwsModules {
  cloudwatch: typeof import("@pulumi/aws/cloudwatch");
  dynamodb: typeof import("@pulumi/aws/dynamodb");
  iam: typeof import("@pulumi/aws/iam");
  lambda: typeof import("@pulumi/aws/lambda");
  scheduler: typeof import("@pulumi/aws/scheduler");
}

/**
 * The access broker as serverless AWS parts: three Lambda functions from one self-contained
 * package (the broker behind a function URL, the safety-net sweep on an EventBridge rule, the
 * per-grant expiry invoked by one-time EventBridge Scheduler schedules), a DynamoDB ledger, one log
 * group with retention, and one IAM role holding exactly the broker role plus the ledger table,
 * its own schedules and its own log group. No managed policy is attached.
 */
export class JitBroker extends pulumi.ComponentResource {
  /** The broker's URL, for `jit request --broker` and BrokerClient. */
  public readonly brokerUrl: pulumi.Output<string>;
  /** The ledger, as `--ledger` / JIT_LEDGER take it. */
  public readonly ledgerUrl: pulumi.Output<string>;
  /** The functions' role. */
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: AwsJitBrokerArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    checkArgs(args);
    const pkg = handlerPackage(args.handlerPackage, "aws");
    super(AWS_BROKER_TYPE, name, {}, opts);
    const aws = peerModule("@pulumi/aws", () => require("@pulumi/aws") as AwsModules);
    const p = { parent: this };
    const tags = args.tags;
    const exact = args.exactTimeExpiry ?? true;
    const region = args.region ?? new pulumi.Config("aws").get("region");

    const table = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        rangeKey: "sk",
        attributes: [
          { name: "pk", type: "S" },
          { name: "sk", type: "S" },
          { name: "dueShard", type: "S" },
          { name: "dueAt", type: "N" },
        ],
        globalSecondaryIndexes: [{ name: "due", hashKey: "dueShard", rangeKey: "dueAt", projectionType: "KEYS_ONLY" }],
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true },
        ...(tags ? { tags } : {}),
      },
      p,
    );
    // The ledger's schema marker, as `jit ledger init` writes it: the functions may not create tables.
    new aws.dynamodb.TableItem(
      `${name}-ledger-schema`,
      { tableName: table.name, hashKey: "pk", rangeKey: "sk", item: JSON.stringify({ pk: { S: "meta" }, sk: { S: "schema" }, version: { N: "1" } }) },
      p,
    );
    const ledgerUrl = pulumi.interpolate`dynamodb://${table.name}${region ? pulumi.interpolate`?region=${region}` : ""}`;

    const logs = new aws.cloudwatch.LogGroup(`${name}-logs`, { retentionInDays: args.logRetentionDays ?? 30, ...(tags ? { tags } : {}) }, p);
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "pulumi-jit broker functions: the broker role, the ledger table, its own expiry schedules and log group",
        assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
        ...(tags ? { tags } : {}),
      },
      p,
    );

    const environment = (extra: Record<string, pulumi.Input<string>> = {}) => ({
      variables: {
        JIT_LEDGER: ledgerUrl,
        ...commaList("JIT_READERS", args.readers),
        ...commaList("JIT_ADMINS", args.admins),
        ...commaList("JIT_AZURE_TENANTS", args.azureTenants),
        ...commaList("JIT_AWS_STS_ENDPOINTS", args.awsStsEndpoints),
        ...(args.brokerId !== undefined ? { JIT_BROKER_ID: args.brokerId } : {}),
        ...extra,
      },
    });
    const code = new pulumi.asset.FileArchive(pkg);
    const fn = (suffix: string, handler: string, extra: Partial<import("@pulumi/aws/lambda").FunctionArgs>, env: Record<string, pulumi.Input<string>> = {}) =>
      new aws.lambda.Function(
        `${name}-${suffix}`,
        {
          runtime: "nodejs22.x",
          architectures: ["arm64"],
          handler,
          code,
          role: role.arn,
          memorySize: args.memorySize ?? 512,
          environment: environment(env),
          loggingConfig: { logFormat: "Text", logGroup: logs.name },
          ...(args.vpcConfig ? { vpcConfig: args.vpcConfig } : {}),
          ...(tags ? { tags } : {}),
          ...extra,
        },
        p,
      );

    const expire = fn("expire", "index.expire", { timeout: 120, description: "pulumi-jit: end one grant at its end (invoked by its one-time schedule)" });
    let expiry: { group: import("@pulumi/aws/scheduler").ScheduleGroup; role: import("@pulumi/aws/iam").Role } | undefined;
    if (exact) {
      const group = new aws.scheduler.ScheduleGroup(`${name}-expiry`, { ...(tags ? { tags } : {}) }, p);
      const schedulerRole = new aws.iam.Role(
        `${name}-scheduler`,
        {
          description: "pulumi-jit: EventBridge Scheduler invokes the broker's expiry function",
          assumeRolePolicy: group.arn.apply((arn) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Principal: { Service: "scheduler.amazonaws.com" },
                  Action: "sts:AssumeRole",
                  // Only schedules of the broker's own group may use the role.
                  Condition: { ArnLike: { "aws:SourceArn": `${arn.replace(":schedule-group/", ":schedule/")}/*` } },
                },
              ],
            }),
          ),
          ...(tags ? { tags } : {}),
        },
        p,
      );
      new aws.iam.RolePolicy(
        `${name}-scheduler-invoke`,
        { role: schedulerRole.id, policy: expire.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [arn] }] })) },
        p,
      );
      expiry = { group, role: schedulerRole };
    }

    const policy = pulumi
      .all([args.instanceArns, args.tag, args.region, args.accountId, table.arn, logs.arn, expiry?.group.arn, expiry?.role.arn])
      .apply(([instanceArns, tag, scopeRegion, accountId, ledgerTableArn, logArn, groupArn, schedulerRoleArn]) => {
        const doc = brokerFunctionPolicy({
          ...(instanceArns ? { instanceArns } : {}),
          ...(tag ? { tag } : {}),
          ...(scopeRegion ? { region: scopeRegion } : {}),
          ...(accountId ? { accountId } : {}),
          ledgerTableArn,
          ...(groupArn && schedulerRoleArn ? { expiry: { scheduleGroupArn: groupArn, schedulerRoleArn } } : {}),
        });
        doc.Statement.push({ Sid: "OwnLogs", Effect: "Allow", Action: LAMBDA_BASIC_LOGS, Resource: [`${logArn}:*`] });
        return JSON.stringify(doc);
      });
    const rolePolicy = new aws.iam.RolePolicy(`${name}-broker`, { role: role.id, policy }, p);
    const after = { parent: this, dependsOn: [rolePolicy] };

    const http = fn(
      "http",
      "index.http",
      { timeout: 30, description: "pulumi-jit: the access broker (HTTP)" },
      expiry ? { JIT_EXPIRY_TARGET_ARN: expire.arn, JIT_EXPIRY_ROLE_ARN: expiry.role.arn, JIT_EXPIRY_GROUP: expiry.group.name } : {},
    );
    const url = new aws.lambda.FunctionUrl(`${name}-url`, { functionName: http.name, authorizationType: args.authType ?? "AWS_IAM" }, after);

    const sweep = fn("sweep", "index.sweep", { timeout: 300, reservedConcurrentExecutions: 1, description: "pulumi-jit: the safety-net sweep" });
    const rule = new aws.cloudwatch.EventRule(`${name}-sweep`, { scheduleExpression: args.sweepSchedule ?? DEFAULT_SWEEP_SCHEDULE, description: "pulumi-jit: run the safety-net sweep", ...(tags ? { tags } : {}) }, p);
    new aws.cloudwatch.EventTarget(`${name}-sweep`, { rule: rule.name, arn: sweep.arn, retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 } }, p);
    new aws.lambda.Permission(`${name}-sweep`, { action: "lambda:InvokeFunction", function: sweep.name, principal: "events.amazonaws.com", sourceArn: rule.arn }, p);

    // Deleted before the ledger and functions it depends on: ends the live grants first.
    new BrokerGrants(`${name}-grants`, { ledgerUrl }, { parent: this, dependsOn: [table, rolePolicy, http, expire, sweep] });

    this.brokerUrl = url.functionUrl;
    this.ledgerUrl = ledgerUrl;
    this.roleArn = role.arn;
    this.registerOutputs({ brokerUrl: this.brokerUrl, ledgerUrl: this.ledgerUrl, roleArn: this.roleArn });
  }
}

function commaList(key: string, value: pulumi.Input<pulumi.Input<string>[]> | undefined): Record<string, pulumi.Output<string>> {
  if (value === undefined) return {};
  return { [key]: pulumi.output(value).apply((list) => list.join(",")) };
}

function checkArgs(args: AwsJitBrokerArgs): void {
  const plain = plainValue({ authType: args.authType, awsStsEndpoints: args.awsStsEndpoints, brokerId: args.brokerId, sweepSchedule: args.sweepSchedule, logRetentionDays: args.logRetentionDays });
  if (!plain) return;
  if (plain.authType !== undefined && plain.authType !== "AWS_IAM" && plain.authType !== "NONE") {
    throw new JitError("InvalidInput", `authType is "AWS_IAM" or "NONE", not ${JSON.stringify(plain.authType)}`, { field: "authType" });
  }
  if (plain.awsStsEndpoints?.length && !plain.brokerId) throw new JitError("InvalidInput", "AWS callers sign for a broker id: give brokerId with awsStsEndpoints", { field: "brokerId" });
  if (plain.sweepSchedule !== undefined && !/^(rate|cron)\(.{1,250}\)$/.test(plain.sweepSchedule)) {
    throw new JitError("InvalidInput", `"${plain.sweepSchedule}" is not an EventBridge schedule expression (rate(5 minutes), cron(0/5 * * * ? *))`, { field: "sweepSchedule" });
  }
  if (plain.logRetentionDays !== undefined && !RETENTION_DAYS.includes(plain.logRetentionDays)) {
    throw new JitError("InvalidInput", `logRetentionDays must be one of CloudWatch's values (${RETENTION_DAYS.join(", ")})`, { field: "logRetentionDays" });
  }
}

const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * The built function package of a cloud: the one given, or the one shipped with pulumi-jit
 * (dist/serverless/<cloud>, next to the compiled components, or under the checkout's dist/ when
 * running from source).
 */
export function handlerPackage(given: string | undefined, cloud: "aws" | "azure"): string {
  const candidates = given !== undefined ? [given] : [join(__dirname, "..", "serverless", cloud), join(__dirname, "..", "..", "..", "dist", "serverless", cloud)];
  const found = candidates.find((dir) => existsSync(join(dir, "index.js")));
  if (found) return found;
  throw new JitError(
    "InvalidInput",
    given !== undefined
      ? `${given} is not a built function package (no index.js); build one with \`node --import tsx scripts/build-handlers.ts\``
      : `the ${cloud} function package is not built; run \`node --import tsx scripts/build-handlers.ts\` in pulumi-jit, or pass handlerPackage`,
    { field: "handlerPackage" },
  );
}
