import { TableClient, odata } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import { JitError } from "../model/errors";
import { Gate, mapLimit } from "../util/parallel";
import { FailureKind, storeCall } from "./retry";
import { DUE_SHARDS, DueItem, ItemKind, ItemStore, RequestCounts, STORE_SCHEMA_VERSION, StoredItem, checkStoreSchema, dueKey, dueShard, mergeDue, notInitialised } from "./store";

/**
 * Azure Table Storage. Every item is one entity (PartitionKey = kind, RowKey = key) written with
 * `If-Match` on its ETag, or created only if absent. Table storage has no secondary index, so the
 * due index is entities of its own (PartitionKey `due-<shard>`, RowKey `<due time>_<grant id>`):
 * a grant's new entry is written before the grant, and its old one deleted after, so that a due
 * grant always has an entry. An entry whose grant says otherwise is only a hint, skipped on read;
 * it is deleted once its grant has ended for good.
 */

/** A string property holds 64 KiB (32K UTF-16 units); longer bodies are split over body0, body1, ... */
const CHUNK = 30_000;

/** An item's version, ETag and due time, as last seen. */
type Seen = { version?: number; etag?: string; dueAt?: number };

/** How many items' ETags a store remembers: a sweep of half this many grants (each with its notification) reads none before writing. */
const SEEN_ITEMS = 50_000;

/** Requests in flight at once; more wait their turn in the store instead of in the HTTP client's socket pool. */
const IN_FLIGHT = 32;

/** Due grants read side by side (Table storage has no batch read): their point reads, at most this many at once. */
const DUE_READS = 16;

type Entity = { partitionKey: string; rowKey: string; etag?: string; version?: number; dueAt?: number; chunks?: number } & Record<string, unknown>;

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}

function classify(err: unknown): FailureKind {
  const status = statusOf(err);
  if (status === 429 || status === 503) return "throttled";
  if (status === 500 || status === 408 || status === 502 || status === 504) return "transient";
  return "fatal";
}

export interface AzureTableOptions {
  /** `azuretable://<table>` with a connection string; or an account URL with a credential. */
  connectionString?: string;
  accountUrl?: string;
  credential?: TokenCredential;
  table: string;
  description: string;
}

export class AzureTableStore implements ItemStore {
  readonly description: string;
  private readonly client: TableClient;
  /**
   * What this store last read or wrote of each item: its version, ETag and due time. A write at
   * that version goes out with that ETag and no read first; if the item has changed since, the
   * ETag no longer matches and the write is refused, as after a read.
   */
  private readonly seen = new Map<string, Seen>();
  private readonly gate = new Gate(IN_FLIGHT);
  /** Removals of stale due-index entries still under way, by entry (see `unindexInBackground`). */
  private readonly cleanups = new Map<string, Promise<void>>();
  readonly requests: RequestCounts = { reads: 0, writes: 0 };

  constructor(options: AzureTableOptions) {
    this.description = options.description;
    // The SDK retries too; keep its delays short so that a dead endpoint is reported in seconds, not minutes.
    const clientOptions = { retryOptions: { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 } };
    if (options.connectionString !== undefined) {
      const insecure = /TableEndpoint=http:/i.test(options.connectionString) || /DefaultEndpointsProtocol=http;/i.test(options.connectionString);
      this.client = TableClient.fromConnectionString(options.connectionString, options.table, { ...clientOptions, allowInsecureConnection: insecure });
    } else if (options.accountUrl !== undefined && options.credential !== undefined) {
      this.client = new TableClient(options.accountUrl, options.table, options.credential, clientOptions);
    } else {
      throw new JitError("InvalidInput", `${options.description}: give a connection string (AZURE_STORAGE_CONNECTION_STRING) or an account URL`, { field: "ledger" });
    }
  }

  private call<T>(kind: keyof RequestCounts, work: () => Promise<T>): Promise<T> {
    this.requests[kind]++;
    return this.gate.run(() => storeCall(this.description, classify, work));
  }

  async init(): Promise<void> {
    await this.call("writes", () => this.client.createTable());
    await this.call("writes", () => this.client.upsertEntity({ partitionKey: "meta", rowKey: "schema", version: STORE_SCHEMA_VERSION }, "Replace"));
  }

  async check(): Promise<void> {
    const meta = await this.entity("meta", "schema");
    if (meta === undefined) throw notInitialised(this.description);
    checkStoreSchema(this.description, Number(meta.version));
  }

  private async entity(partition: string, row: string): Promise<Entity | undefined> {
    return this.call("reads", async () => {
      try {
        return this.note(partition, row, (await this.client.getEntity<Entity>(partition, row)) as Entity);
      } catch (err) {
        if (statusOf(err) === 404) return this.note(partition, row, undefined);
        throw err;
      }
    });
  }

  /** Remembers (or, given nothing, forgets) what was seen of an item; the oldest are forgotten first. */
  private note<T extends Seen | undefined>(partition: string, row: string, item: T): T {
    const id = `${partition}/${row}`;
    this.seen.delete(id);
    // Audit entries are written once and never again: remembering them would only push out the grants.
    if (item?.etag !== undefined && partition !== "audit") this.seen.set(id, { version: item.version, etag: item.etag, dueAt: item.dueAt });
    if (this.seen.size > SEEN_ITEMS) this.seen.delete(this.seen.keys().next().value!);
    return item;
  }

  async get(kind: ItemKind, key: string): Promise<StoredItem | undefined> {
    const e = await this.entity(kind, key);
    return e === undefined ? undefined : itemOf(e);
  }

  async put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean> {
    const entity: Entity = { partitionKey: kind, rowKey: key, version: expected + 1, ...chunked(body), ...(dueAt === undefined ? {} : { dueAt }) };
    const known = this.seen.get(`${kind}/${key}`);
    const current = expected === 0 ? undefined : known?.version === expected ? known : await this.entity(kind, key);
    if (expected !== 0 && (current === undefined || current.version !== expected)) return false;
    if (kind === "grant" && dueAt !== undefined && current?.dueAt !== dueAt) await this.indexDue(key, dueAt);
    const written = await this.call("writes", async () => {
      try {
        const { etag } = current === undefined ? await this.client.createEntity(entity) : await this.client.updateEntity(entity, "Replace", { etag: current.etag });
        this.note(kind, key, { version: entity.version, etag, dueAt });
        return true;
      } catch (err) {
        if (statusOf(err) === 409 || statusOf(err) === 412 || statusOf(err) === 404) {
          this.note(kind, key, undefined);
          return false;
        }
        throw err;
      }
    });
    if (kind === "grant") {
      // The old entry is only a hint once the grant is written: remove it off the write's path.
      if (written && current?.dueAt !== undefined && current.dueAt !== dueAt) this.unindexInBackground(key, current.dueAt);
      if (!written && dueAt !== undefined && current?.dueAt !== dueAt) {
        // Our entry was for a write that lost: drop it unless the winner wrote the same due time.
        const now = await this.entity(kind, key);
        if (now?.dueAt !== dueAt) await this.unindexDue(key, dueAt);
      }
    }
    return written;
  }

  async delete(kind: ItemKind, key: string, expected: number): Promise<boolean> {
    const current = await this.entity(kind, key);
    if (current === undefined || current.version !== expected) return false;
    return this.call("writes", async () => {
      try {
        await this.client.deleteEntity(kind, key, { etag: current.etag });
        this.note(kind, key, undefined);
        return true;
      } catch (err) {
        if (statusOf(err) === 404 || statusOf(err) === 412) return false;
        throw err;
      }
    });
  }

  async list(kind: ItemKind, limit?: number): Promise<StoredItem[]> {
    return (await this.query(odata`PartitionKey eq ${kind}`, limit)).map(itemOf);
  }

  async due(now: number, limit: number): Promise<DueItem[]> {
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, async (_, shard) => {
        const found: DueItem[] = [];
        // Entries that are only hints are skipped, so read on until `limit` real ones are found.
        for (let after = ""; found.length < limit; ) {
          const page = await this.query(odata`PartitionKey eq ${`due-${shard}`} and RowKey gt ${after} and RowKey le ${dueKey(now, "~")}`, Math.min(1000, limit * 2));
          await mapLimit(page, DUE_READS, async (entry) => {
            const grantKey = String(entry.grant);
            const grant = await this.entity("grant", grantKey);
            if (grant !== undefined && grant.dueAt === entry.dueAt) found.push({ ...itemOf(grant), dueAt: Number(entry.dueAt) });
            else if (grant !== undefined && grant.dueAt === undefined) await this.unindexDue(grantKey, Number(entry.dueAt));
          });
          if (page.length < Math.min(1000, limit * 2)) break;
          after = page[page.length - 1].rowKey;
        }
        return found;
      }),
    );
    return mergeDue(shards, limit);
  }

  async close(): Promise<void> {
    // The client holds no connection to close; the removals under way finish first.
    await Promise.all(this.cleanups.values());
  }

  /**
   * Removes a due-index entry without the caller waiting: once its grant is written it is only a
   * hint. If the removal fails, or the process ends first, the entry stays a hint: skipped on
   * read, and removed by the next read that finds its grant ended.
   */
  private unindexInBackground(key: string, dueAt: number): void {
    const entry = dueKey(dueAt, key);
    const cleanup: Promise<void> = this.unindexDue(key, dueAt)
      .catch(() => undefined)
      .finally(() => {
        if (this.cleanups.get(entry) === cleanup) this.cleanups.delete(entry);
      });
    this.cleanups.set(entry, cleanup);
  }

  private async indexDue(key: string, dueAt: number): Promise<void> {
    // The same entry may be on its way out from an earlier due time: write it again only after.
    await this.cleanups.get(dueKey(dueAt, key));
    await this.call("writes", () => this.client.upsertEntity({ partitionKey: `due-${dueShard(key)}`, rowKey: dueKey(dueAt, key), grant: key, dueAt }, "Replace"));
  }

  private async unindexDue(key: string, dueAt: number): Promise<void> {
    await this.call("writes", async () => {
      try {
        await this.client.deleteEntity(`due-${dueShard(key)}`, dueKey(dueAt, key));
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
    });
  }

  private async query(filter: string, limit?: number): Promise<Entity[]> {
    return this.call("reads", async () => {
      const out: Entity[] = [];
      let pages = 0;
      for await (const page of this.client.listEntities<Entity>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(1000, limit ?? 1000) })) {
        // The call counted the first page's request; each further page is one more.
        if (pages++ > 0) this.requests.reads++;
        for (const e of page) {
          out.push(e as Entity);
          if (limit !== undefined && out.length >= limit) return out;
        }
      }
      return out;
    });
  }
}

function chunked(body: string): Record<string, string | number> {
  const parts: Record<string, string | number> = { chunks: Math.max(1, Math.ceil(body.length / CHUNK)) };
  for (let i = 0; i * CHUNK < body.length || i === 0; i++) parts[`body${i}`] = body.slice(i * CHUNK, (i + 1) * CHUNK);
  return parts;
}

function itemOf(e: Entity): StoredItem {
  let body = "";
  for (let i = 0; i < Number(e.chunks ?? 1); i++) body += String(e[`body${i}`] ?? "");
  return { key: e.rowKey, version: Number(e.version), body };
}
