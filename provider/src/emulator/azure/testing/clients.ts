import * as https from "node:https";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ComputeManagementClient } from "@azure/arm-compute";
import { NetworkManagementClient } from "@azure/arm-network";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { AzureEmulator } from "../index";

/** One request and its response, as they crossed the wire (bodies as text). */
export interface Exchange {
  method: string;
  url: string;
  requestBody?: string;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody?: string;
}

/** Long-running operations without the SDKs' 2 s wait between polls. */
export const fast = { updateIntervalInMs: 0 };

/**
 * The three real SDK clients, pointed at the emulator exactly as `emu.clientOptions` says, with a
 * pipeline policy that records every exchange (what the SDK serialised, what the emulator answered).
 */
export function sdkClients(emu: AzureEmulator, options: { principal?: string; maxRetries?: number } = {}) {
  const credential = options.principal ? emu.credentialFor(options.principal) : emu.credential;
  const clientOptions = { ...emu.clientOptions, ...(options.maxRetries === undefined ? {} : { retryOptions: { maxRetries: options.maxRetries } }) };
  const exchanges: Exchange[] = [];
  const recorder: PipelinePolicy = {
    name: "recordExchanges",
    sendRequest: async (request, next) => {
      const response = await next(request);
      exchanges.push({
        method: request.method,
        url: request.url,
        requestBody: typeof request.body === "string" ? request.body : undefined,
        status: response.status,
        responseHeaders: response.headers.toJSON(),
        responseBody: response.bodyAsText ?? undefined,
      });
      return response;
    },
  };
  const network = new NetworkManagementClient(credential, emu.subscriptionId, clientOptions);
  const compute = new ComputeManagementClient(credential, emu.subscriptionId, clientOptions);
  const authorization = new AuthorizationManagementClient(credential, emu.subscriptionId, clientOptions);
  // After the retry policy, so that every attempt is recorded.
  for (const client of [network, compute, authorization]) client.pipeline.addPolicy(recorder, { afterPhase: "Retry" });
  return { network, compute, authorization, exchanges };
}

/**
 * A request no SDK method can make (no auth, no api-version, a malformed body, an unlisted scope):
 * `as` signs it in as a principal (a token from `emu.identity`), `token` sends that bearer token as it is.
 */
export function rawRequest(
  emu: AzureEmulator,
  method: string,
  path: string,
  options: { as?: string; token?: string; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const token = options.token ?? (options.as === undefined ? undefined : emu.identity.token(options.as));
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${emu.endpoint}${path}`,
      {
        method,
        ca: emu.clientOptions.tlsOptions.ca,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(options.body ? { "content-type": "application/json" } : {}) },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export interface CaughtRestError {
  statusCode?: number;
  code?: string;
  message: string;
  response?: { headers: { get(name: string): string | undefined } };
}

/** The `RestError` a call fails with (HTTP status, ARM error code, message, response); fails the test if it succeeds. */
export async function armError(call: PromiseLike<unknown>): Promise<CaughtRestError> {
  try {
    await call;
  } catch (err) {
    return err as CaughtRestError;
  }
  throw new Error("expected the call to fail");
}

/** The ARM error body of the last answer: the SDKs keep no body on an error from a long-running operation's first request. */
export function lastError(exchanges: Exchange[]): { code: string; message: string; details: { code: string; message: string }[] } {
  return JSON.parse(exchanges[exchanges.length - 1]?.responseBody ?? "{}").error;
}
