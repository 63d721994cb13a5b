import type { IncomingHttpHeaders } from "node:http";
import type { EmulatorResponse } from "../common";
import { Json, fail, json, parseBody } from "./arm";

/**
 * Path patterns to handlers. Literal segments match case-insensitively (ARM does), `{name}`
 * captures one segment and `{name*}` any number of them (Microsoft.Authorization/permissions
 * hangs below any scope). Empty segments are dropped, as ARM drops them: the authorization SDK
 * sends `providers/Microsoft.Compute//virtualMachines/vm1` when a resource has no parent.
 */
export interface ArmRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  /** Scheme, host and port the client reached us on: the base of every URL we hand back. */
  origin: string;
  apiVersion: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  principal: string;
  /** The operation, as the call log names it. */
  operation: string;
  body(): Json;
}

export type Method = "GET" | "PUT" | "PATCH" | "DELETE" | "POST";

export interface ArmRoute {
  method: Method;
  path: string;
  /** The swagger operationId, which names the call in the call log and in fault matching. */
  operation: string | ((params: Record<string, string>) => string);
  /** A POST that only reads (a `list…` action): not a write in the call log. */
  readOnly?: boolean;
  handle(req: ArmRequest): EmulatorResponse;
}

const segments = (path: string): string[] => path.split("/").filter((s) => s !== "");

function capture(pattern: string[], path: string[]): Record<string, string> | undefined {
  const greedy = pattern.findIndex((p) => p.endsWith("*}"));
  if (greedy >= 0 ? path.length < pattern.length : path.length !== pattern.length) return undefined;
  const params: Record<string, string> = {};
  const tail = pattern.length - greedy - 1;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (i === greedy) {
      params[p.slice(1, -2)] = "/" + path.slice(i, path.length - tail).join("/");
      continue;
    }
    const value = greedy >= 0 && i > greedy ? path[path.length - (pattern.length - i)] : path[i];
    if (p.startsWith("{")) params[p.slice(1, -1)] = value;
    else if (p.toLowerCase() !== value.toLowerCase()) return undefined;
  }
  return params;
}

export interface Matched {
  route: ArmRoute;
  params: Record<string, string>;
  operation: string;
}

export class Router {
  private readonly compiled: { route: ArmRoute; pattern: string[] }[];

  constructor(routes: ArmRoute[]) {
    this.compiled = routes.map((route) => ({ route, pattern: segments(route.path) }));
  }

  match(method: string, path: string): Matched {
    const parts = segments(path).map(decodeURIComponent);
    let pathKnown = false;
    for (const { route, pattern } of this.compiled) {
      const params = capture(pattern, parts);
      if (!params) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      const operation = typeof route.operation === "string" ? route.operation : route.operation(params);
      return { route, params, operation };
    }
    if (pathKnown) return fail(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
    return fail(404, "InvalidResourceType", `The resource type could not be found for the path '${path}'.`);
  }
}

export function request(
  matched: Matched,
  init: { method: string; path: string; url: URL; headers: IncomingHttpHeaders; body: Buffer; principal: string },
): ArmRequest {
  const apiVersion = init.url.searchParams.get("api-version") ?? "";
  let parsed: Json | undefined;
  return {
    method: init.method,
    path: init.path,
    params: matched.params,
    origin: init.url.origin,
    apiVersion,
    query: init.url.searchParams,
    headers: init.headers,
    principal: init.principal,
    operation: matched.operation,
    body: () => (parsed ??= parseBody(init.body)),
  };
}

/**
 * One page of a list, with an absolute `nextLink` to the rest when there is more. `render` answers
 * an item in wire form; only the page's own items are rendered, since a list of thousands is read a
 * page at a time.
 */
export function page<T>(req: ArmRequest, items: readonly T[], pageSize: number, render: (item: T) => unknown = (item) => item): EmulatorResponse {
  const skip = Number(req.query.get("$skiptoken") ?? "0") || 0;
  const value = items.slice(skip, skip + pageSize).map((item) => render(item));
  const body: Json = { value };
  if (skip + pageSize < items.length) {
    const next = new URLSearchParams({ "api-version": req.apiVersion, $skiptoken: String(skip + pageSize) });
    body.nextLink = `${req.origin}${req.path}?${next.toString()}`;
  }
  return json(200, body);
}

export function header(req: ArmRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(",") : v;
}
