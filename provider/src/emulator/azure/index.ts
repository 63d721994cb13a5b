import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CallLog, FaultInjector, FaultMatch, selfSignedCertificate, startEmulatorServer } from "../common";
import { errorResponse, fail } from "./arm";
import { computeRoutes } from "./compute";
import type { Ctx } from "./context";
import { firewallRoutes } from "./firewall";
import { key } from "./ids";
import type { Latency } from "./latency";
import { OperationError, OperationSummary, Operations } from "./lro";
import { networkManagerRoutes } from "./network-manager";
import { nicRoutes } from "./nic";
import { nsgRoutes } from "./nsg";
import { AzureEmulatorOptions, defaultOptions } from "./options";
import { permissionRoutes } from "./permissions";
import { publicIpRoutes } from "./public-ip";
import { Router, request } from "./router";
import { AzureSeed } from "./seed";
import { AzureState } from "./state";
import { Store } from "./store";
import { Issuer, TokenOverrides, serveCodeFlow } from "./oidc";
import { authorize } from "./rbac";
import { ARM_AUDIENCE, PrincipalClaims, authenticate, principalClaims, signedToken } from "./tokens";
import { vnetRoutes } from "./vnet";

export type { AzureEmulatorOptions } from "./options";
export type { AzureSeed, SeedRule, SeedCollection, SeedPermissions, TypicalVm, TypicalVmOptions } from "./seed";
export type { AzureState, FlatRule } from "./state";
export type { OperationError, OperationSummary } from "./lro";
export type { PrincipalClaims } from "./tokens";
export type { TokenOverrides } from "./oidc";

/**
 * The emulator as the tests' Entra ID: the issuer its tokens come from and that ARM trusts, served
 * on the emulator's own endpoint (discovery at `{authorityHost}/{tenantId}/.well-known/openid-configuration`
 * and `.../v2.0/.well-known/openid-configuration`, keys at `jwksUri`).
 */
export interface EmulatorIdentity {
  tenantId: string;
  /** The authority host, as `https://login.microsoftonline.com`: the emulator's endpoint. */
  authorityHost: string;
  /** What the tokens' `iss` says (the v1 form, `{authorityHost}/{tenantId}/`). */
  issuer: string;
  jwksUri: string;
  /** The `aud` of the tokens by default: ARM's. */
  audience: string;
  /**
   * An access token for `principal`. `overrides` sets any claim (\`aud\`, \`iss\`, \`tid\`, \`exp\`, \`nbf\`...)
   * or forges it (\`alg: "none" | "HS256"\`, \`signWith: "foreign"\`, \`tamper: true\`), for verifiers to refuse.
   */
  token(principal: string, overrides?: TokenOverrides): string;
  /** A new signing key (a new \`kid\`) becomes current; the old one stays published for a day. Returns the new \`kid\`. */
  rotateKeys(): string;
}

/** What `getToken` returns; structurally a `TokenCredential` of `@azure/core-auth`. */
export interface EmulatorCredential {
  getToken(scopes: string | string[]): Promise<{ token: string; expiresOnTimestamp: number }>;
}

export interface AzureEmulator {
  /** `https://127.0.0.1:<port>`. */
  endpoint: string;
  subscriptionId: string;
  /** Signs in as `options.principal`, which has Owner-like permissions (`*`) on the subscription. */
  credential: EmulatorCredential;
  /** Signs in as `principal`: its tokens are signed by `identity`, and their claims name it (see `claimsFor`). */
  credentialFor(principal: string): EmulatorCredential;
  identity: EmulatorIdentity;
  /** The claims of `principal`'s tokens: `oid` (a GUID derived from the name), `upn`, and `name`. */
  claimsFor(principal: string): PrincipalClaims;
  /**
   * The environment that points a process (the `jit` CLI, a Pulumi provider, a child process) at
   * this emulator as `principal` (default `options.principal`): the endpoint, a file holding the
   * emulator's CA certificate (removed by `close()`), and a bearer token.
   */
  env(principal?: string): { JIT_AZURE_ENDPOINT: string; JIT_AZURE_CA_FILE: string; JIT_AZURE_TOKEN: string };
  /**
   * For `new NetworkManagementClient(credential, subscriptionId, clientOptions)`, and the same for
   * ComputeManagementClient and AuthorizationManagementClient: the endpoint and the emulator's
   * self-signed certificate as a trusted CA. Pass `updateIntervalInMs: 0` to long-running
   * operations (or set `options.lroPolls = 0`), or each poll waits the SDK's default 2 s.
   */
  clientOptions: { endpoint: string; tlsOptions: { ca: string } };
  seed: AzureSeed;
  state: AzureState;
  faults: FaultInjector;
  calls: CallLog;
  /** Long-running operations: finish them all now, make the next ones fail, list them. */
  lro: {
    settle(): void;
    failNext(match: FaultMatch, error: OperationError, times?: number): void;
    list(): OperationSummary[];
  };
  /** Modelled latency on a virtual clock (see latency.ts): `enable()`, `now()`, `clientPolicy()`. */
  latency: Latency;
  /** Live switches: changes apply to the next request (except `subscriptionId` and `principal`, fixed at start). */
  options: AzureEmulatorOptions;
  close(): Promise<void>;
}


/**
 * A local Azure Resource Manager endpoint for Microsoft.Network (NSGs and their rules, NICs,
 * public IPs, VNets and subnets, Azure Firewalls), Microsoft.Compute virtual machines and
 * Microsoft.Authorization permissions, served over HTTPS on 127.0.0.1 to the real SDK clients:
 *
 * ```ts
 * const emu = await startAzureEmulator();
 * const vm = emu.seed.typicalVm({ resourceGroup: "rg", name: "vm1" });
 * const network = new NetworkManagementClient(emu.credential, emu.subscriptionId, emu.clientOptions);
 * await network.securityRules.createOrUpdate("rg", "vm1-nsg", "deny-ssh", rule, { updateIntervalInMs: 0 });
 * emu.calls.expect({ operation: "SecurityRules_CreateOrUpdate" }, 1);
 * await emu.close();
 * ```
 */
export async function startAzureEmulator(overrides: Partial<AzureEmulatorOptions> = {}): Promise<AzureEmulator> {
  const options = defaultOptions(overrides);
  const ctx: Ctx = { options, store: new Store(options.subscriptionId), lro: new Operations(options) };
  ctx.store.grant(options.principal, { scope: `/subscriptions/${options.subscriptionId}`, actions: ["*"], notActions: [], dataActions: [], notDataActions: [] });
  const router = new Router([
    ...ctx.lro.routes(),
    ...nsgRoutes(ctx),
    ...vnetRoutes(ctx),
    ...networkManagerRoutes(ctx),
    ...nicRoutes(ctx),
    ...publicIpRoutes(ctx),
    ...firewallRoutes(ctx),
    ...computeRoutes(ctx),
    ...permissionRoutes(ctx),
  ]);
  const tls = await selfSignedCertificate();
  const calls = new CallLog();
  const faults = new FaultInjector();
  // The issuer needs the endpoint, which exists once the server listens; requests arrive after that.
  let issuer: Issuer | undefined;
  const issuerNow = (): Issuer => issuer ?? fail(503, "ServiceUnavailable", "The emulator is starting.");
  const names = new Map<string, string>();
  const known = (principal: string): string => {
    names.set(principalClaims(principal).oid, principal);
    return principal;
  };
  known(options.principal);

  const server = await startEmulatorServer({
    tls,
    calls,
    faults,
    route: (ereq) => {
      const discovery = issuerNow().serve(ereq.method, ereq.path) ?? serveCodeFlow(issuerNow(), { ...ereq, query: ereq.url.searchParams, body: ereq.body.toString("utf8") }, (principal) => token(principal));
      if (discovery) return { operation: "OpenIdConnect", write: false, serve: () => discovery };
      const matched = router.match(ereq.method, ereq.path);
      const authorization = typeof ereq.headers.authorization === "string" ? ereq.headers.authorization : undefined;
      // Who the call is from, for the call log, even when it is then refused; the check itself is in serve().
      let claims: Record<string, unknown> | undefined;
      let failure: unknown;
      try {
        claims = authenticate(authorization, issuerNow(), server.endpoint, options.now());
      } catch (err) {
        failure = err;
      }
      const oid = typeof claims?.oid === "string" ? claims.oid : undefined;
      const principal = oid === undefined ? undefined : (names.get(oid) ?? oid);
      const req = request(matched, { ...ereq, principal: principal ?? "" });
      return {
        operation: matched.operation,
        write: ereq.method !== "GET" && matched.route.readOnly !== true,
        principal,
        serve: () => {
          if (failure !== undefined || principal === undefined || oid === undefined) throw failure;
          if (req.apiVersion === "") fail(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
          const sub = matched.params.subscriptionId;
          if (sub !== undefined && key(sub) !== key(options.subscriptionId)) fail(404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
          if (options.rbac) {
            const display = typeof claims?.upn === "string" ? claims.upn : oid;
            authorize(ctx.store.permissionsOf(principal), { principal, oid, display }, ereq.method, ereq.path, () => {
              try {
                return ereq.body.length > 0 ? req.body() : undefined;
              } catch {
                return undefined; // the handler answers a body it cannot parse
              }
            });
          }
          return matched.route.handle(req);
        },
      };
    },
    renderFault: (fault) => errorResponse(fault.status, fault.code, fault.message ?? fault.code, [], fault.headers),
    renderInternalError: (err) => errorResponse(500, "InternalServerError", String(err)),
  });

  issuer = new Issuer({ tenantId: options.tenantId, authority: server.endpoint, now: () => options.now() });
  const live = issuer;
  const token = (principal: string, overrides?: TokenOverrides): string => signedToken(known(principal), live, options.now(), overrides);
  const credentialFor = (principal: string): EmulatorCredential => ({
    getToken: async () => ({ token: token(principal), expiresOnTimestamp: options.now() + 3600_000 }),
  });

  let caDir: string | undefined;
  const caFile = (): string => {
    if (caDir === undefined) {
      caDir = mkdtempSync(join(tmpdir(), "azure-emulator-"));
      writeFileSync(join(caDir, "ca.pem"), tls.cert);
    }
    return join(caDir, "ca.pem");
  };

  return {
    endpoint: server.endpoint,
    subscriptionId: options.subscriptionId,
    credential: credentialFor(options.principal),
    credentialFor,
    claimsFor: principalClaims,
    identity: {
      tenantId: options.tenantId,
      authorityHost: server.endpoint,
      issuer: live.issuer,
      jwksUri: live.jwksUri,
      audience: ARM_AUDIENCE,
      token,
      rotateKeys: () => live.rotate(),
    },
    env: (principal = options.principal) => ({ JIT_AZURE_ENDPOINT: server.endpoint, JIT_AZURE_CA_FILE: caFile(), JIT_AZURE_TOKEN: token(principal) }),
    clientOptions: { endpoint: server.endpoint, tlsOptions: { ca: tls.cert } },
    seed: new AzureSeed(ctx),
    state: new AzureState(ctx),
    faults,
    calls,
    lro: {
      settle: () => ctx.lro.settle(),
      failNext: (match, error, times) => ctx.lro.failNext(match, error, times),
      list: () => ctx.lro.list(),
    },
    latency: ctx.lro.latency,
    options,
    close: async () => {
      await server.close();
      if (caDir !== undefined) rmSync(caDir, { recursive: true, force: true });
    },
  };
}
