import { JitError } from "../model/errors";
import { GRANT_GROUP_ROLE, TAG_EXPIRES_AT, TAG_GRANT, TAG_ROLE } from "../plan/sg/tags";
import { AwsResourceScope, awsEntries } from "./aws-actions";
import type { RoleKind } from "./kinds";

export type IamCondition = Record<string, Record<string, string | string[]>>;

export interface IamStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: IamCondition;
}

/** An IAM identity policy, as `aws iam create-policy --policy-document` reads it. */
export interface IamPolicyDocument {
  Version: "2012-10-17";
  Statement: IamStatement[];
}

export interface AwsPolicyOptions {
  kind: RoleKind;
  /** The instances the policy may change (ARNs: they carry region and account). Exclusive with `tag`. */
  instanceArns?: readonly string[];
  /** Or: every instance carrying this tag. Without either, every instance. */
  tag?: { key: string; value: string };
  /** Narrow the other EC2 ARNs (groups, interfaces, VPCs) to a region and account; default any. */
  region?: string;
  accountId?: string;
  partition?: string;
  /** The IAM users and roles whose own policies requestAccess simulates; default any. */
  principalArns?: readonly string[];
}

const INSTANCE_ARN = /^arn:(aws[a-z-]*):ec2:[a-z0-9-]+:\d{12}:instance\/i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(?:user|role)\/[\w+=,.@/-]+$/;

const SIDS: Record<AwsResourceScope, string> = {
  any: "Describe",
  instances: "OnInstances",
  interfaces: "OnInterfacesAndTheirGroups",
  securityGroups: "OnSecurityGroups",
  grantGroups: "OnGrantGroups",
  newGrantGroups: "CreateGrantGroups",
  groupRules: "OnSecurityGroupRules",
  vpcs: "InVpcs",
  taggingOnCreate: "TagOnCreate",
  grantStamps: "RestampGrants",
  callers: "SimulateOwnPolicies",
};

/** Actions that may carry tags at creation; `ec2:CreateAction` lists those the policy allows. */
const CREATE_ACTIONS = ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"];

function check(options: AwsPolicyOptions): void {
  const { instanceArns, tag, principalArns } = options;
  if (instanceArns !== undefined && tag !== undefined) {
    throw new JitError("InvalidInput", "scope the policy by instance ARNs or by a tag, not both", { field: "tag" });
  }
  if (instanceArns !== undefined && instanceArns.length === 0) throw new JitError("InvalidInput", "must list at least one instance ARN", { field: "instanceArns" });
  instanceArns?.forEach((arn, i) => {
    if (!INSTANCE_ARN.test(arn)) {
      throw new JitError("InvalidInput", `"${arn}" is not an EC2 instance ARN (arn:aws:ec2:<region>:<account>:instance/i-…)`, { field: `instanceArns[${i}]` });
    }
  });
  if (tag !== undefined && (tag.key.trim() === "" || tag.key.length > 128 || tag.value.length > 256)) {
    throw new JitError("InvalidInput", "a tag key is 1 to 128 characters and its value at most 256", { field: "tag" });
  }
  principalArns?.forEach((arn, i) => {
    if (!PRINCIPAL_ARN.test(arn)) throw new JitError("InvalidInput", `"${arn}" is not an IAM user or role ARN`, { field: `principalArns[${i}]` });
  });
}

/** The resources and condition of each scope's statement. */
function scopeStatement(scope: AwsResourceScope, options: AwsPolicyOptions, actions: readonly string[]): Pick<IamStatement, "Resource" | "Condition"> {
  const partition = options.partition ?? INSTANCE_ARN.exec(options.instanceArns?.[0] ?? "")?.[1] ?? "aws";
  const ec2 = (type: string) => `arn:${partition}:ec2:${options.region ?? "*"}:${options.accountId ?? "*"}:${type}/*`;
  const taggedGrantGroup = (key: "aws:ResourceTag" | "aws:RequestTag"): IamCondition => ({ StringEquals: { [`${key}/${TAG_ROLE}`]: GRANT_GROUP_ROLE } });
  switch (scope) {
    case "any":
      return { Resource: ["*"] };
    case "instances":
      if (options.instanceArns) return { Resource: [...new Set(options.instanceArns)] };
      return { Resource: [ec2("instance")], ...(options.tag ? { Condition: { StringEquals: { [`aws:ResourceTag/${options.tag.key}`]: options.tag.value } } } : {}) };
    case "interfaces":
      return { Resource: [ec2("network-interface"), ec2("security-group")] };
    case "securityGroups":
      return { Resource: [ec2("security-group"), ec2("security-group-rule")] };
    case "grantGroups":
      return { Resource: [ec2("security-group")], Condition: taggedGrantGroup("aws:ResourceTag") };
    case "newGrantGroups":
      return { Resource: [ec2("security-group")], Condition: taggedGrantGroup("aws:RequestTag") };
    case "groupRules":
      return { Resource: [ec2("security-group-rule")] };
    case "vpcs":
      return { Resource: [ec2("vpc")] };
    case "taggingOnCreate":
      return {
        Resource: [ec2("security-group"), ec2("security-group-rule")],
        Condition: { StringEquals: { "ec2:CreateAction": CREATE_ACTIONS.filter((a) => actions.includes(`ec2:${a}`)) } },
      };
    case "grantStamps":
      return {
        Resource: [ec2("security-group"), ec2("security-group-rule")],
        Condition: { Null: { [`aws:ResourceTag/${TAG_GRANT}`]: "false" }, "ForAllValues:StringEquals": { "aws:TagKeys": [TAG_EXPIRES_AT] } },
      };
    case "callers":
      return { Resource: options.principalArns ? [...new Set(options.principalArns)] : ["*"] };
  }
}

/**
 * The IAM policy for `kind`: one statement per resource scope the kind's actions need, each
 * listing those actions (see AWS_ACTIONS for what each is for).
 */
export function awsPolicyDocument(options: AwsPolicyOptions): IamPolicyDocument {
  check(options);
  const entries = awsEntries(options.kind);
  const allActions = entries.map((e) => e.action);
  const byScope = new Map<AwsResourceScope, string[]>();
  for (const entry of entries) {
    for (const scope of entry.scopes) {
      const list = byScope.get(scope) ?? [];
      if (!list.includes(entry.action)) list.push(entry.action);
      byScope.set(scope, list);
    }
  }
  return {
    Version: "2012-10-17",
    Statement: [...byScope].map(([scope, actions]) => ({ Sid: SIDS[scope], Effect: "Allow", Action: actions, ...scopeStatement(scope, options, allActions) })),
  };
}
