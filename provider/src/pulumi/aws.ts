import * as pulumi from "@pulumi/pulumi";
import { JitPolicyArgsBase, JitPolicyResource, JitPortArgs } from "./policy-resource";
export { JitRolePolicy, type JitRolePolicyArgs } from "../roles/aws-component";
export { JitBroker, type AwsJitBrokerArgs } from "./aws-broker";

export interface AwsJitInstanceArgs {
  /** The instance id (`i-…`) or ARN, e.g. `instance.id` from @pulumi/aws. */
  id: pulumi.Input<string>;
  ports: pulumi.Input<pulumi.Input<JitPortArgs>[]>;
}

export interface AwsJitPolicyArgs extends JitPolicyArgsBase {
  virtualMachines: pulumi.Input<pulumi.Input<AwsJitInstanceArgs>[]>;
  /**
   * Also revoke rules in security groups that instances outside the policy use (they lose the
   * port too). Off by default: such groups are reported and left alone.
   */
  allowSharedSecurityGroups?: pulumi.Input<boolean>;
  /**
   * The region of instances given by bare id (an ARN carries its own). Default: the stack's
   * `aws:region`. `AWS_REGION` or `AWS_DEFAULT_REGION` in the environment win over it, as for every
   * AWS tool.
   */
  region?: pulumi.Input<string>;
}

/**
 * Locks the selected management ports of EC2 instances: the ingress rules of their security
 * groups that open a selected port are revoked and recorded (wider rules are split so that other
 * ports stay open), and put back exactly when the policy is deleted.
 */
export class JitPolicy extends JitPolicyResource {
  declare public readonly virtualMachines: pulumi.Output<AwsJitInstanceArgs[]>;
  declare public readonly allowSharedSecurityGroups: pulumi.Output<boolean | undefined>;

  constructor(name: string, args: AwsJitPolicyArgs, opts?: pulumi.CustomResourceOptions) {
    // The stack's configuration, read here in the program: the provider gets the region alone, as a plain input.
    super("aws", name, { ...args, region: args?.region ?? new pulumi.Config("aws").get("region") }, opts);
  }
}
