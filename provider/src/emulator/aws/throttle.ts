/**
 * EC2 request throttling: a token bucket per action (EC2 buckets per account, region and API).
 * Each call takes a token; tokens come back at `refillPerSecond` up to `capacity`; a call that finds
 * the bucket empty is refused with 503 `RequestLimitExceeded`, which the SDK retries as throttling.
 */
export interface ThrottleOptions {
  capacity: number;
  refillPerSecond: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly options: ThrottleOptions | undefined) {}

  take(action: string): boolean {
    if (!this.options) return true;
    const { capacity, refillPerSecond } = this.options;
    const now = Date.now();
    const bucket = this.buckets.get(action) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * refillPerSecond);
    bucket.at = now;
    this.buckets.set(action, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
