import { wildcard } from "../common/wildcard";
import { Json, fail, isObject } from "./arm";
import { key, parseId } from "./ids";
import type { PermissionBlock } from "./store";

/**
 * Azure RBAC as ARM enforces it on each call. The front door authorises the request as one action
 * (worked out from the method and the path) at the request's scope, against the caller's role
 * assignments at that scope or above: an assignment allows an action when one of its `actions`
 * matches and none of its `notActions` does (wildcards, case-insensitively). The network resource
 * provider then checks *linked* access: a write whose body references another resource (a subnet,
 * a public IP, an NSG, a NIC) needs that resource's `join/action` on it, else
 * `LinkedAuthorizationFailed`. Deny assignments and ABAC conditions are not modelled.
 */

/**
 * The action ARM authorises a request as: the resource provider namespace and resource types of
 * the path (after its last `providers` segment) and the verb (GET read, PUT/PATCH write, DELETE
 * delete, POST `<name>/action`). Listing one's own permissions needs no action (`undefined`).
 */
export function armAction(method: string, path: string): string | undefined {
  const segments = path.split("?")[0].split("/").filter(Boolean);
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  if (at < 0) return method === "GET" ? "Microsoft.Resources/subscriptions/resourceGroups/read" : undefined;
  const [namespace, ...rest] = segments.slice(at + 1);
  if (`${namespace}/${rest[0]}`.toLowerCase() === "microsoft.authorization/permissions") return undefined;
  if (method === "POST") {
    const types = rest.slice(0, -1).filter((_, i) => i % 2 === 0);
    return [namespace, ...types, rest[rest.length - 1], "action"].join("/");
  }
  const types = rest.filter((_, i) => i % 2 === 0);
  const verb = method === "GET" ? "read" : method === "DELETE" ? "delete" : "write";
  return [namespace, ...types, verb].join("/");
}

/**
 * The scope an action is authorised over: the resource the path names, without a POST's action;
 * a list (a path ending in a collection) is authorised over its parent, as ARM reports
 * `.../resourceGroups/rg/providers/Microsoft.Network` for a list of a group's NSGs.
 */
export function scopeOf(method: string, path: string): string {
  const segments = path.split("?")[0].split("/").filter(Boolean);
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const collection = at >= 0 && (segments.length - at) % 2 === 1;
  return "/" + (method === "POST" || collection ? segments.slice(0, -1) : segments).join("/");
}

/** The `join` action that referencing a resource of each type needs, by the last type segment of its id. */
const JOIN_ACTIONS: Record<string, string> = {
  "microsoft.network/virtualnetworks/subnets": "Microsoft.Network/virtualNetworks/subnets/join/action",
  "microsoft.network/publicipaddresses": "Microsoft.Network/publicIPAddresses/join/action",
  "microsoft.network/networksecuritygroups": "Microsoft.Network/networkSecurityGroups/join/action",
  "microsoft.network/networkinterfaces": "Microsoft.Network/networkInterfaces/join/action",
  "microsoft.network/routetables": "Microsoft.Network/routeTables/join/action",
  "microsoft.network/firewallpolicies": "Microsoft.Network/firewallPolicies/join/action",
};

export interface LinkedAccess {
  action: string;
  scope: string;
}

/** At most this many references are looked at in one body: ARM bodies are small, and a bound keeps the walk linear. */
const MAX_REFERENCES = 1000;

/**
 * The linked actions a write of `resourceId` with `body` needs: one per distinct resource the body
 * references by `{ "id": ... }` (the resource's own children excepted), in the order they appear.
 */
export function linkedAccess(resourceId: string, body: Json): LinkedAccess[] {
  const own = key(resourceId);
  const found = new Map<string, LinkedAccess>();
  const stack: unknown[] = [body];
  let seen = 0;
  while (stack.length > 0 && seen < MAX_REFERENCES) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push(node[i]);
      continue;
    }
    if (!isObject(node)) continue;
    seen++;
    if (typeof node.id === "string") {
      const id = node.id;
      const parsed = parseId(id);
      const idKey = key(id);
      if (parsed && idKey !== own && !idKey.startsWith(`${own}/`) && !found.has(idKey)) {
        const type = key([parsed.provider, ...parsed.segments.map(([t]) => t)].join("/"));
        const action = JOIN_ACTIONS[type];
        if (action) found.set(idKey, { action, scope: id });
      }
    }
    const values = Object.values(node);
    for (let i = values.length - 1; i >= 0; i--) stack.push(values[i]);
  }
  return [...found.values()];
}

/** Is `scope` the same as `assignment`, or below it? */
export const within = (scope: string, assignment: string): boolean => key(scope) === key(assignment) || key(scope).startsWith(`${key(assignment)}/`);

const matches = (patterns: string[], action: string) => patterns.some((p) => wildcard(p, { backslashEscapes: false, ignoreCase: true }).test(action));

/** Whether any of the caller's assignments at `scope` or above allows `action` there. */
export function allowed(blocks: PermissionBlock[], action: string, scope: string): boolean {
  return blocks.some((b) => within(scope, b.scope) && matches(b.actions, action) && !matches(b.notActions, action));
}

export interface Caller {
  /** The principal's name as the emulator keys permissions. */
  principal: string;
  oid: string;
  /** How ARM names the client in its messages: a user's UPN, else the object id. */
  display: string;
}

/** ARM's 403 when the caller may not perform the request's own action. */
export function authorizationFailed(caller: Caller, action: string, scope: string): never {
  return fail(
    403,
    "AuthorizationFailed",
    `The client '${caller.display}' with object id '${caller.oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

/** NRP's 403 when the caller may perform the write but not join what it references. */
export function linkedAuthorizationFailed(caller: Caller, action: string, scope: string, missing: LinkedAccess[]): never {
  const several = missing.length > 1;
  return fail(
    403,
    "LinkedAuthorizationFailed",
    `The client '${caller.display}' with object id '${caller.oid}' has permission to perform action '${action}' on scope '${scope}'; however, it does not have permission to perform action${several ? "(s)" : ""} '${missing.map((m) => m.action).join(",")}' on the linked scope(s) '${missing.map((m) => m.scope).join(",")}'${several ? " (respectively)" : ""} or the linked scope(s) are invalid.`,
  );
}

/**
 * Authorises one ARM request: its own action at its scope, then (for a write with a body) the
 * linked actions on what the body references. Throws ARM's 403 on the first refusal.
 */
export function authorize(blocks: PermissionBlock[], caller: Caller, method: string, path: string, body: () => Json | undefined): void {
  const action = armAction(method, path);
  if (action === undefined) return;
  const scope = scopeOf(method, path);
  if (!allowed(blocks, action, scope)) authorizationFailed(caller, action, scope);
  if (method !== "PUT" && method !== "PATCH") return;
  const parsed = body();
  if (parsed === undefined) return;
  const missing = linkedAccess(scope, parsed).filter((l) => !allowed(blocks, l.action, l.scope));
  if (missing.length > 0) linkedAuthorizationFailed(caller, action, scope, missing);
}
