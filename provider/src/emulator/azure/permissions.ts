import { fail } from "./arm";
import type { Ctx } from "./context";
import { key } from "./ids";
import { ArmRoute, page } from "./router";

/**
 * Microsoft.Authorization/permissions at any scope: the caller's effective permissions there, one
 * entry per role assignment that applies (at the scope or above it), each with its `actions`,
 * `notActions`, `dataActions` and `notDataActions`. The caller is whoever the bearer token names.
 */
function operationFor(scope: string): string {
  const depth = scope.split("/").filter((s) => s !== "").length;
  if (depth <= 2) return "Permissions_ListForSubscription";
  if (depth <= 4) return "Permissions_ListForResourceGroup";
  return "Permissions_ListForResource";
}

/** Is `scope` the same as `assignment`, or below it? */
const within = (scope: string, assignment: string): boolean => key(scope) === key(assignment) || key(scope).startsWith(`${key(assignment)}/`);

export function permissionRoutes(ctx: Ctx): ArmRoute[] {
  return [
    {
      method: "GET",
      path: "/{scope*}/providers/Microsoft.Authorization/permissions",
      operation: (params) => operationFor(params.scope),
      handle: (req) => {
        const [subscriptions, subscriptionId, groups, resourceGroup] = req.params.scope.split("/").filter((s) => s !== "");
        if (key(subscriptions ?? "") !== "subscriptions" || key(subscriptionId ?? "") !== key(ctx.options.subscriptionId)) {
          fail(404, "SubscriptionNotFound", `The subscription '${subscriptionId ?? ""}' could not be found.`);
        }
        if (key(groups ?? "") === "resourcegroups") ctx.store.requireResourceGroup(resourceGroup ?? "");
        const applicable = ctx.store
          .permissionsOf(req.principal)
          .filter((b) => within(req.params.scope, b.scope))
          .map(({ actions, notActions, dataActions, notDataActions }) => ({ actions, notActions, dataActions, notDataActions }));
        return page(req, applicable, ctx.options.pageSize);
      },
    },
  ];
}
