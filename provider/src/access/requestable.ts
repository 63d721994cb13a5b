import { isJitError, policyCloud, type Policy } from "../model";
import { Caller, missingFor } from "./authorize";
import type { AccessContext } from "./context";

/**
 * The policies a caller may request, each with only the VMs they may request it for: what the
 * broker shows a caller before they ask. The same checks as a request (requesters, the cloud's
 * request permission per VM), so what is listed is what a request would be allowed.
 */
export async function requestablePolicies(ctx: AccessContext, caller: Caller): Promise<Policy[]> {
  const out: Policy[] = [];
  for (const { policy } of await ctx.ledger.listPolicies(caller.cloud ? { cloud: caller.cloud } : {})) {
    const driver = await ctx.driver(policyCloud(policy));
    let missing: Map<string, string[]>;
    try {
      missing = await missingFor(driver, policy, caller, policy.virtualMachines.map((vm) => vm.id));
    } catch (err) {
      if (isJitError(err, "Unauthorized")) continue;
      throw err;
    }
    const allowed = policy.virtualMachines.filter((vm) => (missing.get(vm.id) ?? []).length === 0);
    if (allowed.length > 0) out.push({ ...policy, virtualMachines: allowed });
  }
  return out;
}

/** Whether a list of principals (a broker's readers or admins) names the caller, as its cloud spells identities. */
export async function listsCaller(ctx: AccessContext, caller: Caller, list: readonly string[]): Promise<boolean> {
  if (list.length === 0) return false;
  if (caller.cloud === undefined) {
    const names = [caller.principal.id, caller.principal.name].filter((n): n is string => n !== undefined).map((n) => n.toLowerCase());
    return list.some((entry) => names.includes(entry.toLowerCase()));
  }
  const driver = await ctx.driver(caller.cloud);
  return list.some((entry) => driver.isRequester(entry, caller.principal));
}
