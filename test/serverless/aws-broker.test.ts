// aws.JitBroker under Pulumi mocks: the resources it registers, with their exact security-relevant
// properties: one role holding the broker role's statements and nothing managed, scoped ledger,
// schedule and log grants, an IAM-authenticated URL, the sweep rule and its permission.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aws } from "../../provider/src";
import { awsPolicyDocument } from "../../provider/src/roles";
import { LEDGER_TABLE_ACTIONS } from "../../provider/src/serverless/aws/policy";
import { RegisteredResource, outputOf, runMockProgram } from "../support/pulumi";

const INSTANCE = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0";
const PREFIX = "arn:aws";

/** ARNs as AWS makes them, so that policies built from them can be checked exactly. */
function arnOf(type: string, name: string): string {
  if (type === "aws:dynamodb/table:Table") return `${PREFIX}:dynamodb:eu-west-1:123456789012:table/${name}`;
  if (type === "aws:scheduler/scheduleGroup:ScheduleGroup") return `${PREFIX}:scheduler:eu-west-1:123456789012:schedule-group/${name}`;
  if (type === "aws:lambda/function:Function") return `${PREFIX}:lambda:eu-west-1:123456789012:function:${name}`;
  if (type === "aws:iam/role:Role") return `${PREFIX}:iam::123456789012:role/${name}`;
  if (type === "aws:cloudwatch/logGroup:LogGroup") return `${PREFIX}:logs:eu-west-1:123456789012:log-group:${name}`;
  if (type === "aws:cloudwatch/eventRule:EventRule") return `${PREFIX}:events:eu-west-1:123456789012:rule/${name}`;
  return `${PREFIX}:other:${name}`;
}

const mocks = {
  newResource: (a: { type: string; name: string; inputs: Record<string, unknown> }) => ({
    id: `${a.name}-id`,
    state: { ...a.inputs, arn: arnOf(a.type, a.name), name: a.name, ...(a.type === "aws:lambda/functionUrl:FunctionUrl" ? { functionUrl: "https://abc.lambda-url.eu-west-1.on.aws/" } : {}) },
  }),
};

function fakePackage(): string {
  const dir = mkdtempSync(join(tmpdir(), "jit-pkg-"));
  writeFileSync(join(dir, "index.js"), "exports.http = exports.sweep = exports.expire = async () => ({});\n");
  return dir;
}

const byName = (resources: RegisteredResource[], type: string, name: string) => {
  const found = resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `${type} ${name} registered`);
  return found;
};

test("aws.JitBroker: functions, ledger, schedules and one role with exactly the broker role and scoped grants; nothing managed or public", async () => {
  const handlerPackage = fakePackage();
  const { result, resources } = await runMockProgram(
    () => new aws.JitBroker("jit", { instanceArns: [INSTANCE], region: "eu-west-1", accountId: "123456789012", admins: ["arn:aws:iam::123456789012:role/Ops"], handlerPackage }),
    { mocks, runProviders: false },
  );
  assert.deepEqual(resources.map((r) => `${r.type} ${r.name}`).sort(), [
    "aws:cloudwatch/eventRule:EventRule jit-sweep",
    "aws:cloudwatch/eventTarget:EventTarget jit-sweep",
    "aws:cloudwatch/logGroup:LogGroup jit-logs",
    "aws:dynamodb/table:Table jit-ledger",
    "aws:dynamodb/tableItem:TableItem jit-ledger-schema",
    "aws:iam/role:Role jit-role",
    "aws:iam/role:Role jit-scheduler",
    "aws:iam/rolePolicy:RolePolicy jit-broker",
    "aws:iam/rolePolicy:RolePolicy jit-scheduler-invoke",
    "aws:lambda/function:Function jit-expire",
    "aws:lambda/function:Function jit-http",
    "aws:lambda/function:Function jit-sweep",
    "aws:lambda/functionUrl:FunctionUrl jit-url",
    "aws:lambda/permission:Permission jit-sweep",
    "aws:scheduler/scheduleGroup:ScheduleGroup jit-expiry",
    "pulumi-jit:aws:JitBroker jit",
    "pulumi-nodejs:dynamic/pulumi-jit/broker:BrokerGrants jit-grants",
  ]);
  const text = JSON.stringify(resources.map((r) => r.inputs));
  assert.doesNotMatch(text, /FullAccess/, "no *FullAccess policy anywhere");
  assert.ok(!resources.some((r) => r.type.includes("PolicyAttachment")), "no managed policy is attached");

  // The role: exactly the broker role's statements, then the ledger table, its schedules, its logs.
  const doc = JSON.parse(String(byName(resources, "aws:iam/rolePolicy:RolePolicy", "jit-broker").inputs.policy));
  const broker = awsPolicyDocument({ kind: "broker", instanceArns: [INSTANCE], region: "eu-west-1", accountId: "123456789012" });
  assert.deepEqual(doc.Statement.slice(0, broker.Statement.length), broker.Statement);
  assert.deepEqual(doc.Statement.slice(broker.Statement.length), [
    { Sid: "Ledger", Effect: "Allow", Action: LEDGER_TABLE_ACTIONS, Resource: [arnOf("aws:dynamodb/table:Table", "jit-ledger"), `${arnOf("aws:dynamodb/table:Table", "jit-ledger")}/index/*`] },
    { Sid: "ScheduleExpiry", Effect: "Allow", Action: ["scheduler:CreateSchedule"], Resource: ["arn:aws:scheduler:eu-west-1:123456789012:schedule/jit-expiry/*"] },
    { Sid: "PassSchedulerRole", Effect: "Allow", Action: ["iam:PassRole"], Resource: ["arn:aws:iam::123456789012:role/jit-scheduler"], Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } } },
    { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: ["arn:aws:logs:eu-west-1:123456789012:log-group:jit-logs:*"] },
  ]);
  assert.deepEqual(JSON.parse(String(byName(resources, "aws:iam/role:Role", "jit-role").inputs.assumeRolePolicy)).Statement, [
    { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
  ]);

  // The scheduler's role: assumable only by schedules of the broker's group, invoking only the expiry function.
  assert.deepEqual(JSON.parse(String(byName(resources, "aws:iam/role:Role", "jit-scheduler").inputs.assumeRolePolicy)).Statement[0].Condition, {
    ArnLike: { "aws:SourceArn": "arn:aws:scheduler:eu-west-1:123456789012:schedule/jit-expiry/*" },
  });
  assert.deepEqual(JSON.parse(String(byName(resources, "aws:iam/rolePolicy:RolePolicy", "jit-scheduler-invoke").inputs.policy)).Statement, [
    { Effect: "Allow", Action: ["lambda:InvokeFunction"], Resource: [arnOf("aws:lambda/function:Function", "jit-expire")] },
  ]);

  // Functions: Node 22, the shipped package, one role; the sweeper one at a time.
  const http = byName(resources, "aws:lambda/function:Function", "jit-http").inputs;
  const sweep = byName(resources, "aws:lambda/function:Function", "jit-sweep").inputs;
  const expire = byName(resources, "aws:lambda/function:Function", "jit-expire").inputs;
  for (const [f, handler] of [[http, "index.http"], [sweep, "index.sweep"], [expire, "index.expire"]] as const) {
    assert.equal(f.runtime, "nodejs22.x");
    assert.equal(f.handler, handler);
    assert.equal(f.role, arnOf("aws:iam/role:Role", "jit-role"));
    assert.deepEqual(f.loggingConfig, { logFormat: "Text", logGroup: "jit-logs" });
  }
  assert.equal(sweep.reservedConcurrentExecutions, 1);
  assert.equal(sweep.timeout, 300);
  assert.deepEqual((http.environment as { variables: Record<string, string> }).variables, {
    JIT_LEDGER: "dynamodb://jit-ledger?region=eu-west-1",
    JIT_ADMINS: "arn:aws:iam::123456789012:role/Ops",
    JIT_EXPIRY_TARGET_ARN: arnOf("aws:lambda/function:Function", "jit-expire"),
    JIT_EXPIRY_ROLE_ARN: arnOf("aws:iam/role:Role", "jit-scheduler"),
    JIT_EXPIRY_GROUP: "jit-expiry",
  });
  assert.equal(byName(resources, "aws:cloudwatch/logGroup:LogGroup", "jit-logs").inputs.retentionInDays, 30);

  // The URL requires IAM auth; the sweep rule's schedule; the permission names the rule as its only source.
  assert.deepEqual(byName(resources, "aws:lambda/functionUrl:FunctionUrl", "jit-url").inputs, { functionName: "jit-http", authorizationType: "AWS_IAM" });
  assert.equal(byName(resources, "aws:cloudwatch/eventRule:EventRule", "jit-sweep").inputs.scheduleExpression, "rate(5 minutes)");
  assert.deepEqual(byName(resources, "aws:lambda/permission:Permission", "jit-sweep").inputs, {
    action: "lambda:InvokeFunction",
    function: "jit-sweep",
    principal: "events.amazonaws.com",
    sourceArn: arnOf("aws:cloudwatch/eventRule:EventRule", "jit-sweep"),
  });
  assert.equal(byName(resources, "aws:cloudwatch/eventTarget:EventTarget", "jit-sweep").inputs.arn, arnOf("aws:lambda/function:Function", "jit-sweep"));

  // The ledger table has the store's keys and due index; the schema marker is written for it.
  const table = byName(resources, "aws:dynamodb/table:Table", "jit-ledger").inputs;
  assert.deepEqual(table.globalSecondaryIndexes, [{ name: "due", hashKey: "dueShard", rangeKey: "dueAt", projectionType: "KEYS_ONLY" }]);
  assert.equal(table.hashKey, "pk");
  assert.equal(table.rangeKey, "sk");
  assert.equal(byName(resources, "pulumi-nodejs:dynamic/pulumi-jit/broker:BrokerGrants", "jit-grants").inputs.ledgerUrl, "dynamodb://jit-ledger?region=eu-west-1");

  assert.equal(await outputOf(result.brokerUrl), "https://abc.lambda-url.eu-west-1.on.aws/");
  assert.equal(await outputOf(result.ledgerUrl), "dynamodb://jit-ledger?region=eu-west-1");
  assert.equal(await outputOf(result.roleArn), arnOf("aws:iam/role:Role", "jit-role"));
});

test("aws.JitBroker options: a custom sweep schedule and retention, no exact-time expiry; wrong arguments are refused before anything registers", async () => {
  const handlerPackage = fakePackage();
  const { resources } = await runMockProgram(
    () => new aws.JitBroker("b", { sweepSchedule: "rate(2 minutes)", logRetentionDays: 7, exactTimeExpiry: false, handlerPackage }),
    { mocks, runProviders: false },
  );
  assert.equal(byName(resources, "aws:cloudwatch/eventRule:EventRule", "b-sweep").inputs.scheduleExpression, "rate(2 minutes)");
  assert.equal(byName(resources, "aws:cloudwatch/logGroup:LogGroup", "b-logs").inputs.retentionInDays, 7);
  assert.ok(!resources.some((r) => r.type.startsWith("aws:scheduler")), "no schedule group without exact-time expiry");
  const doc = JSON.parse(String(byName(resources, "aws:iam/rolePolicy:RolePolicy", "b-broker").inputs.policy));
  assert.ok(!doc.Statement.some((s: { Sid: string }) => s.Sid === "ScheduleExpiry"));
  assert.deepEqual(Object.keys((byName(resources, "aws:lambda/function:Function", "b-http").inputs.environment as { variables: object }).variables), ["JIT_LEDGER"]);

  assert.throws(() => new aws.JitBroker("x", { sweepSchedule: "every 5 minutes", handlerPackage }), (e: { code?: string; field?: string }) => e.code === "InvalidInput" && e.field === "sweepSchedule");
  assert.throws(() => new aws.JitBroker("x", { logRetentionDays: 10, handlerPackage }), (e: { field?: string }) => e.field === "logRetentionDays");
  assert.throws(() => new aws.JitBroker("x", { authType: "NONE", awsStsEndpoints: ["https://sts.eu-west-1.amazonaws.com/"], handlerPackage }), (e: { field?: string }) => e.field === "brokerId");
  assert.throws(() => new aws.JitBroker("x", { handlerPackage: join(tmpdir(), "no-such-package") }), /is not a built function package/);
});
