import * as pulumi from "@pulumi/pulumi";
import { IamPolicyDocument, awsPolicyDocument } from "./aws-policy";
import { RoleKind, parseRoleKind } from "./kinds";
import { peerModule } from "./peer";
import { plainValue, requireArgs } from "../pulumi/args";

export interface JitRolePolicyArgs {
  /** Which job the policy is for: `configure`, `request` or `read`. */
  kind: RoleKind;
  /** The instances it may change, by ARN. Exclusive with `tag`; without either, every instance. */
  instanceArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** Or every instance carrying this tag. */
  tag?: pulumi.Input<{ key: pulumi.Input<string>; value: pulumi.Input<string> }>;
  /** Narrow the other EC2 ARNs to a region and account (default any). */
  region?: pulumi.Input<string>;
  accountId?: pulumi.Input<string>;
  /** The users and roles whose own policies `requestAccess` may simulate (default any). */
  principalArns?: pulumi.Input<pulumi.Input<string>[]>;
  /** The IAM policy's name (default: made unique from the resource name) and description. */
  policyName?: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  /** Attach the policy to this IAM role (by name). */
  role?: pulumi.Input<string>;
  /** Attach the policy to this IAM user (by name). */
  user?: pulumi.Input<string>;
}

export const JIT_ROLE_POLICY_TYPE = "pulumi-jit:aws:JitRolePolicy";

const DESCRIPTIONS: Record<RoleKind, string> = {
  configure: "pulumi-jit: deploy JIT policies (revoke and restore management-port rules) and close expired grants",
  request: "pulumi-jit: request just-in-time access to EC2 instances through the broker (no EC2 action)",
  broker: "pulumi-jit broker: open and close grants' security group rules for the requesters it authorises",
  direct: "pulumi-jit: request just-in-time access to EC2 instances without a broker (grant security groups)",
  read: "pulumi-jit: read instances and security groups to report which need just-in-time access",
};

/**
 * An IAM policy holding exactly the actions pulumi-jit needs for one kind of job (see
 * `AWS_ACTIONS`), as an `aws.iam.Policy`, optionally attached to a role and/or a user. Needs
 * `@pulumi/aws` in the program's dependencies.
 */
export class JitRolePolicy extends pulumi.ComponentResource {
  public readonly policyArn: pulumi.Output<string>;
  public readonly document: pulumi.Output<IamPolicyDocument>;

  constructor(name: string, args: JitRolePolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    const kind = parseRoleKind(requireArgs("aws.JitRolePolicy", args, ["kind"]).kind);
    const scoping = { instanceArns: args.instanceArns, tag: args.tag, region: args.region, accountId: args.accountId, principalArns: args.principalArns };
    // Plain arguments are checked now, so a wrong one stops the program before anything registers.
    const plain = plainValue(scoping);
    if (plain) policyDocument(kind, plain);
    super(JIT_ROLE_POLICY_TYPE, name, { ...args }, opts);
    const iam = peerModule("@pulumi/aws", () => require("@pulumi/aws/iam") as typeof import("@pulumi/aws/iam"));

    const document = pulumi.output(scoping).apply((o) => policyDocument(kind, o));
    const policy = new iam.Policy(
      name,
      {
        ...(args.policyName === undefined ? {} : { name: args.policyName }),
        description: args.description ?? DESCRIPTIONS[kind],
        policy: document.apply((d) => JSON.stringify(d)),
      },
      { parent: this },
    );
    if (args.role !== undefined) new iam.RolePolicyAttachment(`${name}-role`, { role: args.role, policyArn: policy.arn }, { parent: this });
    if (args.user !== undefined) new iam.UserPolicyAttachment(`${name}-user`, { user: args.user, policyArn: policy.arn }, { parent: this });

    this.policyArn = policy.arn;
    this.document = document;
    this.registerOutputs({ policyArn: this.policyArn, document: this.document });
  }
}

function policyDocument(
  kind: RoleKind,
  o: { instanceArns?: string[] | undefined; tag?: { key: string; value: string } | undefined; region?: string | undefined; accountId?: string | undefined; principalArns?: string[] | undefined },
): IamPolicyDocument {
  return awsPolicyDocument({
    kind,
    ...(o.instanceArns ? { instanceArns: o.instanceArns } : {}),
    ...(o.tag ? { tag: o.tag } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.accountId ? { accountId: o.accountId } : {}),
    ...(o.principalArns ? { principalArns: o.principalArns } : {}),
  });
}
