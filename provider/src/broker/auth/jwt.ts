import { KeyObject, createPublicKey, verify } from "node:crypto";
import { refuse } from "./errors";

/** Longer than any Entra ID access token (they run to 2-4 KB); anything longer is refused unread. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS without trusting anything in it yet. */
export function decodeJwt(token: string): DecodedJwt {
  if (token.length > MAX_TOKEN_LENGTH) refuse(`the token is longer than ${MAX_TOKEN_LENGTH} characters`);
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) refuse("the token is not a signed JWT (three base64url parts)");
  return {
    header: jsonPart(parts[0], "header"),
    claims: jsonPart(parts[1], "payload"),
    signingInput: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2], "base64url"),
  };
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    refuse(`the token's ${what} is not JSON`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) refuse(`the token's ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The RSA public key of a JWK meant for RS256 signatures, or undefined when it is anything else. */
export function rsaSigningKey(jwk: Record<string, unknown>): KeyObject | undefined {
  if (jwk.kty !== "RSA" || typeof jwk.n !== "string" || typeof jwk.e !== "string") return undefined;
  if (jwk.use !== undefined && jwk.use !== "sig") return undefined;
  if (jwk.alg !== undefined && jwk.alg !== "RS256") return undefined;
  try {
    const key = createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" });
    return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over the token's signing input. */
export function rs256Valid(jwt: DecodedJwt, key: KeyObject): boolean {
  return verify("RSA-SHA256", Buffer.from(jwt.signingInput), key, jwt.signature);
}
