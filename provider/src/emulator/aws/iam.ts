import { AwsError } from "./errors";
import type { Operation } from "./operations";
import { Evaluation, evaluate, mostRestrictive, parsePolicy } from "./policy";
import type { XmlObject } from "./xml";

/**
 * SimulatePrincipalPolicy over the principal's identity policies (plus any `PolicyInputList`). As
 * the simulator now does, it returns one result per action: the top-level decision is the most
 * restrictive over the resources, and `ResourceSpecificResults` gives each resource's own when
 * `ResourceArns` were given (without them the resource is `*`). Not modelled: group membership,
 * permissions boundaries, resource policies, Organizations SCPs, context keys and paging; matched
 * statements carry no line/column positions.
 */

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
      const results = actions.map((action) => {
        const perResource = (resources.length > 0 ? resources : ["*"]).map((resource) => ({ resource, ...evaluate(policies, action, resource) }));
        const decision = mostRestrictive(perResource.map((r) => r.decision));
        return {
          EvalActionName: action,
          EvalResourceName: resources.length === 1 ? resources[0] : "*",
          EvalDecision: decision,
          MatchedStatements: statementsXml(perResource.filter((r) => r.decision === decision).flatMap((r) => r.matched)),
          MissingContextValues: [],
          ResourceSpecificResults:
            resources.length > 0
              ? perResource.map((r) => ({
                  EvalResourceName: r.resource,
                  EvalResourceDecision: r.decision,
                  MatchedStatements: statementsXml(r.matched),
                  MissingContextValues: [],
                }))
              : undefined,
        };
      });
      return { EvaluationResults: results, IsTruncated: false };
    },
  },
};
