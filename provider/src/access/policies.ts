import type { Ledger } from "../ledger";
import { JitError, Policy, PolicyInput, parsePolicy } from "../model";

/** A policy given inline, or the name of one registered in the ledger by a `JitPolicy` resource. */
export type PolicyRef = string | Policy | PolicyInput;

export async function resolvePolicy(ledger: Ledger, ref: PolicyRef): Promise<Policy> {
  if (typeof ref !== "string") return parsePolicy(ref, "policy");
  const record = await ledger.getPolicy(ref);
  if (!record) {
    const known = (await ledger.listPolicies()).map((r) => r.policy.name);
    throw new JitError(
      "NotFound",
      `no policy named "${ref}" in the ledger${known.length ? ` (it has ${known.join(", ")})` : " (it has none: deploy a JitPolicy resource, or pass the policy itself)"}`,
      { field: "policy" },
    );
  }
  return record.policy;
}
