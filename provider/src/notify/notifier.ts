import type { Outbound } from "../broker/outbound";
import type { Ledger } from "../ledger";
import { errorMessage, isJitError } from "../model/errors";
import type { Delivery, OutboxEntry } from "../model/notification";
import { epochMs, utc } from "../model/time";
import { SinkConfig, render } from "./sinks";

export interface NotifierOptions {
  sinks: readonly SinkConfig[];
  /** The console's base URL, for the approve/deny and details links. */
  consoleUrl?: string;
  /** How sinks are called (default: `outbound()`: HTTPS only, no redirects, a deadline, a capped answer). */
  send: Outbound;
  /** The clock backoff and retention are measured on. */
  now?: () => number;
  /** The first retry waits this long, each next one twice as long, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** An event not delivered after this long is dropped for that sink (and counted as such in /readyz). */
  retentionMs?: number;
  /** Entries read from the outbox per round. */
  batch?: number;
  /** Where delivery problems are reported (the broker's log). */
  log?: (fields: Record<string, unknown>) => void;
}

export interface SinkStatus {
  name: string;
  kind: SinkConfig["kind"];
  ok: boolean;
  /** Events waiting for this sink. */
  backlog: number;
  /** Since when deliveries to it fail (the oldest failing event's first attempt), while they do. */
  failingSince?: string;
  lastError?: string;
  delivered: number;
  dropped: number;
}

const DEFAULTS = { backoffMs: 1000, maxBackoffMs: 5 * 60_000, retentionMs: 24 * 3_600_000, batch: 100 };

/**
 * Delivers the ledger's outbox to the sinks, each sink in the order the events were made, at least
 * once. A failing sink waits with exponential backoff and holds back only its own later events (so
 * that it receives them in order once it recovers); other sinks, and grants, never wait for it.
 * Each delivery is recorded on the entry by compare-and-swap; an entry every sink has is deleted.
 */
export class Notifier {
  private readonly o: Required<Omit<NotifierOptions, "consoleUrl" | "log">> & Pick<NotifierOptions, "consoleUrl" | "log">;
  private readonly counts = new Map<string, { delivered: number; dropped: number }>();
  private lastStatus: SinkStatus[] = [];
  private running?: Promise<void>;

  constructor(
    private readonly ledger: Ledger,
    options: NotifierOptions,
  ) {
    this.o = { ...DEFAULTS, now: Date.now, ...options };
    for (const s of options.sinks) this.counts.set(s.name, { delivered: 0, dropped: 0 });
    this.lastStatus = options.sinks.map((s) => ({ name: s.name, kind: s.kind, ok: true, backlog: 0, delivered: 0, dropped: 0 }));
  }

  get sinks(): readonly SinkConfig[] {
    return this.o.sinks;
  }

  /** Where each sink stood after the last round. */
  status(): SinkStatus[] {
    return this.lastStatus;
  }

  /** One round; concurrent calls share the round in progress. */
  round(): Promise<void> {
    this.running ??= this.deliver().finally(() => (this.running = undefined));
    return this.running;
  }

  private async deliver(): Promise<void> {
    const entries = await this.ledger.listOutbox(this.o.batch);
    const blocked = new Set<string>();
    for (const entry of entries) {
      let current = entry;
      const changes: Record<string, Delivery> = {};
      for (const sink of this.o.sinks) {
        const done = current.deliveries[sink.name];
        if (done?.deliveredAt || done?.skippedAt || blocked.has(sink.name)) continue;
        const next = await this.attempt(sink, current, done);
        if (next !== done) changes[sink.name] = next;
        if (!next.deliveredAt && !next.skippedAt) blocked.add(sink.name);
      }
      if (Object.keys(changes).length > 0) {
        try {
          current = await this.ledger.updateOutbox(entry.key, entry.version, { ...entry, deliveries: { ...entry.deliveries, ...changes } });
        } catch (err) {
          // Another broker recorded a delivery meanwhile: the next round reads it again (a sink may get this event twice; its id tells).
          if (!isJitError(err, "VersionConflict") && !isJitError(err, "NotFound")) throw err;
          continue;
        }
      }
      if (this.o.sinks.every((s) => current.deliveries[s.name]?.deliveredAt || current.deliveries[s.name]?.skippedAt)) {
        await this.ledger.deleteOutbox(current.key, current.version);
      }
    }
    this.lastStatus = await this.measure();
  }

  /** One delivery attempt of one event to one sink, or the decision not to try (backoff, retention, filter). */
  /** Returns `before` itself when nothing was tried (still backing off). */
  private async attempt(sink: SinkConfig, entry: OutboxEntry, before: Delivery | undefined): Promise<Delivery> {
    const now = this.o.now();
    const counts = this.counts.get(sink.name)!;
    if (sink.events && !sink.events.includes(entry.event.kind)) return { attempts: before?.attempts ?? 0, skippedAt: utc(now) };
    if (before?.nextAttemptAt && epochMs(before.nextAttemptAt) > now) return before;
    if (now - epochMs(entry.event.time) > this.o.retentionMs) {
      counts.dropped++;
      this.o.log?.({ level: "warn", sink: sink.name, event: entry.event.id, message: "dropped: not delivered within the retention" });
      return { ...before, attempts: before?.attempts ?? 0, skippedAt: utc(now) };
    }
    const attempts = (before?.attempts ?? 0) + 1;
    const { body, headers } = render(sink, entry.event, { ...(this.o.consoleUrl ? { consoleUrl: this.o.consoleUrl } : {}), nowMs: now });
    let problem: string;
    try {
      const res = await this.o.send(sink.url, { method: "POST", headers, body });
      if (res.status >= 200 && res.status < 300) {
        counts.delivered++;
        return { attempts, deliveredAt: utc(now) };
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = errorMessage(err);
    }
    // Never the URL: for Slack and Teams it is the secret.
    this.o.log?.({ level: "warn", sink: sink.name, event: entry.event.id, attempts, message: `delivery failed: ${problem}` });
    const wait = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (attempts - 1));
    return { attempts, nextAttemptAt: utc(now + wait), lastError: problem.slice(0, 500) };
  }

  private async measure(): Promise<SinkStatus[]> {
    const waiting = await this.ledger.listOutbox(this.o.batch);
    return this.o.sinks.map((sink) => {
      const open = waiting.filter((e) => !e.deliveries[sink.name]?.deliveredAt && !e.deliveries[sink.name]?.skippedAt);
      const failing = open.find((e) => (e.deliveries[sink.name]?.attempts ?? 0) > 0);
      const { delivered, dropped } = this.counts.get(sink.name)!;
      return {
        name: sink.name,
        kind: sink.kind,
        ok: failing === undefined,
        backlog: open.length,
        ...(failing ? { failingSince: failing.event.time, lastError: failing.deliveries[sink.name]?.lastError ?? "" } : {}),
        delivered,
        dropped,
      };
    });
  }

  /** Runs rounds every `intervalMs` until stopped (`before` first, each time); a failed round is logged and the next one tries again. */
  start(intervalMs: number, before?: () => Promise<unknown>): { stop(): Promise<void> } {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const tick = async () => {
      try {
        await before?.();
        await this.round();
      } catch (err) {
        this.o.log?.({ level: "error", message: `notifications: ${errorMessage(err)}` });
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    timer = setTimeout(() => void tick(), 0);
    return {
      stop: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await this.running;
      },
    };
  }
}
