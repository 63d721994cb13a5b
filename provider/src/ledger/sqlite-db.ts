import { existsSync, mkdirSync } from "fs";
import { homedir } from "os";
import { dirname, join } from "path";
import { pathToFileURL } from "url";
import type { DatabaseSync } from "node:sqlite";
import { JitError } from "../model/errors";

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

/** SQLite's primary result codes we explain (`errcode & 0xff`). */
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/**
 * SQLite's own words ("file is not a database", "unable to open database file") name neither the
 * file nor the way out; this says which ledger, what is wrong with it and what to do, as an
 * `Unavailable` error. Anything else is returned as it was.
 */
export function explainSqliteError(err: unknown, path: string, readOnly: boolean): unknown {
  const code = (err as { errcode?: unknown }).errcode;
  const fsCode = (err as { code?: unknown }).code;
  const primary = typeof code === "number" ? code & 0xff : undefined;
  const dir = dirname(path);
  const say = (what: string) => new JitError("Unavailable", `${path}: ${what}`, { field: "ledger", cause: err });
  if (primary === SQLITE_NOTADB || primary === SQLITE_CORRUPT) {
    return say("the file is not a readable pulumi-jit ledger (damaged, or another kind of file); restore it from a backup, or point --ledger / JIT_LEDGER at the right file");
  }
  if (primary === SQLITE_READONLY) {
    return say("the file or its directory is read-only, and this command writes; make both writable by this user, or use a command that only reads (list, policy show, audit export, audit verify)");
  }
  if (primary === SQLITE_CANTOPEN || fsCode === "EACCES" || fsCode === "EROFS" || fsCode === "ENOTDIR") {
    if (readOnly && !existsSync(path)) return say("there is no ledger file here; register a policy (pulumi up) or run `jit ledger init` first, or point --ledger / JIT_LEDGER at the right file");
    if (!existsSync(dir)) return say(`the directory ${dir} does not exist and cannot be created; create it, or point --ledger / JIT_LEDGER elsewhere`);
    return say(`cannot open the file in ${dir} (no permission, or a read-only directory); make the directory writable by this user, or use a command that only reads`);
  }
  return err;
}

/**
 * Opens (creating if need be) a database file, or an in-memory one for `:memory:`. WAL lets readers
 * run while one process writes; `busy_timeout` makes a second writer wait for the lock instead of
 * failing; `synchronous = FULL` because a grant's intent must be on disk before the cloud is
 * touched, even if the machine loses power right after.
 *
 * `readOnly` opens an existing file without ever writing: commands that only read then work on a
 * read-only file or mount. A WAL database needs its `-shm` file even to be read; where that cannot
 * be created (a read-only directory), the file is opened as immutable, which is what it is there.
 */
export function openDatabase(path: string, busyTimeoutMs: number, options: { readOnly?: boolean } = {}): DatabaseSync {
  const { DatabaseSync } = loadSqlite();
  try {
    if (options.readOnly) {
      if (path === MEMORY) return new DatabaseSync(path);
      try {
        const db = new DatabaseSync(path, { readOnly: true });
        db.prepare("SELECT count(*) FROM sqlite_master").get();
        return db;
      } catch (err) {
        if ((((err as { errcode?: number }).errcode ?? 0) & 0xff) !== SQLITE_READONLY) throw err;
        return new DatabaseSync(`${pathToFileURL(path).href}?immutable=1`, { readOnly: true });
      }
    }
    // The audit log is nobody else's business: a new directory is private to its owner.
    if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
    if (path !== MEMORY) db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON");
    return db;
  } catch (err) {
    throw explainSqliteError(err, path, options.readOnly === true);
  }
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
