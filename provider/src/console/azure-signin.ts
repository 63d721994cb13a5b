import { createHash } from "node:crypto";
import { z } from "zod";
import { AuthenticationError } from "../broker/auth";
import type { Outbound } from "../broker/outbound";

/**
 * Azure sign-in: the Microsoft identity platform's authorization-code flow with PKCE (S256). The
 * broker is the client: it sends the browser to `/authorize` with a challenge and a state bound to
 * the browser's pending sign-in, and redeems the code server-side with the verifier, so the code
 * alone (in a log, a referrer, a history) is worth nothing. The access token it gets is for ARM,
 * verified by the same Entra ID verifier as the API's bearer tokens.
 */
export interface AzureSignInOptions {
  /** The app registration's client id. */
  clientId: string;
  tenantId: string;
  /** Default https://login.microsoftonline.com. */
  authorityHost?: string;
  /** For a confidential client (a "Web" redirect URI); a public client redeems with PKCE alone. */
  clientSecret?: string;
  /** Default ARM's, so the token is the one the API accepts. */
  scope?: string;
}

export const AzureSignInOptions = z.strictObject({
  clientId: z.string().min(1).max(128),
  tenantId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { error: "must be a tenant id (GUID)" }),
  authorityHost: z.url({ protocol: /^https?$/ }).optional(),
  clientSecret: z.string().min(1).max(512).optional(),
  scope: z.string().min(1).max(512).optional(),
});

const DEFAULT_SCOPE = "https://management.azure.com/user_impersonation";

const TokenAnswer = z.object({ access_token: z.string().min(1).max(16 * 1024), token_type: z.string().max(32).optional() });
const ErrorAnswer = z.object({ error: z.string().max(128), error_description: z.string().max(2000).optional() });

export const challengeOf = (verifier: string): string => createHash("sha256").update(verifier).digest("base64url");

export class AzureSignIn {
  constructor(
    private readonly options: AzureSignInOptions,
    private readonly fetch: Outbound,
  ) {}

  private endpoint(name: "authorize" | "token"): string {
    const host = (this.options.authorityHost ?? "https://login.microsoftonline.com").replace(/\/+$/, "");
    return `${host}/${encodeURIComponent(this.options.tenantId)}/oauth2/v2.0/${name}`;
  }

  authorizeUrl(redirectUri: string, state: string, verifier: string): string {
    const params = new URLSearchParams({
      client_id: this.options.clientId,
      response_type: "code",
      redirect_uri: redirectUri,
      response_mode: "query",
      scope: `${this.options.scope ?? DEFAULT_SCOPE} openid profile`,
      state,
      code_challenge: challengeOf(verifier),
      code_challenge_method: "S256",
      prompt: "select_account",
    });
    return `${this.endpoint("authorize")}?${params.toString()}`;
  }

  /** The access token for a code; an `AuthenticationError` with the identity platform's reason otherwise. */
  async redeem(code: string, redirectUri: string, verifier: string): Promise<string> {
    const body = new URLSearchParams({
      client_id: this.options.clientId,
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      scope: this.options.scope ?? DEFAULT_SCOPE,
      ...(this.options.clientSecret ? { client_secret: this.options.clientSecret } : {}),
    });
    let answer;
    try {
      answer = await this.fetch(this.endpoint("token"), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
    } catch (err) {
      throw new AuthenticationError(`the sign-in could not be completed: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      json = undefined;
    }
    if (answer.status === 200) {
      const ok = TokenAnswer.safeParse(json);
      if (ok.success) return ok.data.access_token;
      throw new AuthenticationError("the identity platform answered without an access token");
    }
    const failed = ErrorAnswer.safeParse(json);
    throw new AuthenticationError(`the identity platform refused the sign-in (${failed.success ? `${failed.data.error}: ${firstLine(failed.data.error_description ?? "")}` : `HTTP ${answer.status}`})`);
  }
}

const firstLine = (text: string): string => text.split(/\r?\n/)[0].slice(0, 300);
