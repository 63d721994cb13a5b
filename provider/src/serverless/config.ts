import { readFileSync } from "node:fs";
import { z } from "zod";
import type { AccessContext, ExpiryScheduler } from "../access";
import { openContext } from "../access";
import { AwsStsVerifier, AzureTokenVerifier, Broker, Authenticators, outbound } from "../broker";
import { openLedger } from "../ledger";
import { JitError, parseOrThrow } from "../model";

/**
 * What the serverless handlers read from their environment (the function's settings, which the
 * JitBroker components set): the same choices as `jit serve`'s flags, as variables.
 *
 *   JIT_LEDGER              the shared ledger (dynamodb://…, https://<account>.table.core.windows.net/<table>)
 *   JIT_AZURE_TENANTS       accept Entra ID tokens from these tenants (comma-separated GUIDs)
 *   JIT_AZURE_AUTHORITY     the Entra ID authority (default https://login.microsoftonline.com)
 *   JIT_AZURE_AUDIENCES     accepted token audiences (default ARM's)
 *   JIT_AWS_STS_ENDPOINTS   accept signed STS requests for these endpoints (comma-separated)
 *   JIT_BROKER_ID           the id AWS callers sign for (required with JIT_AWS_STS_ENDPOINTS)
 *   JIT_READERS, JIT_ADMINS who may see every grant and the audit log / also revoke any grant
 *   JIT_RATE_PER_MINUTE     requests per minute per caller (default 120)
 *   JIT_CA_FILE             an extra CA certificate for the authority and STS endpoints
 *   JIT_LEDGER_INIT         "true": prepare the ledger on first use (an Azure Table the identity may create)
 */
const List = z
  .string()
  .max(8192)
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter(Boolean));

const Env = z.object({
  JIT_LEDGER: z.string({ error: "is required: the shared ledger the broker and its expiry use" }).min(1).max(2048),
  JIT_AZURE_TENANTS: List,
  JIT_AZURE_AUTHORITY: z.string().url().max(512).default("https://login.microsoftonline.com"),
  JIT_AZURE_AUDIENCES: List,
  JIT_AWS_STS_ENDPOINTS: List,
  JIT_BROKER_ID: z.string().max(256).optional(),
  JIT_READERS: List,
  JIT_ADMINS: List,
  JIT_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(120),
  JIT_CA_FILE: z.string().max(1024).optional(),
  JIT_LEDGER_INIT: z.enum(["true", "false"]).default("false"),
});
export type ServerlessEnv = z.output<typeof Env>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): ServerlessEnv {
  const parsed = parseOrThrow(Env, Object.fromEntries(Object.keys(Env.shape).map((k) => [k, env[k] === "" ? undefined : env[k]])), "environment");
  if (parsed.JIT_AWS_STS_ENDPOINTS.length && !parsed.JIT_BROKER_ID) {
    throw new JitError("InvalidInput", "AWS callers sign for a broker id: set JIT_BROKER_ID", { field: "JIT_BROKER_ID" });
  }
  return parsed;
}

/** The verifiers for callers who prove who they are to the broker itself (as `jit serve` does). */
export function authenticators(env: ServerlessEnv): Authenticators {
  const fetch = outbound(env.JIT_CA_FILE ? { ca: readFileSync(env.JIT_CA_FILE, "utf8") } : {});
  return {
    ...(env.JIT_AZURE_TENANTS.length
      ? {
          azure: new AzureTokenVerifier({
            tenants: env.JIT_AZURE_TENANTS,
            authorityHost: env.JIT_AZURE_AUTHORITY.replace(/\/+$/, ""),
            ...(env.JIT_AZURE_AUDIENCES.length ? { audiences: env.JIT_AZURE_AUDIENCES } : {}),
            fetch,
          }),
        }
      : {}),
    ...(env.JIT_AWS_STS_ENDPOINTS.length ? { aws: new AwsStsVerifier({ brokerId: env.JIT_BROKER_ID as string, stsEndpoints: env.JIT_AWS_STS_ENDPOINTS, fetch }) } : {}),
  };
}

/**
 * Made on first use and kept while the function instance is warm, so that the ledger client and
 * cloud drivers are reused across invocations. A failure is not kept: the next invocation tries again.
 */
export function lazyValue<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}

export async function openServerlessContext(env: ServerlessEnv, expiry?: ExpiryScheduler): Promise<AccessContext> {
  const ledger = await openLedger(env.JIT_LEDGER, { init: env.JIT_LEDGER_INIT === "true" });
  return openContext({ ledger, progress: (m) => process.stderr.write(`pulumi-jit: ${m}\n`), ...(expiry ? { expiry } : {}) });
}

/** The broker over a context, configured from the environment. */
export function brokerFor(ctx: AccessContext, env: ServerlessEnv): Broker {
  return new Broker(ctx, {
    auth: authenticators(env),
    readers: env.JIT_READERS,
    admins: env.JIT_ADMINS,
    limits: { perMinute: env.JIT_RATE_PER_MINUTE, burst: Math.max(1, Math.ceil(env.JIT_RATE_PER_MINUTE / 4)) },
  });
}
