import type { TokenCredential } from "@azure/identity";
import type { STSClientConfig } from "@aws-sdk/client-sts";
import { AccessRequestInput, AuditEvent, Cloud, Connection, Grant, JitError, JitErrorCode, Policy } from "../model";
import { BROKER_ID_HEADER } from "./auth/aws";

/** The body of `POST /v1/policies/{policy}/connect`. */
export interface ConnectRequest {
  /** The VM's id as the policy spells it. */
  vm: string;
  port: number;
  /** How long a new grant lasts (ISO-8601). */
  duration: string;
  /** The address to admit (default: the address the broker sees the call come from). */
  source?: string;
  justification?: string;
  /** How long the broker waits for the rule to take effect (ISO-8601, at most PT5M). */
  wait?: string;
}

/**
 * A client of `jit serve`. It proves who the caller is the way the broker asks (`/v1/auth`): an
 * Entra ID token for ARM from the caller's credential (`JIT_AZURE_TOKEN`, else
 * `DefaultAzureCredential`), or an STS GetCallerIdentity request signed with the caller's AWS
 * credentials (the default chain) over this broker's id, which the broker forwards to STS.
 */
export interface BrokerClientOptions {
  url: string;
  /** Which identity to prove when the broker accepts both (default: the only one it accepts). */
  cloud?: Cloud;
  /** Azure: the credential to take the token from. */
  azureCredential?: TokenCredential;
  /** AWS: the credentials to sign with (default: the SDK's default chain). */
  awsCredentials?: STSClientConfig["credentials"];
  /** The HTTP client (default: the global fetch; an HTTPS broker with a private CA: NODE_EXTRA_CA_CERTS). */
  fetch?: typeof fetch;
}

interface AuthMethod {
  cloud: Cloud;
  scheme: string;
  audience?: string;
  brokerId?: string;
  stsEndpoint?: string;
  stsRegion?: string;
}

const JIT_CODES: readonly JitErrorCode[] = ["InvalidInput", "RequestNotAllowed", "Unauthorized", "NotFound", "CapacityExceeded", "Conflict", "Unsupported", "VersionConflict", "CloudError"];

export class BrokerClient {
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private method?: Promise<AuthMethod | undefined>;

  constructor(private readonly options: BrokerClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? fetch;
  }

  async policies(): Promise<(Policy & { cloud: Cloud })[]> {
    return (await this.call<{ policies: (Policy & { cloud: Cloud })[] }>("GET", "/v1/policies")).policies;
  }

  /** Requests access under a policy: the grant, active (`awaiting-approval` when the policy needs approval, `scheduled` for a later start), or a JitError saying why not. */
  initiate(policy: string, request: Omit<AccessRequestInput, "requester"> & { startTimeUtc?: string }): Promise<Grant> {
    return this.call<Grant>("POST", `/v1/policies/${encodeURIComponent(policy)}/initiate`, request);
  }

  /**
   * One port of one VM for the caller: the broker reuses a live grant of the caller's or opens one,
   * and answers once the rule is in effect, with where to connect.
   */
  connect(policy: string, request: ConnectRequest): Promise<Connection> {
    return this.call<Connection>("POST", `/v1/policies/${encodeURIComponent(policy)}/connect`, request);
  }

  async grants(query: { state?: "live" | "ended" | "all"; policy?: string; limit?: number } = {}): Promise<Grant[]> {
    return (await this.call<{ grants: Grant[] }>("GET", `/v1/grants${queryString(query)}`)).grants;
  }

  /** Lengthens one of the caller's live grants by `duration` (ISO-8601), within the policy's maximum from its start. */
  extend(grantId: string, duration: string): Promise<Grant> {
    return this.call<Grant>("POST", `/v1/grants/${encodeURIComponent(grantId)}/extend`, { duration });
  }

  revoke(grantId: string): Promise<Grant> {
    return this.call<Grant>("POST", `/v1/grants/${encodeURIComponent(grantId)}/revoke`);
  }

  /** The held requests the caller may approve or deny. */
  async approvals(): Promise<Grant[]> {
    return (await this.call<{ grants: Grant[] }>("GET", "/v1/approvals")).grants;
  }

  /** Votes on a held request: the grant after the vote (active when it was the last approval needed, denied after a deny). */
  decide(grantId: string, decision: "approve" | "deny", reason?: string): Promise<Grant> {
    return this.call<Grant>("POST", `/v1/grants/${encodeURIComponent(grantId)}/${decision}`, reason ? { reason } : {});
  }

  async audit(query: { policy?: string; grant?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    return (await this.call<{ events: AuditEvent[] }>("GET", `/v1/audit${queryString(query)}`)).events;
  }

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", authorization: await this.authorization() };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      throw new JitError("CloudError", `cannot reach the broker at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let answer: unknown;
    try {
      answer = text ? JSON.parse(text) : undefined;
    } catch {
      throw new JitError("CloudError", `the broker at ${this.base} answered HTTP ${res.status} without JSON`);
    }
    if (res.ok) return answer as T;
    const error = (answer as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    const message = error?.message ?? `HTTP ${res.status}`;
    if (res.status === 401) throw new JitError("Unauthorized", `the broker did not accept your credentials: ${message}`);
    const code = JIT_CODES.find((c) => c === error?.code) ?? (res.status === 429 ? "Conflict" : "CloudError");
    // The broker's messages already carry the field; keep it as the field, not twice in the text.
    const bare = error?.field && message.startsWith(`${error.field}: `) ? message.slice(error.field.length + 2) : message;
    throw new JitError(code, `${bare}${res.status === 429 ? " (the broker's rate limit)" : ""}`, error?.field ? { field: error.field } : {});
  }

  private async authMethod(): Promise<AuthMethod | undefined> {
    this.method ??= (async () => {
      const res = await this.fetch(`${this.base}/v1/auth`).catch((err: unknown) => {
        throw new JitError("CloudError", `cannot reach the broker at ${this.base}: ${(err as Error).message}`, { cause: err });
      });
      if (!res.ok) throw new JitError("CloudError", `the broker at ${this.base} answered /v1/auth with HTTP ${res.status}`);
      const { methods, devIdentity } = (await res.json()) as { methods: AuthMethod[]; devIdentity?: string };
      if (devIdentity !== undefined) return undefined;
      const wanted = this.options.cloud ? methods.filter((m) => m.cloud === this.options.cloud) : methods;
      if (wanted.length === 1) return wanted[0];
      throw new JitError(
        "InvalidInput",
        wanted.length === 0
          ? `the broker at ${this.base} accepts ${methods.map((m) => m.cloud).join(" and ") || "no"} identities${this.options.cloud ? `, not ${this.options.cloud}` : ""}`
          : `the broker at ${this.base} accepts Azure and AWS identities: say which to use (--cloud, or JIT_BROKER_CLOUD)`,
        { field: "cloud" },
      );
    })();
    return this.method;
  }

  private async authorization(): Promise<string> {
    const method = await this.authMethod();
    if (!method) return "";
    if (method.cloud === "azure") return `Bearer ${await this.azureToken(method)}`;
    return awsAuthorization(await this.signedStsRequest(method));
  }

  private async azureToken(method: AuthMethod): Promise<string> {
    const env = process.env.JIT_AZURE_TOKEN;
    if (!this.options.azureCredential && env) return env;
    const credential = this.options.azureCredential ?? new (await import("@azure/identity")).DefaultAzureCredential();
    const scope = `${(method.audience ?? "https://management.azure.com/").replace(/\/+$/, "")}/.default`;
    const token = await credential.getToken(scope).catch((err: unknown) => {
      throw new JitError("Unauthorized", `no Azure access token for ${scope}: ${(err as Error).message}; sign in (az login), or set JIT_AZURE_TOKEN`, { cause: err });
    });
    if (!token) throw new JitError("Unauthorized", `no Azure access token for ${scope}; sign in (az login), or set JIT_AZURE_TOKEN`);
    return token.token;
  }

  private async signedStsRequest(method: AuthMethod): Promise<SignedRequest> {
    if (!method.stsEndpoint || !method.brokerId) throw new JitError("CloudError", "the broker names no STS endpoint or broker id to sign for");
    return signGetCallerIdentity({ brokerId: method.brokerId, stsEndpoint: method.stsEndpoint, stsRegion: method.stsRegion ?? "us-east-1" }, this.options.awsCredentials);
  }
}

export interface SignedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Signs, and does not send, STS GetCallerIdentity for the endpoint and region a broker names, with
 * its id in `x-jit-broker-id` (set before signing, so signed like every other header), using the
 * given credentials or the SDK's default chain.
 */
export async function signGetCallerIdentity(target: { brokerId: string; stsEndpoint: string; stsRegion: string }, credentials?: STSClientConfig["credentials"]): Promise<SignedRequest> {
  const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  let captured: SignedRequest | undefined;
  const client = new STSClient({
    region: target.stsRegion,
    endpoint: target.stsEndpoint,
    maxAttempts: 1,
    ...(credentials ? { credentials } : {}),
    requestHandler: {
      handle: async (request: { method: string; protocol: string; hostname: string; port?: number; path: string; headers: Record<string, string>; body?: unknown }) => {
        const port = request.port ? `:${request.port}` : "";
        captured = { method: request.method, url: `${request.protocol}//${request.hostname}${port}${request.path}`, headers: { ...request.headers }, body: String(request.body ?? "") };
        throw new SignedOnly();
      },
    } as never,
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers[BROKER_ID_HEADER] = target.brokerId;
      return next(args);
    },
    { step: "build", name: "jitBrokerIdHeader" },
  );
  try {
    await client.send(new GetCallerIdentityCommand({}));
  } catch (err) {
    if (!(err instanceof SignedOnly)) throw new JitError("Unauthorized", `cannot sign with your AWS credentials: ${(err as Error).message}`, { cause: err });
  } finally {
    client.destroy();
  }
  if (!captured) throw new JitError("Unauthorized", "the AWS SDK signed nothing");
  return captured;
}

class SignedOnly extends Error {}

/** The `Authorization` header that carries a signed request to the broker. */
export function awsAuthorization(signed: SignedRequest): string {
  return `JIT-AWS-STS ${Buffer.from(JSON.stringify(signed)).toString("base64url")}`;
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams(Object.entries(query).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])));
  const text = params.toString();
  return text ? `?${text}` : "";
}
