/**
 * How long Azure takes, on a virtual clock. Real NRP answers a write's first, immediate poll
 * `InProgress` with `Retry-After: 10` and `Succeeded` at the next (the arm-network recording
 * `recording_subnets_create_test.json`; a rule PUT and its `Succeeded` poll 11 s apart in the Python
 * NSG recording), and an Azure Firewall update takes minutes (the firewall FAQ and field reports
 * say about five). Off by default; `enable()` turns it on.
 *
 * Once on, an operation completes when the virtual clock reaches its start plus its duration
 * (whether or not anybody polls, as in the cloud), and every `InProgress` answer carries ARM's
 * `Retry-After`. Time passes only when a client waits: `clientPolicy()` is a pipeline policy for
 * the SDK clients under test that, instead of letting them sleep, moves the clock to when they
 * would have asked again and hands them `Retry-After: 0`. Waits of the product's own (backoff
 * between retries) go through `sleep`. The clock moves to the latest of the waits, so writes made
 * side by side cost one wait, and writes made one after another add up: `now()` is the modelled
 * critical path.
 */
export interface LatencyOptions {
  /** `Retry-After` (seconds) on every `InProgress` answer; ARM says 10. */
  retryAfterSeconds: number;
  /** Seconds an operation takes, by NRP's resource kind (`SecurityRule`, `AzureFirewall`, ...), else `default`. */
  seconds: Record<string, number> & { default: number };
}

export const ARM_LATENCY: LatencyOptions = { retryAfterSeconds: 10, seconds: { default: 10, AzureFirewall: 300 } };

/** The structural shape of an Azure SDK pipeline policy (`@azure/core-rest-pipeline`, `@typespec/ts-http-runtime`). */
export interface ClockPolicy {
  name: string;
  sendRequest(
    request: unknown,
    next: (request: unknown) => Promise<{ headers: { get(name: string): string | undefined; set(name: string, value: string): void } }>,
  ): Promise<{ headers: { get(name: string): string | undefined; set(name: string, value: string): void } }>;
}

export class Latency {
  private options: LatencyOptions | undefined;
  private t = 0;

  get enabled(): boolean {
    return this.options !== undefined;
  }

  enable(options: Partial<LatencyOptions> = {}): void {
    this.options = { ...ARM_LATENCY, ...options, seconds: { ...ARM_LATENCY.seconds, ...options.seconds } };
  }

  disable(): void {
    this.options = undefined;
  }

  /** Virtual milliseconds since the emulator started. */
  now(): number {
    return this.t;
  }

  /** Moves the clock forward to `t` (never back). */
  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
  }

  /** A wait of `ms` that starts now: for the product's own waits under test (`clock.sleep`). */
  async sleep(ms: number): Promise<void> {
    this.advanceTo(this.t + ms);
  }

  retryAfterSeconds(): number | undefined {
    return this.options?.retryAfterSeconds;
  }

  /** How long an operation on `what` takes, in virtual ms. */
  durationMs(what: string): number {
    const seconds = this.options?.seconds;
    return seconds === undefined ? 0 : (seconds[what] ?? seconds.default) * 1000;
  }

  /** See the class comment: the SDK's waits become the clock's. */
  clientPolicy(): ClockPolicy {
    return {
      name: "emulatorVirtualClock",
      sendRequest: async (request, next) => {
        const sent = this.t;
        const response = await next(request);
        const header = response.headers.get("retry-after");
        const seconds = header === undefined ? NaN : Number(header);
        if (this.enabled && Number.isFinite(seconds) && seconds > 0) {
          this.advanceTo(sent + seconds * 1000);
          response.headers.set("retry-after", "0");
          response.headers.set("x-ms-retry-after-ms", "0");
        }
        return response;
      },
    };
  }
}
