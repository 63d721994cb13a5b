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

export class Issuer {
  private readonly keys: SigningKey[] = [];
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
