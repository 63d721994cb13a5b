import { z } from "zod";
import { AccessContext, connectWith, decideWith, extendWith, listsCaller, pendingFor, requestWith, requestablePolicies, revokeWith } from "../access";
import { Grant, GrantState, IsoDuration, LIVE_STATES, JitError, isPublicAddress, parseDuration, parseOrThrow, policyCloud } from "../model";
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

/** The initiate body: Defender's (`virtualMachines` with ports), plus `justification`. The rest is checked by the model. */
const InitiateBody = z.strictObject({
  virtualMachines: z.array(z.unknown()).min(1, { error: "must list at least one VM" }).max(100, { error: "at most 100 VMs per request" }),
  justification: z.string().max(1000, { error: "at most 1000 characters" }).optional(),
  breakGlass: z.boolean().optional(),
  /** A future start makes the grant `scheduled`, opened then by the daemon on the broker's ledger. */
  startTimeUtc: z.string().max(40).optional(),
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

/** "My IP": the address the request came from, when that is a public one. */
function peerAddress(peer: string, field: string): () => Promise<string> {
  return async () => {
    if (isPublicAddress(peer)) return peer;
    throw new JitError("InvalidInput", `your address as the broker sees it (${peer}) is not public; name the source address (${field})`, { field });
  };
}

export async function initiate(input: RouteInput): Promise<RouteResult> {
  const body = parseOrThrow(InitiateBody, input.body, "request");
  const { startTimeUtc, ...request } = body;
  const grant = await requestWith(
    input.ctx,
    { policy: input.params.policy, ...(request as { virtualMachines: never[]; justification?: string; breakGlass?: boolean }) },
    { caller: input.caller, ...(input.approvalTimeout ? { approvalTimeout: input.approvalTimeout } : {}), sourceAddress: peerAddress(input.peer, "allowedSourceAddressPrefix"), ...(startTimeUtc === undefined ? {} : { start: startTimeUtc }) },
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

/** The broker waits at most this long for a rule to take effect within one request. */
const MAX_CONNECT_WAIT_MS = 5 * 60_000;

const ConnectBody = z.strictObject({
  vm: z.string().min(1).max(512),
  port: z.number().int().min(1).max(65535),
  duration: IsoDuration,
  source: z.string().min(1).max(64).optional(),
  justification: z.string().max(1000, { error: "at most 1000 characters" }).optional(),
  wait: IsoDuration.optional(),
});

/** One port of one VM for the caller: a live grant of theirs reused, or a new one; answered once the rule is in effect. */
export async function connect(input: RouteInput): Promise<RouteResult> {
  const body = parseOrThrow(ConnectBody, input.body, "request");
  const waitMs = body.wait === undefined ? undefined : Math.min(parseDuration(body.wait, "wait"), MAX_CONNECT_WAIT_MS);
  const connection = await connectWith(
    input.ctx,
    { policy: input.params.policy, vmId: body.vm, port: body.port, duration: body.duration, ...(body.justification ? { justification: body.justification } : {}) },
    { caller: input.caller, sourceAddress: body.source ?? peerAddress(input.peer, "source"), ...(waitMs === undefined ? {} : { waitMs }) },
  );
  return { status: 200, body: connection };
}

export async function listGrants(input: RouteInput): Promise<RouteResult> {
  const q = queryOf(GrantsQuery, input.query);
  const state = q.state === "live" ? LIVE_STATES : q.state === "ended" ? GrantState.options.filter((s) => !LIVE_STATES.includes(s)) : undefined;
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

const ExtendBody = z.strictObject({ duration: IsoDuration });

/** Lengthens the caller's own grant (the access layer checks that it is theirs, and the policy's maximum). */
export async function extend(input: RouteInput): Promise<RouteResult> {
  const body = parseOrThrow(ExtendBody, input.body, "request");
  return { status: 200, body: await extendWith(input.ctx, input.params.grant, body.duration, input.caller) };
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
