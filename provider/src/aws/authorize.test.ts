import { test } from "node:test";
import assert from "node:assert/strict";
import { startAwsEmulator } from "../emulator/aws";
import { JitError } from "../model";
import { missingPermissions, principalOf, whoAmI } from "./authorize";
import { AwsClients } from "./clients";
import { makeContext } from "./context";

test("a role session is checked as its role and named by its session", () => {
  assert.deepEqual(principalOf("arn:aws:sts::123456789012:assumed-role/Ops/ana@example.com"), { id: "arn:aws:iam::123456789012:role/Ops", name: "ana@example.com" });
  assert.deepEqual(principalOf("arn:aws-us-gov:sts::123456789012:assumed-role/Ops/i-0abc"), { id: "arn:aws-us-gov:iam::123456789012:role/Ops", name: "i-0abc" });
  assert.deepEqual(principalOf("arn:aws:iam::123456789012:user/teams/ana"), { id: "arn:aws:iam::123456789012:user/teams/ana", name: "ana" });
  assert.deepEqual(principalOf("arn:aws:iam::123456789012:root"), { id: "arn:aws:iam::123456789012:root", name: "root" });
});

test("IAM simulation on each instance's ARN, in its own region and account", async () => {
  const emu = await startAwsEmulator({
    randomSeed: 9,
    principals: [
      { name: "admin", policies: [{ name: "all", document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] },
      {
        name: "Ops",
        type: "role",
        policies: [
          {
            name: "east-only",
            document: { Statement: [{ Effect: "Allow", Action: ["ec2:Describe*", "ec2:ModifyNetworkInterfaceAttribute"], Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*" }] },
          },
          { name: "simulate", document: { Statement: [{ Effect: "Allow", Action: "iam:SimulatePrincipalPolicy", Resource: "*" }] } },
        ],
      },
    ],
  });
  const connection = { ...emu.clientConfig, maxAttempts: 1 };
  const clients = new AwsClients(connection);
  const ctx = makeContext(clients, connection);
  try {
    const ops = principalOf("arn:aws:sts::123456789012:assumed-role/Ops/ana");
    const here = "i-0123456789abcdef0";
    const west = "arn:aws:ec2:us-west-2:123456789012:instance/i-0123456789abcdef1";
    const elsewhere = "arn:aws:ec2:us-east-1:999999999999:instance/i-0123456789abcdef2";
    const missing = await missingPermissions(ctx, ops, [here, west, elsewhere], ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"]);
    assert.deepEqual(
      [...missing],
      [
        [here, ["ec2:AuthorizeSecurityGroupIngress"]],
        [west, ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"]],
        [elsewhere, ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"]],
      ],
    );
    emu.calls.expect({ operation: "SimulatePrincipalPolicy" }, 2, "one simulation per region (and tag set) for all its instances and actions");

    assert.deepEqual([...(await missingPermissions(ctx, principalOf("arn:aws:iam::123456789012:root"), [here], ["ec2:DescribeInstances"]))], [[here, []]], "root is not bound by identity policies");
    await assert.rejects(
      missingPermissions(ctx, principalOf("arn:aws:sts::123456789012:federated-user/bob"), [here], ["ec2:DescribeInstances"]),
      (e: unknown) => e instanceof JitError && e.code === "Unsupported",
    );
    emu.faults.inject({ operation: "SimulatePrincipalPolicy" }, { kind: "error", status: 403, code: "AccessDenied", message: "not authorized to perform: iam:SimulatePrincipalPolicy" });
    await assert.rejects(missingPermissions(ctx, ops, [here], ["ec2:DescribeInstances"]), (e: unknown) => e instanceof JitError && e.code === "Unauthorized" && /allow iam:SimulatePrincipalPolicy/.test(e.message));
  } finally {
    await clients.destroy();
    await emu.close();
  }
});

test("a tag-scoped role is simulated with the instance's tags as context, and a role session under a path is checked as its pathed role", async () => {
  const sso = "AWSReservedSSO_Ops_0123456789abcdef";
  const path = "/aws-reserved/sso.amazonaws.com/us-east-1/";
  const emu = await startAwsEmulator({
    randomSeed: 4,
    principals: [
      {
        name: sso,
        type: "role",
        path,
        sessionName: "ana@example.com",
        policies: [
          {
            name: "jit-request-by-tag",
            document: {
              Statement: [
                { Effect: "Allow", Action: ["ec2:DescribeInstances", "iam:SimulatePrincipalPolicy", "iam:GetRole"], Resource: "*" },
                {
                  Effect: "Allow",
                  Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"],
                  Resource: "arn:aws:ec2:*:*:instance/*",
                  Condition: { StringEquals: { "aws:ResourceTag/jit": "on" } },
                },
              ],
            },
          },
        ],
      },
    ],
  });
  const connection = { ...emu.clientConfig, maxAttempts: 1 };
  const clients = new AwsClients(connection);
  const ctx = makeContext(clients, connection);
  try {
    const on = emu.seed.instance({ tags: { jit: "on" } });
    const off = emu.seed.instance({ tags: { jit: "off" } });
    const bare = emu.seed.instance();
    const me = await whoAmI(ctx);
    assert.deepEqual(me, { id: `arn:aws:iam::123456789012:role${path}${sso}`, name: "ana@example.com" }, "the role's own ARN, path included");
    const actions = ["ec2:DescribeInstances", "ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"];
    const missing = await missingPermissions(ctx, me, [on.id, off.id, bare.id], actions);
    assert.deepEqual(
      [...missing],
      [
        [on.id, []],
        [off.id, ["ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"]],
        [bare.id, ["ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"]],
      ],
    );
    emu.calls.expect({ operation: "SimulatePrincipalPolicy" }, 3, "one per tag set");

    // Without iam:GetRole the path cannot be found, and the refusal says what to allow.
    const pathless = { id: `arn:aws:iam::123456789012:role/${sso}`, name: "ana@example.com" };
    await assert.rejects(missingPermissions(ctx, pathless, [on.id], actions), (e: unknown) => e instanceof JitError && e.code === "Unauthorized" && /needs iam:GetRole on itself/.test(e.message));
  } finally {
    await clients.destroy();
    await emu.close();
  }
});
