import { createHash, randomUUID } from "node:crypto";
import type { ArmErrorDetail } from "./arm";
import { errorResponse } from "./arm";
import { ResponseError } from "../common";
import type { Issuer, TokenOverrides } from "./oidc";

/**
 * ARM access tokens of the emulator, as Entra ID issues them: RS256-signed JWTs whose claims name
 * the caller (`oid`, `upn`, `name`) and say for whom (`aud`), by whom (`iss`, `tid`) and until when
 * (`exp`, `nbf`). ARM verifies each one, and the principal it names is the one RBAC evaluates.
 */
export interface PrincipalClaims {
  /** A stable object id (a GUID) derived from the principal's name. */
  oid: string;
  /** The principal's name if it is one, else `<name>@example.com`. */
  upn: string;
  /** The name the principal was seeded under (`seed.principal`), which keys its permissions. */
  name: string;
}

/** ARM's audience; the SDKs ask for `{endpoint}/.default`, which Entra maps to the same resource. */
export const ARM_AUDIENCE = "https://management.azure.com/";
const ALLOWED_AUDIENCES = ["https://management.core.windows.net/", "https://management.core.windows.net", "https://management.azure.com/", "https://management.azure.com"];

/** Entra and ARM tolerate this much clock difference on `exp` and `nbf` (IdentityModel's default). */
export const CLOCK_SKEW_MS = 5 * 60_000;

const guid = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
const digest = (text: string): string => createHash("sha256").update(text).digest("hex");

export function principalClaims(principal: string): PrincipalClaims {
  return { oid: guid(digest(principal.toLowerCase())), upn: principal.includes("@") ? principal : `${principal}@example.com`, name: principal };
}

/** The claims of an ARM access token for `principal`, issued now for an hour. */
export function armClaims(principal: string, issuer: Issuer, now: number): Record<string, unknown> {
  const { oid, upn, name } = principalClaims(principal);
  const iat = Math.floor(now / 1000);
  return {
    aud: ARM_AUDIENCE,
    iss: issuer.issuer,
    iat,
    nbf: iat,
    exp: iat + 3600,
    appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
    appidacr: "0",
    idtyp: "user",
    name,
    oid,
    scp: "user_impersonation",
    sub: Buffer.from(digest(`sub:${oid}`), "hex").subarray(0, 32).toString("base64url"),
    tid: issuer.tenantId,
    unique_name: upn,
    upn,
    uti: randomUUID().replace(/-/g, "").slice(0, 22),
    ver: "1.0",
  };
}

export function signedToken(principal: string, issuer: Issuer, now: number, overrides?: TokenOverrides): string {
  return issuer.token(armClaims(principal, issuer, now), overrides);
}

/** .NET's `DateTime.ToString()` in the invariant culture, as ARM's messages print times: `12/2/2026 3:04:05 PM`. */
function dotnetTime(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours() % 12 || 12;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? "AM" : "PM"}`;
}

function unauthorized(issuer: Issuer, code: string, message: string, details: ArmErrorDetail[] = []): never {
  const challenge = `Bearer authorization_uri="${issuer.issuer.replace(/\/$/, "")}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`;
  throw new ResponseError(errorResponse(401, code, message, details, { "www-authenticate": challenge }));
}

/** Who an ARM request comes from: the verified claims of its bearer token, or ARM's 401 with the reason. */
export function authenticate(authorization: string | undefined, issuer: Issuer, endpoint: string, now: number): Record<string, unknown> {
  if (authorization === undefined || authorization === "") unauthorized(issuer, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (!bearer) unauthorized(issuer, "AuthenticationFailedInvalidHeader", "Authentication failed. The 'Authorization' header is provided in an invalid format.");
  // Bounded before any parsing: an access token is a few kilobytes.
  if (bearer[1].length > 16_384) unauthorized(issuer, "InvalidAuthenticationToken", "The access token is invalid.");
  const verified = issuer.verify(bearer[1]);
  if ("error" in verified) unauthorized(issuer, "InvalidAuthenticationToken", "The access token is invalid.");
  const { claims } = verified;
  const iss = claims.iss;
  if (iss !== issuer.issuer && iss !== issuer.issuerV2) {
    unauthorized(
      issuer,
      "InvalidAuthenticationTokenTenant",
      `The access token is from the wrong issuer '${String(iss)}'. It must match the tenant '${issuer.issuer}' associated with this subscription. Please use the authority (URL) '${issuer.issuer.replace(/\/$/, "")}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
    );
  }
  if (claims.tid !== issuer.tenantId) unauthorized(issuer, "InvalidAuthenticationTokenTenant", `The access token is from the wrong tenant '${String(claims.tid)}'.`);
  const audiences = [...ALLOWED_AUDIENCES, endpoint, `${endpoint}/`];
  if (typeof claims.aud !== "string" || !audiences.includes(claims.aud)) {
    unauthorized(
      issuer,
      "InvalidAuthenticationTokenAudience",
      `The access token has been obtained for wrong audience or resource '${String(claims.aud)}'. It should exactly match with one of the allowed audiences ${ALLOWED_AUDIENCES.map((a) => `'${a}'`).join(",")}.`,
    );
  }
  if (typeof claims.exp !== "number" || claims.exp * 1000 + CLOCK_SKEW_MS <= now) {
    const exp = typeof claims.exp === "number" ? dotnetTime(claims.exp * 1000) : "unknown";
    unauthorized(issuer, "ExpiredAuthenticationToken", `The access token expiry UTC time '${exp}' is earlier than current UTC time '${dotnetTime(now)}'.`);
  }
  if (typeof claims.nbf === "number" && claims.nbf * 1000 - CLOCK_SKEW_MS > now) {
    unauthorized(issuer, "InvalidAuthenticationToken", `The access token is not valid before '${dotnetTime(claims.nbf * 1000)}'; current UTC time is '${dotnetTime(now)}'.`);
  }
  if (typeof claims.oid !== "string" || claims.oid === "") {
    unauthorized(
      issuer,
      "InvalidAuthenticationToken",
      "The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.",
    );
  }
  return claims;
}
