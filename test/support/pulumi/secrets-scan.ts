// Finds secrets stored in plaintext: in a resource's state or outputs, in what a provider returned, and in
// the serialised provider text (`__provider`), which the engine stores with every resource.
import { AssertionError } from "node:assert";
import { isSecretWrapper } from "./wire";

export interface SecretFinding {
  /** Where the value sits, e.g. `state.outs.rules[2].description` or `state.__provider`. */
  path: string;
  /** What was found, without repeating the secret itself. */
  what: string;
}

// Shapes of credentials that must never reach state, whatever the test declared. Each pattern is
// specific enough not to match ordinary identifiers, rule names or provider code.
const CREDENTIAL_PATTERNS: ReadonlyArray<{ what: string; pattern: RegExp }> = [
  { what: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: "a JSON web token", pattern: /\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/ },
  { what: "a PEM private key", pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { what: "an Azure AD client secret", pattern: /(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])/ },
  { what: "an Azure storage account key", pattern: /AccountKey=[A-Za-z0-9+/]{86}==/ },
  { what: "a SAS signature", pattern: /[?&]sig=[A-Za-z0-9%+/]{20,}/ },
  { what: "a bearer token", pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/ },
  { what: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36}\b/ },
];

/**
 * Lists every place in `value` where one of `secrets`, or a credential-shaped string, appears in
 * plaintext. Values inside a secret wrapper are skipped: the engine stores those encrypted.
 */
export function findSecretsIn(value: unknown, secrets: readonly string[], root = "state"): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const seen = new WeakSet<object>();
  const visit = (v: unknown, path: string): void => {
    if (typeof v === "string") {
      for (const secret of secrets) {
        if (secret !== "" && v.includes(secret)) findings.push({ path, what: `the secret ${redact(secret)}` });
      }
      for (const { what, pattern } of CREDENTIAL_PATTERNS) {
        if (pattern.test(v)) findings.push({ path, what });
      }
      return;
    }
    if (v === null || typeof v !== "object" || seen.has(v) || isSecretWrapper(v)) return;
    seen.add(v);
    if (Array.isArray(v)) v.forEach((item, i) => visit(item, `${path}[${i}]`));
    else for (const [key, child] of Object.entries(v)) visit(child, `${path}.${key}`);
  };
  visit(value, root);
  return findings;
}

/** Fails, naming each path, if `value` holds one of `secrets` or a credential-shaped string in plaintext. */
export function assertNoSecretsIn(value: unknown, secrets: readonly string[], root = "state"): void {
  const findings = findSecretsIn(value, secrets, root);
  if (findings.length > 0) {
    throw new AssertionError({
      message: `plaintext secrets found:\n${findings.map((f) => `  ${f.path}: ${f.what}`).join("\n")}`,
      actual: findings,
      expected: [],
      operator: "assertNoSecretsIn",
    });
  }
}

function redact(secret: string): string {
  return `"${secret.slice(0, 3)}…" (${secret.length} characters)`;
}
