/**
 * A token bucket per key (a caller, or the address of a caller not yet authenticated): `burst`
 * requests at once, refilled at `perMinute`. Buckets idle long enough to be full again are dropped,
 * so the map holds only recent callers.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is free. */
  take(key: string): number {
    const now = this.now();
    const rate = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.prune(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / rate / 1000);
  }

  private prune(now: number): void {
    const full = this.burst / (this.perMinute / 60_000);
    for (const [key, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(key);
  }
}
