import type { Permission } from "@azure/arm-authorization";
import { JitError, parseVmId } from "../model";
import type { Principal } from "../driver";
import { AzureClients } from "./clients";
import type { ResolvedConnection } from "./connection";
import { cloudError } from "./errors";
import { mapLimit } from "../util/parallel";
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

/**
 * For each VM, the actions the caller lacks there (the permissions API answers for the caller
 * only). Where a request names several VMs of one resource group, the group's permissions are read
 * once: an action allowed at the group's scope is allowed on every VM in it (role assignments are
 * inherited), so only the VMs that leaves something missing for (an assignment on the VM itself)
 * are asked about one by one.
 */
export async function callerMissingPermissions(clients: AzureClients, vmIds: readonly string[], actions: readonly string[]): Promise<Map<string, string[]>> {
  const refs = vmIds.map((vmId) => {
    const ref = parseVmId(vmId);
    if (ref.cloud !== "azure") throw new JitError("InvalidInput", `${vmId} is not an Azure VM`);
    return ref;
  });
  const groupKey = (ref: (typeof refs)[number]) => `${ref.subscriptionId}/${ref.resourceGroup}`.toLowerCase();
  const perGroup = new Map<string, number>();
  for (const ref of refs) perGroup.set(groupKey(ref), (perGroup.get(groupKey(ref)) ?? 0) + 1);
  const shared = [...perGroup].filter(([, n]) => n > 1).map(([k]) => refs.find((r) => groupKey(r) === k)!);
  const groupMissing = new Map(
    await mapLimit(shared, clients.connection.readConcurrency, async (ref) => {
      const authorization = await clients.authorization(ref.subscriptionId);
      const permissions = await listed(authorization.permissions.listForResourceGroup(ref.resourceGroup), `resource group ${ref.resourceGroup}`);
      return [groupKey(ref), missingActions(permissions, actions)] as const;
    }),
  );
  const missing = await mapLimit(refs, clients.connection.readConcurrency, async (ref) => {
    const inGroup = groupMissing.get(groupKey(ref));
    if (inGroup !== undefined && inGroup.length === 0) return [];
    const authorization = await clients.authorization(ref.subscriptionId);
    const permissions = await listed(authorization.permissions.listForResource(ref.resourceGroup, "Microsoft.Compute", "", "virtualMachines", ref.name), `VM ${ref.name} in resource group ${ref.resourceGroup}`);
    return missingActions(permissions, actions);
  });
  return new Map(vmIds.map((id, i) => [id, missing[i]]));
}

async function listed(pages: AsyncIterable<Permission>, what: string): Promise<Permission[]> {
  const out: Permission[] = [];
  try {
    for await (const p of pages) out.push(p);
  } catch (err) {
    throw cloudError(err, `reading the caller's permissions on ${what}`);
  }
  return out;
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
