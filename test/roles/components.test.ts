import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { aws, azure } from "../../provider/src";
import { awsPolicyDocument, azureActions } from "../../provider/src/roles";
import { outputOf, runMockProgram } from "../support/pulumi";

const SUB = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const INSTANCE = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0";
const ids = { newResource: (a: { type: string; name: string; inputs: Record<string, unknown> }) => ({ id: `${a.name}-id`, state: { ...a.inputs, arn: `arn:${a.name}` } }) };

test("azure.JitRole creates the role definition for its kind, and the assignment when given a principal", async () => {
  const { result, resources } = await runMockProgram(
    () => new azure.JitRole("req", { kind: "request", scope: `${SUB}/resourceGroups/app`, principalId: "00000000-0000-0000-0000-0000000000aa", principalType: "Group" }),
    { mocks: ids },
  );
  assert.deepEqual(
    resources.map((r) => [r.type, r.name]),
    [
      ["pulumi-jit:azure:JitRole", "req"],
      ["azure-native:authorization:RoleDefinition", "req"],
      ["azure-native:authorization:RoleAssignment", "req-assignment"],
    ],
  );
  const [, definition, assignment] = resources;
  assert.deepEqual(definition.inputs, {
    scope: `${SUB}/resourceGroups/app`,
    roleName: "pulumi-jit Request Access",
    description: "Requests just-in-time access to VMs through the pulumi-jit broker (Defender's request role): writes nothing itself.",
    roleType: "CustomRole",
    assignableScopes: [`${SUB}/resourceGroups/app`],
    permissions: [{ actions: azureActions("request"), notActions: [], dataActions: [], notDataActions: [] }],
  });
  assert.deepEqual(assignment.inputs, { principalId: "00000000-0000-0000-0000-0000000000aa", principalType: "Group", roleDefinitionId: "req-id", scope: `${SUB}/resourceGroups/app` });
  assert.equal(await outputOf(result.roleDefinitionId), "req-id");
  assert.equal(await outputOf(result.roleAssignmentId), "req-assignment-id");
  assert.deepEqual(await outputOf(result.actions), azureActions("request"));
});

test("azure.JitRole without a principal creates only the definition; its name, description and scope check", async () => {
  const { result, resources } = await runMockProgram(() => new azure.JitRole("rd", { kind: "read", scope: SUB, roleName: "Readers", description: "look only" }), { mocks: ids });
  assert.deepEqual(resources.map((r) => r.type), ["pulumi-jit:azure:JitRole", "azure-native:authorization:RoleDefinition"]);
  assert.equal(resources[1].inputs.roleName, "Readers");
  assert.equal(resources[1].inputs.description, "look only");
  assert.equal(await outputOf(result.roleAssignmentId), undefined);
  assert.throws(() => new azure.JitRole("bad", { kind: "admin" as never, scope: SUB }), /"admin" is not a role kind/);
});

test("aws.JitRolePolicy creates the IAM policy for its kind and attaches it", async () => {
  const { result, resources } = await runMockProgram(
    () => new aws.JitRolePolicy("req", { kind: "request", instanceArns: [INSTANCE], region: "eu-west-1", role: "ops", user: "ana", policyName: "jit-request" }),
    { mocks: ids },
  );
  assert.deepEqual(
    resources.map((r) => [r.type, r.name]),
    [
      ["pulumi-jit:aws:JitRolePolicy", "req"],
      ["aws:iam/policy:Policy", "req"],
      ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "req-role"],
      ["aws:iam/userPolicyAttachment:UserPolicyAttachment", "req-user"],
    ],
  );
  const [, policy, role, user] = resources;
  const expected = awsPolicyDocument({ kind: "request", instanceArns: [INSTANCE], region: "eu-west-1" });
  assert.equal(policy.inputs.name, "jit-request");
  assert.match(String(policy.inputs.description), /request just-in-time access/);
  assert.deepEqual(JSON.parse(String(policy.inputs.policy)), expected);
  assert.deepEqual(role.inputs, { role: "ops", policyArn: "arn:req" });
  assert.deepEqual(user.inputs, { user: "ana", policyArn: "arn:req" });
  assert.deepEqual(await outputOf(result.document), expected);
  assert.equal(await outputOf(result.policyArn), "arn:req");
});

test("aws.JitRolePolicy scoped by tag, unattached", async () => {
  const { resources } = await runMockProgram(() => new aws.JitRolePolicy("rd", { kind: "read", tag: { key: "jit", value: "on" } }), { mocks: ids });
  assert.deepEqual(resources.map((r) => r.type), ["pulumi-jit:aws:JitRolePolicy", "aws:iam/policy:Policy"]);
  assert.deepEqual(JSON.parse(String(resources[1].inputs.policy)), awsPolicyDocument({ kind: "read" }));
});

test("importing pulumi-jit loads neither cloud's Pulumi SDK; constructing a component does", () => {
  const count = `Object.keys(require.cache).filter((k) => /@pulumi[\\\\/](aws|azure-native)[\\\\/]/.test(k)).length`;
  const script = [
    `const jit = require("./provider/src");`,
    `const before = ${count};`,
    `require("@pulumi/pulumi").runtime.setMocks({ newResource: (a) => ({ id: "x", state: a.inputs }), call: () => ({}) });`,
    `new jit.aws.JitRolePolicy("p", { kind: "read" });`,
    `console.log(JSON.stringify([before, ${count}]));`,
  ].join("\n");
  const [before, afterwards] = JSON.parse(execFileSync(process.execPath, ["--import", "tsx", "-e", script], { cwd: path.resolve(__dirname, "..", ".."), encoding: "utf8" })) as number[];
  assert.equal(before, 0);
  assert.ok(afterwards > 0);
});
