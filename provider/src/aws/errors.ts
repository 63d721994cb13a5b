import { JitError, errorMessage } from "../model";

/** EC2 errors that mean "no room": they become `CapacityExceeded`, everything else `CloudError`. */
const CAPACITY = new Set(["SecurityGroupsPerInterfaceLimitExceeded", "RulesPerSecurityGroupLimitExceeded", "SecurityGroupLimitExceeded"]);

/** An SDK error as a JitError whose message keeps the AWS error name, with the SDK error as `cause`. */
export function cloudError(err: unknown, doing: string): JitError {
  if (err instanceof JitError) return err;
  const name = (err as { name?: string } | null)?.name ?? "Error";
  const message = errorMessage(err);
  return new JitError(CAPACITY.has(name) ? "CapacityExceeded" : "CloudError", `${doing} failed: ${name}: ${message}`, { cause: err });
}

/** The AWS error name (`InvalidPermission.Duplicate`, ...) behind an error, wrapped or not. */
export function awsErrorName(err: unknown): string | undefined {
  const inner = err instanceof JitError ? err.cause : err;
  return (inner as { name?: string } | null | undefined)?.name;
}

export function isAwsError(err: unknown, ...names: string[]): boolean {
  const name = awsErrorName(err);
  return name !== undefined && names.includes(name);
}

/**
 * Whether EC2 answered with a refusal (4xx): then the call changed nothing. A network failure or
 * a 5xx leaves it unknown whether the call was applied.
 */
export function refusedByEc2(err: unknown): boolean {
  const inner = (err instanceof JitError ? err.cause : err) as { $metadata?: { httpStatusCode?: number } } | undefined;
  const status = inner?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 400 && status < 500;
}
