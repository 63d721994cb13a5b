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
 * the SDK clients under test that hands them `Retry-After: 0` and instead holds the answer until
 * the clock reaches the time they would have asked again; waits of the product's own (backoff
 * between retries) go through `sleep`. The clock is a discrete-event one: it stands still while any
 * request is in flight or anything else is still running, and moves to the soonest wait only once
 * every piece of work is waiting on it. So work done side by side costs its longest branch,
 * whatever order the requests happen to be answered in, and work done one after another adds up:
 * `now()` is the modelled critical path.
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

/**
 * Turns of the event loop with nothing in flight and no wait begun before the clock moves: work
 * between two requests (planning, the ledger) runs in microtasks and a turn or two, and must send
 * its next request before the others' waits are over.
 */
const QUIET_TURNS = 3;

export class Latency {
  private options: LatencyOptions | undefined;
  private t = 0;
  private readonly waiting: { at: number; wake: () => void }[] = [];
  private inFlight = 0;
  /** Bumped whenever a request starts or ends or a wait begins: what "quiet" is measured by. */
  private activity = 0;
  private checking = false;

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

  /** Moves the clock forward to `t` (never back), ending the waits due by then. */
  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
    const due = this.waiting.filter((w) => w.at <= this.t);
    if (due.length === 0) return;
    const later = this.waiting.filter((w) => w.at > this.t);
    this.waiting.length = 0;
    for (const w of later) this.waiting.push(w);
    for (const w of due) w.wake();
    this.whenQuiet();
  }

  /** A wait of `ms` that starts now: for the product's own waits under test (`clock.sleep`). */
  sleep(ms: number): Promise<void> {
    return this.until(this.t + ms);
  }

  /** Resolves once the clock reaches `at`; off, the clock jumps there at once. */
  until(at: number): Promise<void> {
    if (!this.enabled || at <= this.t) {
      this.advanceTo(at);
      return Promise.resolve();
    }
    this.activity++;
    const done = new Promise<void>((wake) => this.waiting.push({ at, wake }));
    this.whenQuiet();
    return done;
  }

  /** Once nothing has been in flight or begun for `QUIET_TURNS` turns, moves the clock to the soonest wait. */
  private whenQuiet(): void {
    if (this.checking || this.inFlight > 0 || this.waiting.length === 0) return;
    this.checking = true;
    let seen = this.activity;
    let quiet = 0;
    const turn = () => {
      if (this.inFlight > 0 || this.waiting.length === 0) {
        // A request's end looks again, and so does the next wait.
        this.checking = false;
        return;
      }
      quiet = this.activity === seen ? quiet + 1 : 0;
      seen = this.activity;
      if (quiet < QUIET_TURNS) {
        setImmediate(turn);
        return;
      }
      this.checking = false;
      this.advanceTo(this.waiting.reduce((soonest, w) => Math.min(soonest, w.at), Infinity));
    };
    setImmediate(turn);
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
        this.inFlight++;
        this.activity++;
        let response: Awaited<ReturnType<typeof next>>;
        try {
          response = await next(request);
        } finally {
          this.inFlight--;
          this.activity++;
          this.whenQuiet();
        }
        const header = response.headers.get("retry-after");
        const seconds = header === undefined ? NaN : Number(header);
        if (this.enabled && Number.isFinite(seconds) && seconds > 0) {
          response.headers.set("retry-after", "0");
          response.headers.set("x-ms-retry-after-ms", "0");
          // The clock stood still while the request was in flight: now is when it was sent.
          await this.sleep(seconds * 1000);
        }
        return response;
      },
    };
  }
}
