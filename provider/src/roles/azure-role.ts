import { JitError } from "../model/errors";
import { azureActions } from "./azure-actions";
import type { RoleKind } from "./kinds";

/** An Azure custom role, in the JSON `az role definition create --role-definition` and `New-AzRoleDefinition` read. */
export interface AzureRoleDefinition {
  Name: string;
  IsCustom: true;
  Description: string;
  Actions: string[];
  NotActions: string[];
  DataActions: string[];
  NotDataActions: string[];
  AssignableScopes: string[];
}

export interface AzureRoleOptions {
  kind: RoleKind;
  /** Where the role may be assigned: a management group, subscription, resource group or resource id. */
  scope: string | readonly string[];
  /** Role names are unique in a tenant; the default names the kind. */
  name?: string;
  description?: string;
}

const NAMES: Record<RoleKind, string> = {
  configure: "pulumi-jit Configure",
  request: "pulumi-jit Request Access",
  broker: "pulumi-jit Broker",
  direct: "pulumi-jit Request Access (direct)",
  read: "pulumi-jit Reader",
};

const DESCRIPTIONS: Record<RoleKind, string> = {
  configure: "Deploys pulumi-jit JIT policies (deny rules in NSGs and classic Azure Firewalls) and runs the reconciler that closes expired grants.",
  request: "Requests just-in-time access to VMs through the pulumi-jit broker (Defender's request role): writes nothing itself.",
  broker: "The pulumi-jit broker's identity: opens and closes grants' NSG allow rules and Azure Firewall DNAT rules for the requesters it authorises.",
  direct: "Requests just-in-time access to VMs with pulumi-jit without a broker: opens and closes its own NSG allow rules and Azure Firewall DNAT rules.",
  read: "Reads VMs, network interfaces, NSGs and Azure Firewalls to report which VMs need just-in-time access.",
};

const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const SCOPE = new RegExp(`^(?:/providers/Microsoft\\.Management/managementGroups/[^/]+|/subscriptions/${GUID}(?:/resourceGroups/[^/]+(?:/providers/.+)?)?)$`, "i");

/** A scope as ARM spells it (no trailing slash), or `InvalidInput` saying what a scope looks like. */
function azureScope(text: string, field = "scope"): string {
  const scope = text.trim().replace(/\/+$/, "");
  if (!SCOPE.test(scope)) {
    throw new JitError(
      "InvalidInput",
      `"${text}" is not an assignable scope: use /subscriptions/<guid>, /subscriptions/<guid>/resourceGroups/<name>, a resource id, or /providers/Microsoft.Management/managementGroups/<id>`,
      { field },
    );
  }
  return scope;
}

/** The custom role for `kind`, assignable at `scope`. */
export function azureRoleDefinition(options: AzureRoleOptions): AzureRoleDefinition {
  const scopes = (typeof options.scope === "string" ? [options.scope] : options.scope).map((s) => azureScope(s));
  if (scopes.length === 0) throw new JitError("InvalidInput", "a role needs at least one assignable scope", { field: "scope" });
  return {
    Name: options.name ?? NAMES[options.kind],
    IsCustom: true,
    Description: options.description ?? DESCRIPTIONS[options.kind],
    Actions: azureActions(options.kind),
    NotActions: [],
    DataActions: [],
    NotDataActions: [],
    AssignableScopes: [...new Set(scopes)],
  };
}
