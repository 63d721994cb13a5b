import { z } from "zod";
import { AccessContext, decideWith, listsCaller, pendingFor, requestWith, requestablePolicies, revokeWith } from "../access";
import { Grant, GrantState, JitError, isPublicAddress, parseOrThrow, policyCloud } from "../model";
import type { BrokerCaller } from "./auth";
import { HttpError } from "./errors";

/** What a route handler gets: the caller (authenticated), its address, the parsed query and body. */
export interface RouteInput {
  ctx: AccessContext;
  caller: BrokerCaller;
  peer: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  readers: readonly string[];
  admins: readonly string[];
  /** The broker's default approval timeout, for policies that name none. */
  approvalTimeout?: string;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

const LIVE: GrantState[] = ["awaiting-approval", "pending", "applying", "active", "restoring"];

/** The initiate body: Defender's (`virtualMachines` with ports), plus `justification`. The rest is checked by the model. */
const InitiateBody = z.strictObject({
  virtualMachines: z.array(z.unknown()).min(1, { error: "must list at least one VM" }).max(100, { error: "at most 100 VMs per request" }),
  justification: z.string().max(1000, { error: "at most 1000 characters" }).optional(),
  breakGlass: z.boolean().optional(),
});

/** The body of approve and deny: an optional reason, shown to the requester. */
export const DecisionBody = z.strictObject({ reason: z.string().max(1000, { error: "at most 1000 characters" }).optional() });

const Limit = z.coerce.number().int().min(1).max(500).default(100);
const GrantsQuery = z.strictObject({ state: z.enum(["live", "ended", "all"]).default("live"), policy: z.string().max(128).optional(), limit: Limit });
const AuditQuery = z.strictObject({ policy: z.string().max(128).optional(), grant: z.string().max(64).optional(), limit: Limit });

function queryOf<S extends z.ZodType>(schema: S, query: URLSearchParams): z.output<S> {
  const entries = [...query.keys()];
  if (new Set(entries).size !== entries.length) throw new JitError("InvalidInput", "a query parameter is given twice");
  return parseOrThrow(schema, Object.fromEntries(query), "query");
}

async function isReader(input: RouteInput): Promise<boolean> {
  return (await listsCaller(input.ctx, input.caller, input.readers)) || (await listsCaller(input.ctx, input.caller, input.admins));
}

export async function listPolicies(input: RouteInput): Promise<RouteResult> {
  const policies = await requestablePolicies(input.ctx, input.caller);
  return { status: 200, body: { policies: policies.map((p) => ({ ...p, cloud: policyCloud(p) })) } };
}

export async function initiate(input: RouteInput): Promise<RouteResult> {
  const body = parseOrThrow(InitiateBody, input.body, "request");
  const peer = input.peer;
  const grant = await requestWith(
    input.ctx,
    { policy: input.params.policy, ...(body as { virtualMachines: never[]; justification?: string; breakGlass?: boolean }) },
    {
      caller: input.caller,
      ...(input.approvalTimeout ? { approvalTimeout: input.approvalTimeout } : {}),
      // "My IP" is the address the request came from, when that is a public one.
      sourceAddress: async () => {
        if (isPublicAddress(peer)) return peer;
        throw new JitError("InvalidInput", `your address as the broker sees it (${peer}) is not public; name the source address (allowedSourceAddressPrefix)`, {
          field: "allowedSourceAddressPrefix",
        });
      },
    },
  );
  // Held for approval: accepted, nothing open yet.
  return { status: grant.state === "awaiting-approval" ? 202 : 201, body: grant };
}

export async function listApprovals(input: RouteInput): Promise<RouteResult> {
  queryOf(z.strictObject({}), input.query);
  return { status: 200, body: { grants: await pendingFor(input.ctx, input.caller) } };
}

export function decide(decision: "approve" | "deny") {
  return async (input: RouteInput): Promise<RouteResult> => {
    const body = parseOrThrow(DecisionBody, input.body, decision);
    const grant = await decideWith(input.ctx, input.params.grant, input.caller, decision, body.reason ? { reason: body.reason } : {});
    return { status: 200, body: grant };
  };
}

export async function listGrants(input: RouteInput): Promise<RouteResult> {
  const q = queryOf(GrantsQuery, input.query);
  const state = q.state === "live" ? LIVE : q.state === "ended" ? GrantState.options.filter((s) => !LIVE.includes(s)) : undefined;
  const all = await isReader(input);
  const grants = await input.ctx.ledger.listGrants({ ...(state ? { state } : {}), ...(q.policy ? { policy: q.policy } : {}), ...(all ? { limit: q.limit } : {}) });
  const visible = all ? grants : grants.filter((g) => owns(input, g)).slice(0, q.limit);
  return { status: 200, body: { grants: visible } };
}

export async function getGrant(input: RouteInput): Promise<RouteResult> {
  const grant = await input.ctx.ledger.getGrant(input.params.grant);
  if (!grant || (!owns(input, grant) && !(await isReader(input)))) throw new JitError("NotFound", `no grant with id "${input.params.grant}" that you may see`, { field: "grant" });
  return { status: 200, body: grant };
}

export async function revoke(input: RouteInput): Promise<RouteResult> {
  const grant = await input.ctx.ledger.getGrant(input.params.grant);
  if (!grant) throw new JitError("NotFound", `no grant with id "${input.params.grant}"`, { field: "grant" });
  if (!owns(input, grant) && !(await listsCaller(input.ctx, input.caller, input.admins))) {
    throw new JitError("Unauthorized", `grant ${grant.id} is ${grant.requester}'s; only they or a broker admin may revoke it`);
  }
  return { status: 200, body: await revokeWith(input.ctx, grant.id, input.caller.principal.id) };
}

export async function listAudit(input: RouteInput): Promise<RouteResult> {
  const q = queryOf(AuditQuery, input.query);
  if (!(await isReader(input))) throw new JitError("Unauthorized", "the audit log is for the broker's readers and admins");
  const events = await input.ctx.ledger.listAudit({ ...(q.policy ? { policy: q.policy } : {}), ...(q.grant ? { grant: q.grant } : {}), limit: q.limit });
  return { status: 200, body: { events } };
}

function owns(input: RouteInput, grant: Grant): boolean {
  return grant.requester?.toLowerCase() === input.caller.principal.id.toLowerCase();
}

export function notFound(): never {
  throw new HttpError(404, "NotFound", "no such route; see /v1/openapi.json");
}
