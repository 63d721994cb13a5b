import { test } from "node:test";
import assert from "node:assert/strict";
import { SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { AwsEmulatorOptions } from "./index";
import { failsWith, withEmulator } from "./testing/harness";

const account = "123456789012";

const principals: AwsEmulatorOptions["principals"] = [
  {
    name: "alice",
    policies: [
      {
        name: "jit-requester",
        document: {
          Version: "2012-10-17",
          Statement: [
            { Sid: "Describe", Effect: "Allow", Action: ["ec2:Describe*"], Resource: "*" },
            { Sid: "Grants", Effect: "Allow", Action: ["EC2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"], Resource: `arn:aws:ec2:us-east-1:${account}:security-group/sg-*` },
            { Sid: "NoProd", Effect: "Deny", Action: "ec2:*SecurityGroup*", Resource: `arn:aws:ec2:us-east-1:${account}:security-group/sg-0prod????????????` },
          ],
        },
      },
      { name: "everything-but-iam", document: JSON.stringify({ Statement: { Effect: "Allow", NotAction: "iam:*", NotResource: "arn:aws:s3:::secret/*" } }) },
      { name: "simulate", document: { Statement: [{ Effect: "Allow", Action: "iam:SimulatePrincipalPolicy", Resource: "*" }] } },
    ],
  },
  { name: "deployer", type: "role", sessionName: "ci-run-42" },
];

const simulate = (actions: string[], resources?: string[], arn = `arn:aws:iam::${account}:user/alice`) =>
  new SimulatePrincipalPolicyCommand({ PolicySourceArn: arn, ActionNames: actions, ResourceArns: resources });

test("GetCallerIdentity names the principal whose credentials signed the call", () =>
  withEmulator({ principals }, async ({ emu, sts, as }) => {
    const alice = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(alice.Arn, `arn:aws:iam::${account}:user/alice`);
    assert.equal(alice.Account, account);
    assert.match(alice.UserId ?? "", /^AIDA[A-Z2-7]{17}$/);

    const role = await as("deployer").sts.send(new GetCallerIdentityCommand({}));
    assert.equal(role.Arn, `arn:aws:sts::${account}:assumed-role/deployer/ci-run-42`);
    assert.match(role.UserId ?? "", /^AROA[A-Z2-7]{17}:ci-run-42$/);
    assert.ok(emu.credentialsFor("deployer").sessionToken, "a role calls with session credentials");
    assert.match(emu.credentialsFor("alice").accessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.notEqual(emu.credentialsFor("alice").accessKeyId, emu.credentialsFor("deployer").accessKeyId);

    assert.deepEqual(
      emu.calls.list({ operation: "GetCallerIdentity" }).map((c) => [c.principal, c.write]),
      [
        ["alice", false],
        ["deployer", false],
      ],
    );
    assert.throws(() => emu.credentialsFor("mallory"), /no principal named mallory/);
  }));

test("SimulatePrincipalPolicy: allow, explicit deny over allow, implicit deny by default", () =>
  withEmulator({ principals }, async ({ iam }) => {
    const sg = (id: string) => `arn:aws:ec2:us-east-1:${account}:security-group/${id}`;
    const out = await iam.send(
      simulate(["ec2:authorizesecuritygroupingress", "ec2:DescribeInstances", "iam:CreateUser", "ec2:DeleteSecurityGroup"], [sg("sg-0123456789abcdef0"), sg("sg-0prod45678abcdef0")]),
    );
    const results = out.EvaluationResults ?? [];
    assert.deepEqual(
      results.map((r) => [r.EvalActionName, r.EvalDecision, r.ResourceSpecificResults?.map((x) => x.EvalResourceDecision)]),
      [
        ["ec2:authorizesecuritygroupingress", "explicitDeny", ["allowed", "explicitDeny"]],
        ["ec2:DescribeInstances", "allowed", ["allowed", "allowed"]],
        ["iam:CreateUser", "implicitDeny", ["implicitDeny", "implicitDeny"]],
        ["ec2:DeleteSecurityGroup", "explicitDeny", ["allowed", "explicitDeny"]],
      ],
      "actions match case-insensitively; the most restrictive decision over the resources is the action's",
    );
    const [authorize, describe, createUser] = results;
    assert.deepEqual(authorize.MatchedStatements, [{ SourcePolicyId: "jit-requester", SourcePolicyType: "user" }], "only the deny is reported");
    assert.deepEqual(
      authorize.ResourceSpecificResults?.[0].MatchedStatements,
      [
        { SourcePolicyId: "jit-requester", SourcePolicyType: "user" },
        { SourcePolicyId: "everything-but-iam", SourcePolicyType: "user" },
      ],
    );
    assert.equal(describe.EvalResourceName, "*");
    assert.deepEqual(createUser.MatchedStatements, []);
    assert.deepEqual(createUser.MissingContextValues, []);
    assert.equal(out.IsTruncated, false);
  }));

test("SimulatePrincipalPolicy: wildcards, NotAction/NotResource, no ResourceArns, PolicyInputList", () =>
  withEmulator({ principals }, async ({ iam }) => {
    const decisions = async (actions: string[], resources?: string[], extra?: string[]) =>
      (
        await iam.send(
          new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${account}:user/alice`, ActionNames: actions, ResourceArns: resources, PolicyInputList: extra }),
        )
      ).EvaluationResults?.map((r) => r.EvalDecision);

    assert.deepEqual(await decisions(["s3:GetObject", "iam:GetUser"]), ["allowed", "implicitDeny"], "NotAction admits anything but iam:*");
    assert.deepEqual(await decisions(["s3:GetObject"], ["arn:aws:s3:::secret/key"]), ["implicitDeny"], "NotResource excludes the secret bucket");
    assert.deepEqual(await decisions(["ec2:RevokeSecurityGroupIngress"], ["arn:aws:ec2:us-east-1:123456789012:security-group/sg-0prod4567"]), ["allowed"], "each ? stands for exactly one character");
    const deny = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "s3:*", Resource: "*" }] });
    const out = await iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${account}:user/alice`, ActionNames: ["s3:GetObject"], PolicyInputList: [deny] }));
    assert.deepEqual(out.EvaluationResults?.[0].MatchedStatements, [{ SourcePolicyId: "PolicyInputList.1", SourcePolicyType: "none" }]);
    assert.deepEqual(await decisions(["ec2:DescribeVpcs"], undefined, [deny]), ["allowed"]);
  }));

test("SimulatePrincipalPolicy errors: unknown principal, bad ARN, malformed policy", () =>
  withEmulator({ principals }, async ({ as }) => {
    const { iam } = as("alice");
    const missing = await failsWith(iam.send(simulate(["ec2:DescribeVpcs"], undefined, `arn:aws:iam::${account}:user/bob`)), "NoSuchEntityException", /The user with name bob cannot be found/);
    assert.equal(missing.$metadata.httpStatusCode, 404);
    await failsWith(iam.send(simulate(["ec2:DescribeVpcs"], undefined, "bob")), "InvalidInputException");
    // GetCallerIdentity gives a role session's ARN; the simulator wants the role's.
    await failsWith(iam.send(simulate(["ec2:DescribeVpcs"], undefined, `arn:aws:sts::${account}:assumed-role/deployer/ci-run-42`)), "InvalidInputException");
    await failsWith(
      iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: `arn:aws:iam::${account}:user/alice`, ActionNames: ["s3:GetObject"], PolicyInputList: ["{not json"] })),
      "MalformedPolicyDocumentException",
    );
    const role = await iam.send(simulate(["ec2:DescribeVpcs"], undefined, `arn:aws:iam::${account}:role/deployer`));
    assert.equal(role.EvaluationResults?.[0].EvalDecision, "implicitDeny", "a principal without policies may do nothing");
  }));

test("policies are validated when seeded: unknown condition operators and statements without an action are refused", () =>
  withEmulator({ principals }, async ({ emu }) => {
    assert.throws(
      () => emu.seed.principal({ name: "carol", policies: [{ name: "p", document: { Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*", Condition: { StringSorta: { "aws:RequestTag/a": "b" } } }] } }] }),
      /unknown condition operator/,
    );
    assert.throws(
      () => emu.seed.principal({ name: "erin", policies: [{ name: "p", document: { Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*", Condition: { NullIfExists: { "aws:RequestTag/a": "true" } } }] } }] }),
      /unknown condition operator/,
    );
    assert.throws(() => emu.seed.principal({ name: "dave", policies: [{ name: "p", document: { Statement: [{ Effect: "Allow", Resource: "*" }] } }] }), /exactly one of Action and NotAction/);
  }));
