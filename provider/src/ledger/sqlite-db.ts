import { mkdirSync } from "fs";
import { homedir } from "os";
import { dirname, join } from "path";
import type { DatabaseSync } from "node:sqlite";

type SqliteModule = typeof import("node:sqlite");

/**
 * Node 22 flags node:sqlite as experimental and prints an ExperimentalWarning the first time it is
 * loaded, which would land in every CLI run's output. We drop exactly that warning, only while our
 * own `require` runs; every other warning, and this one for anybody else's load, goes through.
 */
function loadSqlite(): SqliteModule {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning: string | Error, ...rest: unknown[]): void {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const text = typeof warning === "string" ? warning : warning.message;
    if (type === "ExperimentalWarning" && text.startsWith("SQLite ")) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return require("node:sqlite") as SqliteModule;
  } finally {
    process.emitWarning = emitWarning;
  }
}

export const MEMORY = ":memory:";

/** `$JIT_LEDGER`, else `~/.pulumi-jit/ledger.db`. */
export function defaultLedgerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.JIT_LEDGER || join(homedir(), ".pulumi-jit", "ledger.db");
}

/**
 * Opens (creating if need be) a database file, or an in-memory one for `:memory:`. WAL lets readers
 * run while one process writes; `busy_timeout` makes a second writer wait for the lock instead of
 * failing; `synchronous = FULL` because a grant's intent must be on disk before the cloud is
 * touched, even if the machine loses power right after.
 */
export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  // The audit log is nobody else's business: a new directory is private to its owner.
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  if (path !== MEMORY) db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
  return db;
}

/**
 * Runs `work` in a write transaction. BEGIN IMMEDIATE takes the write lock up front, so that a
 * read-then-write inside `work` cannot be overtaken by another writer between the two.
 */
export function writeTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (it does on some errors, e.g. a full disk); `err` says why.
    }
    throw err;
  }
}
