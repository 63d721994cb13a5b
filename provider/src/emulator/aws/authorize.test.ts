import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { GetRoleCommand, SimulatePrincipalPolicyCommand } from "@aws-sdk/client-iam";
import { DecodeAuthorizationMessageCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { IamPolicyDocument } from "./index";
import { evaluate, parsePolicy, requestContext } from "./policy";
import { failsWith, withEmulator } from "./testing/harness";

const ACCOUNT = "123456789012";
const arn = (type: string, id: string) => `arn:aws:ec2:us-east-1:${ACCOUNT}:${type}/${id}`;
const ssh = [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "203.0.113.7/32" }] }];

test("conditions: String, Arn, Null, IfExists, set qualifiers, negation and missing keys, as IAM evaluates them", () => {
  const policy = (condition: Record<string, Record<string, string | string[]>>) =>
    [parsePolicy("p", "user", { Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*", Condition: condition }] })];
  const decide = (condition: Record<string, Record<string, string | string[]>>, context: Record<string, string | string[]>) =>
    evaluate(policy(condition), "ec2:CreateTags", "*", requestContext(context)).decision;
  assert.equal(decide({ StringEquals: { "aws:RequestTag/role": "grant" } }, { "aws:RequestTag/role": "grant" }), "allowed");
  assert.equal(decide({ StringEquals: { "AWS:REQUESTTAG/ROLE": "grant" } }, { "aws:RequestTag/role": "grant" }), "allowed", "key names are case-insensitive");
  assert.equal(decide({ StringEquals: { "aws:RequestTag/role": "grant" } }, { "aws:RequestTag/role": "Grant" }), "implicitDeny", "values are not");
  assert.equal(decide({ StringEqualsIgnoreCase: { "aws:RequestTag/role": "grant" } }, { "aws:RequestTag/role": "Grant" }), "allowed");
  assert.equal(decide({ StringEquals: { "aws:RequestTag/role": "grant" } }, {}), "implicitDeny", "a missing key fails");
  assert.equal(decide({ StringNotEquals: { "aws:RequestTag/role": "grant" } }, {}), "allowed", "a negated operator holds on a missing key");
  assert.equal(decide({ StringEqualsIfExists: { "aws:RequestTag/role": "grant" } }, {}), "allowed");
  assert.equal(decide({ StringLike: { "ec2:CreateAction": ["Create*", "Run*"] } }, { "ec2:CreateAction": "CreateSecurityGroup" }), "allowed");
  assert.equal(decide({ ArnLike: { "aws:PrincipalArn": "arn:aws:iam::*:role/aws-reserved/*" } }, { "aws:PrincipalArn": "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/x" }), "allowed");
  assert.equal(decide({ Null: { "aws:ResourceTag/owner": "true" } }, {}), "allowed");
  assert.equal(decide({ Null: { "aws:ResourceTag/owner": "true" } }, { "aws:ResourceTag/owner": "x" }), "implicitDeny");
  assert.equal(decide({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b"] } }, { "aws:TagKeys": ["a"] }), "allowed");
  assert.equal(decide({ "ForAllValues:StringEquals": { "aws:TagKeys": ["a", "b"] } }, { "aws:TagKeys": ["a", "c"] }), "implicitDeny");
  assert.equal(decide({ "ForAnyValue:StringEquals": { "aws:TagKeys": ["c"] } }, { "aws:TagKeys": ["a", "c"] }), "allowed");
  assert.equal(decide({ StringEquals: { "aws:RequestTag/a": "1", "aws:RequestTag/b": "2" } }, { "aws:RequestTag/a": "1" }), "implicitDeny", "keys are ANDed");
  const missing = evaluate(policy({ StringEquals: { "aws:ResourceTag/jit": "on" } }), "ec2:CreateTags", "*", requestContext({})).missing;
  assert.deepEqual(missing, ["aws:ResourceTag/jit"]);
});

const grantGroups: IamPolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "Describe", Effect: "Allow", Action: "ec2:Describe*", Resource: "*" },
    { Sid: "CreateTagged", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: arn("security-group", "*"), Condition: { StringEquals: { "aws:RequestTag/pulumi-jit:role": "grant-group" } } },
    { Sid: "InVpc", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: arn("vpc", "*"), Condition: { StringEquals: { "aws:ResourceTag/env": "dev" } } },
    { Sid: "TagOnCreate", Effect: "Allow", Action: "ec2:CreateTags", Resource: "*", Condition: { StringEquals: { "ec2:CreateAction": "CreateSecurityGroup" } } },
    { Sid: "OnGrantGroups", Effect: "Allow", Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], Resource: arn("security-group", "*"), Condition: { StringEquals: { "aws:ResourceTag/pulumi-jit:role": "grant-group" } } },
    { Sid: "NeverProd", Effect: "Deny", Action: "ec2:*", Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/env": "prod" } } },
  ],
};

test("EC2 calls are authorised on each resource they touch, with their tags as condition keys; a refusal is UnauthorizedOperation with a decodable message", () =>
  withEmulator({ principals: [{ name: "admin", policies: [{ name: "all", document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] }, { name: "ana", policies: [{ name: "grants", document: grantGroups }] }] }, async ({ emu, as }) => {
    const dev = emu.seed.vpc({ cidrBlock: "10.1.0.0/16", tags: { env: "dev" } });
    const prod = emu.seed.vpc({ cidrBlock: "10.2.0.0/16", tags: { env: "prod" } });
    const web = emu.seed.securityGroup({ name: "web", vpcId: dev.id });
    const ana = as("ana");
    const tagged = (role: string) => [{ ResourceType: "security-group" as const, Tags: [{ Key: "pulumi-jit:role", Value: role }] }];

    const created = await ana.ec2.send(new CreateSecurityGroupCommand({ GroupName: "g1", Description: "grant", VpcId: dev.id, TagSpecifications: tagged("grant-group") }));
    await ana.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: created.GroupId, IpPermissions: ssh }));
    await ana.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: created.GroupId, IpPermissions: ssh }));

    const untagged = await failsWith(ana.ec2.send(new CreateSecurityGroupCommand({ GroupName: "g2", Description: "x", VpcId: dev.id })), "UnauthorizedOperation");
    assert.equal(untagged.$metadata.httpStatusCode, 403);
    assert.match(
      untagged.message,
      new RegExp(`^You are not authorized to perform this operation\\. User: arn:aws:iam::${ACCOUNT}:user/ana is not authorized to perform: ec2:CreateSecurityGroup on resource: arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/\\* because no identity-based policy allows the ec2:CreateSecurityGroup action\\. Encoded authorization failure message: [A-Za-z0-9+/=]+$`),
    );
    const inProd = await failsWith(ana.ec2.send(new CreateSecurityGroupCommand({ GroupName: "g3", Description: "x", VpcId: prod.id, TagSpecifications: tagged("grant-group") })), "UnauthorizedOperation");
    assert.match(inProd.message, new RegExp(`on resource: ${arn("vpc", prod.id)} with an explicit deny in an identity-based policy`), "the VPC is authorised too, and Deny wins");
    const userGroup = await failsWith(ana.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web.id, IpPermissions: ssh })), "UnauthorizedOperation");
    assert.match(userGroup.message, new RegExp(`on resource: ${arn("security-group", web.id)} because`));
    await failsWith(ana.ec2.send(new DeleteSecurityGroupCommand({ GroupId: web.id })), "UnauthorizedOperation");
    assert.equal(emu.state.group(web.id).rules.filter((r) => !r.egress).length, 0, "nothing changed");

    // The encoded message, decoded by STS for someone allowed to.
    const encoded = /Encoded authorization failure message: (\S+)$/.exec(userGroup.message)![1];
    await failsWith(ana.sts.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded })), "AccessDenied");
    const decoded = JSON.parse((await as("admin").sts.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }))).DecodedMessage ?? "{}");
    assert.deepEqual([decoded.allowed, decoded.explicitDeny, decoded.context.action, decoded.context.resource], [false, false, "ec2:AuthorizeSecurityGroupIngress", arn("security-group", web.id)]);
    assert.ok(decoded.context.conditions.items.some((c: { key: string }) => c.key === "aws:resourcetag/pulumi-jit:role") === false, "the group carries no grant tag");
    await ana.sts.send(new GetCallerIdentityCommand({}));
  }));

test("ModifyNetworkInterfaceAttribute is authorised on the interface, each group it is given, and the attached instance", () =>
  withEmulator({}, async ({ emu, as }) => {
    const web = emu.seed.securityGroup({ name: "web" });
    const grant = emu.seed.securityGroup({ name: "grant", tags: { "pulumi-jit:role": "grant-group" } });
    const vm = emu.seed.instance({ groupIds: [web.id], tags: { jit: "on" } });
    const eni = vm.networkInterfaceIds[0];
    const change = new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, Groups: [web.id, grant.id] });
    const allow = (resources: string[], condition?: IamPolicyDocument["Statement"]) => ({
      name: "p",
      document: { Statement: [{ Effect: "Allow" as const, Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: resources }, ...(condition ? [condition].flat() : [])] },
    });
    emu.seed.principal({ name: "eni-only", policies: [allow([arn("network-interface", "*")])] });
    emu.seed.principal({ name: "eni-groups", policies: [allow([arn("network-interface", "*"), arn("security-group", "*")])] });
    emu.seed.principal({ name: "all-three", policies: [allow([arn("network-interface", "*"), arn("security-group", "*"), arn("instance", "*")])] });
    emu.seed.principal({
      name: "tagged-instances",
      policies: [
        {
          name: "p",
          document: {
            Statement: [
              { Effect: "Allow", Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: [arn("network-interface", "*"), arn("security-group", "*")] },
              { Effect: "Allow", Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: arn("instance", "*"), Condition: { StringEquals: { "aws:ResourceTag/jit": "off" } } },
            ],
          },
        },
      ],
    });
    assert.match((await failsWith(as("eni-only").ec2.send(change), "UnauthorizedOperation")).message, new RegExp(`resource: ${arn("security-group", web.id)} because`));
    assert.match((await failsWith(as("eni-groups").ec2.send(change), "UnauthorizedOperation")).message, new RegExp(`resource: ${arn("instance", vm.id)} because`));
    await failsWith(as("tagged-instances").ec2.send(change), "UnauthorizedOperation");
    assert.deepEqual(emu.state.networkInterface(eni).groupIds, [web.id]);
    await as("all-three").ec2.send(change);
    assert.deepEqual(emu.state.networkInterface(eni).groupIds, [web.id, grant.id]);
    await failsWith(as("all-three").ec2.send(new DescribeSecurityGroupsCommand({})), "UnauthorizedOperation");
  }));

test("SimulatePrincipalPolicy honours ContextEntries and reports MissingContextValues; roles with paths, session ARNs and GetRole", () =>
  withEmulator(
    {
      principals: [
        { name: "admin", policies: [{ name: "all", document: { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] },
        {
          name: "AWSReservedSSO_Ops_0123456789abcdef",
          type: "role",
          sessionName: "ana@example.com",
          path: "/aws-reserved/sso.amazonaws.com/eu-west-1/",
          policies: [{ name: "p", document: { Statement: [{ Effect: "Allow", Action: "ec2:ModifyNetworkInterfaceAttribute", Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/jit": "on" } } }] } }],
        },
      ],
    },
    async ({ emu, iam, as }) => {
      const roleArn = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_0123456789abcdef`;
      const me = await as("AWSReservedSSO_Ops_0123456789abcdef").sts.send(new GetCallerIdentityCommand({}));
      assert.equal(me.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/ana@example.com`, "a session ARN has no path");
      const simulate = (PolicySourceArn: string, ContextEntries?: { ContextKeyName: string; ContextKeyValues: string[]; ContextKeyType: "string" }[]) =>
        iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn, ActionNames: ["ec2:ModifyNetworkInterfaceAttribute"], ResourceArns: [arn("instance", "i-0123456789abcdef0")], ContextEntries }));
      const without = (await simulate(roleArn)).EvaluationResults![0];
      assert.equal(without.EvalDecision, "implicitDeny");
      assert.deepEqual(without.MissingContextValues, ["aws:ResourceTag/jit"]);
      assert.deepEqual(without.ResourceSpecificResults?.[0].MissingContextValues, ["aws:ResourceTag/jit"]);
      const tagged = (await simulate(roleArn, [{ ContextKeyName: "aws:ResourceTag/jit", ContextKeyValues: ["on"], ContextKeyType: "string" }])).EvaluationResults![0];
      assert.deepEqual([tagged.EvalDecision, tagged.MissingContextValues], ["allowed", []]);
      const other = (await simulate(roleArn, [{ ContextKeyName: "aws:ResourceTag/jit", ContextKeyValues: ["off"], ContextKeyType: "string" }])).EvaluationResults![0];
      assert.equal(other.EvalDecision, "implicitDeny");

      await failsWith(simulate(`arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_Ops_0123456789abcdef`), "NoSuchEntityException", /role with name AWSReservedSSO_Ops_0123456789abcdef cannot be found/);
      await failsWith(simulate(me.Arn!), "InvalidInputException", /Invalid Entity Arn/);
      const role = (await iam.send(new GetRoleCommand({ RoleName: "AWSReservedSSO_Ops_0123456789abcdef" }))).Role!;
      assert.deepEqual([role.Arn, role.Path, role.RoleName], [roleArn, "/aws-reserved/sso.amazonaws.com/eu-west-1/", "AWSReservedSSO_Ops_0123456789abcdef"]);
      assert.match(role.RoleId ?? "", /^AROA[A-Z2-7]{17}$/);
      await failsWith(iam.send(new GetRoleCommand({ RoleName: "nope" })), "NoSuchEntityException");
      const denied = await failsWith(as("AWSReservedSSO_Ops_0123456789abcdef").iam.send(new GetRoleCommand({ RoleName: "AWSReservedSSO_Ops_0123456789abcdef" })), "AccessDenied");
      assert.match(denied.message, new RegExp(`^User: ${me.Arn!.replace(/[.]/g, "\\.")} is not authorized to perform: iam:GetRole on resource: ${roleArn.replace(/[.]/g, "\\.")} because no identity-based policy allows the iam:GetRole action$`));
      emu.calls.expect({ operation: "GetRole" }, 3);
    },
  ));
