import { Cloud, JitError, Policy } from "../model";
import type { CloudDriver, Principal } from "../driver";

/**
 * Who asks, and how they proved it. Direct mode: the driver's own credentials (`whoAmI`). Through
 * the broker: the identity the broker verified, with the caller's own token where the cloud can
 * answer "may this caller initiate access here?" for it (Azure), used for that read only.
 */
export interface Caller {
  principal: Principal;
  /** How the request reached us: `direct` writes with the caller's credentials, `brokered` with the broker's. */
  mode: "direct" | "brokered";
  /** Azure: the caller's ARM access token, for the permissions read. */
  token?: string;
  /** The cloud whose identity the caller proved (brokered); a caller of one cloud asks nothing of another's policies. */
  cloud?: Cloud;
  /** Local development only (`jit serve --dev-identity`): no proof, so no cloud permission check; `requesters` still apply. */
  unproven?: boolean;
}

/**
 * Refuses (`Unauthorized`, nothing changed) unless the caller is among the policy's requesters
 * (when it names any) and holds the cloud's request actions on every VM. Through the broker a
 * cloud that has no request action to check (AWS) relies on the requesters list alone, so a policy
 * without one admits nobody there. The message lists what is missing where.
 */
export async function authorizeRequest(driver: CloudDriver, policy: Policy, caller: Caller, vmIds: string[], actions?: readonly string[]): Promise<void> {
  const lacks = [...(await missingFor(driver, policy, caller, vmIds, actions))].filter(([, list]) => list.length > 0);
  if (lacks.length > 0) {
    const detail = lacks.map(([vm, list]) => `${list.join(", ")} on ${vm}`).join("; ");
    throw new JitError("Unauthorized", `${describe(caller.principal)} lacks ${detail}`);
  }
}

/**
 * What the caller lacks on each VM, after the checks that concern the whole policy (its cloud, its
 * requesters), which throw `Unauthorized`.
 */
export async function missingFor(driver: CloudDriver, policy: Policy, caller: Caller, vmIds: string[], actions?: readonly string[]): Promise<Map<string, string[]>> {
  const { principal } = caller;
  if (caller.cloud !== undefined && caller.cloud !== driver.cloud) {
    throw new JitError("Unauthorized", `${describe(principal)} signed in with ${caller.cloud}, and policy "${policy.name}" is on ${driver.cloud}`);
  }
  if (policy.requesters && !policy.requesters.some((r) => driver.isRequester(r, principal))) {
    throw new JitError("Unauthorized", `${describe(principal)} is not among the requesters of policy "${policy.name}" (${policy.requesters.join(", ")})`);
  }
  const required = actions ?? driver.requestActions[caller.mode];
  if (caller.mode === "brokered" && required.length === 0 && !policy.requesters) {
    throw new JitError(
      "Unauthorized",
      `policy "${policy.name}" names no requesters, and ${driver.cloud} has no request permission the broker can check for ${describe(principal)}; list who may request in the policy's requesters`,
    );
  }
  if (required.length === 0 || caller.unproven) return new Map(vmIds.map((id) => [id, []]));
  return driver.missingPermissions(principal, vmIds, [...required], caller.token);
}

export function describe(p: Principal): string {
  return p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id;
}
