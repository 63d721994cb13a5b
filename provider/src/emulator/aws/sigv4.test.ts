import { test } from "node:test";
import assert from "node:assert/strict";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import { DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentials, AwsEmulator } from "./index";
import { failsWith, withEmulator } from "./testing/harness";

/**
 * Requests signed by the AWS SDK's own SigV4 signer, sent as they are or changed on the way, the way
 * a third party holding someone's signed GetCallerIdentity request would forward it.
 */
interface Signed {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function sign(emu: AwsEmulator, credentials: AwsCredentials, service: "sts" | "ec2", body: string, options: { extra?: Record<string, string>; at?: Date } = {}): Promise<Signed> {
  const url = new URL(emu.endpoint);
  const signer = new SignatureV4({ service, region: emu.region, credentials, sha256: Hash.bind(null, "sha256") });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      query: {},
      headers: { host: url.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8", ...options.extra },
      body,
    },
    { signingDate: options.at },
  );
  return { method: "POST", url: `${emu.endpoint}/`, headers: signed.headers as Record<string, string>, body };
}

async function send(request: Signed): Promise<{ status: number; body: string }> {
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(request.url, { method: request.method, headers, body: request.body });
  return { status: response.status, body: await response.text() };
}

const code = (xml: string) => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
const message = (xml: string) => /<Message>([^<]+)<\/Message>/.exec(xml)?.[1];
const CALLER = "Action=GetCallerIdentity&Version=2011-06-15";

test("a GetCallerIdentity request signed over an extra header, forwarded verbatim by someone else, says who signed it", () =>
  withEmulator({ principals: [{ name: "admin" }, { name: "ana" }, { name: "ops", type: "role", sessionName: "ana@example.com" }] }, async ({ emu }) => {
    for (const [who, arn] of [
      ["ana", "arn:aws:iam::123456789012:user/ana"],
      ["ops", "arn:aws:sts::123456789012:assumed-role/ops/ana@example.com"],
    ] as const) {
      const request = await sign(emu, emu.credentialsFor(who), "sts", CALLER, { extra: { "x-jit-broker-id": "broker-1" } });
      assert.match(request.headers.authorization, /SignedHeaders=[^,]*x-jit-broker-id/);
      const answer = await send(request);
      assert.equal(answer.status, 200, answer.body);
      assert.match(answer.body, new RegExp(`<Arn>${arn.replace(/[.]/g, "\\.")}</Arn>`));
    }
  }));

test("a request changed after signing, signed with the wrong secret or without its session token, is refused", () =>
  withEmulator({ principals: [{ name: "admin" }, { name: "ops", type: "role" }] }, async ({ emu }) => {
    const good = await sign(emu, emu.credentialsFor("admin"), "sts", CALLER, { extra: { "x-jit-broker-id": "broker-1" } });
    const changes: [string, Signed][] = [
      ["another broker id", { ...good, headers: { ...good.headers, "x-jit-broker-id": "broker-2" } }],
      ["another body", { ...good, body: `${CALLER}&Extra=1` }],
      ["another path", { ...good, url: `${emu.endpoint}/other` }],
    ];
    for (const [what, request] of changes) {
      const answer = await send(request);
      assert.deepEqual([answer.status, code(answer.body)], [403, "SignatureDoesNotMatch"], what);
      assert.match(message(answer.body) ?? "", /^The request signature we calculated does not match the signature you provided/, what);
    }
    const wrongSecret = await send(await sign(emu, { ...emu.credentialsFor("admin"), secretAccessKey: "not-the-secret" }, "sts", CALLER));
    assert.equal(code(wrongSecret.body), "SignatureDoesNotMatch");
    const ec2WrongSecret = await send(await sign(emu, { ...emu.credentialsFor("admin"), secretAccessKey: "not-the-secret" }, "ec2", "Action=DescribeVpcs&Version=2016-11-15"));
    assert.deepEqual([ec2WrongSecret.status, code(ec2WrongSecret.body)], [403, "SignatureDoesNotMatch"]);
    const { sessionToken: _dropped, ...withoutToken } = emu.credentialsFor("ops");
    const noToken = await send(await sign(emu, withoutToken, "sts", CALLER));
    assert.deepEqual([noToken.status, code(noToken.body)], [403, "InvalidClientTokenId"]);
    const unknown = await send(await sign(emu, { accessKeyId: "AKIAUNKNOWNUNKNOWNXX", secretAccessKey: "x" }, "ec2", "Action=DescribeVpcs&Version=2016-11-15"));
    assert.deepEqual([unknown.status, code(unknown.body)], [401, "AuthFailure"]);
    assert.equal(emu.calls.list().filter((c) => c.status === 200).length, 0);
    assert.deepEqual(emu.calls.list().map((c) => c.principal), Array(emu.calls.list().length).fill(undefined), "a refused call is nobody's");
    assert.equal((await send(good)).status, 200, "the untouched request still passes");
  }));

test("a request signed more than 15 minutes from the emulator's clock is expired; the clock can be moved", () =>
  withEmulator({}, async ({ emu }) => {
    const old = new Date(Date.now() - 20 * 60_000);
    const sts = await send(await sign(emu, emu.credentials, "sts", CALLER, { at: old }));
    assert.deepEqual([sts.status, code(sts.body)], [403, "SignatureDoesNotMatch"]);
    assert.match(message(sts.body) ?? "", /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    const ec2 = await send(await sign(emu, emu.credentials, "ec2", "Action=DescribeVpcs&Version=2016-11-15", { at: old }));
    assert.deepEqual([ec2.status, code(ec2.body), message(ec2.body)], [400, "RequestExpired", "Request has expired."]);
    const recent = await send(await sign(emu, emu.credentials, "sts", CALLER, { at: new Date(Date.now() - 10 * 60_000) }));
    assert.equal(recent.status, 200, "ten minutes is within the window");

    emu.clock.advance(3600_000);
    const ec2Client = new EC2Client({ ...emu.clientConfig, maxAttempts: 1 });
    const stsClient = new STSClient({ ...emu.clientConfig, maxAttempts: 1 });
    try {
      await failsWith(ec2Client.send(new DescribeVpcsCommand({})), "RequestExpired");
      await failsWith(stsClient.send(new GetCallerIdentityCommand({})), "SignatureDoesNotMatch", /^Signature expired/);
      emu.clock.advance(-2 * 3600_000);
      await failsWith(stsClient.send(new GetCallerIdentityCommand({})), "SignatureDoesNotMatch", /^Signature not yet current: .* \+ 15 min\.\)$/);
      emu.clock.set(Date.now());
      // A client that saw the moved clock has corrected its own from the answers' Date header, as the SDK does.
      const fresh = new EC2Client({ ...emu.clientConfig, maxAttempts: 1 });
      await fresh.send(new DescribeVpcsCommand({}));
      fresh.destroy();
    } finally {
      ec2Client.destroy();
      stsClient.destroy();
    }
  }));
