// Through the broker, an AWS requester with no EC2 permission at all (only its identity, proved by
// a signed STS GetCallerIdentity the broker forwards) gets access on the local AWS endpoint, which
// verifies signatures and evaluates IAM on every call; the broker writes with the broker policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AuthorizeSecurityGroupIngressCommand, EC2Client } from "@aws-sdk/client-ec2";
import { requestAccess, sweep } from "../../provider/src/access";
import { createAwsDriver } from "../../provider/src/aws";
import { BrokerClient, awsAuthorization, signGetCallerIdentity } from "../../provider/src/broker/client";
import { IamPolicyDocument, awsActions, awsPolicyDocument } from "../../provider/src/roles";
import { reachable } from "../aws/support";
import { AWS_ACCOUNT as ACCOUNT, AWS_BROKER_ID as BROKER_ID, AWS_REGION as REGION, AwsBrokerWorld, awsBrokerWorld } from "./support";

const SOURCE = "203.0.113.7";
const SSO_ROLE = { name: "AWSReservedSSO_Ops_0a1b2c3d", type: "role" as const, path: "/aws-reserved/sso.amazonaws.com/eu-west-1/", sessionName: "ana@example.com" };

function withoutAction(doc: IamPolicyDocument, action: string): IamPolicyDocument {
  return { ...doc, Statement: doc.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter((s) => s.Action.length > 0) };
}

interface AwsSetup extends AwsBrokerWorld {
  client(principal: string): BrokerClient;
}

async function setup(brokerPolicy?: (instanceArn: string) => IamPolicyDocument): Promise<AwsSetup> {
  const request = JSON.stringify(awsPolicyDocument({ kind: "request" }));
  const world = await awsBrokerWorld({
    randomSeed: 11,
    requesters: [
      { ...SSO_ROLE, policies: [{ name: "request", document: request }] },
      { name: "bob", policies: [{ name: "request", document: request }] },
    ],
    ...(brokerPolicy ? { brokerPolicy } : {}),
  });
  return { ...world, client: (principal) => new BrokerClient({ url: world.broker.url, awsCredentials: world.emu.credentialsFor(principal) }) };
}

const ask = (instanceId: string, duration = "PT1H") => ({ virtualMachines: [{ id: instanceId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: SOURCE }] }], justification: "INC-9" });

test("AWS: an Identity Center requester with no EC2 permission gets access through the broker (grant, expiry, revoke); its own credentials get UnauthorizedOperation", async (t) => {
  const s = await setup();
  t.after(() => s.close());
  assert.ok(!reachable(s.emu, s.instanceId, SOURCE, 22), "the baseline closed port 22");
  const mark = s.emu.calls.mark();
  const ana = { url: s.broker.url, awsCredentials: s.emu.credentialsFor(SSO_ROLE.name) };
  const grant = await requestAccess({ policy: "web", ...ask(s.instanceId) }, { broker: ana });
  assert.equal(grant.state, "active");
  assert.equal(grant.requester, `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE.name}/ana@example.com`);
  assert.ok(reachable(s.emu, s.instanceId, SOURCE, 22));
  assert.deepEqual([...new Set(s.emu.calls.list({ since: mark, write: true }).map((c) => c.principal))], ["jit-broker"], "every write was the broker's");

  const ec2 = new EC2Client({ endpoint: s.emu.endpoint, region: REGION, credentials: s.emu.credentialsFor(SSO_ROLE.name), maxAttempts: 1 });
  await assert.rejects(
    ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: s.groupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })),
    (e: { name?: string }) => e.name === "UnauthorizedOperation",
  );
  ec2.destroy();

  const later = new Date(Date.now() + 2 * 3_600_000);
  const admin = createAwsDriver({ ...s.emu.clientConfig, maxAttempts: 1, backoffMs: 2 });
  const report = await sweep({ ledger: s.ledger, drivers: { aws: admin }, now: () => later, repairBaselines: false });
  await admin.destroy();
  assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
  assert.ok(!reachable(s.emu, s.instanceId, SOURCE, 22), "closed at expiry");

  const second = await s.client(SSO_ROLE.name).initiate("web", ask(s.instanceId, "PT30M"));
  assert.ok(reachable(s.emu, s.instanceId, SOURCE, 22));
  assert.equal((await s.client(SSO_ROLE.name).revoke(second.id)).state, "revoked");
  assert.ok(!reachable(s.emu, s.instanceId, SOURCE, 22), "closed by the revoke");
  const secret = s.emu.credentialsFor(SSO_ROLE.name).secretAccessKey;
  const everything = [s.logs.join("\n"), JSON.stringify(await s.ledger.listAudit()), JSON.stringify(await s.ledger.listGrants())].join("\n");
  assert.ok(!everything.includes(secret) && !everything.includes("Signature="), "no secret or signature is kept");
});

test("AWS: outside requesters is 403; a request for another broker, a stale one or one signed with an unknown key is 401; none makes an EC2 call", async (t) => {
  const s = await setup();
  t.after(() => s.close());
  const mark = s.emu.calls.mark();
  await assert.rejects(s.client("bob").initiate("web", ask(s.instanceId)), (e: { code?: string; message: string }) => e.code === "Unauthorized" && /not among the requesters of policy "web"/.test(e.message));
  assert.equal(s.emu.calls.count({ since: mark, write: true }), 0, "no write for a refused request");

  const target = { brokerId: BROKER_ID, stsEndpoint: s.emu.endpoint, stsRegion: REGION };
  const call = async (authorization: string) =>
    fetch(`${s.broker.url}/v1/policies/web/initiate`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(ask(s.instanceId)) });
  const ana = s.emu.credentialsFor(SSO_ROLE.name);
  const ec2Mark = s.emu.calls.mark();
  const forOther = await call(awsAuthorization(await signGetCallerIdentity({ ...target, brokerId: "another-service" }, ana)));
  assert.equal(forOther.status, 401);
  assert.match(((await forOther.json()) as { error: { message: string } }).error.message, /another service/);
  const unknownKey = await call(awsAuthorization(await signGetCallerIdentity(target, { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" })));
  assert.equal(unknownKey.status, 401);
  assert.match(((await unknownKey.json()) as { error: { message: string } }).error.message, /STS refused the signed request \(InvalidClientTokenId\)/);
  const signed = await signGetCallerIdentity(target, ana);
  s.verifierClock.offset = 6 * 60_000;
  const stale = await call(awsAuthorization(signed));
  assert.equal(stale.status, 401);
  assert.match(((await stale.json()) as { error: { message: string } }).error.message, /too old/);
  const elsewhere = await call(awsAuthorization({ ...signed, url: "https://sts.amazonaws.com/" }));
  assert.equal(elsewhere.status, 401, "a signed request for an endpoint the broker does not trust");
  const ec2Calls = s.emu.calls.list({ since: ec2Mark }).filter((c) => c.operation !== "GetCallerIdentity");
  assert.deepEqual(ec2Calls.map((c) => c.operation), [], "no EC2 call for any of them");
});

test("AWS: the request policy has no EC2 action, the broker policy is enough, and each of its actions is needed", async () => {
  assert.ok(!awsActions("request").some((a) => a.startsWith("ec2:")));
  const run = async (policy?: (arn: string) => IamPolicyDocument): Promise<{ ok: boolean; why: string }> => {
    const s = await setup(policy);
    try {
      const ana = s.client(SSO_ROLE.name);
      const first = await ana.initiate("web", ask(s.instanceId, "PT1H"));
      const second = await ana.initiate("web", ask(s.instanceId, "PT2H"));
      const older = await s.ledger.getGrant(first.id);
      if (older?.state !== "revoked") return { ok: false, why: `the superseded grant is ${older?.state}` };
      const revoked = await ana.revoke(second.id);
      return revoked.state === "revoked" ? { ok: true, why: "" } : { ok: false, why: `revoke left ${revoked.state}` };
    } catch (err) {
      return { ok: false, why: (err as Error).message };
    } finally {
      await s.close();
    }
  };
  const full = await run();
  assert.ok(full.ok, `with the whole broker policy: ${full.why}`);
  const base = (arn: string) => awsPolicyDocument({ kind: "broker", instanceArns: [arn], region: REGION, accountId: ACCOUNT });
  for (const action of awsActions("broker")) {
    const without = await run((arn) => withoutAction(base(arn), action));
    assert.equal(without.ok, false, `the broker still works without ${action}`);
  }
});
