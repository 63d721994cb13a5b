import { z } from "zod";
import { AccessRequest, AuditEvent, Grant, Policy } from "../model";
import { DecisionBody } from "./routes";

/**
 * The broker's API as OpenAPI 3.1. The bodies' schemas are generated from the model's own zod
 * schemas (the ones every request and record is validated with), so the document cannot drift
 * from what the broker accepts and returns.
 */
function schemaOf(name: string, schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<string, unknown>;
  // Shared parts are generated as "#/$defs/…" of the schema itself; inside the document they live under its component.
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', `"#/components/schemas/${name}/$defs/`));
}

function withCloud(policy: Record<string, unknown>): Record<string, unknown> {
  const properties = { ...(policy.properties as object), cloud: { type: "string", enum: ["azure", "aws"] } };
  return { ...policy, properties, required: [...((policy.required as string[]) ?? []), "cloud"] };
}

/** The requester is whoever proved to be asking; a body cannot name one. */
function withoutRequester(request: Record<string, unknown>): Record<string, unknown> {
  const { requester: _set, ...properties } = request.properties as Record<string, unknown>;
  return { ...request, properties };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: ERROR_TEXT[s], content: json(ref("Error")) }]));
const ERROR_TEXT: Record<number, string> = {
  400: "The input is malformed (`InvalidInput`, with the field)",
  401: "No valid proof of identity (`Unauthenticated`); nothing was read or changed",
  403: "The caller may not do this (`Unauthorized`); nothing was changed",
  404: "No such policy, grant or route",
  405: "Wrong method for the route",
  409: "A concurrent change or no capacity left (`Conflict`, `CapacityExceeded`)",
  413: "The body is larger than the broker accepts",
  415: "The body is not JSON",
  422: "The request does not fit the policy (`RequestNotAllowed`); nothing was changed",
  429: "Too many requests from this caller (see `Retry-After`)",
  502: "The cloud failed (`CloudError`)",
};
const AUTHED = [400, 401, 403, 404, 405, 429];
const SECURITY = [{ entraId: [] }, { awsSignedStsRequest: [] }];
const limit = { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500, default: 100 } };
const policyParam = { name: "policy", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$" } };
const grantParam = { name: "grant", in: "path", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$" } };

export const OPENAPI = {
  openapi: "3.1.0",
  info: {
    title: "pulumi-jit access broker",
    version: "1.0.0",
    description:
      "Just-in-time network access through a broker: callers prove who they are and ask; the broker checks the policy and the caller's rights, and opens (and later closes) the ports with its own identity.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  servers: [{ url: "/" }],
  security: SECURITY,
  paths: {
    "/healthz": {
      get: { operationId: "health", summary: "The process is up", security: [], responses: { "200": { description: "Up", content: json(ref("Status")) } } },
    },
    "/readyz": {
      get: {
        operationId: "ready",
        summary: "The broker can serve (its ledger answers); notification sinks are listed with their health, and a failing one does not make the broker unready",
        security: [],
        responses: { "200": { description: "Ready", content: json(ref("Status")) }, "503": { description: "Not ready", content: json(ref("Error")) } },
      },
    },
    "/v1/openapi.json": {
      get: { operationId: "openapi", summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1", content: json({ type: "object" }) } } },
    },
    "/v1/auth": {
      get: {
        operationId: "authMethods",
        summary: "How to prove who you are here (what clients need to sign for this broker)",
        security: [],
        responses: { "200": { description: "Accepted methods", content: json(ref("AuthMethods")) } },
      },
    },
    "/v1/policies": {
      get: {
        operationId: "listPolicies",
        summary: "The policies, and their VMs, that the caller may request",
        responses: { "200": { description: "Requestable policies", content: json({ type: "object", properties: { policies: { type: "array", items: ref("Policy") } }, required: ["policies"] }) }, ...errors(...AUTHED) },
      },
    },
    "/v1/policies/{policy}/initiate": {
      post: {
        operationId: "initiate",
        summary: "Request access: Defender's initiate body plus justification",
        parameters: [policyParam],
        requestBody: { required: true, content: json(ref("InitiateRequest")) },
        responses: {
          "201": { description: "The grant, active", content: json(ref("Grant")) },
          "202": { description: "The grant, held as `awaiting-approval`: nothing is open until enough approvers approve (see /v1/approvals)", content: json(ref("Grant")) },
          ...errors(...AUTHED, 409, 413, 415, 422, 502),
        },
      },
    },
    "/v1/grants": {
      get: {
        operationId: "listGrants",
        summary: "The caller's grants (every grant, for readers and admins)",
        parameters: [{ name: "state", in: "query", schema: { type: "string", enum: ["live", "ended", "all"], default: "live" } }, { name: "policy", in: "query", schema: { type: "string", maxLength: 128 } }, limit],
        responses: { "200": { description: "Grants, newest first", content: json({ type: "object", properties: { grants: { type: "array", items: ref("Grant") } }, required: ["grants"] }) }, ...errors(...AUTHED) },
      },
    },
    "/v1/grants/{grant}": {
      get: {
        operationId: "getGrant",
        summary: "One of the caller's grants (any, for readers and admins)",
        parameters: [grantParam],
        responses: { "200": { description: "The grant", content: json(ref("Grant")) }, ...errors(...AUTHED) },
      },
    },
    "/v1/grants/{grant}/revoke": {
      post: {
        operationId: "revoke",
        summary: "End a grant now (the caller's own; any, for admins)",
        parameters: [grantParam],
        responses: { "200": { description: "The grant, ended", content: json(ref("Grant")) }, ...errors(...AUTHED, 409, 502) },
      },
    },
    "/v1/approvals": {
      get: {
        operationId: "listApprovals",
        summary: "The held requests the caller may decide: of policies naming them an approver, not their own, not yet voted on by them, oldest first",
        responses: { "200": { description: "Held grants", content: json({ type: "object", properties: { grants: { type: "array", items: ref("Grant") } }, required: ["grants"] }) }, ...errors(...AUTHED) },
      },
    },
    "/v1/grants/{grant}/approve": {
      post: {
        operationId: "approve",
        summary: "Approve a held request (an approver of its policy, never its requester); the last approval needed opens it, its window starting then",
        parameters: [grantParam],
        requestBody: { required: false, content: json(ref("Decision")) },
        responses: { "200": { description: "The grant after the vote: still awaiting approval, or active", content: json(ref("Grant")) }, ...errors(...AUTHED, 409, 413, 415, 422, 502) },
      },
    },
    "/v1/grants/{grant}/deny": {
      post: {
        operationId: "deny",
        summary: "Deny a held request: it ends (`denied`) with nothing written to the cloud",
        parameters: [grantParam],
        requestBody: { required: false, content: json(ref("Decision")) },
        responses: { "200": { description: "The grant, denied", content: json(ref("Grant")) }, ...errors(...AUTHED, 409, 413, 415, 422) },
      },
    },
    "/v1/audit": {
      get: {
        operationId: "listAudit",
        summary: "The audit log, newest first (readers and admins)",
        parameters: [{ name: "policy", in: "query", schema: { type: "string", maxLength: 128 } }, { name: "grant", in: "query", schema: { type: "string", maxLength: 64 } }, limit],
        responses: { "200": { description: "Audit events", content: json({ type: "object", properties: { events: { type: "array", items: ref("AuditEvent") } }, required: ["events"] }) }, ...errors(...AUTHED) },
      },
    },
  },
  components: {
    securitySchemes: {
      entraId: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An Entra ID access token for Azure Resource Manager (what DefaultAzureCredential or `az account get-access-token` returns)" },
      awsSignedStsRequest: {
        type: "apiKey",
        in: "header",
        name: "Authorization",
        description: "`JIT-AWS-STS <base64url JSON {method, url, headers, body}>`: an STS GetCallerIdentity request signed with SigV4 over `x-jit-broker-id` (this broker's id), not sent; the broker forwards it to STS",
      },
    },
    schemas: {
      Status: {
        type: "object",
        properties: {
          status: { type: "string" },
          notifications: {
            type: "array",
            description: "Each notification sink: whether its deliveries succeed, how many events wait for it, and since when it fails",
            items: {
              type: "object",
              properties: {
                name: { type: "string" },
                kind: { enum: ["slack", "teams", "webhook"] },
                ok: { type: "boolean" },
                backlog: { type: "integer" },
                failingSince: { type: "string", format: "date-time" },
                lastError: { type: "string" },
                delivered: { type: "integer" },
                dropped: { type: "integer" },
              },
              required: ["name", "kind", "ok", "backlog", "delivered", "dropped"],
            },
          },
        },
        required: ["status"],
      },
      Error: {
        type: "object",
        properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, field: { type: "string" } }, required: ["code", "message"] } },
        required: ["error"],
      },
      AuthMethods: {
        type: "object",
        properties: {
          methods: {
            type: "array",
            items: {
              type: "object",
              properties: { cloud: { enum: ["azure", "aws"] }, scheme: { type: "string" }, audience: { type: "string" }, brokerId: { type: "string" }, stsEndpoint: { type: "string" }, stsRegion: { type: "string" } },
              required: ["cloud", "scheme"],
            },
          },
          devIdentity: { type: "string" },
        },
        required: ["methods"],
      },
      InitiateRequest: withoutRequester(schemaOf("InitiateRequest", AccessRequest, "input")),
      Decision: schemaOf("Decision", DecisionBody, "input"),
      Policy: withCloud(schemaOf("Policy", Policy, "output")),
      Grant: schemaOf("Grant", Grant, "output"),
      AuditEvent: schemaOf("AuditEvent", AuditEvent, "output"),
    },
  },
} as const;
