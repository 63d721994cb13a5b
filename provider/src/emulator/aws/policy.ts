import { z } from "zod";
import { AwsError } from "./errors";
import { wildcard } from "../common/wildcard";

/**
 * IAM identity-policy evaluation, as IAM and its policy simulator do it: a statement applies when
 * its Action (or NotAction) and Resource (or NotResource) match and every condition in its
 * Condition block holds for the request context; an applying Deny wins over any Allow; with
 * neither, the request is implicitly denied. Actions match case-insensitively, resources
 * case-sensitively, both with `*` and `?`. Condition keys are case-insensitive; the operators are
 * the String, Arn, Numeric, Bool and Null families, with `...IfExists` and the `ForAllValues:` /
 * `ForAnyValue:` set qualifiers. Policy variables (`${aws:username}`) are not expanded.
 */

const oneOrMany = z.union([z.string(), z.array(z.string()).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]));
const conditionValues = z
  .union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));

const OPERATORS = [
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "ArnEquals",
  "ArnNotEquals",
  "ArnLike",
  "ArnNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "Bool",
  "Null",
] as const;

function knownOperator(op: string): boolean {
  const bare = op.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/IfExists$/, "");
  return (OPERATORS as readonly string[]).includes(bare) && !(bare === "Null" && op !== "Null");
}

const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: oneOrMany.optional(),
    NotAction: oneOrMany.optional(),
    Resource: oneOrMany.optional(),
    NotResource: oneOrMany.optional(),
    Condition: z.record(z.string(), z.record(z.string(), conditionValues)).optional(),
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
  /** Condition keys that statements for this action and resource read and the context lacks. */
  missing: string[];
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
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) throw new AwsError("MalformedPolicyDocument", `Policy ${id}: ${z.prettifyError(parsed.error)}`);
  const unknown = parsed.data.Statement.flatMap((st) => Object.keys(st.Condition ?? {})).find((op) => !knownOperator(op));
  if (unknown !== undefined) throw new AwsError("MalformedPolicyDocument", `Policy ${id}: unknown condition operator ${unknown}.`);
  return { id, type, statements: parsed.data.Statement };
}

const matchesAny = (patterns: string[], value: string, ignoreCase: boolean) =>
  patterns.some((p) => wildcard(p, { backslashEscapes: false, ignoreCase }).test(value));

/** The request context: condition keys (lower-cased) and their values; a multivalued key has several. */
export type RequestContext = Map<string, string[]>;

export function requestContext(entries: Record<string, string | string[] | undefined>): RequestContext {
  const context: RequestContext = new Map();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) context.set(k.toLowerCase(), [v].flat());
  return context;
}

/** One value of the request against one of the policy's, for the operator without qualifiers or negation. */
function valueMatches(operator: string, policy: string, actual: string): boolean {
  switch (operator) {
    case "StringEquals":
    case "ArnEquals":
      return policy === actual;
    case "StringEqualsIgnoreCase":
      return policy.toLowerCase() === actual.toLowerCase();
    case "StringLike":
    case "ArnLike":
      return wildcard(policy, { backslashEscapes: false, ignoreCase: false }).test(actual);
    case "NumericEquals":
      return Number(policy) === Number(actual);
    case "NumericLessThan":
      return Number(actual) < Number(policy);
    case "NumericLessThanEquals":
      return Number(actual) <= Number(policy);
    case "NumericGreaterThan":
      return Number(actual) > Number(policy);
    case "NumericGreaterThanEquals":
      return Number(actual) >= Number(policy);
    case "Bool":
      return policy.toLowerCase() === actual.toLowerCase();
    default:
      return false;
  }
}

const NEGATED: Record<string, string> = {
  StringNotEquals: "StringEquals",
  StringNotEqualsIgnoreCase: "StringEqualsIgnoreCase",
  StringNotLike: "StringLike",
  ArnNotEquals: "ArnEquals",
  ArnNotLike: "ArnLike",
  NumericNotEquals: "NumericEquals",
};

/** Whether one `operator: { key: values }` entry holds; a missing key matches only what a missing key should. */
function conditionHolds(operator: string, key: string, values: string[], context: RequestContext): boolean {
  const set = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  const ifExists = operator.endsWith("IfExists");
  const bare = operator.replace(/^(ForAllValues|ForAnyValue):/, "").replace(/IfExists$/, "");
  const actual = context.get(key.toLowerCase());
  if (bare === "Null") return values.some((v) => (v.toLowerCase() === "true") === (actual === undefined || actual.length === 0));
  const positive = NEGATED[bare] ?? bare;
  const negated = positive !== bare;
  const one = (a: string) => values.some((v) => valueMatches(positive, v, a));
  if (actual === undefined || actual.length === 0) {
    // IAM: a missing key fails a condition, except a negated one or ...IfExists; ForAllValues holds vacuously.
    return ifExists || negated || set === "ForAllValues";
  }
  if (set === "ForAllValues") return actual.every((a) => (negated ? !one(a) : one(a)));
  const any = actual.some(one);
  return negated ? !any : any;
}

/** The keys a statement's conditions read that the context does not have. */
function missingKeys(s: Statement, context: RequestContext): string[] {
  return Object.values(s.Condition ?? {}).flatMap((byKey) => Object.keys(byKey).filter((k) => !context.has(k.toLowerCase())));
}

function targets(s: Statement, action: string, resource: string): boolean {
  const actionOk = s.Action ? matchesAny(s.Action, action, true) : !matchesAny(s.NotAction ?? [], action, true);
  const resourceOk = s.Resource ? matchesAny(s.Resource, resource, false) : !matchesAny(s.NotResource ?? [], resource, false);
  return actionOk && resourceOk;
}

function applies(s: Statement, action: string, resource: string, context: RequestContext): boolean {
  if (!targets(s, action, resource)) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, byKey]) => Object.entries(byKey).every(([key, values]) => conditionHolds(operator, key, values, context)));
}

export function evaluate(policies: PolicySource[], action: string, resource: string, context: RequestContext = new Map()): Evaluation {
  const applying = policies.flatMap((p) => p.statements.filter((s) => applies(s, action, resource, context)).map((s) => ({ effect: s.Effect, source: p })));
  const missing = [
    ...new Set(policies.flatMap((p) => p.statements.filter((s) => targets(s, action, resource)).flatMap((s) => missingKeys(s, context)))),
  ];
  const pick = (effect: "Allow" | "Deny") =>
    applying.filter((a) => a.effect === effect).map((a) => ({ sourcePolicyId: a.source.id, sourcePolicyType: a.source.type }));
  const denies = pick("Deny");
  if (denies.length > 0) return { decision: "explicitDeny", matched: denies, missing };
  const allows = pick("Allow");
  return allows.length > 0 ? { decision: "allowed", matched: allows, missing } : { decision: "implicitDeny", matched: [], missing };
}

const severity: Record<Decision, number> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };

/** The most restrictive of several decisions, as the simulator's per-action result reports. */
export function mostRestrictive(decisions: Decision[]): Decision {
  return decisions.reduce((worst, d) => (severity[d] > severity[worst] ? d : worst), "allowed");
}
