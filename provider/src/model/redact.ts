import { z } from "zod";

/**
 * Free text that people type (justifications) or that errors carry (cloud messages) is the one way
 * a credential could slip into the ledger or the audit log: a pasted token, a SAS URL in an error.
 * These patterns catch the shapes such secrets take; a match is replaced, never stored.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, // AWS access key ids
  /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g, // JWTs (Azure AD and STS tokens)
  /\bBearer\s+[\w.~+/=-]+/gi,
  /\bsig=[\w%+/=-]+/gi, // Azure SAS signatures
  /\b(?:AccountKey|SharedAccessKey|password|pwd|client_secret|secret|aws_secret_access_key|aws_session_token|token)\s*[=:]\s*[^\s;,&]+/gi,
];

export const REDACTED = "[redacted]";

/** `text` with anything that looks like a credential replaced by `[redacted]`. Idempotent. */
export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, REDACTED), text);
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Text a person typed (a justification): refused with control characters (they forge log lines), secrets redacted. */
export function userText(max: number) {
  return z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL.test(s), { error: "must be one line without control characters" })
    .transform(redactSecrets);
}

/**
 * Text a program produced (a cloud's error message): never refused, because losing an audit event
 * is worse than a reworded message; control characters become spaces, secrets are redacted, and
 * the result is cut to `max` characters.
 */
export function machineText(max: number) {
  return z.string().transform((s) => redactSecrets(s.replace(new RegExp(CONTROL.source, "g"), " ")).slice(0, max));
}
