// AWS sign-in to the console: a signed STS GetCallerIdentity request (the proof the CLI sends to
// the broker), pasted into the sign-in form, forwarded by the broker to the AWS emulator's STS,
// which verifies the SigV4 signature; the policy's requesters decide what the console offers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { awsAuthorization, signGetCallerIdentity } from "../../provider/src/broker/client";
import { reachable } from "../aws/support";
import { AWS_BROKER_ID as BROKER_ID, AWS_REGION as REGION, awsBrokerWorld } from "../broker/support";
import { FormClient, TEST_LIMITS } from "./support";

const OPS = { name: "AWSReservedSSO_Ops_0a1b2c3d", type: "role" as const, path: "/aws-reserved/sso.amazonaws.com/eu-west-1/", sessionName: "ana@example.com" };

test("AWS sign-in: a signed identity proof for this broker signs in; one for another broker, or not a proof, is refused with the reason", async (t) => {
  const world = await awsBrokerWorld({ randomSeed: 7, requesters: [{ ...OPS, policies: [] }], limits: TEST_LIMITS });
  t.after(() => world.close());
  const { emu, broker, verifier, instanceId, instanceArn: arn } = world;
  const proof = async (brokerId: string) => awsAuthorization(await signGetCallerIdentity({ brokerId, stsEndpoint: emu.endpoint, stsRegion: REGION }, emu.credentialsFor(OPS.name)));

  const mallory = new FormClient(broker.url);
  const page = await mallory.get("/console/");
  assert.match(page.text, /Signed identity proof/);
  assert.doesNotMatch(page.text, /Sign in with Microsoft|Continue as/, "only the methods this broker has");
  for (const [what, value, reason] of [
    ["for another broker", await proof("other-broker.example"), /made for another service/],
    ["not a proof", "JIT-AWS-STS bm90LWpzb24", /not base64url-encoded JSON/],
  ] as const) {
    const res = await mallory.post("/console/auth/aws", { csrf: mallory.csrf(), proof: value });
    assert.equal(res.status, 401, what);
    assert.match(res.text, reason, what);
    assert.ok(![...mallory.cookies.keys()].includes("jit-session"), `no session: ${what}`);
  }
  const forwarded = verifier.forwarded;

  const ana = new FormClient(broker.url);
  await ana.get("/console/");
  const signedIn = await ana.post("/console/auth/aws", { csrf: ana.csrf(), proof: await proof(BROKER_ID) });
  assert.equal(signedIn.status, 303);
  assert.equal(verifier.forwarded, forwarded + 1, "STS was asked once, at sign-in");
  const home = await ana.get("/console/");
  assert.match(home.text, /Signed in as <strong>ana@example.com<\/strong> <span class="muted">\(aws\)<\/span>/);
  assert.ok(home.text.includes(instanceId), "the instance the policy's requesters allow");
  const made = await ana.post("/console/request", { csrf: ana.csrf(), policy: "web", vm: arn, port: "22", minutes: "15", source: "203.0.113.9", justification: "INC-7" });
  assert.equal(made.status, 303, made.text.slice(0, 800));
  assert.ok(reachable(emu, instanceId, "203.0.113.9", 22), "open for the requester's address");
  assert.equal(verifier.forwarded, forwarded + 1, "the session, not a new proof, carries the request");
});
