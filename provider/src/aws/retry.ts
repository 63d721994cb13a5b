/**
 * The AWS adapter's one retry loop. EC2 has no conditional writes and is eventually consistent:
 * a group just created can be `InvalidGroup.NotFound` for a moment, a describe can lag a write,
 * a rule another process added can make ours a duplicate, and a detach can leave a group in use
 * for a while. Every place that tries again goes through here, so every retry is bounded and
 * waits with capped exponential backoff and full jitter (a random wait up to base × 2^attempt),
 * which keeps concurrent writers from retrying in step and adds no burst to EC2's request-rate
 * buckets (Authorize and Revoke are in the lowest one).
 */

export interface Backoff {
  /** First wait's ceiling; it doubles with each attempt. */
  baseMs: number;
  /** No wait is longer than this. */
  capMs: number;
  /** [0, 1); the jitter. */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function makeBackoff(baseMs: number, overrides: Partial<Backoff> = {}): Backoff {
  return { baseMs, capMs: Math.max(baseMs, 20_000), random: Math.random, sleep: realSleep, ...overrides };
}

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(b: Backoff, attempt: number): number {
  return Math.floor(b.random() * Math.min(b.capMs, b.baseMs * 2 ** (attempt - 1)));
}

export interface RetryOptions {
  /** How many tries in all. */
  attempts: number;
  /** Whether an error is worth another try; anything else is thrown at once. */
  retryable: (err: unknown) => boolean;
  /** Before each wait: what to tell the user, and a chance to refresh what the next try reads. */
  beforeRetry?: (err: unknown, attempt: number) => void | Promise<void>;
}

/**
 * Runs `work` until it succeeds, throws something not retryable, or has had `attempts` tries (then
 * the last error is thrown). `work` gets the attempt number, from 1.
 */
export async function withRetries<T>(backoff: Backoff, options: RetryOptions, work: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !options.retryable(err)) throw err;
      await options.beforeRetry?.(err, attempt);
      await backoff.sleep(backoffDelay(backoff, attempt));
    }
  }
}
