import { z } from "zod";
import { AwsError } from "./errors";
import { wildcard } from "../common/wildcard";

/**
 * IAM identity-policy evaluation, as the policy simulator reports it: a statement applies when its
 * Action (or NotAction) and Resource (or NotResource) match; an applying Deny wins over any Allow;
 * with neither, the request is implicitly denied. Actions match case-insensitively, resources
 * case-sensitively, both with `*` and `?`. Condition elements are refused rather than ignored,
 * because ignoring one would allow what the real evaluator may deny.
 */

const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));

const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: oneOrMany.optional(),
    NotAction: oneOrMany.optional(),
    Resource: oneOrMany.optional(),
    NotResource: oneOrMany.optional(),
  })
  .strict()
  .refine((s) => (s.Action === undefined) !== (s.NotAction === undefined), "a statement needs exactly one of Action and NotAction")
  .refine((s) => (s.Resource === undefined) !== (s.NotResource === undefined), "a statement needs exactly one of Resource and NotResource");

const documentSchema = z
  .object({
    Version: z.enum(["2012-10-17", "2008-10-17"]).optional(),
    Id: z.string().optional(),
    Statement: z.union([statementSchema, z.array(statementSchema).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  })
  .strict();

/** An identity policy as written: `{ Version, Statement: [...] }`, or its JSON text. */
export type PolicyDocument = z.input<typeof documentSchema>;
type Statement = z.output<typeof statementSchema>;

export type SourcePolicyType = "user" | "group" | "role" | "aws-managed" | "user-managed" | "none";

export interface PolicySource {
  id: string;
  type: SourcePolicyType;
  statements: Statement[];
}

export type Decision = "allowed" | "explicitDeny" | "implicitDeny";

export interface Evaluation {
  decision: Decision;
  /** The statements that decided: the denying ones on a deny, the allowing ones on an allow. */
  matched: { sourcePolicyId: string; sourcePolicyType: SourcePolicyType }[];
}

/** Parses a policy, throwing IAM's `MalformedPolicyDocument` with the reason. */
export function parsePolicy(id: string, type: SourcePolicyType, document: PolicyDocument | string): PolicySource {
  let raw: unknown = document;
  if (typeof document === "string") {
    try {
      raw = JSON.parse(document);
    } catch {
      throw new AwsError("MalformedPolicyDocument", `Policy ${id}: syntax errors in policy.`);
    }
  }
  const statements = (raw as { Statement?: unknown } | null)?.Statement;
  if ([statements].flat().some((st) => typeof st === "object" && st !== null && "Condition" in st)) {
    throw new AwsError("MalformedPolicyDocument", `Policy ${id}: Condition elements are not evaluated by this endpoint.`);
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) throw new AwsError("MalformedPolicyDocument", `Policy ${id}: ${z.prettifyError(parsed.error)}`);
  return { id, type, statements: parsed.data.Statement };
}

const matchesAny = (patterns: string[], value: string, ignoreCase: boolean) =>
  patterns.some((p) => wildcard(p, { backslashEscapes: false, ignoreCase }).test(value));

function applies(s: Statement, action: string, resource: string): boolean {
  const actionOk = s.Action ? matchesAny(s.Action, action, true) : !matchesAny(s.NotAction ?? [], action, true);
  const resourceOk = s.Resource ? matchesAny(s.Resource, resource, false) : !matchesAny(s.NotResource ?? [], resource, false);
  return actionOk && resourceOk;
}

export function evaluate(policies: PolicySource[], action: string, resource: string): Evaluation {
  const applying = policies.flatMap((p) => p.statements.filter((s) => applies(s, action, resource)).map((s) => ({ effect: s.Effect, source: p })));
  const pick = (effect: "Allow" | "Deny") =>
    applying.filter((a) => a.effect === effect).map((a) => ({ sourcePolicyId: a.source.id, sourcePolicyType: a.source.type }));
  const denies = pick("Deny");
  if (denies.length > 0) return { decision: "explicitDeny", matched: denies };
  const allows = pick("Allow");
  return allows.length > 0 ? { decision: "allowed", matched: allows } : { decision: "implicitDeny", matched: [] };
}

const severity: Record<Decision, number> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };

/** The most restrictive of several decisions, as the simulator's per-action result reports. */
export function mostRestrictive(decisions: Decision[]): Decision {
  return decisions.reduce((worst, d) => (severity[d] > severity[worst] ? d : worst), "allowed");
}
