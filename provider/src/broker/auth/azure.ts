import type { KeyObject } from "node:crypto";
import type { Principal } from "../../driver";
import { getJson, Outbound } from "../outbound";
import { AuthenticationError, refuse } from "./errors";
import { decodeJwt, rs256Valid, rsaSigningKey } from "./jwt";

/**
 * Verifies Entra ID access tokens for ARM ourselves, the way ARM does, so that the broker knows who
 * asks without any secret shared with the caller:
 * - RS256 only: `none`, HMAC and every other algorithm are refused before anything else;
 * - the tenant (`tid`) must be on the allowed list, checked before anything is fetched, so a token
 *   naming any tenant cannot make the broker call out;
 * - `exp` and `nbf` with a small skew; `aud` one of the ARM audiences;
 * - `iss` exactly the issuer the tenant's OIDC discovery document names;
 * - the signature against the discovery document's JWKS, cached, and fetched again once when a
 *   token names a key we do not know (keys rotate), at most once per `minRefreshMs` per key set.
 */
export interface AzureVerifierOptions {
  /** Tenants whose tokens are accepted (GUIDs). */
  tenants: readonly string[];
  /** The Entra ID authority, e.g. https://login.microsoftonline.com (no trailing slash). */
  authorityHost: string;
  /** Accepted `aud` values. Default: ARM's (`https://management.azure.com/` and its older spellings). */
  audiences?: readonly string[];
  skewSeconds?: number;
  minRefreshMs?: number;
  fetch: Outbound;
  now?: () => number;
}

export const ARM_AUDIENCES = ["https://management.azure.com/", "https://management.azure.com", "https://management.core.windows.net/"];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AzureCaller {
  principal: Principal;
  tenantId: string;
}

type KeySet = Map<string, KeyObject>;

export class AzureTokenVerifier {
  private readonly tenants: Set<string>;
  private readonly audiences: readonly string[];
  private readonly issuers = new Map<string, Promise<{ issuer: string; jwksUri: string }>>();
  private readonly keySets = new Map<string, Promise<KeySet>>();
  /** When each key set was last fetched (or tried), for the refresh rate limit. */
  private readonly fetchedAt = new Map<string, number>();
  private readonly now: () => number;
  /** Calls made out, for the record (tests count them). */
  fetches = 0;

  constructor(private readonly options: AzureVerifierOptions) {
    this.tenants = new Set(options.tenants.map((t) => t.toLowerCase()));
    this.audiences = options.audiences ?? ARM_AUDIENCES;
    this.now = options.now ?? Date.now;
  }

  /** The audience clients should ask tokens for. */
  get audience(): string {
    return this.audiences[0];
  }

  async verify(token: string): Promise<AzureCaller> {
    const jwt = decodeJwt(token);
    if (jwt.header.alg !== "RS256") refuse(`token algorithm ${JSON.stringify(jwt.header.alg ?? null).slice(0, 20)} refused: RS256 only`);
    const kid = jwt.header.kid;
    if (typeof kid !== "string" || kid.length === 0 || kid.length > 256) refuse("the token names no signing key (kid)");
    const c = jwt.claims;
    const tid = typeof c.tid === "string" && GUID.test(c.tid) ? c.tid.toLowerCase() : refuse("the token carries no tenant id (tid)");
    if (!this.tenants.has(tid)) refuse(`tenant ${tid} is not allowed here`);
    const now = Math.floor(this.now() / 1000);
    const skew = this.options.skewSeconds ?? 60;
    if (typeof c.exp !== "number" || c.exp + skew < now) refuse("the token has expired");
    if (typeof c.nbf === "number" && c.nbf - skew > now) refuse("the token is not valid yet");
    const audiences = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!audiences.some((a) => typeof a === "string" && this.audiences.includes(a))) refuse("the token is not for Azure Resource Manager (aud)");
    const version = c.ver === "2.0" ? "2.0" : "1.0";
    const { issuer, jwksUri } = await this.discovery(tid, version);
    if (c.iss !== issuer) refuse("the token's issuer is not the tenant's (iss)");
    const key = await this.key(jwksUri, kid);
    if (!rs256Valid(jwt, key)) refuse("the token's signature does not verify");
    if (typeof c.oid !== "string" || c.oid.length === 0 || c.oid.length > 64) refuse("the token names no object id (oid)");
    const name = [c.upn, c.unique_name, c.preferred_username, c.appid].find((n): n is string => typeof n === "string" && n !== "" && n.length <= 256);
    return { principal: name === undefined ? { id: c.oid } : { id: c.oid, name }, tenantId: tid };
  }

  private discovery(tid: string, version: "1.0" | "2.0"): Promise<{ issuer: string; jwksUri: string }> {
    const key = `${tid}|${version}`;
    let found = this.issuers.get(key);
    if (!found) {
      const base = this.options.authorityHost.replace(/\/+$/, "");
      const url = `${base}/${tid}${version === "2.0" ? "/v2.0" : ""}/.well-known/openid-configuration`;
      this.fetches++;
      found = getJson(this.options.fetch, url).then((doc) => {
        if (typeof doc.issuer !== "string" || typeof doc.jwks_uri !== "string") throw new Error(`${url} names no issuer or jwks_uri`);
        // Keys come from the authority we trust, not from wherever a document points.
        if (new URL(doc.jwks_uri).origin !== new URL(base).origin) throw new Error(`${url} points its keys at another host (${doc.jwks_uri})`);
        return { issuer: doc.issuer, jwksUri: doc.jwks_uri };
      });
      this.issuers.set(key, found);
      found.catch(() => this.issuers.delete(key));
    }
    return found.catch((err: unknown) => refuse(`cannot read the tenant's OpenID configuration: ${(err as Error).message}`));
  }

  private async key(jwksUri: string, kid: string): Promise<KeyObject> {
    let set = await this.keySet(jwksUri, false);
    if (!set.has(kid) && this.now() - (this.fetchedAt.get(jwksUri) ?? 0) >= (this.options.minRefreshMs ?? 60_000)) set = await this.keySet(jwksUri, true);
    return set.get(kid) ?? refuse("the token is signed with a key the issuer does not publish");
  }

  private keySet(jwksUri: string, refresh: boolean): Promise<KeySet> {
    let set = this.keySets.get(jwksUri);
    if (!set || refresh) {
      this.fetches++;
      this.fetchedAt.set(jwksUri, this.now());
      const fetching = getJson(this.options.fetch, jwksUri).then((doc): KeySet => {
        const keys: KeySet = new Map();
        for (const jwk of Array.isArray(doc.keys) ? doc.keys.slice(0, 100) : []) {
          if (jwk === null || typeof jwk !== "object" || typeof (jwk as { kid?: unknown }).kid !== "string") continue;
          const key = rsaSigningKey(jwk as Record<string, unknown>);
          if (key) keys.set((jwk as { kid: string }).kid, key);
        }
        return keys;
      });
      // A failed refresh keeps the keys we had.
      set = set && refresh ? fetching.catch(() => set as Promise<KeySet>) : fetching;
      this.keySets.set(jwksUri, set);
      fetching.catch(() => undefined);
    }
    return set.catch((err: unknown): never => {
      this.keySets.delete(jwksUri);
      if (err instanceof AuthenticationError) throw err;
      return refuse(`cannot read the issuer's signing keys: ${(err as Error).message}`);
    });
  }
}
