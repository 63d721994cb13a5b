import type { DatabaseSync } from "node:sqlite";
import { AuditEvent, GENESIS, auditHash } from "../model/audit";
import { JitError } from "../model/errors";
import { writeTransaction } from "./sqlite-db";

/** A schema step: SQL, or a function for a step SQL cannot do alone (hashing). */
export type Migration = string | ((db: DatabaseSync) => void);

/**
 * The ledger's schema, as an ordered list of migrations: entry N takes schema version N to N+1.
 * Never edit an entry that has shipped; append a new one. Records are JSON validated by the model's
 * schemas on every read; the other columns are copies of record fields, for indexes and filters.
 */
export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE policies (
    name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    cloud TEXT NOT NULL,
    version INTEGER NOT NULL,
    record TEXT NOT NULL
  ) STRICT;

  CREATE TABLE grants (
    id TEXT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    policy TEXT NOT NULL COLLATE NOCASE,
    cloud TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- restoreDueAt(grant) in ms: when the reconciler must act; NULL once it never has to again.
    -- Only live grants have a value, so "what is due by T" reads a short index range, however
    -- long the history grows.
    due_at INTEGER,
    record TEXT NOT NULL
  ) STRICT;
  CREATE INDEX grants_due ON grants (due_at) WHERE due_at IS NOT NULL;
  CREATE INDEX grants_created ON grants (created_at);
  CREATE INDEX grants_state ON grants (state, created_at);
  CREATE INDEX grants_policy ON grants (policy, created_at);

  -- vmKey() of each VM of a grant, for "grants of this VM".
  CREATE TABLE grant_vms (
    vm_key TEXT NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    PRIMARY KEY (vm_key, grant_id)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    outcome TEXT NOT NULL,
    policy TEXT COLLATE NOCASE,
    grant_id TEXT,
    vm_key TEXT,
    record TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_time ON audit (time, seq);
  CREATE INDEX audit_policy ON audit (policy, time) WHERE policy IS NOT NULL;
  CREATE INDEX audit_grant ON audit (grant_id, time) WHERE grant_id IS NOT NULL;
  CREATE INDEX audit_vm ON audit (vm_key, time) WHERE vm_key IS NOT NULL;
  `,
  // The audit log becomes a hash chain (see AuditRecord); entries written before are chained in
  // their order, so that the log verifies from its first entry.
  (db) => {
    db.exec("ALTER TABLE audit ADD COLUMN prev TEXT; ALTER TABLE audit ADD COLUMN hash TEXT");
    const set = db.prepare("UPDATE audit SET prev = ?, hash = ? WHERE seq = ?");
    let prev = GENESIS;
    for (const row of db.prepare("SELECT seq, record FROM audit ORDER BY seq").all()) {
      const hash = auditHash(Number(row.seq), prev, AuditEvent.parse(JSON.parse(String(row.record))));
      set.run(prev, hash, Number(row.seq));
      prev = hash;
    }
  },
  // Notifications wait here until every sink has them (see OutboxEntry); keys sort oldest first.
  `
  CREATE TABLE outbox (
    key TEXT NOT NULL PRIMARY KEY,
    version INTEGER NOT NULL,
    record TEXT NOT NULL
  ) STRICT;
  `,
  // A grant's VMs by grant id: every update checks them, and without this each check read the
  // whole table (its key leads with the VM), which grew with the ledger's history.
  `CREATE INDEX grant_vms_grant ON grant_vms (grant_id);`,
];

function schemaVersion(db: DatabaseSync): number {
  const meta = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (meta === undefined) return 0;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get();
  return row === undefined ? 0 : Number(row.value);
}

function tooNew(current: number, known: number): JitError {
  return new JitError("Unsupported", `the ledger has schema version ${current}, newer than this pulumi-jit knows (${known}); upgrade pulumi-jit`);
}

/** For a ledger opened read-only: it must already be at this release's schema, since nothing may be written to bring it there. */
export function checkSchema(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = schemaVersion(db);
  if (current > migrations.length) throw tooNew(current, migrations.length);
  if (current < migrations.length) {
    throw new JitError("Unavailable", `the ledger is at schema version ${current}, and this release reads version ${migrations.length}; run \`jit ledger init\` (or any command that writes) once to upgrade it`, { field: "ledger" });
  }
}

/** Brings the database to the latest schema version; refuses a database from a newer release. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): number {
  return writeTransaction(db, () => {
    db.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL) STRICT");
    const current = schemaVersion(db);
    if (current > migrations.length) throw tooNew(current, migrations.length);
    for (const step of migrations.slice(current)) {
      if (typeof step === "string") db.exec(step);
      else step(db);
    }
    db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(migrations.length));
    return migrations.length;
  });
}
