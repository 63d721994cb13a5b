import * as pulumi from "@pulumi/pulumi";
import type { BaselineResult } from "../driver";
import type { Cloud } from "../model";
import { PolicyResourceInputs, checkPolicyInputs, inputsError } from "./inputs";
import { plainValue, requireArgs } from "./args";
import { policyProviderShim } from "./shim";

/** The part of a policy port that a Pulumi program writes (Defender's JitNetworkAccessPortRule). */
export interface JitPortArgs {
  number: pulumi.Input<number>;
  protocol: pulumi.Input<"TCP" | "UDP" | "*">;
  allowedSourceAddressPrefix?: pulumi.Input<string>;
  allowedSourceAddressPrefixes?: pulumi.Input<pulumi.Input<string>[]>;
  /** ISO-8601, PT5M to P1D; default PT3H. */
  maxRequestAccessDuration?: pulumi.Input<string>;
  /** Distinct approvals a request for this port needs, instead of the policy's. */
  approvalsRequired?: pulumi.Input<number>;
}

export interface JitPolicyArgsBase {
  /** The policy's name (default: the resource's name). Requests name the policy by it. */
  policyName?: pulumi.Input<string>;
  /** Principals who may request access, on top of the cloud permission check. */
  requesters?: pulumi.Input<pulumi.Input<string>[]>;
  /** Principals who may approve requests; listing them makes requests wait for approval. */
  approvers?: pulumi.Input<pulumi.Input<string>[]>;
  /** Distinct approvals a request needs (default 1 with approvers, else 0). */
  approvalsRequired?: pulumi.Input<number>;
  /** How long a request waits for approval (ISO-8601, default PT1H). */
  approvalTimeout?: pulumi.Input<string>;
  /** Low-risk requests approved at once: a source inside `sourceWithin`, a duration at most `maxDuration`. */
  autoApprove?: pulumi.Input<pulumi.Input<{ sourceWithin?: pulumi.Input<pulumi.Input<string>[]>; maxDuration?: pulumi.Input<string> }>[]>;
  /** Emergency principals who may skip approval with a justification, under a shorter maximum. */
  breakGlass?: pulumi.Input<{ principals: pulumi.Input<pulumi.Input<string>[]>; maxRequestAccessDuration?: pulumi.Input<string> }>;
  /**
   * The ledger to register the policy in: a SQLite path or a ledger URL, as `jit --ledger` takes
   * (default: `$JIT_LEDGER` where `pulumi up` runs, else `~/.pulumi-jit/ledger.db`). It is kept in
   * the stack's state, so a URL with a password or key is refused: credentials stay in the environment.
   */
  ledger?: pulumi.Input<string>;
}

export const RESOURCE_MODULE: Record<Cloud, string> = { azure: "pulumi-jit/azure", aws: "pulumi-jit/aws" };
export const POLICY_RESOURCE_TYPE = "JitPolicy";

const shims: Record<Cloud, pulumi.dynamic.ResourceProvider> = { azure: policyProviderShim("azure"), aws: policyProviderShim("aws") };

/** Outputs every JitPolicy has; the cloud-specific classes add their own inputs. */
export abstract class JitPolicyResource extends pulumi.dynamic.Resource {
  declare public readonly policyName: pulumi.Output<string>;
  declare public readonly cloud: pulumi.Output<Cloud>;
  /** The deny rules placed (Azure) or ingress rules revoked (AWS). */
  declare public readonly rules: pulumi.Output<BaselineResult["rules"]>;
  /** Per VM: protected, exposed (by which rule), or not applicable (why). */
  declare public readonly vms: pulumi.Output<BaselineResult["vms"]>;
  /** Differences from the baseline found by the last refresh; the next `pulumi up` repairs them. */
  declare public readonly drift: pulumi.Output<string[]>;
  declare public readonly warnings: pulumi.Output<string[]>;
  /** The ledger the policy is registered in, when the program names one. */
  declare public readonly ledger: pulumi.Output<string | undefined>;

  protected constructor(cloud: Cloud, name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    requireArgs(`${cloud}.JitPolicy`, args, ["virtualMachines"]);
    // Plain arguments are checked now, as the provider's check would, so that a wrong one stops the
    // program before the resource registers; the others are checked when the engine knows them.
    const plain = plainValue({ ...args, policyName: args.policyName ?? name });
    const failures = plain ? checkPolicyInputs(cloud, plain as unknown as PolicyResourceInputs).failures : [];
    if (failures.length) throw inputsError(failures);
    const props: Record<keyof Omit<PolicyResourceInputs, "policyName">, unknown> & Record<string, unknown> = {
      ...args,
      policyName: args.policyName ?? name,
      // An output whether given or not, so that a program can read it back.
      ledger: args.ledger,
      cloud: undefined,
      rules: undefined,
      vms: undefined,
      drift: undefined,
      warnings: undefined,
      baseline: undefined,
    } as never;
    super(shims[cloud], name, props, opts, RESOURCE_MODULE[cloud], POLICY_RESOURCE_TYPE);
  }
}
