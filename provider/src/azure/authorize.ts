import type { Permission } from "@azure/arm-authorization";
import { JitError, parseVmId } from "../model";
import type { Principal } from "../driver";
import { AzureClients } from "./clients";
import type { ResolvedConnection } from "./connection";
import { cloudError } from "./errors";
import { mapLimit } from "./parallel";
import { principalOfToken, tokenClaims } from "./token";

/**
 * Whether the caller may act on a VM, as ARM would decide: the permissions API lists, at the VM's
 * scope, one block per role assignment that applies there; an action is allowed when some block
 * lists it in `actions` and does not list it in that same block's `notActions`. Both match
 * case-insensitively, and `*` in a pattern stands for any run of characters, slashes included.
 * Deny assignments are not part of that answer, and are not considered.
 */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
  return regex.test(action);
}

/** The actions in `actions` that no block of `permissions` allows. */
export function missingActions(permissions: readonly Permission[], actions: readonly string[]): string[] {
  const allows = (p: Permission, action: string) => (p.actions ?? []).some((a) => actionMatches(a, action)) && !(p.notActions ?? []).some((a) => actionMatches(a, action));
  return actions.filter((action) => !permissions.some((p) => allows(p, action)));
}

/** For each VM, the actions the caller lacks there (the permissions API answers for the caller only). */
export async function callerMissingPermissions(clients: AzureClients, vmIds: readonly string[], actions: readonly string[]): Promise<Map<string, string[]>> {
  const missing = await mapLimit(vmIds, clients.connection.readConcurrency, async (vmId) => {
    const ref = parseVmId(vmId);
    if (ref.cloud !== "azure") throw new JitError("InvalidInput", `${vmId} is not an Azure VM`);
    const authorization = await clients.authorization(ref.subscriptionId);
    const permissions: Permission[] = [];
    try {
      for await (const p of authorization.permissions.listForResource(ref.resourceGroup, "Microsoft.Compute", "", "virtualMachines", ref.name)) permissions.push(p);
    } catch (err) {
      throw cloudError(err, `reading the caller's permissions on VM ${vmId}`);
    }
    return missingActions(permissions, actions);
  });
  return new Map(vmIds.map((id, i) => [id, missing[i]]));
}

/**
 * The caller's missing actions, asked with the caller's own token (the broker's question: "may
 * this person initiate access here?", answered by ARM for them). The token is handed to a set of
 * clients made for this one read and dropped with them; the principal must be the token's.
 */
export async function missingPermissionsWithToken(
  connection: ResolvedConnection,
  principal: Principal,
  token: string,
  vmIds: readonly string[],
  actions: readonly string[],
): Promise<Map<string, string[]>> {
  if (principalOfToken(token).id.toLowerCase() !== principal.id.toLowerCase()) {
    throw new JitError("Unauthorized", `the token given is not ${principal.id}'s`);
  }
  const expiresOnTimestamp = (tokenClaims(token)?.exp ?? 0) * 1000;
  const clients = new AzureClients({ ...connection, credential: async () => ({ getToken: async () => ({ token, expiresOnTimestamp }) }) });
  return callerMissingPermissions(clients, vmIds, actions);
}

/** Requester entries name Azure principals by object id or user principal name, in any case. */
export function azureRequesterMatches(listed: string, principal: Principal): boolean {
  const l = listed.toLowerCase();
  return l === principal.id.toLowerCase() || (principal.name !== undefined && l === principal.name.toLowerCase());
}
