/**
 * The default ledger: one SQLite file, through Node's built-in `node:sqlite`.
 *
 * Why node:sqlite and not better-sqlite3: better-sqlite3 is a native addon, built (or downloaded
 * prebuilt) for the Node that runs `npm ci`. pulumi-jit runs on the Node 22 it installs as a
 * development dependency, and inside whatever Node the Pulumi CLI starts; whenever that is not
 * the Node that installed the addon, loading it fails with "compiled against a different Node.js
 * version", and where no prebuilt binary matches, installing it needs a C++ toolchain. node:sqlite
 * ships inside Node 22 (without a flag since 22.13): nothing to build or download, the same SQLite
 * everywhere, and no extra package for a serialized Pulumi provider to resolve from the user's
 * project. What it costs: Node 22 still calls it experimental (its one-time warning is dropped, see
 * `sqlite-db.ts`), and it is synchronous, as better-sqlite3 is, so a write waiting for another
 * process's lock blocks the event loop for up to `busyTimeoutMs`; every write here is a few
 * milliseconds, which suits a CLI and a reconciler.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { AuditEvent, AuditEventInput, AuditRecord, StoredAudit, chainAudit, parseAuditEvent } from "../model/audit";
import { JitError } from "../model/errors";
import { Grant, parseGrant, restoreDueAt } from "../model/grant";
import { parsePolicy, policyCloud } from "../model/policy";
import { epochMs, utc } from "../model/time";
import { parseOrThrow } from "../model/validate";
import { Cloud, parseVmId, vmKey } from "../model/vm";
import { AuditFilter, GrantFilter, Ledger, PolicyRecord, PolicyWrite, WriteOptions } from "./ledger";
import { checkSchema, migrate } from "./migrations";
import { agree, checkLimit, checkVersion, decode, nextOutbox, vmKeys } from "./records";
import { NotificationEvent, OutboxEntry, outboxKey, parseNotification } from "../model/notification";
import { defaultLedgerPath, explainSqliteError, openDatabase, writeTransaction } from "./sqlite-db";

export interface SqliteLedgerOptions {
  /** How long a writer waits for another writer's lock before failing, in ms. */
  busyTimeoutMs?: number;
  /** The clock that stamps `updatedAt`; injectable for tests. */
  now?: () => number;
  /** Open an existing ledger without ever writing to it (commands that only read; a read-only file or mount). */
  readOnly?: boolean;
}

/** Reads the restore index (`grants_due`): a range, never a scan of the grants' history. */
export const DUE_FOR_RESTORE_SQL = "SELECT id, version, record FROM grants WHERE due_at <= ? ORDER BY due_at LIMIT ?";

/** A grant's VMs, which every update checks: by the `grant_vms_grant` index, not a scan. */
export const GRANT_VMS_SQL = "SELECT vm_key FROM grant_vms WHERE grant_id = ?";

type Row = Record<string, unknown>;
type Condition = [sql: string, ...params: SQLInputValue[]];

/** ` WHERE a AND b` (or nothing) and its parameters, from the conditions that apply. */
function where(conditions: (Condition | false)[]): { sql: string; params: SQLInputValue[] } {
  const applied = conditions.filter((c): c is Condition => c !== false);
  return {
    sql: applied.length ? ` WHERE ${applied.map(([sql]) => sql).join(" AND ")}` : "",
    params: applied.flatMap(([, ...params]) => params),
  };
}

/** SQLite reads `LIMIT -1` as "no limit". */
function limitOf(limit: number | undefined): number {
  return checkLimit(limit) ?? -1;
}

/** A write waiting for the next commit. */
interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteLedger implements Ledger {
  readonly path: string;
  readonly description: string;
  private readonly db: DatabaseSync;
  private readonly clock: () => number;
  private closed = false;
  /** Statements by their SQL, compiled once. */
  private readonly statements = new Map<string, StatementSync>();
  /** Writes made together, committed as one transaction (see `write`). */
  private queued: QueuedWrite[] = [];

  /** Opens the ledger at `path` (default `$JIT_LEDGER` or `~/.pulumi-jit/ledger.db`; `:memory:` for tests), migrating its schema. */
  constructor(path: string = defaultLedgerPath(), options: SqliteLedgerOptions = {}) {
    this.path = path;
    this.description = path;
    this.clock = options.now ?? Date.now;
    this.db = openDatabase(path, options.busyTimeoutMs ?? 5000, { readOnly: options.readOnly });
    try {
      if (options.readOnly) checkSchema(this.db);
      else migrate(this.db);
    } catch (err) {
      this.db.close();
      throw explainSqliteError(err, path, options.readOnly === true);
    }
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /**
   * Runs `work` (its reads and writes) in a write transaction. With synchronous=FULL each commit
   * waits for the disk, and that wait is what a write costs; so the writes made together (a
   * sweep's claims side by side, a broker's concurrent requests: before the microtasks already
   * queued have run) share one transaction and one wait. Each runs in its own savepoint, in the order they were made: one that fails (a
   * version conflict) is undone alone, and each still reads what the ones before it wrote, so
   * compare-and-swap means what it meant.
   */
  private write<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // After the code that is running now and the continuations already queued: no timer turn
      // is waited, so a caller that awaits each write is held up by nothing but the commit.
      if (this.queued.length === 1) queueMicrotask(() => this.commitQueued());
    });
  }

  private commitQueued(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      writeTransaction(this.db, () => {
        for (const { work } of batch) {
          this.db.exec("SAVEPOINT write");
          try {
            outcomes.push({ ok: true, value: work() });
          } catch (error) {
            this.db.exec("ROLLBACK TO write");
            outcomes.push({ ok: false, error });
          }
          this.db.exec("RELEASE write");
        }
      });
    } catch (err) {
      // The transaction itself failed (the lock, the disk): none of the writes happened.
      for (const { reject } of batch) reject(err);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }

  async putPolicy(write: PolicyWrite, options: WriteOptions = {}): Promise<PolicyRecord> {
    const policy = parsePolicy(write.policy, "policy");
    return this.write(() => {
      const row = this.sql("SELECT version FROM policies WHERE name = ?").get(policy.name);
      const current = row === undefined ? undefined : Number(row.version);
      checkVersion(`policy "${policy.name}"`, current, options.expectedVersion);
      const record = parseOrThrow(PolicyRecord, { policy, baseline: write.baseline ?? null, version: (current ?? 0) + 1, updatedAt: utc(this.clock()) }, "policy record");
      this.sql(
          `INSERT INTO policies (name, cloud, version, record) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET name = excluded.name, cloud = excluded.cloud, version = excluded.version, record = excluded.record`,
        )
        .run(record.policy.name, policyCloud(record.policy), record.version, JSON.stringify(record));
      return record;
    });
  }

  async getPolicy(name: string): Promise<PolicyRecord | undefined> {
    const row = this.sql("SELECT name, version, record FROM policies WHERE name = ?").get(name);
    return row === undefined ? undefined : this.policyFrom(row);
  }

  async listPolicies(filter: { cloud?: Cloud } = {}): Promise<PolicyRecord[]> {
    const w = where([filter.cloud !== undefined && ["cloud = ?", filter.cloud]]);
    return this.sql(`SELECT name, version, record FROM policies${w.sql} ORDER BY name`).all(...w.params).map((row) => this.policyFrom(row));
  }

  async deletePolicy(name: string, options: WriteOptions = {}): Promise<boolean> {
    return this.write(() => {
      const row = this.sql("SELECT version FROM policies WHERE name = ?").get(name);
      checkVersion(`policy "${name}"`, row === undefined ? undefined : Number(row.version), options.expectedVersion);
      return Number(this.sql("DELETE FROM policies WHERE name = ?").run(name).changes) > 0;
    });
  }

  async createGrant(grant: Grant): Promise<Grant> {
    const stored = parseGrant({ ...grant, version: 1 });
    return this.write(() => {
      const inserted = this.sql(
          `INSERT INTO grants (id, version, state, policy, cloud, created_at, due_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO NOTHING`,
        )
        .run(stored.id, stored.version, stored.state, stored.policy, stored.cloud, epochMs(stored.createdAt), restoreDueAt(stored) ?? null, JSON.stringify(stored));
      if (Number(inserted.changes) === 0) throw new JitError("Conflict", `grant ${stored.id} already exists`, { field: "id" });
      const addVm = this.sql("INSERT INTO grant_vms (vm_key, grant_id) VALUES (?, ?)");
      for (const key of vmKeys(stored)) addVm.run(key, stored.id);
      return stored;
    });
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    const row = this.sql("SELECT id, version, record FROM grants WHERE id = ?").get(id);
    return row === undefined ? undefined : this.grantFrom(row);
  }

  async updateGrant(id: string, expectedVersion: number, next: Grant): Promise<Grant> {
    const stored = parseGrant({ ...next, version: expectedVersion + 1 });
    if (stored.id !== id) throw new JitError("InvalidInput", `the grant passed is ${stored.id}, not ${id}`, { field: "id" });
    return this.write(() => {
      const row = this.sql("SELECT version, policy, cloud, created_at FROM grants WHERE id = ?").get(id);
      if (row === undefined) throw new JitError("NotFound", `grant ${id} does not exist`, { field: "id" });
      checkVersion(`grant ${id}`, Number(row.version), expectedVersion);
      const vms = this.sql(GRANT_VMS_SQL).all(id).map((r) => String(r.vm_key)).sort();
      const same =
        row.policy === stored.policy &&
        row.cloud === stored.cloud &&
        row.created_at === epochMs(stored.createdAt) &&
        JSON.stringify(vms) === JSON.stringify(vmKeys(stored));
      if (!same) throw new JitError("InvalidInput", `grant ${id}: its policy, cloud, VMs and creation time never change`, { field: "policy" });
      // The version predicate repeats the check above as the write itself: compare-and-swap.
      const updated = this.sql("UPDATE grants SET version = ?, state = ?, due_at = ?, record = ? WHERE id = ? AND version = ?")
        .run(stored.version, stored.state, restoreDueAt(stored) ?? null, JSON.stringify(stored), id, expectedVersion);
      if (Number(updated.changes) !== 1) throw new JitError("VersionConflict", `grant ${id} changed while it was being updated`, { field: "version" });
      return stored;
    });
  }

  async listGrants(filter: GrantFilter = {}): Promise<Grant[]> {
    const states = filter.state === undefined ? [] : ([] as string[]).concat(filter.state);
    const w = where([
      states.length > 0 && [`state IN (${states.map(() => "?").join(", ")})`, ...states],
      filter.policy !== undefined && ["policy = ?", filter.policy],
      filter.cloud !== undefined && ["cloud = ?", filter.cloud],
      filter.vm !== undefined && ["id IN (SELECT grant_id FROM grant_vms WHERE vm_key = ?)", vmKey(parseVmId(filter.vm, "vm"))],
    ]);
    return this.sql(`SELECT id, version, record FROM grants${w.sql} ORDER BY created_at DESC, id LIMIT ?`)
      .all(...w.params, limitOf(filter.limit))
      .map((row) => this.grantFrom(row));
  }

  async dueForRestore(now: Date | number, limit?: number): Promise<Grant[]> {
    return this.sql(DUE_FOR_RESTORE_SQL)
      .all(epochMs(now), limitOf(limit))
      .map((row) => this.grantFrom(row));
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = this.sql("SELECT MIN(due_at) AS due FROM grants WHERE due_at IS NOT NULL").get() as { due: number | null } | undefined;
    return row?.due ?? undefined;
  }

  async appendAudit(input: AuditEvent | AuditEventInput): Promise<AuditEvent> {
    const event = parseAuditEvent(input);
    // The write lock orders appends, so that each entry chains to the one before it.
    await this.write(() => {
      const last = this.sql("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").get();
      this.insertAudit(chainAudit(last === undefined ? undefined : { seq: Number(last.seq), hash: String(last.hash) }, event));
    });
    return event;
  }

  async importAudit(record: AuditRecord): Promise<void> {
    const entry = parseOrThrow(AuditRecord, record, "audit entry");
    await this.write(() => {
      if (this.sql("SELECT 1 FROM audit WHERE seq = ?").get(entry.seq)) throw new JitError("Conflict", `audit entry ${entry.seq} already exists`, { field: "seq" });
      this.insertAudit(entry);
    });
  }

  private insertAudit(entry: AuditRecord): void {
    const { event } = entry;
    const inserted = this.sql(
        `INSERT INTO audit (seq, id, time, action, actor, outcome, policy, grant_id, vm_key, record, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
      )
      .run(
        entry.seq,
        event.id,
        epochMs(event.time),
        event.action,
        event.actor,
        event.outcome,
        event.target.policy ?? null,
        event.target.grant ?? null,
        event.target.vm === undefined ? null : vmKey(parseVmId(event.target.vm)),
        JSON.stringify(event),
        entry.prev,
        entry.hash,
      );
    if (Number(inserted.changes) === 0) throw new JitError("Conflict", `audit event ${event.id} already exists`, { field: "id" });
  }

  async readAuditLog(): Promise<StoredAudit[]> {
    return this.sql("SELECT seq, prev, hash, record FROM audit ORDER BY seq")
      .all()
      .map((row) => {
        let event: unknown = row.record;
        try {
          event = JSON.parse(String(row.record));
        } catch {
          // Left as text: verifyAuditChain reports the entry as unreadable.
        }
        return { position: Number(row.seq), record: { seq: Number(row.seq), prev: row.prev, hash: row.hash, event } };
      });
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const actions = filter.action === undefined ? [] : ([] as string[]).concat(filter.action);
    const w = where([
      actions.length > 0 && [`action IN (${actions.map(() => "?").join(", ")})`, ...actions],
      filter.actor !== undefined && ["actor = ?", filter.actor],
      filter.outcome !== undefined && ["outcome = ?", filter.outcome],
      filter.policy !== undefined && ["policy = ?", filter.policy],
      filter.grant !== undefined && ["grant_id = ?", filter.grant],
      filter.vm !== undefined && ["vm_key = ?", vmKey(parseVmId(filter.vm, "vm"))],
      filter.since !== undefined && ["time >= ?", epochMs(filter.since)],
      filter.until !== undefined && ["time <= ?", epochMs(filter.until)],
    ]);
    return this.sql(`SELECT id, record FROM audit${w.sql} ORDER BY time DESC, seq DESC LIMIT ?`)
      .all(...w.params, limitOf(filter.limit))
      .map((row) => {
        const key = String(row.id);
        const event = decode(AuditEvent, "audit event", "audit", key, row.record);
        agree("audit", key, [["id", key, event.id]]);
        return event;
      });
  }

  async enqueueNotification(input: NotificationEvent): Promise<OutboxEntry> {
    const event = parseNotification(input);
    const entry: OutboxEntry = { key: outboxKey(event), version: 1, event, deliveries: {} };
    return this.write(() => {
      const inserted = this.sql("INSERT INTO outbox (key, version, record) VALUES (?, 1, ?) ON CONFLICT (key) DO NOTHING").run(entry.key, JSON.stringify(entry));
      if (Number(inserted.changes) === 0) throw new JitError("Conflict", `outbox entry ${entry.key} already exists`, { field: "key" });
      return entry;
    });
  }

  async listOutbox(limit?: number): Promise<OutboxEntry[]> {
    return this.sql("SELECT key, version, record FROM outbox ORDER BY key LIMIT ?")
      .all(limitOf(limit))
      .map((row) => {
        const key = String(row.key);
        const entry = decode(OutboxEntry, "outbox entry", "outbox", key, row.record);
        agree("outbox", key, [
          ["key", key, entry.key],
          ["version", row.version, entry.version],
        ]);
        return entry;
      });
  }

  async updateOutbox(key: string, expectedVersion: number, next: OutboxEntry): Promise<OutboxEntry> {
    const stored = nextOutbox(key, expectedVersion, next);
    return this.write(() => {
      const row = this.sql("SELECT version FROM outbox WHERE key = ?").get(key);
      if (row === undefined) throw new JitError("NotFound", `outbox entry ${key} does not exist`, { field: "key" });
      checkVersion(`outbox entry ${key}`, Number(row.version), expectedVersion);
      this.sql("UPDATE outbox SET version = ?, record = ? WHERE key = ? AND version = ?").run(stored.version, JSON.stringify(stored), key, expectedVersion);
      return stored;
    });
  }

  async deleteOutbox(key: string, expectedVersion: number): Promise<boolean> {
    return this.write(() => Number(this.sql("DELETE FROM outbox WHERE key = ? AND version = ?").run(key, expectedVersion).changes) === 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Writes already made are committed, not dropped.
    this.commitQueued();
    this.db.close();
  }

  private grantFrom(row: Row): Grant {
    const key = String(row.id);
    const grant = decode(Grant, "grant", "grants", key, row.record);
    agree("grants", key, [
      ["id", key, grant.id],
      ["version", row.version, grant.version],
    ]);
    return grant;
  }

  private policyFrom(row: Row): PolicyRecord {
    const key = String(row.name);
    const record = decode(PolicyRecord, "policy record", "policies", key, row.record);
    agree("policies", key, [
      ["name", key, record.policy.name],
      ["version", row.version, record.version],
    ]);
    return record;
  }
}
