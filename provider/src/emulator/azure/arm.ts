import { randomUUID } from "node:crypto";
import { EmulatorResponse, ResponseError } from "../common";

/**
 * ARM's wire conventions shared by every resource type: the JSON error body
 * `{"error":{"code","message","details":[]}}`, weak ETags, and the not-found answers of the ARM
 * front door (top-level resources) and of the network resource provider (child resources).
 */
export interface ArmErrorDetail {
  code: string;
  message: string;
}

export type Json = Record<string, unknown>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID(), ...headers },
    body: JSON.stringify(body),
  };
}

export function empty(status: number, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, headers: { "x-ms-request-id": randomUUID(), ...headers } };
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  details: ArmErrorDetail[] = [],
  headers: Record<string, string> = {},
): EmulatorResponse {
  return json(status, { error: { code, message, details } }, headers);
}

/** Answers the request with an ARM error; handlers throw it from any depth. */
export function fail(status: number, code: string, message: string, details: ArmErrorDetail[] = [], headers: Record<string, string> = {}): never {
  throw new ResponseError(errorResponse(status, code, message, details, headers));
}

export function newEtag(): string {
  return `W/"${randomUUID()}"`;
}

export function resourceGroupNotFound(resourceGroup: string): never {
  return fail(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
}

/** A top-level resource that does not exist, as the ARM front door says it. */
export function resourceNotFound(type: string, name: string, resourceGroup: string): never {
  return fail(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** A child resource (security rule, subnet, default rule) that does not exist, as NRP says it. */
export function childNotFound(id: string): never {
  return fail(404, "NotFound", `Resource ${id} not found.`);
}

export function invalidReference(referenced: string, referencing: string): never {
  return fail(
    400,
    "InvalidResourceReference",
    `Resource ${referenced} referenced by resource ${referencing} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`,
  );
}

/**
 * NRP deserialises request bodies into .NET enums, so a value outside an enum fails JSON parsing
 * (case-insensitively: `tcp` is read as `Tcp`, and answered as `Tcp`).
 */
export function parseEnum<T extends string>(value: unknown, allowed: readonly T[], typeName: string, path: string): T {
  const found = typeof value === "string" ? allowed.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  if (found !== undefined) return found;
  return fail(400, "InvalidRequestFormat", "Cannot parse the request.", [
    {
      code: "InvalidJson",
      message: `Error converting value ${JSON.stringify(value)} to type 'Microsoft.WindowsAzure.Networking.Nrp.Frontend.Contract.Csm.Public.${typeName}'. Path '${path}'.`,
    },
  ]);
}

/**
 * A request NRP would refuse for a reason whose exact error code is not documented or observed
 * anywhere we could check: the generic "cannot parse" code, with a message that says what is wrong.
 */
export function invalidRequest(message: string): never {
  return fail(400, "InvalidRequestFormat", message);
}

/** .NET's `\w`, which NRP's name check uses: letters, combining marks, digits, connectors. */
const WORD = "[\\p{L}\\p{Mn}\\p{Nd}\\p{Pc}]";
const NAME = new RegExp(`^${WORD}(?:[\\p{L}\\p{Mn}\\p{Nd}\\p{Pc}.-]{0,78}${WORD})?$`, "u");

/** NRP's rule for names of network resources, security rules and firewall rule collections. */
export function checkName(name: string): void {
  if (!NAME.test(name)) {
    fail(
      400,
      "InvalidResourceName",
      `Resource name ${name} is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.`,
    );
  }
}

export function parseBody(body: Buffer): Json {
  const text = body.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(400, "InvalidRequestFormat", "Cannot parse the request.", [{ code: "InvalidJson", message: (err as Error).message }]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return fail(400, "InvalidRequestFormat", "Cannot parse the request.", [{ code: "InvalidJson", message: "The request body must be a JSON object." }]);
  }
  return parsed as Json;
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `{ id }` of a sub-resource reference in a request body, if there is one. */
export function refId(v: unknown): string | undefined {
  return isObject(v) && typeof v.id === "string" ? v.id : undefined;
}
