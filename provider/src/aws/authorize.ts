import type { Principal } from "../driver";
import { JitError, parseVmId } from "../model";
import type { AwsContext } from "./context";
import { targetOf } from "./context";
import { cloudError, isAwsError } from "./errors";

/**
 * Who the credentials are (STS GetCallerIdentity) and what they may do to an instance (IAM
 * SimulatePrincipalPolicy). IAM simulates users and roles, not role sessions, so an assumed-role
 * session is checked as its role, and keeps its session name as the readable name.
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
  try {
    const out = await client.send(new sdk.GetCallerIdentityCommand({}));
    return principalOf(out.Arn ?? "");
  } catch (err) {
    throw cloudError(err, "GetCallerIdentity");
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
  const arns = new Map<string, string>();
  for (const id of vmIds) {
    const target = await targetOf(ctx, id);
    const ref = parseVmId(id);
    arns.set(`arn:${partition}:ec2:${target.region}:${(ref.cloud === "aws" && ref.account) || account}:instance/${target.instanceId}`, id);
  }
  for (const result of await simulate(ctx, principal.id, actions, [...arns.keys()])) {
    for (const [arn, vmId] of arns) {
      const decision = result.ResourceSpecificResults?.find((r) => r.EvalResourceName === arn)?.EvalResourceDecision ?? result.EvalDecision;
      if (decision !== "allowed") missing.get(vmId)?.push(result.EvalActionName ?? "");
    }
  }
  return missing;
}

/**
 * Every page of SimulatePrincipalPolicy. A role's ARN from its session lacks the role's path; if
 * IAM does not know it, GetRole gives the full one.
 */
async function simulate(ctx: AwsContext, policySourceArn: string, actions: string[], resources: string[]) {
  const { sdk, client } = await ctx.clients.iam();
  const results = [];
  let arn = policySourceArn;
  let marker: string | undefined;
  do {
    try {
      const out = await client.send(new sdk.SimulatePrincipalPolicyCommand({ PolicySourceArn: arn, ActionNames: actions, ResourceArns: resources, Marker: marker }));
      results.push(...(out.EvaluationResults ?? []));
      marker = out.IsTruncated ? out.Marker : undefined;
    } catch (err) {
      const role = /:role\/([^/]+)$/.exec(arn);
      if (role && arn === policySourceArn && isAwsError(err, "NoSuchEntity")) {
        const found = await client.send(new sdk.GetRoleCommand({ RoleName: role[1] })).catch((e: unknown) => {
          throw cloudError(e, `GetRole ${role[1]}`);
        });
        if (found.Role?.Arn && found.Role.Arn !== arn) {
          arn = found.Role.Arn;
          continue;
        }
      }
      if (isAwsError(err, "AccessDenied", "AccessDeniedException")) {
        throw new JitError("Unauthorized", `cannot check what ${policySourceArn} may do: IAM refused SimulatePrincipalPolicy; allow iam:SimulatePrincipalPolicy on it`, { cause: err });
      }
      throw cloudError(err, `SimulatePrincipalPolicy for ${arn}`);
    }
  } while (marker);
  return results;
}
