import { JitError } from "../model";
import type { Principal } from "../driver";

/**
 * What an ARM bearer token says about its holder. Entra ID's access tokens are JWTs: `oid` is the
 * object id of the user or service principal (what role assignments and our requester lists name),
 * `upn` or `unique_name` a user's sign-in name, `appid` a service principal's application id. We
 * only read our own token, which we just obtained from our own credential, so the signature is not
 * checked; ARM checks it on every call.
 */
export interface TokenClaims {
  oid?: string;
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  appid?: string;
  name?: string;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

/** The claims of a JWT, or undefined when the token is not one. */
export function tokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return claims !== null && typeof claims === "object" && !Array.isArray(claims) ? (claims as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** The principal a token stands for: its object id, named by the UPN (users) or application id (service principals). */
export function principalOfToken(token: string): Principal {
  const claims = tokenClaims(token);
  if (typeof claims?.oid !== "string" || claims.oid === "") {
    throw new JitError(
      "Unsupported",
      "the Azure access token carries no object id (oid claim), so the caller cannot be identified; sign in as a user or service principal",
    );
  }
  const name = [claims.upn, claims.unique_name, claims.preferred_username, claims.appid].find((n) => typeof n === "string" && n !== "");
  return name === undefined ? { id: claims.oid } : { id: claims.oid, name };
}
