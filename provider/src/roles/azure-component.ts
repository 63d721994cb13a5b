import * as pulumi from "@pulumi/pulumi";
import { azureRoleDefinition } from "./azure-role";
import { RoleKind, parseRoleKind } from "./kinds";
import { peerModule } from "./peer";
import { plainValue, requireArgs } from "../pulumi/args";

export interface JitRoleArgs {
  /** Which job the role is for: `configure`, `request` or `read`. */
  kind: RoleKind;
  /** Where the role may be assigned (and is assigned, unless `assignmentScope` says otherwise): a subscription, resource group or resource id. */
  scope: pulumi.Input<string>;
  /** Unique in the tenant; default "pulumi-jit Request Access" and so on. */
  roleName?: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  /** Also assign the role to this principal (an Entra object id). */
  principalId?: pulumi.Input<string>;
  /** `User`, `Group` or `ServicePrincipal`; lets ARM skip a directory lookup for new principals. */
  principalType?: pulumi.Input<string>;
  /** Where to assign it, at or below `scope` (default `scope`). */
  assignmentScope?: pulumi.Input<string>;
}

export const JIT_ROLE_TYPE = "pulumi-jit:azure:JitRole";

/**
 * An Azure custom role holding exactly the actions pulumi-jit needs for one kind of job (see
 * `AZURE_ACTIONS`), as an `azure-native` RoleDefinition, and optionally its assignment to a
 * principal. Needs `@pulumi/azure-native` in the program's dependencies.
 */
export class JitRole extends pulumi.ComponentResource {
  /** The role definition's resource id, for further role assignments. */
  public readonly roleDefinitionId: pulumi.Output<string>;
  public readonly actions: pulumi.Output<string[]>;
  /** The assignment's resource id, when `principalId` was given. */
  public readonly roleAssignmentId: pulumi.Output<string | undefined>;

  constructor(name: string, args: JitRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    const kind = parseRoleKind(requireArgs("azure.JitRole", args, ["kind", "scope"]).kind);
    // Plain arguments are checked now, so a wrong scope stops the program before anything registers.
    const plain = plainValue({ scope: args.scope, roleName: args.roleName, description: args.description });
    if (plain) roleDefinition(kind, plain);
    super(JIT_ROLE_TYPE, name, { ...args }, opts);
    const authorization = peerModule("@pulumi/azure-native", () => require("@pulumi/azure-native/authorization") as typeof import("@pulumi/azure-native/authorization"));

    const doc = pulumi.all([args.scope, args.roleName, args.description]).apply(([scope, roleName, description]) => roleDefinition(kind, { scope, roleName, description }));
    const definition = new authorization.RoleDefinition(
      name,
      {
        scope: args.scope,
        roleName: doc.Name,
        description: doc.Description,
        roleType: "CustomRole",
        assignableScopes: doc.AssignableScopes,
        permissions: [{ actions: doc.Actions, notActions: doc.NotActions, dataActions: doc.DataActions, notDataActions: doc.NotDataActions }],
      },
      { parent: this },
    );
    const assignment =
      args.principalId === undefined
        ? undefined
        : new authorization.RoleAssignment(
            `${name}-assignment`,
            {
              principalId: args.principalId,
              ...(args.principalType === undefined ? {} : { principalType: args.principalType }),
              roleDefinitionId: definition.id,
              scope: args.assignmentScope ?? args.scope,
            },
            { parent: this },
          );

    this.roleDefinitionId = definition.id;
    this.actions = doc.Actions;
    this.roleAssignmentId = assignment ? assignment.id : pulumi.output(undefined);
    this.registerOutputs({ roleDefinitionId: this.roleDefinitionId, actions: this.actions, roleAssignmentId: this.roleAssignmentId });
  }
}

function roleDefinition(kind: RoleKind, o: { scope: string; roleName?: string | undefined; description?: string | undefined }) {
  return azureRoleDefinition({ kind, scope: o.scope, ...(o.roleName ? { name: o.roleName } : {}), ...(o.description ? { description: o.description } : {}) });
}
