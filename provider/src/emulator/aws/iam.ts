import { AwsError } from "./errors";
import type { Operation } from "./operations";
import { Evaluation, RequestContext, evaluate, mostRestrictive, parsePolicy } from "./policy";
import type { QueryNode } from "./query";
import type { XmlObject } from "./xml";

/**
 * SimulatePrincipalPolicy over the principal's identity policies (plus any `PolicyInputList`). As
 * the simulator now does, it returns one result per action: the top-level decision is the most
 * restrictive over the resources, and `ResourceSpecificResults` gives each resource's own when
 * `ResourceArns` were given (without them the resource is `*`). Conditions are evaluated on the
 * `ContextEntries` given, and nothing else: the simulator does not look up resource tags itself, and
 * the keys a statement for the action reads but the entries lack come back in
 * `MissingContextValues` (and the condition does not hold). Not modelled: group membership,
 * permissions boundaries, resource policies, Organizations SCPs and paging; matched statements
 * carry no line/column positions.
 */

/** `ContextEntries.member.N` as the simulator takes them: a key, its type and one or more values. */
function contextEntries(req: QueryNode): RequestContext {
  const context: RequestContext = new Map();
  for (const entry of req.list("ContextEntries.member").slice(0, 100)) {
    const name = entry.required("ContextKeyName");
    context.set(name.toLowerCase(), entry.strings("ContextKeyValues.member"));
  }
  return context;
}

function statementsXml(matched: Evaluation["matched"]): XmlObject[] {
  const unique = new Map(matched.map((m) => [`${m.sourcePolicyType}/${m.sourcePolicyId}`, m]));
  return [...unique.values()].map((m) => ({ SourcePolicyId: m.sourcePolicyId, SourcePolicyType: m.sourcePolicyType }));
}

export const iamOperations: Record<string, Operation> = {
  SimulatePrincipalPolicy: {
    write: false,
    handle({ principals }, req) {
      const principal = principals.byArn(req.required("PolicySourceArn"));
      const actions = req.strings("ActionNames.member");
      if (actions.length === 0) throw new AwsError("ValidationError", "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null");
      const resources = req.strings("ResourceArns.member");
      const policies = [
        ...principal.policies,
        ...req.strings("PolicyInputList.member").map((text, i) => parsePolicy(`PolicyInputList.${i + 1}`, "none", text)),
      ];
      const context = contextEntries(req);
      const results = actions.map((action) => {
        const perResource = (resources.length > 0 ? resources : ["*"]).map((resource) => ({ resource, ...evaluate(policies, action, resource, context) }));
        const decision = mostRestrictive(perResource.map((r) => r.decision));
        return {
          EvalActionName: action,
          EvalResourceName: resources.length === 1 ? resources[0] : "*",
          EvalDecision: decision,
          MatchedStatements: statementsXml(perResource.filter((r) => r.decision === decision).flatMap((r) => r.matched)),
          MissingContextValues: [...new Set(perResource.flatMap((r) => r.missing))],
          ResourceSpecificResults:
            resources.length > 0
              ? perResource.map((r) => ({
                  EvalResourceName: r.resource,
                  EvalResourceDecision: r.decision,
                  MatchedStatements: statementsXml(r.matched),
                  MissingContextValues: r.missing,
                }))
              : undefined,
        };
      });
      return { EvaluationResults: results, IsTruncated: false };
    },
  },
  GetRole: {
    write: false,
    handle({ principals }, req) {
      const role = principals.role(req.required("RoleName"));
      const trust = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${role.arn.split(":")[4]}:root` }, Action: "sts:AssumeRole" }] };
      return {
        Role: {
          Path: role.path,
          RoleName: role.name,
          RoleId: role.userId.split(":")[0],
          Arn: role.arn,
          CreateDate: "2024-01-01T00:00:00Z",
          AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
          MaxSessionDuration: 3600,
        },
      };
    },
  },
};
