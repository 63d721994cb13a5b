import { readFileSync } from "node:fs";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { JitError } from "../model";
import { tokenClaims } from "./token";

/**
 * How the Azure driver reaches Azure Resource Manager. Everything is optional: the Pulumi provider
 * and the CLI pass nothing and take it from the environment.
 *
 * - Endpoint: `endpoint`, else `JIT_AZURE_ENDPOINT` (a sovereign cloud such as
 *   `https://management.usgovcloudapi.net`, or a local endpoint), else `https://management.azure.com`.
 *   Tokens are asked for the endpoint's own scope (`<endpoint>/.default`).
 * - Trust: `ca`, else the PEM file named by `JIT_AZURE_CA_FILE`, is trusted for the endpoint on top
 *   of the system's certificate authorities.
 * - Credentials: `credential`, else the bearer token in `JIT_AZURE_TOKEN` (from
 *   `az account get-access-token`, for instance), else `DefaultAzureCredential` (environment
 *   variables, workload identity, managed identity, the Azure CLI, ...).
 * - Subscriptions are not configured: each comes from the ids of the VMs it is asked about.
 */
export interface AzureConnection {
  endpoint?: string;
  ca?: string;
  credential?: TokenCredential;
  /** Wait between polls of a long-running operation when Azure suggests none (default: the SDK's 2 s). */
  pollIntervalMs?: number;
  /** The SDK's own retries of throttling, 5xx answers and dropped connections (default: the SDK's). */
  retryOptions?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** How often a write that lost a race (409, 412, 429, SecurityRuleConflict) is planned again and retried; default 8. */
  conflictRetries?: number;
  /** The first wait before such a retry, doubling each time (up to 30 s), with jitter; default 250 ms. */
  backoffMs?: number;
  /**
   * How long a write keeps waiting for a resource that another operation holds (409
   * AnotherOperationInProgress, 429), once `conflictRetries` are spent; default 15 minutes, since an
   * Azure Firewall update by somebody else takes minutes.
   */
  busyWaitMs?: number;
  /** Where the driver's own waits (between retries) take their time from; default the system clock. */
  clock?: Clock;
  /** Extra pipeline policies for every SDK client, run next to the wire (after the SDK's retries). */
  policies?: PipelinePolicy[];
  /** How many VMs are read at once while resolving a policy's or grant's VMs; default 8. */
  readConcurrency?: number;
}

export const DEFAULT_ENDPOINT = "https://management.azure.com";

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** A connection with every default filled in. */
export interface ResolvedConnection extends Required<Pick<AzureConnection, "conflictRetries" | "backoffMs" | "busyWaitMs" | "readConcurrency" | "clock" | "policies">> {
  endpoint: string;
  /** The token scope of the endpoint. */
  scope: string;
  ca?: string;
  credential(): Promise<TokenCredential>;
  pollIntervalMs?: number;
  retryOptions?: AzureConnection["retryOptions"];
}

export function resolveConnection(given: AzureConnection = {}, env: NodeJS.ProcessEnv = process.env): ResolvedConnection {
  const endpoint = (given.endpoint ?? (env.JIT_AZURE_ENDPOINT || DEFAULT_ENDPOINT)).replace(/\/+$/, "");
  let origin: string;
  try {
    origin = new URL(endpoint).origin;
  } catch (err) {
    throw new JitError("InvalidInput", `"${endpoint}" is not a URL`, { field: given.endpoint ? "endpoint" : "JIT_AZURE_ENDPOINT", cause: err });
  }
  const ca = given.ca ?? (env.JIT_AZURE_CA_FILE ? readCa(env.JIT_AZURE_CA_FILE) : undefined);
  const token = env.JIT_AZURE_TOKEN || undefined;
  let credential: Promise<TokenCredential> | undefined = given.credential && Promise.resolve(given.credential);
  return {
    endpoint,
    scope: `${origin}/.default`,
    ...(ca === undefined ? {} : { ca }),
    credential: () =>
      (credential ??= token !== undefined ? Promise.resolve(staticToken(token)) : import("@azure/identity").then((m) => new m.DefaultAzureCredential())),
    conflictRetries: given.conflictRetries ?? 8,
    backoffMs: given.backoffMs ?? 250,
    busyWaitMs: given.busyWaitMs ?? 15 * 60_000,
    clock: given.clock ?? SYSTEM_CLOCK,
    policies: given.policies ?? [],
    readConcurrency: given.readConcurrency ?? 8,
    ...(given.pollIntervalMs === undefined ? {} : { pollIntervalMs: given.pollIntervalMs }),
    ...(given.retryOptions === undefined ? {} : { retryOptions: given.retryOptions }),
  };
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new JitError("InvalidInput", `cannot read the CA certificate file ${path}: ${(err as Error).message}`, { field: "JIT_AZURE_CA_FILE", cause: err });
  }
}

/**
 * A credential that hands out one token, valid until its `exp` claim (or an hour, when it has none).
 * It cannot be renewed: once expired (60 to 90 minutes after `az account get-access-token`), every
 * call fails with `Unauthorized` naming JIT_AZURE_TOKEN, which `jit daemon` and `jit sweep` treat as
 * fatal rather than as one more grant that could not be restored.
 */
export function staticToken(token: string, now: () => number = Date.now): TokenCredential {
  const exp = tokenClaims(token)?.exp;
  const expiresOnTimestamp = typeof exp === "number" ? exp * 1000 : now() + 3600_000;
  return {
    getToken: async () => {
      if (expiresOnTimestamp <= now()) {
        throw new JitError(
          "Unauthorized",
          `the Azure access token in JIT_AZURE_TOKEN expired at ${new Date(expiresOnTimestamp).toISOString()}, and a fixed token cannot be renewed; unset JIT_AZURE_TOKEN to sign in with a renewable credential (managed identity, workload identity, service principal, az login)`,
          { field: "JIT_AZURE_TOKEN" },
        );
      }
      return { token, expiresOnTimestamp };
    },
  };
}
