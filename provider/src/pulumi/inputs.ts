import { storableLedgerProblem } from "../ledger/open";
import { Cloud, JitError, Policy, PolicyInput, fieldPath } from "../model";

/**
 * What a JitPolicy resource takes, as the engine hands it to the provider: the policy in
 * Defender's shape, named by `policyName`, plus per-cloud options. Nothing here is secret and no
 * credential is ever an input: providers find credentials in their environment.
 */
export interface PolicyResourceInputs {
  policyName: string;
  virtualMachines: PolicyInput["virtualMachines"];
  requesters?: string[];
  approvers?: string[];
  approvalsRequired?: number;
  approvalTimeout?: string;
  autoApprove?: { sourceWithin?: string[]; maxDuration?: string }[];
  breakGlass?: { principals: string[]; maxRequestAccessDuration?: string };
  /** Azure: the resource group the policy belongs to, as in Defender (kept for export; rules go where the VMs' NSGs are). */
  resourceGroupName?: string;
  /** AWS: also change security groups that instances outside the policy use. */
  allowSharedSecurityGroups?: boolean;
  /** AWS: the region of instances given by bare id, when the environment names none (default: the stack's `aws:region`). */
  region?: string;
  /**
   * The ledger the policy is registered in: a SQLite path or a ledger URL, as `--ledger` takes
   * (default: `$JIT_LEDGER`, else `~/.pulumi-jit/ledger.db`). Kept in the stack's state, so it may
   * carry no credential: those stay in the environment.
   */
  ledger?: string;
}

/**
 * Every input of `PolicyResourceInputs` (the compiler insists on each, and on no other), with the
 * clouds whose JitPolicy takes it: for code that must name them all, such as the schema test.
 */
export const POLICY_RESOURCE_INPUTS = {
  policyName: ["azure", "aws"],
  virtualMachines: ["azure", "aws"],
  requesters: ["azure", "aws"],
  approvers: ["azure", "aws"],
  approvalsRequired: ["azure", "aws"],
  approvalTimeout: ["azure", "aws"],
  autoApprove: ["azure", "aws"],
  breakGlass: ["azure", "aws"],
  resourceGroupName: ["azure"],
  allowSharedSecurityGroups: ["aws"],
  region: ["aws"],
  ledger: ["azure", "aws"],
} as const satisfies Record<keyof PolicyResourceInputs, readonly Cloud[]>;

/** The engine's placeholder for a value not known until apply (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export function policyOf(inputs: PolicyResourceInputs): unknown {
  return {
    name: inputs.policyName,
    virtualMachines: inputs.virtualMachines,
    ...(inputs.requesters ? { requesters: inputs.requesters } : {}),
    ...(inputs.approvers ? { approvers: inputs.approvers } : {}),
    ...(inputs.approvalsRequired !== undefined ? { approvalsRequired: inputs.approvalsRequired } : {}),
    ...(inputs.approvalTimeout ? { approvalTimeout: inputs.approvalTimeout } : {}),
    ...(inputs.autoApprove ? { autoApprove: inputs.autoApprove } : {}),
    ...(inputs.breakGlass ? { breakGlass: inputs.breakGlass } : {}),
  };
}

/**
 * The AWS region the JitPolicy's provider works in: the environment's (`AWS_REGION`, then
 * `AWS_DEFAULT_REGION`) when it names one, as for every AWS tool, else the resource's `region`
 * input, which the program fills from the stack's `aws:region`. A region is a plain value: no
 * credential is ever taken from the stack's configuration.
 */
export function providerRegion(cloud: Cloud, inputs: Pick<PolicyResourceInputs, "region">, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (cloud !== "aws") return undefined;
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || inputs.region || undefined;
}

/** The longest ledger location taken, as for the provider's configuration. */
const MAX_LEDGER = 2048;

export interface CheckFailure {
  property: string;
  reason: string;
}

/** The first of `failures` as the product's error, naming its property, with the others counted. */
export function inputsError(failures: CheckFailure[]): JitError {
  const [first] = failures;
  return new JitError("InvalidInput", `${first.reason}${failures.length > 1 ? ` (and ${failures.length - 1} more problem(s))` : ""}`, { field: first.property });
}

/** Validates inputs for `cloud`; problems are reported per property, as `pulumi preview` shows them. */
export function checkPolicyInputs(cloud: Cloud, inputs: PolicyResourceInputs): { policy?: Policy; failures: CheckFailure[] } {
  if (containsUnknown(inputs)) return { failures: [] };
  const parsed = Policy.safeParse(policyOf(inputs));
  if (!parsed.success) {
    return {
      failures: parsed.error.issues.map((i) => {
        const path = i.path[0] === "name" ? ["policyName", ...i.path.slice(1)] : i.path;
        return { property: fieldPath(path), reason: i.message };
      }),
    };
  }
  const failures: CheckFailure[] = [];
  parsed.data.virtualMachines.forEach((vm, i) => {
    const onAws = vm.id.startsWith("i-") || vm.id.startsWith("arn:");
    if ((cloud === "aws") !== onAws) {
      failures.push({ property: `virtualMachines[${i}].id`, reason: `is not ${cloud === "aws" ? "an EC2 instance id or ARN" : "an Azure VM resource id"}; this is the ${cloud} JitPolicy` });
    }
  });
  if (inputs.ledger !== undefined) {
    const problem = typeof inputs.ledger === "string" && inputs.ledger.length <= MAX_LEDGER ? storableLedgerProblem(inputs.ledger) : `must be a ledger path or URL of at most ${MAX_LEDGER} characters`;
    if (problem) failures.push({ property: "ledger", reason: problem });
  }
  if (cloud === "azure" && inputs.allowSharedSecurityGroups !== undefined) {
    failures.push({ property: "allowSharedSecurityGroups", reason: "applies to AWS security groups only" });
  }
  return failures.length ? { failures } : { policy: parsed.data, failures };
}
