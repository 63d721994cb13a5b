import { Cloud, JitError, Policy } from "../model";
import type { CloudDriver, Principal } from "../driver";

/**
 * The cloud permissions a requester must hold on each VM, checked before anything changes. Azure
 * uses Defender's own actions, so an existing "JIT Access Role" assignment keeps working; AWS has
 * no JIT action of its own, so we ask for the right to read the instance, to open a port in a
 * security group, and to change the security groups of its interfaces: a grant that joins an
 * existing grant group only authorizes a rule, one that needs a new group also attaches it, so
 * without either right a request would fail half-way rather than be refused up front.
 */
export const DEFAULT_REQUEST_ACTIONS: Record<Cloud, readonly string[]> = {
  azure: ["Microsoft.Security/locations/jitNetworkAccessPolicies/initiate/action", "Microsoft.Compute/virtualMachines/read"],
  aws: ["ec2:DescribeInstances", "ec2:AuthorizeSecurityGroupIngress", "ec2:ModifyNetworkInterfaceAttribute"],
};

/**
 * Refuses (`Unauthorized`, nothing changed) unless the principal holds every action on every VM
 * and, when the policy names requesters, is one of them. The message lists what is missing where.
 */
export async function authorizeRequest(
  driver: CloudDriver,
  policy: Policy,
  principal: Principal,
  vmIds: string[],
  actions: readonly string[] = DEFAULT_REQUEST_ACTIONS[driver.cloud],
): Promise<void> {
  if (policy.requesters && !policy.requesters.some((r) => sameIdentity(r, principal))) {
    throw new JitError(
      "Unauthorized",
      `${describe(principal)} is not among the requesters of policy "${policy.name}" (${policy.requesters.join(", ")})`,
    );
  }
  const missing = await driver.missingPermissions(principal, vmIds, [...actions]);
  const lacks = [...missing].filter(([, list]) => list.length > 0);
  if (lacks.length > 0) {
    const detail = lacks.map(([vm, list]) => `${list.join(", ")} on ${vm}`).join("; ");
    throw new JitError("Unauthorized", `${describe(principal)} lacks ${detail}`);
  }
}

function sameIdentity(listed: string, principal: Principal): boolean {
  const l = listed.toLowerCase();
  return l === principal.id.toLowerCase() || (principal.name !== undefined && l === principal.name.toLowerCase());
}

function describe(p: Principal): string {
  return p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id;
}
