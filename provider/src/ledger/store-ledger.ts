import { AuditEvent, AuditEventInput, AuditRecord, StoredAudit, chainAudit, parseAuditEvent } from "../model/audit";
import { JitError } from "../model/errors";
import { Grant, parseGrant, restoreDueAt } from "../model/grant";
import { parsePolicy, policyCloud } from "../model/policy";
import { epochMs, utc } from "../model/time";
import { parseOrThrow } from "../model/validate";
import { Cloud, parseVmId, vmKey } from "../model/vm";
import { AuditFilter, GrantFilter, Ledger, PolicyRecord, PolicyWrite, WriteOptions } from "./ledger";
import { NotificationEvent, OutboxEntry, outboxKey, parseNotification } from "../model/notification";
import { FixedGrant, agree, checkImmutable, checkLimit, checkVersion, decode, nextOutbox } from "./records";
import { ItemStore, StoredItem, auditKey, auditSeq } from "./store";

export interface StoreLedgerOptions {
  /** The clock that stamps `updatedAt`; injectable for tests. */
  now?: () => number;
  /** Waits between attempts when concurrent appends race for the audit log's next position. */
  sleep?: (ms: number) => Promise<void>;
}

/** Appends race for the next position; each loser re-reads the head. Enough for dozens of writers at once. */
const AUDIT_APPEND_ATTEMPTS = 200;

/** How many grants' last known versions a ledger remembers (a sweep of this many due grants reads none twice). */
const KNOWN_GRANTS = 20_000;

/** What an update must keep of a grant (see `checkImmutable`), at the version it was last read or written. */
interface KnownGrant {
  version: number;
  fixed: FixedGrant;
}

function changedMeanwhile(what: string): JitError {
  return new JitError("VersionConflict", `${what} changed while it was being written: someone else changed it; read it again and retry`, { field: "version" });
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The ledger on a shared store: every write is one compare-and-swap on one item, so it behaves
 * the same on Azure Table (ETag), DynamoDB (ConditionExpression) and PostgreSQL (a version column).
 * Policies are keyed by their lowercased name (names compare case-insensitively); grants by id;
 * audit entries by their position in the hash chain.
 */
export class StoreLedger implements Ledger {
  readonly description: string;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private closed = false;
  /**
   * Grants as this ledger last read or wrote them. An update whose expected version is the one
   * known here writes at once: the store's compare-and-swap on that version proves the stored
   * record is the known one, so the read before the write would tell nothing new.
   */
  private readonly known = new Map<string, KnownGrant>();
  /** The audit entry this ledger last appended or read as the head: the next append tries the position after it first. */
  private auditHead: AuditRecord | undefined;
  /** The last append this ledger started: the next one waits for it. */
  private appending: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: ItemStore,
    options: StoreLedgerOptions = {},
  ) {
    this.description = store.description;
    this.clock = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepFor;
  }

  async putPolicy(write: PolicyWrite, options: WriteOptions = {}): Promise<PolicyRecord> {
    const policy = parsePolicy(write.policy, "policy");
    const key = policy.name.toLowerCase();
    // Without an expected version the write is unconditional: retry the swap until it lands.
    for (;;) {
      const current = await this.store.get("policy", key);
      const version = current === undefined ? undefined : this.policyFrom(current).version;
      checkVersion(`policy "${policy.name}"`, version, options.expectedVersion);
      const record = parseOrThrow(PolicyRecord, { policy, baseline: write.baseline ?? null, version: (version ?? 0) + 1, updatedAt: utc(this.clock()) }, "policy record");
      if (await this.store.put("policy", key, JSON.stringify(record), version ?? 0)) return record;
      if (options.expectedVersion !== undefined) throw changedMeanwhile(`policy "${policy.name}"`);
    }
  }

  async getPolicy(name: string): Promise<PolicyRecord | undefined> {
    const item = await this.store.get("policy", name.toLowerCase());
    return item === undefined ? undefined : this.policyFrom(item);
  }

  async listPolicies(filter: { cloud?: Cloud } = {}): Promise<PolicyRecord[]> {
    const records = (await this.store.list("policy")).map((item) => this.policyFrom(item));
    return records.filter((r) => filter.cloud === undefined || policyCloud(r.policy) === filter.cloud);
  }

  async deletePolicy(name: string, options: WriteOptions = {}): Promise<boolean> {
    for (;;) {
      const current = await this.store.get("policy", name.toLowerCase());
      checkVersion(`policy "${name}"`, current?.version, options.expectedVersion);
      if (current === undefined) return false;
      if (await this.store.delete("policy", current.key, current.version)) return true;
      if (options.expectedVersion !== undefined) throw changedMeanwhile(`policy "${name}"`);
    }
  }

  async createGrant(grant: Grant): Promise<Grant> {
    const stored = parseGrant({ ...grant, version: 1 });
    if (!(await this.store.put("grant", stored.id, JSON.stringify(stored), 0, restoreDueAt(stored)))) {
      throw new JitError("Conflict", `grant ${stored.id} already exists`, { field: "id" });
    }
    return this.remember(stored);
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    const item = await this.store.get("grant", id);
    if (item === undefined) {
      this.known.delete(id);
      return undefined;
    }
    return this.remember(this.grantFrom(item));
  }

  async updateGrant(id: string, expectedVersion: number, next: Grant): Promise<Grant> {
    const stored = parseGrant({ ...next, version: expectedVersion + 1 });
    if (stored.id !== id) throw new JitError("InvalidInput", `the grant passed is ${stored.id}, not ${id}`, { field: "id" });
    const known = this.known.get(id);
    if (known?.version === expectedVersion) {
      checkImmutable(id, known.fixed, stored);
      if (await this.store.put("grant", id, JSON.stringify(stored), expectedVersion, restoreDueAt(stored))) return this.remember(stored);
      // Someone else wrote it since: read it to say whether it is gone or moved on.
    }
    const current = await this.getGrant(id);
    if (current === undefined) throw new JitError("NotFound", `grant ${id} does not exist`, { field: "id" });
    checkVersion(`grant ${id}`, current.version, expectedVersion);
    checkImmutable(id, current, stored);
    if (!(await this.store.put("grant", id, JSON.stringify(stored), expectedVersion, restoreDueAt(stored)))) {
      throw changedMeanwhile(`grant ${id}`);
    }
    return this.remember(stored);
  }

  /** Notes the grant's version; the oldest noted are forgotten first, so the memory stays bounded. */
  private remember(grant: Grant): Grant {
    this.known.delete(grant.id);
    const { policy, cloud, createdAt } = grant;
    this.known.set(grant.id, { version: grant.version, fixed: { policy, cloud, createdAt, virtualMachines: grant.virtualMachines.map(({ id }) => ({ id })) } });
    if (this.known.size > KNOWN_GRANTS) this.known.delete(this.known.keys().next().value!);
    return grant;
  }

  async listGrants(filter: GrantFilter = {}): Promise<Grant[]> {
    const limit = checkLimit(filter.limit);
    const states = filter.state === undefined ? undefined : ([] as string[]).concat(filter.state);
    const vm = filter.vm === undefined ? undefined : vmKey(parseVmId(filter.vm, "vm"));
    const policy = filter.policy?.toLowerCase();
    return (await this.store.list("grant"))
      .map((item) => this.grantFrom(item))
      .filter(
        (g) =>
          (states === undefined || states.includes(g.state)) &&
          (policy === undefined || g.policy.toLowerCase() === policy) &&
          (filter.cloud === undefined || g.cloud === filter.cloud) &&
          (vm === undefined || g.virtualMachines.some((v) => vmKey(parseVmId(v.id)) === vm)),
      )
      .sort((a, b) => epochMs(b.createdAt) - epochMs(a.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async dueForRestore(now: Date | number, limit?: number): Promise<Grant[]> {
    const at = epochMs(now);
    const due = await this.store.due(at, checkLimit(limit) ?? Number.MAX_SAFE_INTEGER);
    const grants = due.map((item) => this.remember(this.grantFrom(item)));
    // The record is the truth: an index entry may trail a grant that was just updated.
    return grants.filter((g) => (restoreDueAt(g) ?? Infinity) <= at).sort((a, b) => (restoreDueAt(a) ?? 0) - (restoreDueAt(b) ?? 0));
  }

  async nextDueAt(): Promise<number | undefined> {
    const [first] = await this.store.due(Number.MAX_SAFE_INTEGER, 1);
    return first?.dueAt;
  }

  async appendAudit(input: AuditEvent | AuditEventInput): Promise<AuditEvent> {
    const event = parseAuditEvent(input);
    // This process's appends take turns: each chains to the entry the one before it wrote, instead
    // of all racing for the same position and re-reading the head.
    const appended = this.appending.then(() => this.append(event));
    this.appending = appended.catch(() => undefined);
    return appended;
  }

  private async append(event: AuditEvent): Promise<AuditEvent> {
    // The head this ledger knows first: when it is the only writer, the append needs no read.
    let last = this.auditHead;
    let known = last !== undefined;
    for (let attempt = 0; attempt < AUDIT_APPEND_ATTEMPTS; attempt++) {
      if (!known) {
        const [head] = await this.store.list("audit", 1);
        last = head === undefined ? undefined : this.auditFrom(head);
      }
      const entry = chainAudit(last, event);
      if (await this.store.put("audit", auditKey(entry.seq), JSON.stringify(entry), 0)) {
        this.auditHead = entry;
        return event;
      }
      // A write whose answer was lost and was sent again finds its own entry there: it is appended, once.
      const there = await this.store.get("audit", auditKey(entry.seq));
      if (there !== undefined && this.auditFrom(there).event.id === event.id) {
        this.auditHead = this.auditFrom(there);
        return event;
      }
      // Another writer took this position: read the head again, and back off a little, at random, so racers spread out.
      if (known) known = false;
      else await this.sleep(Math.random() * Math.min(50, 2 * (attempt + 1)));
    }
    throw new JitError("Unavailable", `${this.description}: the audit log stayed busy through ${AUDIT_APPEND_ATTEMPTS} attempts to append; try again`, { field: "ledger" });
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const limit = checkLimit(filter.limit);
    const actions = filter.action === undefined ? undefined : ([] as string[]).concat(filter.action);
    const vm = filter.vm === undefined ? undefined : vmKey(parseVmId(filter.vm, "vm"));
    const since = filter.since === undefined ? -Infinity : epochMs(filter.since);
    const until = filter.until === undefined ? Infinity : epochMs(filter.until);
    const policy = filter.policy?.toLowerCase();
    return (await this.store.list("audit"))
      .map((item) => this.auditFrom(item).event)
      .filter(
        (e) =>
          (actions === undefined || actions.includes(e.action)) &&
          (filter.actor === undefined || e.actor === filter.actor) &&
          (filter.outcome === undefined || e.outcome === filter.outcome) &&
          (policy === undefined || e.target.policy?.toLowerCase() === policy) &&
          (filter.grant === undefined || e.target.grant === filter.grant) &&
          (vm === undefined || (e.target.vm !== undefined && vmKey(parseVmId(e.target.vm)) === vm)) &&
          epochMs(e.time) >= since &&
          epochMs(e.time) <= until,
      )
      .slice(0, limit);
  }

  async readAuditLog(): Promise<StoredAudit[]> {
    return (await this.store.list("audit"))
      .map((item) => {
        let record: unknown = item.body;
        try {
          record = JSON.parse(item.body);
        } catch {
          // Left as text: verifyAuditChain reports the entry as unreadable.
        }
        return { position: auditSeq(item.key), record };
      })
      .reverse();
  }

  async importAudit(record: AuditRecord): Promise<void> {
    const entry = parseOrThrow(AuditRecord, record, "audit entry");
    if (!(await this.store.put("audit", auditKey(entry.seq), JSON.stringify(entry), 0))) {
      throw new JitError("Conflict", `audit entry ${entry.seq} already exists`, { field: "seq" });
    }
  }

  async enqueueNotification(input: NotificationEvent): Promise<OutboxEntry> {
    const event = parseNotification(input);
    const entry: OutboxEntry = { key: outboxKey(event), version: 1, event, deliveries: {} };
    if (!(await this.store.put("outbox", entry.key, JSON.stringify(entry), 0))) throw new JitError("Conflict", `outbox entry ${entry.key} already exists`, { field: "key" });
    return entry;
  }

  async listOutbox(limit?: number): Promise<OutboxEntry[]> {
    return (await this.store.list("outbox", checkLimit(limit))).map((item) => this.outboxFrom(item));
  }

  async updateOutbox(key: string, expectedVersion: number, next: OutboxEntry): Promise<OutboxEntry> {
    const stored = nextOutbox(key, expectedVersion, next);
    const current = await this.store.get("outbox", key);
    if (current === undefined) throw new JitError("NotFound", `outbox entry ${key} does not exist`, { field: "key" });
    checkVersion(`outbox entry ${key}`, current.version, expectedVersion);
    if (!(await this.store.put("outbox", key, JSON.stringify(stored), expectedVersion))) throw changedMeanwhile(`outbox entry ${key}`);
    return stored;
  }

  async deleteOutbox(key: string, expectedVersion: number): Promise<boolean> {
    return this.store.delete("outbox", key, expectedVersion);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.store.close();
  }

  private policyFrom(item: StoredItem): PolicyRecord {
    const record = decode(PolicyRecord, "policy record", "policies", item.key, item.body);
    agree("policies", item.key, [
      ["name", item.key, record.policy.name.toLowerCase()],
      ["version", item.version, record.version],
    ]);
    return record;
  }

  private grantFrom(item: StoredItem): Grant {
    const grant = decode(Grant, "grant", "grants", item.key, item.body);
    agree("grants", item.key, [
      ["id", item.key, grant.id],
      ["version", item.version, grant.version],
    ]);
    return grant;
  }

  private outboxFrom(item: StoredItem): OutboxEntry {
    const entry = decode(OutboxEntry, "outbox entry", "outbox", item.key, item.body);
    agree("outbox", item.key, [
      ["key", item.key, entry.key],
      ["version", item.version, entry.version],
    ]);
    return entry;
  }

  private auditFrom(item: StoredItem): AuditRecord {
    const record = decode(AuditRecord, "audit entry", "audit", item.key, item.body);
    agree("audit", item.key, [["position", auditSeq(item.key), record.seq]]);
    return record;
  }
}
