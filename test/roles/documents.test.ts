import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_REQUEST_ACTIONS } from "../../provider/src/access";
import { evaluate, parsePolicy, requestContext } from "../../provider/src/emulator/aws/policy";
import { isJitError } from "../../provider/src/model";
import {
  AWS_ACTIONS,
  AZURE_ACTIONS,
  IamPolicyDocument,
  ROLE_KINDS,
  awsActions,
  awsPolicyDocument,
  azureActions,
  azureRoleDefinition,
} from "../../provider/src/roles";

const SUB = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const INSTANCE = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0";

const sorted = (xs: Iterable<string>) => [...xs].sort();

test("Azure: each kind's actions, and nothing else", () => {
  const reads = [
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Network/azureFirewalls/read",
    "Microsoft.Network/networkInterfaces/read",
    "Microsoft.Network/networkSecurityGroups/read",
    "Microsoft.Network/publicIPAddresses/read",
    "Microsoft.Network/virtualNetworks/subnets/read",
    "Microsoft.Network/virtualNetworks/read",
  ];
  // Status, scan and a sweep's baseline repair read Virtual Network Manager admin rules; requests do not.
  const adminRules = "Microsoft.Network/virtualNetworks/listNetworkManagerEffectiveSecurityAdminRules/action";
  const writes = [
    "Microsoft.Network/azureFirewalls/write",
    "Microsoft.Network/locations/operations/read",
    "Microsoft.Network/networkSecurityGroups/write",
  ];
  assert.deepEqual(sorted(azureActions("read")), sorted([...reads, adminRules]));
  const initiate = "Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action";
  const joins = ["Microsoft.Network/publicIPAddresses/join/action", "Microsoft.Network/virtualNetworks/subnets/join/action"];
  assert.deepEqual(sorted(azureActions("configure")), sorted([...reads, adminRules, ...writes, ...joins]));
  assert.deepEqual(sorted(azureActions("broker")), sorted([...reads, adminRules, ...writes, ...joins]));
  assert.deepEqual(sorted(azureActions("direct")), sorted([...reads, ...writes, ...joins, initiate]));
  assert.deepEqual(
    sorted(azureActions("request")),
    sorted([
      initiate,
      "Microsoft.Security/locations/jitNetworkAccessPolicies/*/read",
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Network/networkInterfaces/*/read",
      "Microsoft.Network/publicIPAddresses/read",
    ]),
    "exactly Defender's request role",
  );
  for (const a of DEFAULT_REQUEST_ACTIONS.azure) assert.ok(azureActions("direct").includes(a), `the direct role holds what requestAccess checks: ${a}`);
  for (const e of AZURE_ACTIONS) {
    if (e.kinds.length > 1 || e.kinds[0] !== "request") assert.doesNotMatch(e.action, /\*/, "no wildcards, but in Defender's own request role: each action is named");
    assert.match(e.action, /^Microsoft\.\w+\/[\w/*]+\/(read|write|delete|action)$/);
    assert.ok(e.why.length > 20 && e.kinds.length > 0, e.action);
  }
  assert.equal(new Set(AZURE_ACTIONS.map((e) => e.action)).size, AZURE_ACTIONS.length, "each action has one row");
});

test("Azure: the role definition document", () => {
  const role = azureRoleDefinition({ kind: "request", scope: `${SUB}/` });
  assert.deepEqual(Object.keys(role), ["Name", "IsCustom", "Description", "Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes"]);
  assert.equal(role.Name, "pulumi-jit Request Access");
  assert.equal(role.IsCustom, true);
  assert.deepEqual(role.Actions, azureActions("request"));
  assert.deepEqual([role.NotActions, role.DataActions, role.NotDataActions], [[], [], []]);
  assert.deepEqual(role.AssignableScopes, [SUB], "the trailing slash is dropped");

  const named = azureRoleDefinition({ kind: "read", scope: [`${SUB}/resourceGroups/app`, "/providers/Microsoft.Management/managementGroups/corp"], name: "Readers", description: "d" });
  assert.deepEqual([named.Name, named.Description, named.AssignableScopes], ["Readers", "d", [`${SUB}/resourceGroups/app`, "/providers/Microsoft.Management/managementGroups/corp"]]);
  for (const bad of ["/subscriptions/not-a-guid", "subscriptions/x", "", "/"]) {
    assert.throws(() => azureRoleDefinition({ kind: "read", scope: bad }), (e) => isJitError(e, "InvalidInput") && /not an assignable scope/.test(e.message), bad);
  }
  assert.throws(() => azureRoleDefinition({ kind: "read", scope: [] }), /at least one assignable scope/);
});

const EC2_READS = ["ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups"];

test("AWS: each kind's actions, and nothing else", () => {
  assert.deepEqual(sorted(awsActions("read")), sorted([...EC2_READS, "ec2:DescribeManagedPrefixLists"]));
  assert.deepEqual(awsActions("request"), ["sts:GetCallerIdentity"], "no EC2 action");
  assert.deepEqual(sorted(awsActions("broker")), sorted(awsActions("direct").filter((a) => a !== "iam:SimulatePrincipalPolicy")));
  assert.deepEqual(
    sorted(awsActions("direct")),
    sorted([
      ...EC2_READS,
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:CreateSecurityGroup",
      "ec2:CreateTags",
      "ec2:DeleteSecurityGroup",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:RevokeSecurityGroupIngress",
      "iam:SimulatePrincipalPolicy",
    ]),
  );
  assert.deepEqual(
    sorted(awsActions("configure")),
    sorted([
      ...EC2_READS,
      "ec2:DescribeManagedPrefixLists",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:CreateSecurityGroup",
      "ec2:CreateTags",
      "ec2:DeleteSecurityGroup",
      "ec2:ModifyNetworkInterfaceAttribute",
      "ec2:RevokeSecurityGroupIngress",
    ]),
  );
  for (const a of DEFAULT_REQUEST_ACTIONS.aws) assert.ok(awsActions("direct").includes(a), `the direct policy holds what requestAccess checks: ${a}`);
  for (const e of AWS_ACTIONS) assert.ok(e.why.length > 20 && e.kinds.length > 0 && e.scopes.length > 0, e.action);
});

/** Statement by Sid. */
function statement(doc: IamPolicyDocument, sid: string) {
  const s = doc.Statement.find((x) => x.Sid === sid);
  assert.ok(s, `statement ${sid} in ${doc.Statement.map((x) => x.Sid).join(", ")}`);
  return s;
}

test("AWS: the read policy is Describe on any resource, nothing else", () => {
  const doc = awsPolicyDocument({ kind: "read", tag: { key: "jit", value: "on" } });
  assert.deepEqual(doc, { Version: "2012-10-17", Statement: [{ Sid: "Describe", Effect: "Allow", Action: awsActions("read"), Resource: ["*"] }] });
});

test("AWS: the direct policy changes only the given instances and grant groups", () => {
  const doc = awsPolicyDocument({ kind: "direct", instanceArns: [INSTANCE, INSTANCE], region: "eu-west-1", accountId: "123456789012" });
  assert.equal(new Set(doc.Statement.map((s) => s.Sid)).size, doc.Statement.length, "Sids are unique");
  assert.deepEqual(sorted(doc.Statement.flatMap((s) => s.Action)), sorted([...awsActions("direct"), "ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateSecurityGroup", "ec2:CreateTags"]), "actions needing several resources appear once per resource scope");

  assert.deepEqual(statement(doc, "Describe").Resource, ["*"]);
  assert.deepEqual(statement(doc, "OnInstances"), { Sid: "OnInstances", Effect: "Allow", Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"], Resource: [INSTANCE] });
  const arn = (type: string) => `arn:aws:ec2:eu-west-1:123456789012:${type}/*`;
  assert.deepEqual(statement(doc, "OnInterfacesAndTheirGroups").Resource, [arn("network-interface"), arn("security-group")]);
  const grant = statement(doc, "OnGrantGroups");
  assert.deepEqual(sorted(grant.Action), ["ec2:AuthorizeSecurityGroupIngress", "ec2:DeleteSecurityGroup", "ec2:RevokeSecurityGroupIngress"]);
  assert.deepEqual(grant.Resource, [arn("security-group")]);
  assert.deepEqual(grant.Condition, { StringEquals: { "aws:ResourceTag/pulumi-jit:role": "grant-group" } });
  assert.deepEqual(statement(doc, "CreateGrantGroups").Condition, { StringEquals: { "aws:RequestTag/pulumi-jit:role": "grant-group" } });
  assert.deepEqual(statement(doc, "InVpcs"), { Sid: "InVpcs", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: [arn("vpc")] });
  assert.deepEqual(statement(doc, "TagOnCreate").Condition, { StringEquals: { "ec2:CreateAction": ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"] } });
  assert.deepEqual(statement(doc, "SimulateOwnPolicies"), { Sid: "SimulateOwnPolicies", Effect: "Allow", Action: ["iam:SimulatePrincipalPolicy"], Resource: ["*"] });
  for (const s of doc.Statement) {
    if (s.Action.some((a) => /^ec2:(Authorize|Revoke|Delete)/.test(a))) {
      assert.ok(s.Condition || !s.Resource.some((r) => r.endsWith(":security-group/*")), `${s.Sid}: group changes are confined to grant groups`);
    }
  }
  // What requestAccess checks is allowed on the instance, and not on another one; grant groups are
  // created and changed only with their tag, as IAM evaluates the conditions.
  const policy = parsePolicy("direct", "user", doc);
  for (const action of DEFAULT_REQUEST_ACTIONS.aws) {
    assert.equal(evaluate([policy], action, INSTANCE).decision, "allowed", action);
  }
  assert.equal(evaluate([policy], "ec2:ModifyNetworkInterfaceAttribute", INSTANCE.replace("0123456789abcdef0", "0123456789abcdef1")).decision, "implicitDeny");
  const group = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0";
  const grantTag = requestContext({ "aws:ResourceTag/pulumi-jit:role": "grant-group" });
  assert.equal(evaluate([policy], "ec2:DeleteSecurityGroup", group, grantTag).decision, "allowed");
  assert.equal(evaluate([policy], "ec2:DeleteSecurityGroup", group, requestContext({ "aws:ResourceTag/pulumi-jit:role": "baseline" })).decision, "implicitDeny");
  assert.equal(evaluate([policy], "ec2:DeleteSecurityGroup", group).decision, "implicitDeny", "an untagged group is not ours");
  const created = "arn:aws:ec2:eu-west-1:123456789012:security-group/*";
  assert.equal(evaluate([policy], "ec2:CreateSecurityGroup", created, requestContext({ "aws:RequestTag/pulumi-jit:role": "grant-group" })).decision, "allowed");
  assert.equal(evaluate([policy], "ec2:CreateSecurityGroup", created).decision, "implicitDeny", "a group is created only with its grant tag");
  assert.equal(evaluate([policy], "ec2:CreateTags", created, requestContext({ "ec2:CreateAction": "CreateSecurityGroup" })).decision, "allowed");
  assert.equal(evaluate([policy], "ec2:CreateTags", created).decision, "implicitDeny", "tags only as part of a create");
  // jit extend: only the expiry tag, only on a grant's rules and groups.
  const rule = "arn:aws:ec2:eu-west-1:123456789012:security-group-rule/sgr-0123456789abcdef0";
  const restamp = (tags: Record<string, string>, keys: string[]) => evaluate([policy], "ec2:CreateTags", rule, requestContext({ ...tags, "aws:TagKeys": keys })).decision;
  assert.equal(restamp({ "aws:ResourceTag/pulumi-jit:grant": "k7geun6r2bk2" }, ["pulumi-jit:expires-at"]), "allowed");
  assert.equal(restamp({ "aws:ResourceTag/pulumi-jit:grant": "k7geun6r2bk2" }, ["pulumi-jit:expires-at", "pulumi-jit:grant"]), "implicitDeny", "no other tag");
  assert.equal(restamp({}, ["pulumi-jit:expires-at"]), "implicitDeny", "not on somebody else's rule");
});

test("AWS: scoping by tag, and what the configure kind may change", () => {
  const byTag = awsPolicyDocument({ kind: "direct", tag: { key: "jit", value: "" }, principalArns: ["arn:aws:iam::123456789012:role/Ops"] });
  assert.deepEqual(statement(byTag, "OnInstances"), {
    Sid: "OnInstances",
    Effect: "Allow",
    Action: ["ec2:ModifyNetworkInterfaceAttribute", "ec2:AuthorizeSecurityGroupIngress"],
    Resource: ["arn:aws:ec2:*:*:instance/*"],
    Condition: { StringEquals: { "aws:ResourceTag/jit": "" } },
  });
  assert.deepEqual(statement(byTag, "SimulateOwnPolicies").Resource, ["arn:aws:iam::123456789012:role/Ops"]);

  const configure = awsPolicyDocument({ kind: "configure", instanceArns: [INSTANCE.replace("arn:aws:", "arn:aws-cn:")] });
  assert.deepEqual(sorted(statement(configure, "OnSecurityGroups").Action), ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"]);
  assert.deepEqual(statement(configure, "OnSecurityGroups").Resource, ["arn:aws-cn:ec2:*:*:security-group/*", "arn:aws-cn:ec2:*:*:security-group-rule/*"], "the partition follows the instances");
  assert.deepEqual(statement(configure, "OnGrantGroups").Action, ["ec2:DeleteSecurityGroup"]);
  assert.deepEqual(statement(configure, "TagOnCreate").Condition, { StringEquals: { "ec2:CreateAction": ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"] } });
  assert.deepEqual(statement(configure, "InVpcs").Action, ["ec2:CreateSecurityGroup"], "the JIT groups, in the instances' VPCs");
  assert.ok(!configure.Statement.some((s) => s.Action.includes("iam:SimulatePrincipalPolicy")));

  const unscoped = awsPolicyDocument({ kind: "direct" });
  assert.deepEqual(statement(unscoped, "OnInstances").Resource, ["arn:aws:ec2:*:*:instance/*"]);
  assert.equal(statement(unscoped, "OnInstances").Condition, undefined);
});

test("AWS: refuses what it cannot scope by", () => {
  const refuses = (options: Parameters<typeof awsPolicyDocument>[0], message: RegExp) =>
    assert.throws(() => awsPolicyDocument(options), (e) => isJitError(e, "InvalidInput") && message.test(e.message));
  refuses({ kind: "direct", instanceArns: [INSTANCE], tag: { key: "a", value: "b" } }, /instance ARNs or by a tag, not both/);
  refuses({ kind: "direct", instanceArns: ["i-0123456789abcdef0"] }, /instanceArns\[0\].*not an EC2 instance ARN/);
  refuses({ kind: "direct", instanceArns: [] }, /at least one instance ARN/);
  refuses({ kind: "direct", tag: { key: " ", value: "b" } }, /tag key is 1 to 128/);
  refuses({ kind: "direct", principalArns: ["arn:aws:sts::123456789012:assumed-role/Ops/ana"] }, /not an IAM user or role ARN/);
});

test("every kind has a document on both clouds", () => {
  for (const kind of ROLE_KINDS) {
    assert.ok(azureRoleDefinition({ kind, scope: SUB }).Actions.length > 0);
    assert.ok(awsPolicyDocument({ kind }).Statement.length > 0);
  }
});
