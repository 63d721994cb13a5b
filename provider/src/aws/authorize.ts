import type { ContextEntry } from "@aws-sdk/client-iam";
import type { Tag } from "@aws-sdk/client-ec2";
import type { Principal } from "../driver";
import { JitError, parseVmId } from "../model";
import type { AwsContext } from "./context";
import { targetOf } from "./context";
import { cloudError, isAwsError } from "./errors";

/**
 * Who the credentials are (STS GetCallerIdentity) and what they may do to an instance (IAM
 * SimulatePrincipalPolicy). IAM simulates users and roles, not role sessions, so an assumed-role
 * session is checked as its role, and keeps its session name as the readable name. A session ARN
 * never carries its role's path (IAM Identity Center roles live under
 * `/aws-reserved/sso.amazonaws.com/…`), so the role's own ARN comes from GetRole.
 */

const ARN = /^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)$/;

export function principalOf(callerArn: string): Principal {
  const m = ARN.exec(callerArn);
  const session = m && m[2] === "sts" ? /^assumed-role\/([^/]+)\/(.+)$/.exec(m[4]) : null;
  if (m && session) return { id: `arn:${m[1]}:iam::${m[3]}:role/${session[1]}`, name: session[2] };
  return { id: callerArn, name: callerArn.split(/[/:]/).pop() ?? callerArn };
}

export async function whoAmI(ctx: AwsContext): Promise<Principal> {
  const { sdk, client } = await ctx.clients.sts();
  let callerArn: string;
  try {
    callerArn = (await client.send(new sdk.GetCallerIdentityCommand({}))).Arn ?? "";
  } catch (err) {
    throw cloudError(err, "GetCallerIdentity");
  }
  return withRolePath(ctx, callerArn, principalOf(callerArn));
}

/**
 * A role session's role with its path, from GetRole. Without `iam:GetRole` on the role the
 * path-less ARN stands: right for roles at `/`, and simulation says so for the others.
 */
async function withRolePath(ctx: AwsContext, callerArn: string, principal: Principal): Promise<Principal> {
  const role = /:assumed-role\/([^/]+)\//.exec(callerArn)?.[1];
  if (role === undefined) return principal;
  const { sdk, client } = await ctx.clients.iam();
  try {
    const arn = (await client.send(new sdk.GetRoleCommand({ RoleName: role }))).Role?.Arn;
    return arn ? { ...principal, id: arn } : principal;
  } catch (err) {
    if (isAwsError(err, "AccessDenied", "AccessDeniedException")) return principal;
    throw cloudError(err, `GetRole ${role}`);
  }
}

/**
 * The actions the principal lacks on each instance, simulated on the instance's ARN (built from its
 * region and account: the instance ARN's own, else the default region and the principal's
 * account). The account root is not subject to identity policies and lacks nothing.
 */
export async function missingPermissions(ctx: AwsContext, principal: Principal, vmIds: string[], actions: string[]): Promise<Map<string, string[]>> {
  const missing = new Map<string, string[]>(vmIds.map((id) => [id, []]));
  if (vmIds.length === 0 || actions.length === 0) return missing;
  const m = ARN.exec(principal.id);
  if (m && m[2] === "iam" && m[4] === "root") return missing;
  if (!m || m[2] !== "iam" || !/^(user|role)\//.test(m[4])) {
    throw new JitError("Unsupported", `cannot check what ${principal.id} may do: IAM policy simulation takes IAM users and roles only`);
  }
  const [, partition, , account] = m;
  // Instances by region, then by tag set: a simulation's context entries apply to all its resources.
  const byRegion = new Map<string, Map<string, string>>();
  for (const id of vmIds) {
    const target = await targetOf(ctx, id);
    const ref = parseVmId(id);
    const arn = `arn:${partition}:ec2:${target.region}:${(ref.cloud === "aws" && ref.account) || account}:instance/${target.instanceId}`;
    byRegion.set(target.region, (byRegion.get(target.region) ?? new Map()).set(arn, id));
  }
  for (const [region, arns] of byRegion) {
    const ids = [...arns.keys()].map((arn) => arn.slice(arn.lastIndexOf("/") + 1));
    // Unread tags only narrow the verdict: a condition on a missing key fails, so nothing is allowed that should not be.
    const tags = await ctx.clients
      .ec2(region)
      .then((ec2) => ec2.instanceTags(ids))
      .catch(() => new Map<string, Tag[]>());
    const groups = new Map<string, { tags: Tag[]; arns: Map<string, string> }>();
    for (const [arn, vmId] of arns) {
      const own = [...(tags.get(arn.slice(arn.lastIndexOf("/") + 1)) ?? [])].sort((a, b) => String(a.Key).localeCompare(String(b.Key)));
      const key = JSON.stringify(own);
      const group = groups.get(key) ?? { tags: own, arns: new Map<string, string>() };
      group.arns.set(arn, vmId);
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      for (const result of await simulate(ctx, principal.id, actions, [...group.arns.keys()], resourceTagContext(group.tags))) {
        for (const [arn, vmId] of group.arns) {
          const decision = result.ResourceSpecificResults?.find((r) => r.EvalResourceName === arn)?.EvalResourceDecision ?? result.EvalDecision;
          if (decision !== "allowed") missing.get(vmId)?.push(result.EvalActionName ?? "");
        }
      }
    }
  }
  return missing;
}

/**
 * The simulator does not look up an instance's tags, so a role scoped by `aws:ResourceTag/…` (as
 * `jit role aws --tag` makes it) would be judged without them and refused: they are given as
 * context entries, under both the global and EC2's own key.
 */
function resourceTagContext(tags: readonly Tag[]): ContextEntry[] {
  return tags.flatMap((t) =>
    ["aws:ResourceTag", "ec2:ResourceTag"].map((prefix) => ({ ContextKeyName: `${prefix}/${t.Key ?? ""}`, ContextKeyValues: [t.Value ?? ""], ContextKeyType: "string" as const })),
  );
}

/** Every page of SimulatePrincipalPolicy. */
async function simulate(ctx: AwsContext, policySourceArn: string, actions: string[], resources: string[], context: ContextEntry[]) {
  const { sdk, client } = await ctx.clients.iam();
  const results = [];
  let marker: string | undefined;
  do {
    try {
      const out = await client.send(
        new sdk.SimulatePrincipalPolicyCommand({ PolicySourceArn: policySourceArn, ActionNames: actions, ResourceArns: resources, ContextEntries: context.length > 0 ? context : undefined, Marker: marker }),
      );
      results.push(...(out.EvaluationResults ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } catch (err) {
      if (isAwsError(err, "AccessDenied", "AccessDeniedException")) {
        throw new JitError("Unauthorized", `cannot check what ${policySourceArn} may do: IAM refused SimulatePrincipalPolicy; allow iam:SimulatePrincipalPolicy on it`, { cause: err });
      }
      if (isAwsError(err, "NoSuchEntity", "NoSuchEntityException") && /:role\//.test(policySourceArn)) {
        throw new JitError(
          "Unauthorized",
          `cannot check what ${policySourceArn} may do: IAM knows no role by that ARN; a role with a path (IAM Identity Center roles have one) needs iam:GetRole on itself so that its full ARN can be found`,
          { cause: err },
        );
      }
      throw cloudError(err, `SimulatePrincipalPolicy for ${policySourceArn}`);
    }
  } while (marker);
  return results;
}
