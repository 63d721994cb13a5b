import { Pool } from "pg";
import { Gate } from "../util/parallel";
import { FailureKind, storeCall } from "./retry";
import { DueItem, ItemKind, ItemStore, RequestCounts, STORE_SCHEMA_VERSION, StoredItem, checkStoreSchema, notInitialised } from "./store";

/**
 * PostgreSQL. One table of items keyed by (kind, key) with a version column: a write is one
 * `INSERT ... ON CONFLICT DO NOTHING` or `UPDATE ... WHERE version = $n`, and its row count says
 * whether it won. The due index is a partial B-tree on `due_at`, so "due by T" is a range read.
 */

/** Serialization failures, deadlocks, too many connections, a server starting or shutting down: retried. */
const TRANSIENT = new Set(["40001", "40P01", "53300", "57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);

function classify(err: unknown): FailureKind {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && TRANSIENT.has(code) ? "transient" : "fatal";
}

/**
 * Connections per ledger. Queries beyond this wait in the ledger's own queue (`Gate`), never in
 * the pool's, whose wait would count against the connection timeout: thousands of concurrent
 * operations then take their turn instead of failing.
 */
const CONNECTIONS = 8;

const schemaSql = (meta: string, items: string) => `
CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ${items} (
  kind TEXT NOT NULL,
  key TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  body TEXT NOT NULL,
  due_at BIGINT,
  PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS jit_items_due ON ${items} (due_at) WHERE due_at IS NOT NULL;
`;

export interface PostgresOptions {
  connectionString: string;
  /** The schema that holds the ledger's tables (`?schema=` in the URL); default: the connection's search_path. */
  schema?: string;
  description: string;
}

export class PostgresStore implements ItemStore {
  readonly description: string;
  private readonly pool: Pool;
  private readonly schema?: string;
  private readonly meta: string;
  private readonly items: string;
  private readonly gate = new Gate(CONNECTIONS);
  readonly requests: RequestCounts = { reads: 0, writes: 0 };

  constructor(options: PostgresOptions) {
    this.description = options.description;
    this.schema = options.schema;
    const prefix = options.schema === undefined ? "" : `"${options.schema}".`;
    this.meta = `${prefix}jit_meta`;
    this.items = `${prefix}jit_items`;
    this.pool = new Pool({ connectionString: options.connectionString, max: CONNECTIONS, connectionTimeoutMillis: 10_000 });
    // An idle client that loses its connection emits here; the next query reports the problem.
    this.pool.on("error", () => undefined);
  }

  private query(text: string, values: unknown[] = [], kind: keyof RequestCounts = "reads") {
    this.requests[kind]++;
    return this.gate.run(() => storeCall(this.description, classify, () => this.pool.query(text, values)));
  }

  async init(): Promise<void> {
    if (this.schema !== undefined) await this.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`, [], "writes");
    await this.query(schemaSql(this.meta, this.items), [], "writes");
    await this.query(`INSERT INTO ${this.meta} (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(STORE_SCHEMA_VERSION)], "writes");
  }

  async check(): Promise<void> {
    const exists = await this.query("SELECT to_regclass($1) IS NOT NULL AS ok", [this.meta]);
    if (!exists.rows[0]?.ok) throw notInitialised(this.description);
    const row = (await this.query(`SELECT value FROM ${this.meta} WHERE key = 'schema_version'`)).rows[0];
    if (row === undefined) throw notInitialised(this.description);
    checkStoreSchema(this.description, Number(row.value));
  }

  async get(kind: ItemKind, key: string): Promise<StoredItem | undefined> {
    const row = (await this.query(`SELECT key, version, body FROM ${this.items} WHERE kind = $1 AND key = $2`, [kind, key])).rows[0];
    return row === undefined ? undefined : itemOf(row);
  }

  async put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean> {
    const due = dueAt ?? null;
    const result =
      expected === 0
        ? await this.query(`INSERT INTO ${this.items} (kind, key, version, body, due_at) VALUES ($1, $2, 1, $3, $4) ON CONFLICT (kind, key) DO NOTHING`, [kind, key, body, due], "writes")
        : await this.query(`UPDATE ${this.items} SET version = $3 + 1, body = $4, due_at = $5 WHERE kind = $1 AND key = $2 AND version = $3`, [kind, key, expected, body, due], "writes");
    return result.rowCount === 1;
  }

  async delete(kind: ItemKind, key: string, expected: number): Promise<boolean> {
    return (await this.query(`DELETE FROM ${this.items} WHERE kind = $1 AND key = $2 AND version = $3`, [kind, key, expected], "writes")).rowCount === 1;
  }

  async list(kind: ItemKind, limit?: number): Promise<StoredItem[]> {
    return (await this.query(`SELECT key, version, body FROM ${this.items} WHERE kind = $1 ORDER BY key LIMIT $2`, [kind, limit ?? null])).rows.map(itemOf);
  }

  async due(now: number, limit: number): Promise<DueItem[]> {
    const rows = (await this.query(`SELECT key, version, body, due_at FROM ${this.items} WHERE due_at <= $1 AND kind = 'grant' ORDER BY due_at, key LIMIT $2`, [now, limit])).rows;
    return rows.map((r) => ({ ...itemOf(r), dueAt: Number(r.due_at) }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function itemOf(row: Record<string, unknown>): StoredItem {
  return { key: String(row.key), version: Number(row.version), body: String(row.body) };
}
