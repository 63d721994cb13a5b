import { JitError, errorMessage } from "../model/errors";
import { Ledger } from "./ledger";
import { describeUrl } from "./retry";
import { defaultLedgerPath } from "./sqlite-db";
import type { ItemStore } from "./store";

/**
 * Where the ledger lives, as one string (`--ledger`, `$JIT_LEDGER`, the provider's `ledger` input):
 *
 *   /path/to/ledger.db, sqlite:///path/to/ledger.db   SQLite file (the default: ~/.pulumi-jit/ledger.db)
 *   azuretable://<table>                              Azure Table, account from $AZURE_STORAGE_CONNECTION_STRING
 *   https://<account>.table.core.windows.net/<table>  Azure Table, signed in with DefaultAzureCredential
 *   dynamodb://<table>?region=<region>&endpoint=<url> DynamoDB, the AWS default credential chain
 *                                                    (endpoint also from $AWS_ENDPOINT_URL_DYNAMODB)
 *   postgres://user:password@host:5432/db?schema=jit  PostgreSQL (also postgresql://; ?schema= optional)
 *
 * A SQLite file is created on first use; a shared store is prepared once with `jit ledger init`.
 */

export interface OpenLedgerOptions {
  /** Open without ever writing: for commands that only read, and read-only files or mounts. */
  readOnly?: boolean;
  /** The clock that stamps records; injectable for tests. */
  now?: () => number;
  /** SQLite: how long a writer waits for another's lock, in ms. */
  busyTimeoutMs?: number;
}

export type LedgerLocation = { kind: "sqlite"; path: string } | { kind: "store"; description: string; make: () => Promise<ItemStore> };

function badUrl(text: string, why: string): JitError {
  return new JitError("InvalidInput", `${text}: ${why}`, { field: "ledger" });
}

function tableName(text: string, name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) throw badUrl(text, `"${name}" is not a table name (3-63 letters and digits, starting with a letter)`);
  return name;
}

/** Parses a ledger location; nothing is opened or contacted. */
export function parseLedgerLocation(location: string, env: NodeJS.ProcessEnv = process.env): LedgerLocation {
  if (location.startsWith("sqlite://")) return { kind: "sqlite", path: decodeURIComponent(location.slice("sqlite://".length)) };
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return { kind: "sqlite", path: location };
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw badUrl("(unparseable URL)", "is not a URL; see `jit --help` for the forms a ledger location takes");
  }
  const description = describeUrl(url);
  switch (url.protocol) {
    case "azuretable:": {
      const table = tableName(description, url.hostname);
      const connectionString = env.AZURE_STORAGE_CONNECTION_STRING;
      if (!connectionString) throw badUrl(description, "set AZURE_STORAGE_CONNECTION_STRING to the storage account's connection string, or use https://<account>.table.core.windows.net/<table>");
      return { kind: "store", description, make: async () => new (await import("./azure-table")).AzureTableStore({ connectionString, table, description }) };
    }
    case "https:": {
      if (!/\.table\./i.test(url.hostname)) throw badUrl(description, "an https ledger URL must be an Azure Table endpoint, https://<account>.table.core.windows.net/<table>");
      const table = tableName(description, url.pathname.replace(/^\/+|\/+$/g, ""));
      return {
        kind: "store",
        description,
        make: async () => {
          const { DefaultAzureCredential } = await import("@azure/identity");
          return new (await import("./azure-table")).AzureTableStore({ accountUrl: url.origin, credential: new DefaultAzureCredential(), table, description });
        },
      };
    }
    case "dynamodb:": {
      const table = url.hostname;
      if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table)) throw badUrl(description, `"${table}" is not a DynamoDB table name`);
      const region = url.searchParams.get("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
      const endpoint = url.searchParams.get("endpoint") ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
      return { kind: "store", description, make: async () => new (await import("./dynamodb")).DynamoDbStore({ table, region, endpoint, description }) };
    }
    case "postgres:":
    case "postgresql:": {
      const schema = url.searchParams.get("schema") ?? undefined;
      if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw badUrl(description, `"${schema}" is not a schema name (lower-case letters, digits and _)`);
      const connection = new URL(url.href);
      connection.searchParams.delete("schema");
      return { kind: "store", description, make: async () => new (await import("./postgres")).PostgresStore({ connectionString: connection.href, schema, description }) };
    }
    default:
      throw badUrl(description, `unknown kind of ledger "${url.protocol}"; see \`jit --help\` for the forms a ledger location takes`);
  }
}

/**
 * Why `location` may not be kept where others read it (a stack's state, a configuration file), or
 * undefined when it may: it must be a ledger location, and carry no secret (a password, a user name,
 * or a key, signature or token in its query). Secrets stay in the environment, as the stores' own
 * tools expect them: PGPASSWORD, AZURE_STORAGE_CONNECTION_STRING, the clouds' credential chains.
 */
export function storableLedgerProblem(location: string): string | undefined {
  try {
    const parsed = parseLedgerLocation(location, { AZURE_STORAGE_CONNECTION_STRING: "-" });
    if (parsed.kind === "sqlite") return undefined;
  } catch (err) {
    return errorMessage(err);
  }
  const url = new URL(location);
  if (url.username || url.password || describeUrl(url) !== url.href) {
    return `${describeUrl(url)} carries a credential, which would be stored in plain text; give it to the environment instead (PGUSER and PGPASSWORD for PostgreSQL, AZURE_STORAGE_CONNECTION_STRING for azuretable://)`;
  }
  return undefined;
}

/** The ledger's location as people may see it: a path, or a URL without secrets. */
export function describeLedger(location: string = defaultLedgerPath()): string {
  try {
    const parsed = parseLedgerLocation(location, { AZURE_STORAGE_CONNECTION_STRING: "-" });
    return parsed.kind === "sqlite" ? parsed.path : parsed.description;
  } catch {
    return "(the ledger URL given)";
  }
}

/**
 * Opens the ledger at `location` (default `$JIT_LEDGER`, else `~/.pulumi-jit/ledger.db`). A shared
 * store must have been prepared (`init: true` prepares it, as `jit ledger init` does).
 */
export async function openLedger(location: string = defaultLedgerPath(), options: OpenLedgerOptions & { init?: boolean } = {}): Promise<Ledger> {
  const parsed = parseLedgerLocation(location);
  if (parsed.kind === "sqlite") {
    const { SqliteLedger } = await import("./sqlite");
    return new SqliteLedger(parsed.path, options);
  }
  const store = await parsed.make();
  try {
    if (options.init && !options.readOnly) await store.init();
    else await store.check();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const { StoreLedger } = await import("./store-ledger");
  return new StoreLedger(store, { now: options.now });
}
