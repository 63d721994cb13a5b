import { KeyObject, createHash, createHmac, generateKeyPairSync, randomUUID, sign, verify } from "node:crypto";
import type { EmulatorResponse } from "../common";
import { json } from "./arm";
import { key } from "./ids";

/**
 * The emulator's own Entra ID: an OpenID Connect issuer on the emulator's endpoint that signs
 * ARM access tokens with RS256, publishes its keys as a JWKS, and rotates them the way Entra does
 * (a new current key, the old one still published), so a verifier has to fetch the JWKS again when
 * it meets a `kid` it has not seen. The documents are shaped like Entra's:
 * `https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration` (v1, whose issuer
 * is `https://sts.windows.net/{tenant}/`) and `.../v2.0/.well-known/openid-configuration`.
 */

/** Claims an override may set, plus the switches that make the tokens a verifier must refuse. */
export interface TokenOverrides {
  [claim: string]: unknown;
  /** `none` (unsigned) or `HS256` (keyed with the public key's modulus, the classic confusion attack). */
  alg?: "none" | "HS256";
  /** `foreign`: signed by a well-formed RSA key the JWKS does not publish (under a `kid` it does). */
  signWith?: "foreign";
  /** The payload is changed after signing, so the signature no longer matches. */
  tamper?: boolean;
}

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** When the key stops being published, after a rotation made it old. */
  retiresAt?: number;
}

/**
 * RSA key generation costs tens of milliseconds; tests start hundreds of emulators, so a process
 * shares one pool of key pairs. Each emulator takes keys from the start of the pool, and a
 * rotation takes the next one. The foreign key is never handed out as a published key.
 */
const pool: { privateKey: KeyObject; publicKey: KeyObject }[] = [];
let foreign: { privateKey: KeyObject; publicKey: KeyObject } | undefined;
const keyPair = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
function pooled(index: number): { privateKey: KeyObject; publicKey: KeyObject } {
  while (pool.length <= index) pool.push(keyPair());
  return pool[index];
}

/** Entra's `kid` and `x5t` are the thumbprint of the key's certificate; ours hash the public key. */
const thumbprint = (publicKey: KeyObject): string => createHash("sha1").update(publicKey.export({ type: "spki", format: "der" })).digest("base64url");

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

/** How long an old key stays published after a rotation (Entra keeps it for weeks; this is a test clock's worth). */
const RETIRE_AFTER_MS = 24 * 3600_000;

export interface IssuerOptions {
  tenantId: string;
  /** The emulator's endpoint, which is also the authority host (the `login.microsoftonline.com` of Entra). */
  authority: string;
  now: () => number;
}

/** An authorization code the emulator handed out, for the token endpoint to redeem once. */
interface IssuedCode {
  principal: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
}

const CODE_LIFETIME_MS = 10 * 60_000;

export class Issuer {
  private readonly keys: SigningKey[] = [];
  private readonly codes = new Map<string, IssuedCode>();
  private next = 0;

  constructor(private readonly options: IssuerOptions) {
    this.keys.push(this.newKey());
  }

  private newKey(): SigningKey {
    const pair = pooled(this.next++);
    return { kid: thumbprint(pair.publicKey), ...pair };
  }

  get tenantId(): string {
    return this.options.tenantId;
  }

  /** The issuer of v1 tokens (what ARM tokens carry): `{authority}/{tenant}/`, as `https://sts.windows.net/{tenant}/`. */
  get issuer(): string {
    return `${this.options.authority}/${this.options.tenantId}/`;
  }

  get issuerV2(): string {
    return `${this.options.authority}/${this.options.tenantId}/v2.0`;
  }

  get jwksUri(): string {
    return `${this.options.authority}/common/discovery/keys`;
  }

  private get current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  /** The keys a verifier may trust now: the current one and those retired recently. */
  published(): SigningKey[] {
    const now = this.options.now();
    return this.keys.filter((k) => k.retiresAt === undefined || k.retiresAt > now);
  }

  /** A new current key (a new `kid`); the previous ones stay published for a while. */
  rotate(): string {
    const retiresAt = this.options.now() + RETIRE_AFTER_MS;
    for (const k of this.keys) k.retiresAt ??= retiresAt;
    this.keys.push(this.newKey());
    return this.current.kid;
  }

  /** A signed JWT with `claims`, shaped (and broken) as `overrides` say. */
  token(claims: Record<string, unknown>, overrides: TokenOverrides = {}): string {
    const { alg, signWith, tamper, ...claimOverrides } = overrides;
    const payload = { ...claims, ...claimOverrides };
    const signer = this.current;
    if (alg === "none") return `${b64json({ typ: "JWT", alg: "none" })}.${b64json(payload)}.`;
    const header = { typ: "JWT", alg: alg ?? "RS256", x5t: signer.kid, kid: signer.kid };
    const input = `${b64json(header)}.${b64json(payload)}`;
    let signature: Buffer;
    if (alg === "HS256") {
      signature = createHmac("sha256", signer.publicKey.export({ type: "spki", format: "pem" })).update(input).digest();
    } else {
      foreign ??= keyPair();
      signature = sign("sha256", Buffer.from(input), signWith === "foreign" ? foreign.privateKey : signer.privateKey);
    }
    const body = tamper ? b64json({ ...payload, tampered: true }) : b64json(payload);
    return `${b64json(header)}.${body}.${signature.toString("base64url")}`;
  }

  /**
   * The claims of a token this issuer signed with a published key, or the reason it is not one.
   * Only RS256 is accepted: `none` and HMAC tokens are refused whatever they claim.
   */
  verify(token: string): { claims: Record<string, unknown> } | { error: string } {
    const parts = token.split(".");
    if (parts.length !== 3) return { error: "not a JWT" };
    let header: unknown;
    let claims: unknown;
    try {
      header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    } catch {
      return { error: "not a JWT" };
    }
    if (!isRecord(header) || !isRecord(claims)) return { error: "not a JWT" };
    if (header.alg !== "RS256") return { error: `signing algorithm ${String(header.alg)} is not accepted` };
    const signer = this.published().find((k) => k.kid === header.kid);
    if (!signer) return { error: "signing key not found" };
    const ok = verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), signer.publicKey, Buffer.from(parts[2], "base64url"));
    return ok ? { claims } : { error: "signature is invalid" };
  }

  jwks(v2: boolean): { keys: Record<string, unknown>[] } {
    return {
      keys: this.published().map((k) => {
        const { n, e } = k.publicKey.export({ format: "jwk" });
        return { kty: "RSA", use: "sig", kid: k.kid, x5t: k.kid, n, e, ...(v2 ? { issuer: this.issuerV2 } : {}) };
      }),
    };
  }

  discovery(v2: boolean): Record<string, unknown> {
    const { authority, tenantId } = this.options;
    const base = `${authority}/${tenantId}`;
    const oauth = v2 ? `${base}/oauth2/v2.0` : `${base}/oauth2`;
    return {
      token_endpoint: `${oauth}/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : this.jwksUri,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: v2 ? ["openid", "profile", "email", "offline_access"] : ["openid"],
      issuer: v2 ? this.issuerV2 : this.issuer,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${oauth}/authorize`,
      device_authorization_endpoint: `${oauth}/devicecode`,
      end_session_endpoint: `${oauth}/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "name", "tid", "ver", "at_hash", "c_hash", "email"],
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
    };
  }

  /** `/authorize`: a code for the account in `login_hint`, sent back to the redirect URI; without one, a page to name the account. */
  authorize(query: URLSearchParams): EmulatorResponse {
    for (const name of ["client_id", "redirect_uri", "response_type", "code_challenge"]) {
      if (!query.get(name)) return oauthError(400, "invalid_request", `AADSTS900144: The request body must contain the following parameter: '${name}'.`);
    }
    if (query.get("response_type") !== "code") return oauthError(400, "unsupported_response_type", "AADSTS700054: response_type 'code' is the only one this emulator serves.");
    if (query.get("code_challenge_method") !== "S256") return oauthError(400, "invalid_request", "AADSTS501491: Invalid size of Code_Challenge parameter (S256 only).");
    const redirect = new URL(query.get("redirect_uri") as string);
    const account = query.get("login_hint");
    if (!account) {
      const hidden = [...query].map(([k, v]) => `<input type="hidden" name="${escapeText(k)}" value="${escapeText(v)}">`).join("");
      const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pick an account</title></head><body><main><h1>Pick an account</h1><form method="get">${hidden}<label for="login_hint">Account</label> <input id="login_hint" name="login_hint" autocomplete="username" required> <button type="submit">Sign in</button></form></main></body></html>`;
      return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: page };
    }
    const code = randomUUID() + randomUUID();
    this.codes.set(code, { principal: account, clientId: query.get("client_id") as string, redirectUri: redirect.href, challenge: query.get("code_challenge") as string, expiresAt: this.options.now() + CODE_LIFETIME_MS });
    redirect.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) redirect.searchParams.set("state", state);
    return { status: 302, headers: { location: redirect.href } };
  }

  /** `/token`: an access token for a code, once. */
  redeem(form: URLSearchParams, mint: (principal: string) => string): EmulatorResponse {
    if (form.get("grant_type") !== "authorization_code") return oauthError(400, "unsupported_grant_type", "AADSTS70003: grant_type 'authorization_code' is the only one this emulator serves.");
    const code = form.get("code") ?? "";
    const issued = this.codes.get(code);
    this.codes.delete(code);
    if (!issued || issued.expiresAt <= this.options.now()) return oauthError(400, "invalid_grant", "AADSTS70008: The provided authorization code or refresh token has expired or was already redeemed.");
    if (form.get("client_id") !== issued.clientId) return oauthError(400, "invalid_grant", "AADSTS700005: Provided Authorization Code is intended to use against other tenant or client.");
    if (form.get("redirect_uri") !== issued.redirectUri) return oauthError(400, "invalid_grant", "AADSTS50011: The redirect URI does not match the one the code was issued for.");
    const verifier = form.get("code_verifier") ?? "";
    if (createHash("sha256").update(verifier).digest("base64url") !== issued.challenge) return oauthError(400, "invalid_grant", "AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.");
    return json(200, { token_type: "Bearer", scope: "https://management.azure.com/user_impersonation", expires_in: 3599, ext_expires_in: 3599, access_token: mint(issued.principal) });
  }

  /**
   * The issuer's own routes, which need no token: the two discovery documents and the two key
   * sets. Anything else under the issuer's paths is not ours (undefined).
   */
  serve(method: string, path: string): EmulatorResponse | undefined {
    if (method !== "GET") return undefined;
    const parts = path.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
    const lower = parts.map(key).join("/");
    if (lower === "common/discovery/keys") return json(200, this.jwks(false));
    const [tenant, ...rest] = parts;
    const tail = rest.map(key).join("/");
    const routes: Record<string, () => unknown> = {
      ".well-known/openid-configuration": () => this.discovery(false),
      "v2.0/.well-known/openid-configuration": () => this.discovery(true),
      "discovery/keys": () => this.jwks(false),
      "discovery/v2.0/keys": () => this.jwks(true),
    };
    if (tenant === undefined || !Object.hasOwn(routes, tail)) return undefined;
    if (key(tenant) !== key(this.options.tenantId)) {
      return json(400, {
        error: "invalid_tenant",
        error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        error_codes: [90002],
        trace_id: randomUUID(),
        correlation_id: randomUUID(),
      });
    }
    return json(200, routes[tail]());
  }
}

/**
 * The authorization-code flow with PKCE, as the Microsoft identity platform's v2.0 endpoints serve
 * it, minimal: `/authorize` signs in the account named by `login_hint` (a principal's name), or
 * shows a one-field account picker; `/token` redeems a code once, within ten minutes, for the same
 * client and redirect URI, when the verifier hashes (S256) to the challenge; the answer is an ARM
 * access token for the principal, made by `mint`. Anything else is not ours (undefined).
 */
export function serveCodeFlow(issuer: Issuer, req: { method: string; path: string; query: URLSearchParams; body: string }, mint: (principal: string) => string): EmulatorResponse | undefined {
  const m = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/i.exec(req.path);
  if (!m) return undefined;
  if (key(decodeURIComponent(m[1])) !== key(issuer.tenantId)) return oauthError(400, "invalid_tenant", `AADSTS90002: Tenant '${m[1]}' not found.`);
  return m[2].toLowerCase() === "authorize" ? (req.method === "GET" ? issuer.authorize(req.query) : undefined) : req.method === "POST" ? issuer.redeem(new URLSearchParams(req.body), mint) : undefined;
}

function oauthError(status: number, error: string, description: string): EmulatorResponse {
  return json(status, { error, error_description: description, error_codes: [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)], trace_id: randomUUID(), correlation_id: randomUUID() });
}

const escapeText = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
