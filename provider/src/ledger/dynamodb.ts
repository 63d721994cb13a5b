import {
  AttributeValue,
  BatchGetItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { JitError } from "../model/errors";
import { Gate, mapLimit } from "../util/parallel";
import { FailureKind, storeCall } from "./retry";
import { DUE_SHARDS, DueItem, ItemKind, ItemStore, RequestCounts, STORE_SCHEMA_VERSION, StoredItem, checkStoreSchema, dueShard, mergeDue, notInitialised } from "./store";

/**
 * DynamoDB. One table: partition key `pk` (the kind), sort key `sk` (the item's key), so that
 * listing a kind is a Query. Writes are single `PutItem`s with a `ConditionExpression` on the
 * version (or on absence), never `TransactWriteItems`. The due index is a sparse global secondary
 * index on (`dueShard`, `dueAt`): a grant carries both attributes only while it is due some day,
 * spread over a few shards so that no one partition takes every write; the grant and its index
 * entry are one item, so they never disagree. The index holds keys only and is eventually
 * consistent: due grants are then read by `BatchGetItem` with consistent reads, 100 a request,
 * and each is checked against its own due time.
 */

const DUE_INDEX = "due";

/** Keys a `BatchGetItem` takes at most. */
const BATCH_GET = 100;

/** How often a batch read asks again for the keys the service left unprocessed (it does so when throttled). */
const BATCH_ATTEMPTS = 8;

/** Requests in flight at once; more wait their turn in the store instead of in the SDK's socket pool. */
const IN_FLIGHT = 32;

function classify(err: unknown): FailureKind {
  const name = (err as { name?: unknown }).name;
  if (name === "ProvisionedThroughputExceededException" || name === "ThrottlingException" || name === "RequestLimitExceeded") return "throttled";
  if (name === "InternalServerError" || name === "ServiceUnavailable" || name === "LimitExceededException") return "transient";
  return "fatal";
}

const isConditionFailure = (err: unknown) => (err as { name?: unknown }).name === "ConditionalCheckFailedException";

export interface DynamoDbOptions {
  table: string;
  region?: string;
  endpoint?: string;
  description: string;
}

export class DynamoDbStore implements ItemStore {
  readonly description: string;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly gate = new Gate(IN_FLIGHT);
  readonly requests: RequestCounts = { reads: 0, writes: 0 };

  constructor(options: DynamoDbOptions) {
    this.description = options.description;
    this.table = options.table;
    // The SDK's standard retry mode backs off on throttling; storeCall adds the rest and the mapping.
    this.client = new DynamoDBClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      maxAttempts: 4,
    });
  }

  private call<T>(kind: keyof RequestCounts, work: () => Promise<T>): Promise<T> {
    this.requests[kind]++;
    return this.gate.run(() => storeCall(this.description, classify, work));
  }

  async init(): Promise<void> {
    await this.call("writes", async () => {
      try {
        await this.client.send(
          new CreateTableCommand({
            TableName: this.table,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
              { AttributeName: "pk", AttributeType: "S" },
              { AttributeName: "sk", AttributeType: "S" },
              { AttributeName: "dueShard", AttributeType: "S" },
              { AttributeName: "dueAt", AttributeType: "N" },
            ],
            KeySchema: [
              { AttributeName: "pk", KeyType: "HASH" },
              { AttributeName: "sk", KeyType: "RANGE" },
            ],
            GlobalSecondaryIndexes: [
              {
                IndexName: DUE_INDEX,
                KeySchema: [
                  { AttributeName: "dueShard", KeyType: "HASH" },
                  { AttributeName: "dueAt", KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: "KEYS_ONLY" },
              },
            ],
          }),
        );
      } catch (err) {
        if ((err as { name?: unknown }).name !== "ResourceInUseException") throw err;
      }
    });
    // A new table is usable once it is ACTIVE (seconds on AWS).
    for (let i = 0; ; i++) {
      const status = await this.call("reads", () => this.client.send(new DescribeTableCommand({ TableName: this.table })));
      if (status.Table?.TableStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** i)));
    }
    await this.call("writes", () => this.client.send(new PutItemCommand({ TableName: this.table, Item: { pk: { S: "meta" }, sk: { S: "schema" }, version: { N: String(STORE_SCHEMA_VERSION) } } })));
  }

  async check(): Promise<void> {
    const meta = await this.call("reads", async () => {
      try {
        return (await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: "meta" }, sk: { S: "schema" } }, ConsistentRead: true }))).Item;
      } catch (err) {
        if ((err as { name?: unknown }).name === "ResourceNotFoundException") return undefined;
        throw err;
      }
    });
    if (meta === undefined) throw notInitialised(this.description);
    checkStoreSchema(this.description, Number(meta.version?.N));
  }

  async get(kind: ItemKind, key: string): Promise<StoredItem | undefined> {
    const out = await this.call("reads", () => this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: kind }, sk: { S: key } }, ConsistentRead: true })));
    return out.Item === undefined ? undefined : itemOf(out.Item);
  }

  async put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean> {
    const item: Record<string, AttributeValue> = { pk: { S: kind }, sk: { S: key }, version: { N: String(expected + 1) }, body: { S: body } };
    if (dueAt !== undefined) Object.assign(item, { dueShard: { S: `due-${dueShard(key)}` }, dueAt: { N: String(dueAt) } });
    const condition =
      expected === 0
        ? { ConditionExpression: "attribute_not_exists(pk)" }
        : { ConditionExpression: "version = :v", ExpressionAttributeValues: { ":v": { N: String(expected) } } };
    return this.call("writes", async () => {
      try {
        await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ...condition }));
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    });
  }

  async delete(kind: ItemKind, key: string, expected: number): Promise<boolean> {
    return this.call("writes", async () => {
      try {
        await this.client.send(
          new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: kind }, sk: { S: key } }, ConditionExpression: "version = :v", ExpressionAttributeValues: { ":v": { N: String(expected) } } }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    });
  }

  async list(kind: ItemKind, limit?: number): Promise<StoredItem[]> {
    return this.queryAll(
      { TableName: this.table, KeyConditionExpression: "pk = :k", ExpressionAttributeValues: { ":k": { S: kind } }, ConsistentRead: true },
      itemOf,
      limit,
    );
  }

  async due(now: number, limit: number): Promise<DueItem[]> {
    const shards = await Promise.all(
      Array.from({ length: DUE_SHARDS }, (_, shard) =>
        this.queryAll(
          {
            TableName: this.table,
            IndexName: DUE_INDEX,
            KeyConditionExpression: "dueShard = :s AND dueAt <= :now",
            ExpressionAttributeValues: { ":s": { S: `due-${shard}` }, ":now": { N: String(now) } },
          },
          (i) => ({ key: String(i.sk?.S), dueAt: Number(i.dueAt?.N) }),
          limit,
        ),
      ),
    );
    const keys = mergeDue(shards, limit).map((d) => d.key);
    const batches = Array.from({ length: Math.ceil(keys.length / BATCH_GET) }, (_, i) => keys.slice(i * BATCH_GET, (i + 1) * BATCH_GET));
    const items = (await mapLimit(batches, IN_FLIGHT, (batch) => this.getGrants(batch))).flat();
    // The index may trail a write: each grant's own due time is the truth, and one no longer due is left out.
    const due = items.flatMap((item) => {
      const dueAt = item.dueAt?.N === undefined ? undefined : Number(item.dueAt.N);
      return dueAt !== undefined && dueAt <= now ? [{ ...itemOf(item), dueAt }] : [];
    });
    return mergeDue([due], limit);
  }

  /** Grants by key in one `BatchGetItem` (consistent reads), asking again for any the service left unprocessed. */
  private async getGrants(keys: string[]): Promise<Record<string, AttributeValue>[]> {
    const out: Record<string, AttributeValue>[] = [];
    let pending: Record<string, AttributeValue>[] = keys.map((key) => ({ pk: { S: "grant" }, sk: { S: key } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt === BATCH_ATTEMPTS) throw new JitError("Unavailable", `${this.description}: the store left ${pending.length} due grant(s) unread through ${BATCH_ATTEMPTS} attempts (throttled); retry`, { field: "ledger" });
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(1000, 25 * 2 ** attempt)));
      const page = await this.call("reads", () => this.client.send(new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } })));
      out.push(...(page.Responses?.[this.table] ?? []));
      pending = page.UnprocessedKeys?.[this.table]?.Keys ?? [];
    }
    return out;
  }

  /** Every page of a query, up to `limit` items (DynamoDB answers at most 1 MB a page). */
  private async queryAll<T>(input: QueryCommandInput, map: (item: Record<string, AttributeValue>) => T, limit?: number): Promise<T[]> {
    const out: T[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call("reads", () =>
        this.client.send(
          new QueryCommand({
            ...input,
            ...(limit === undefined ? {} : { Limit: Math.min(limit - out.length, 1000) }),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      out.push(...(page.Items ?? []).map(map));
      start = page.LastEvaluatedKey;
    } while (start && (limit === undefined || out.length < limit));
    return out;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function itemOf(item: Record<string, AttributeValue>): StoredItem {
  return { key: String(item.sk?.S), version: Number(item.version?.N), body: String(item.body?.S) };
}
