// The AWS function package, built by esbuild and loaded from a temp directory with no node_modules,
// runs against the local AWS endpoint (EC2, STS, IAM, EventBridge Scheduler, all signed and
// IAM-evaluated) with a dynalite ledger: a function-URL request grants as the IAM-verified caller and
// schedules its expiry; the schedule's event closes the grant at its end; the safety-net sweep
// closes a grant whose expiry event was lost. Time moves on a mocked clock, never by sleeping.
import { test, mock } from "node:test";
import assert from "node:assert/strict";
import { applyPolicy, type SweepReport } from "../../provider/src/access";
import { createAwsDriver } from "../../provider/src/aws";
import { startAwsEmulator } from "../../provider/src/emulator/aws";
import { openLedger } from "../../provider/src/ledger";
import { Grant, parsePolicy } from "../../provider/src/model";
import { endBrokerGrants } from "../../provider/src/pulumi/broker-grants";
import { brokerFunctionPolicy } from "../../provider/src/serverless/aws/policy";
import type { HttpEvent } from "../../provider/src/serverless/aws/http";
import { reachable } from "../aws/support";
import { setEnv } from "../support/env";
import { startDynalite } from "../support/servers";
import { buildIntoTemp, loadPackage } from "./support";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const SOURCE = "203.0.113.7";
const SSO_ROLE = { name: "AWSReservedSSO_Ops_0a1b2c3d", type: "role" as const, path: "/aws-reserved/sso.amazonaws.com/", sessionName: "ana@example.com" };
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE.name}/ana@example.com`;
const EXPIRE_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:jit-expire`;
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/jit-scheduler`;

interface AwsPackage {
  http(event: unknown): Promise<{ statusCode: number; headers: Record<string, string>; body: string }>;
  sweep(event: unknown): Promise<SweepReport>;
  expire(event: unknown): Promise<{ grantId: string; ended: string | null }>;
}

function httpEvent(method: string, path: string, body?: unknown, iam: string | null = CALLER_ARN): HttpEvent {
  return {
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    isBase64Encoded: false,
    requestContext: { http: { method, sourceIp: SOURCE }, ...(iam ? { authorizer: { iam: { userArn: iam } } } : {}) },
  };
}

test("AWS package: an IAM-authenticated HTTP event grants and schedules its expiry; the expiry event closes it at its end; the sweep closes one whose event was lost; deleting the broker ends what is left", async (t) => {
  const built = await buildIntoTemp("aws");
  t.after(() => built.remove());
  mock.timers.enable({ apis: ["Date"], now: Date.parse("2030-03-01T10:00:00.000Z") });
  t.after(() => mock.timers.reset());

  const emu = await startAwsEmulator({ region: REGION, accountId: ACCOUNT, randomSeed: 5 });
  t.after(() => emu.close());
  const dynamo = await startDynalite("jit-ledger");
  t.after(() => dynamo.stop());
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const vm = emu.seed.instance({ groupIds: [web.id] });
  const instanceArn = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${vm.id}`;
  const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/jit-ledger`;
  const policy = brokerFunctionPolicy({
    instanceArns: [instanceArn],
    region: REGION,
    accountId: ACCOUNT,
    ledgerTableArn: tableArn,
    expiry: { scheduleGroupArn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/jit`, schedulerRoleArn: SCHEDULER_ROLE },
  });
  emu.seed.principal({ name: "jit-broker", type: "role", policies: [{ name: "broker", document: JSON.stringify(policy) }] });
  emu.seed.principal({ ...SSO_ROLE, policies: [] });

  t.after(setEnv({
    ...dynamo.env,
    ...emu.env("jit-broker"),
    JIT_LEDGER: dynamo.url,
    JIT_EXPIRY_TARGET_ARN: EXPIRE_ARN,
    JIT_EXPIRY_ROLE_ARN: SCHEDULER_ROLE,
    JIT_EXPIRY_GROUP: "jit",
  }));
  const ledger = await openLedger(dynamo.url, { init: true });
  t.after(() => ledger.close());
  const admin = createAwsDriver({ ...emu.clientConfig, maxAttempts: 1, backoffMs: 2 });
  t.after(() => admin.destroy());
  await applyPolicy(
    {
      policy: parsePolicy({
        name: "web",
        virtualMachines: [{ id: instanceArn, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
        requesters: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Ops_*`],
      }),
      mode: "create",
    },
    { ledger, drivers: { aws: admin } },
  );
  assert.ok(!reachable(emu, vm.id, SOURCE, 22), "the baseline closed port 22");

  const fn = loadPackage<AwsPackage>(built.dir);
  const ask = { virtualMachines: [{ id: instanceArn, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: SOURCE }] }], justification: "INC-7" };

  // Refusals first: nothing is granted or scheduled by them.
  const anonymous = await fn.http(httpEvent("POST", "/v1/policies/web/initiate", ask, null));
  assert.equal(anonymous.statusCode, 401);
  assert.equal((await fn.http({ not: "an event" })).statusCode, 400);
  await assert.rejects(fn.expire({ grantId: "../../etc" }), (e: { code?: string }) => e.code === "InvalidInput");
  assert.equal(emu.scheduler.list().length, 0);

  const mark = emu.calls.mark();
  const granted = await fn.http(httpEvent("POST", "/v1/policies/web/initiate", ask));
  assert.equal(granted.statusCode, 201, granted.body);
  const grant = JSON.parse(granted.body) as Grant;
  assert.equal(grant.state, "active");
  assert.equal(grant.requester, CALLER_ARN, "the caller AWS verified is the requester");
  assert.equal(grant.endTimeUtc, "2030-03-01T11:00:00.000Z");
  assert.ok(reachable(emu, vm.id, SOURCE, 22));
  assert.deepEqual([...new Set(emu.calls.list({ since: mark, write: true }).map((c) => c.principal))], ["jit-broker"], "every write was the broker role's");

  const [schedule, ...more] = emu.scheduler.list();
  assert.equal(more.length, 0);
  assert.equal(schedule.scheduleExpression, "at(2030-03-01T11:00:00)");
  assert.equal(schedule.groupName, "jit");
  assert.equal(schedule.actionAfterCompletion, "DELETE");
  assert.deepEqual(schedule.target, { Arn: EXPIRE_ARN, RoleArn: SCHEDULER_ROLE, Input: JSON.stringify({ grantId: grant.id }) });

  assert.deepEqual(emu.scheduler.fire(Date.now()), [], "nothing fires before the end");
  mock.timers.setTime(Date.parse("2030-03-01T11:00:00.000Z"));
  const deliveries = emu.scheduler.fire(Date.now());
  assert.equal(deliveries.length, 1);
  assert.equal(emu.scheduler.list().length, 0, "the one-time schedule is deleted after it ran");
  const expired = await fn.expire(JSON.parse(deliveries[0].input as string));
  assert.deepEqual(expired, { grantId: grant.id, ended: "expired" });
  assert.ok(!reachable(emu, vm.id, SOURCE, 22), "closed at its end, not at the next sweep");
  assert.equal((await ledger.getGrant(grant.id))?.state, "expired");
  assert.deepEqual(await fn.expire(JSON.parse(deliveries[0].input as string)), { grantId: grant.id, ended: null }, "a second delivery changes nothing");

  // The second grant's expiry event is lost (fired into nowhere); the safety-net sweep closes it.
  const second = JSON.parse((await fn.http(httpEvent("POST", "/v1/policies/web/initiate", { ...ask, virtualMachines: [{ ...ask.virtualMachines[0], ports: [{ ...ask.virtualMachines[0].ports[0], duration: "PT30M" }] }] }))).body) as Grant;
  assert.equal(second.state, "active");
  assert.ok(reachable(emu, vm.id, SOURCE, 22));
  emu.scheduler.fire(Date.parse(second.endTimeUtc));
  mock.timers.setTime(Date.parse(second.endTimeUtc) + 4 * 60_000);
  const report = await fn.sweep({ "detail-type": "Scheduled Event", source: "aws.events" });
  assert.deepEqual(report.restored, [{ grantId: second.id, state: "expired" }]);
  assert.deepEqual(report.failed, []);
  assert.ok(!reachable(emu, vm.id, SOURCE, 22));

  // Deleting the broker's stack ends its live grants first (the BrokerGrants resource's delete).
  const third = JSON.parse((await fn.http(httpEvent("POST", "/v1/policies/web/initiate", ask))).body) as Grant;
  assert.ok(reachable(emu, vm.id, SOURCE, 22));
  assert.deepEqual(await endBrokerGrants(dynamo.url), [third.id]);
  assert.ok(!reachable(emu, vm.id, SOURCE, 22), "no grant is left open");
  assert.equal((await ledger.getGrant(third.id))?.state, "revoked");
});
