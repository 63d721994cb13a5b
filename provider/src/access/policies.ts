import type { BaselineRecord } from "../driver";
import type { Ledger } from "../ledger";
import { JitError, Policy, PolicyInput, parsePolicy } from "../model";

/** A policy given inline, or the name of one registered in the ledger by a `JitPolicy` resource. */
export type PolicyRef = string | Policy | PolicyInput;

export async function resolvePolicy(ledger: Ledger, ref: PolicyRef): Promise<Policy> {
  return (await resolvePolicyRecord(ledger, ref)).policy;
}

/** The policy, and the baseline its last apply recorded when it is registered in the ledger (an inline policy has none). */
export async function resolvePolicyRecord(ledger: Ledger, ref: PolicyRef): Promise<{ policy: Policy; baseline?: BaselineRecord }> {
  if (typeof ref !== "string") return { policy: parsePolicy(ref, "policy") };
  const record = await ledger.getPolicy(ref);
  if (!record) {
    const known = (await ledger.listPolicies()).map((r) => r.policy.name);
    throw new JitError(
      "NotFound",
      `no policy named "${ref}" in the ledger${known.length ? ` (it has ${known.join(", ")})` : " (it has none: deploy a JitPolicy resource, or pass the policy itself)"}`,
      { field: "policy" },
    );
  }
  return { policy: record.policy, ...(record.baseline === undefined ? {} : { baseline: record.baseline as BaselineRecord }) };
}
