import { JitError } from "../model/errors";
import { redactSecrets } from "../model/redact";

/** How a store's failure should be treated: throttled and transient failures are retried with backoff, others are not. */
export type FailureKind = "throttled" | "transient" | "fatal";

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** The first backoff; each retry doubles it, with full jitter. */
  baseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Socket-level failures: the store is unreachable or dropped the connection. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
    // AggregateError (a host with several addresses) keeps its causes in `errors`.
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.some(isNetworkError)) return true;
  }
  return false;
}

/**
 * Runs one store call, retrying throttled and transient failures with exponential backoff; what
 * still fails becomes `Unavailable`, naming the ledger by its secret-free description. The store's
 * own message is kept (with anything credential-shaped redacted): it says what the store refused.
 */
export async function storeCall<T>(description: string, classify: (err: unknown) => FailureKind, work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseMs ?? 50;
  const sleep = options.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (err instanceof JitError) throw err;
      const kind = isNetworkError(err) ? "transient" : classify(err);
      if (kind !== "fatal" && attempt < attempts) {
        await sleep(Math.random() * base * 2 ** (attempt - 1));
        continue;
      }
      throw unavailable(description, err, kind, attempt);
    }
  }
}

export function unavailable(description: string, err: unknown, kind: FailureKind, attempts: number): JitError {
  const raw = err instanceof Error ? err.message || err.name : String(err);
  const what = isNetworkError(err) ? "cannot reach the store" : kind === "throttled" ? "the store kept throttling requests" : "the store refused the request";
  const tries = kind === "fatal" ? "" : ` after ${attempts} attempts`;
  return new JitError("Unavailable", `${description}: ${what}${tries} (${redactSecrets(raw).slice(0, 300)}); check that it is running and that its address and credentials are right, then retry`, {
    field: "ledger",
  });
}

/** A URL without its password and without query parameters that may carry a secret, for messages and logs. */
export function describeUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = "***";
  for (const name of [...copy.searchParams.keys()]) {
    if (/key|secret|password|pwd|token|sig|credential/i.test(name)) copy.searchParams.set(name, "***");
  }
  return copy.href;
}
