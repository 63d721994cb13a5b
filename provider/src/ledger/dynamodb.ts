import {
  AttributeValue,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { FailureKind, storeCall } from "./retry";
import { DUE_SHARDS, DueItem, ItemKind, ItemStore, STORE_SCHEMA_VERSION, StoredItem, checkStoreSchema, dueShard, mergeDue, notInitialised } from "./store";

/**
 * DynamoDB. One table: partition key `pk` (the kind), sort key `sk` (the item's key), so that
 * listing a kind is a Query. Writes are single `PutItem`s with a `ConditionExpression` on the
 * version (or on absence), never `TransactWriteItems`. The due index is a sparse global secondary
 * index on (`dueShard`, `dueAt`): a grant carries both attributes only while it is due some day,
 * spread over a few shards so that no one partition takes every write; the grant and its index
 * entry are one item, so they never disagree (the index is eventually consistent, and the ledger
 * checks each grant it returns).
 */

const DUE_INDEX = "due";

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

  private call<T>(work: () => Promise<T>): Promise<T> {
    return storeCall(this.description, classify, work);
  }

  async init(): Promise<void> {
    await this.call(async () => {
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
      const status = await this.call(() => this.client.send(new DescribeTableCommand({ TableName: this.table })));
      if (status.Table?.TableStatus === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** i)));
    }
    await this.call(() => this.client.send(new PutItemCommand({ TableName: this.table, Item: { pk: { S: "meta" }, sk: { S: "schema" }, version: { N: String(STORE_SCHEMA_VERSION) } } })));
  }

  async check(): Promise<void> {
    const meta = await this.call(async () => {
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
    const out = await this.call(() => this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: kind }, sk: { S: key } }, ConsistentRead: true })));
    return out.Item === undefined ? undefined : itemOf(out.Item);
  }

  async put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean> {
    const item: Record<string, AttributeValue> = { pk: { S: kind }, sk: { S: key }, version: { N: String(expected + 1) }, body: { S: body } };
    if (dueAt !== undefined) Object.assign(item, { dueShard: { S: `due-${dueShard(key)}` }, dueAt: { N: String(dueAt) } });
    const condition =
      expected === 0
        ? { ConditionExpression: "attribute_not_exists(pk)" }
        : { ConditionExpression: "version = :v", ExpressionAttributeValues: { ":v": { N: String(expected) } } };
    return this.call(async () => {
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
    return this.call(async () => {
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
    return mergeDue(shards, limit);
  }

  /** Every page of a query, up to `limit` items (DynamoDB answers at most 1 MB a page). */
  private async queryAll<T>(input: QueryCommandInput, map: (item: Record<string, AttributeValue>) => T, limit?: number): Promise<T[]> {
    const out: T[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call(() =>
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
