import { JitError } from "../model/errors";

/**
 * What a shared store (Azure Table, DynamoDB, PostgreSQL) must offer for the ledger: items of a
 * few kinds, each a JSON body at a version, written only by single-item compare-and-swap, plus an
 * index of grants by the time they are due. Nothing needs a transaction across items, so the same
 * ledger (`StoreLedger`) runs on each store, and DynamoDB needs no `TransactWriteItems`.
 */
export type ItemKind = "policy" | "grant" | "audit" | "outbox";

export interface StoredItem {
  key: string;
  version: number;
  body: string;
}

/** A due grant as the store holds it: read with its body and version, so that a sweep reads each grant once. */
export interface DueItem extends StoredItem {
  dueAt: number;
}

/** Requests a store has sent, reads and writes apart (a due-index query counts as one read per page). */
export interface RequestCounts {
  reads: number;
  writes: number;
}

export interface ItemStore {
  /** The store as people may see it: its URL with every secret removed. */
  readonly description: string;
  /** What this store has sent so far: what a ledger operation costs, for benchmarks. */
  readonly requests: RequestCounts;
  /** Creates the tables and indexes if they are missing, and records the schema version; idempotent. */
  init(): Promise<void>;
  /** Fails with `Unavailable` unless `init` has run (a read must not create anything). */
  check(): Promise<void>;
  get(kind: ItemKind, key: string): Promise<StoredItem | undefined>;
  /**
   * Writes `body` at version `expected + 1` only if the item is at version `expected` (0: only if
   * it does not exist); false when another writer got there first. For grants, `dueAt` is the
   * restore index value (undefined: not due, ever again).
   */
  put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean>;
  /** Deletes the item if it is at version `expected`; false if it is not (or is gone). */
  delete(kind: ItemKind, key: string, expected: number): Promise<boolean>;
  /** Items of a kind in ascending key order, at most `limit`. */
  list(kind: ItemKind, limit?: number): Promise<StoredItem[]>;
  /**
   * Grants whose due time is at most `now`, soonest first, at most `limit`, with their bodies and
   * versions (a read as fresh as `get`): found by the index, never a scan.
   */
  due(now: number, limit: number): Promise<DueItem[]>;
  close(): Promise<void>;
}

/** The store schema version `init` records; a store at a newer one is refused. */
export const STORE_SCHEMA_VERSION = 1;

/** How many partitions the due index is spread over in Table and DynamoDB, so that no one partition takes every write. */
export const DUE_SHARDS = 4;

/** The due-index partition of a grant: stable for the grant, spread evenly over the shards. */
export function dueShard(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return h % DUE_SHARDS;
}

/** Due-time keys sort as text in Table storage: fixed width. */
export function dueKey(dueAt: number, key: string): string {
  return `${String(Math.max(0, Math.floor(dueAt))).padStart(15, "0")}_${key}`;
}

/**
 * Audit entries are keyed so that ascending key order is newest first: the head of the chain is
 * the first item, which every store can read cheaply (Table storage cannot read backwards).
 */
const AUDIT_KEY_BASE = 1e12;
export function auditKey(seq: number): string {
  return String(AUDIT_KEY_BASE - seq).padStart(13, "0");
}
export function auditSeq(key: string): number {
  return AUDIT_KEY_BASE - Number(key);
}

/** Merges per-shard due lists (each soonest first) into one, soonest first, at most `limit`. */
export function mergeDue<T extends { key: string; dueAt: number }>(lists: T[][], limit: number): T[] {
  return lists
    .flat()
    .sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, limit);
}

export function notInitialised(description: string): JitError {
  return new JitError("Unavailable", `${description}: the store has no pulumi-jit ledger yet; run \`jit ledger init --ledger <url>\` once`, { field: "ledger" });
}

export function checkStoreSchema(description: string, version: number): void {
  if (version > STORE_SCHEMA_VERSION) {
    throw new JitError("Unsupported", `ledger ${description}: the store has schema version ${version}, newer than this pulumi-jit knows (${STORE_SCHEMA_VERSION}); upgrade pulumi-jit`);
  }
}
