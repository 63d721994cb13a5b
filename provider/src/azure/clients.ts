import type { AuthorizationManagementClient } from "@azure/arm-authorization";
import type { ComputeManagementClient } from "@azure/arm-compute";
import type { NetworkManagementClient } from "@azure/arm-network";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { ResolvedConnection } from "./connection";

/**
 * The SDK clients of one driver, one set per subscription (a client is bound to one), made on
 * first use. The SDKs load only then, so that importing pulumi-jit stays light.
 */
export class AzureClients {
  private readonly made = new Map<string, Promise<unknown>>();

  constructor(readonly connection: ResolvedConnection) {}

  network(subscriptionId: string): Promise<NetworkManagementClient> {
    return this.client("network", subscriptionId, async (credential, options) => {
      const { NetworkManagementClient } = await import("@azure/arm-network");
      const client = new NetworkManagementClient(credential, subscriptionId, options);
      client.pipeline.addPolicy(conditionalWritesOnly);
      return this.withPolicies(client);
    });
  }

  compute(subscriptionId: string): Promise<ComputeManagementClient> {
    return this.client("compute", subscriptionId, async (credential, options) => this.withPolicies(new (await import("@azure/arm-compute")).ComputeManagementClient(credential, subscriptionId, options)));
  }

  /** A client of the older generation, which takes its token scope as `credentialScopes`. */
  authorization(subscriptionId: string): Promise<AuthorizationManagementClient> {
    return this.client("authorization", subscriptionId, async (credential, options) => {
      const { AuthorizationManagementClient } = await import("@azure/arm-authorization");
      return this.withPolicies(new AuthorizationManagementClient(credential, subscriptionId, { ...options, credentialScopes: options.credentials.scopes }));
    });
  }

  /** The connection's own policies, next to the wire: after the SDK's retries, so they see every answer. */
  private withPolicies<C extends { pipeline: { addPolicy(policy: never, options: { afterPhase: "Retry" }): void } }>(client: C): C {
    for (const policy of this.connection.policies) client.pipeline.addPolicy(policy as never, { afterPhase: "Retry" });
    return client;
  }

  /** Options every client gets: the endpoint and its token scope, the extra CA, the SDK's retry settings. */
  private options() {
    const c = this.connection;
    return {
      endpoint: c.endpoint,
      credentials: { scopes: [c.scope] },
      ...(c.ca === undefined ? {} : { tlsOptions: { ca: c.ca } }),
      ...(c.retryOptions === undefined ? {} : { retryOptions: c.retryOptions }),
    };
  }

  private client<T>(
    kind: string,
    subscriptionId: string,
    make: (credential: Awaited<ReturnType<ResolvedConnection["credential"]>>, options: ReturnType<AzureClients["options"]>) => Promise<T>,
  ): Promise<T> {
    const key = `${kind}:${subscriptionId.toLowerCase()}`;
    let client = this.made.get(key) as Promise<T> | undefined;
    if (!client) {
      client = this.connection.credential().then((credential) => make(credential, this.options()));
      this.made.set(key, client);
      client.catch(() => this.made.delete(key));
    }
    return client;
  }
}

const CONDITIONAL = ["if-match", "if-none-match"];

/**
 * Preconditions belong to the write that carries them. Pollers of some SDK versions copy a call's
 * custom headers onto their status and final GETs, where a stale `If-Match` would make ARM answer
 * 412 (or 304) after the write itself succeeded; so they are taken off every request but a write.
 */
const conditionalWritesOnly: PipelinePolicy = {
  name: "jitConditionalWritesOnly",
  sendRequest: (request, next) => {
    if (request.method !== "PUT" && request.method !== "DELETE" && request.method !== "PATCH") {
      for (const name of CONDITIONAL) request.headers.delete(name);
    }
    return next(request);
  },
};
