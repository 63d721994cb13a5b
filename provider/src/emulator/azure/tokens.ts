import { createHash } from "node:crypto";

/**
 * Bearer tokens of the emulator. Entra ID issues JWTs whose claims name the caller (`oid`, and
 * `upn` for users), and clients such as `az` or pulumi-jit read who they are from them; so the
 * emulator issues JWT-shaped tokens too, unsigned, with the same claims. The emulator trusts them
 * as they are: it tells principals apart, it does not authenticate them.
 */
export interface PrincipalClaims {
  /** A stable object id (a GUID) derived from the principal's name. */
  oid: string;
  /** The principal's name if it is one, else `<name>@example.com`. */
  upn: string;
  /** The name the principal was seeded under (`seed.principal`), which keys its permissions. */
  name: string;
}

const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");

export function principalClaims(principal: string): PrincipalClaims {
  const hex = createHash("sha256").update(principal.toLowerCase()).digest("hex");
  const oid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { oid, upn: principal.includes("@") ? principal : `${principal}@example.com`, name: principal };
}

/** `base64url(header).base64url(claims).` with an empty signature, as an unsigned JWT is written. */
export function tokenFor(principal: string): string {
  return `${base64url(JSON.stringify({ typ: "JWT", alg: "none" }))}.${base64url(JSON.stringify(principalClaims(principal)))}.`;
}

/** The principal a bearer token names: the `name` claim of one of our JWTs, or (older tests) the token itself. */
export function principalOf(token: string): string {
  const parts = token.split(".");
  if (parts.length !== 3) return token;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    const name = (claims as { name?: unknown } | null)?.name;
    return typeof name === "string" ? name : token;
  } catch {
    return token;
  }
}
