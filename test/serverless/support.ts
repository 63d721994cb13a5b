import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HandlerCloud, buildHandlers } from "../../scripts/build-handlers";

/**
 * Builds the function packages into a fresh directory under the system temp directory, where no
 * node_modules of the project can be found by walking up: what loads from there is self-contained.
 */
export async function buildIntoTemp(cloud: HandlerCloud): Promise<{ dir: string; remove(): void }> {
  const out = mkdtempSync(join(tmpdir(), "jit-handlers-"));
  const dirs = await buildHandlers(out, [cloud]);
  return { dir: dirs[cloud], remove: () => rmSync(out, { recursive: true, force: true }) };
}

/** Loads a package's entry as its runtime would: `require` from its own directory. */
export function loadPackage<T>(dir: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(join(dir, "index.js")) as T;
}

/**
 * Azurite's queue service with a clock the test moves: a preload offsets the server's `Date` by
 * what the test sends over IPC, so that a message hidden until a grant's end becomes visible when
 * the test's virtual clock reaches it, without waiting.
 */
export interface ClockedQueueServer {
  endpoint: string;
  /** Sets the server's clock to `ms` (since the epoch). */
  setTime(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const PRELOAD = `
const Real = Date;
let offset = 0;
process.on("message", (m) => { if (m && typeof m.offset === "number") { offset = m.offset; process.send({ ack: m.offset }); } });
class Clocked extends Real {
  constructor(...args) { if (args.length === 0) super(Real.now() + offset); else super(...args); }
  static now() { return Real.now() + offset; }
}
globalThis.Date = Clocked;
`;

export async function startClockedAzuriteQueue(): Promise<ClockedQueueServer> {
  const { spawn } = await import("node:child_process");
  const { writeFileSync } = await import("node:fs");
  const { freePort } = await import("../support/servers");
  const dir = mkdtempSync(join(tmpdir(), "jit-azurite-queue-"));
  const preload = join(dir, "clock.cjs");
  writeFileSync(preload, PRELOAD);
  const port = await freePort();
  const main = join(__dirname, "..", "..", "node_modules", "azurite", "dist", "src", "queue", "main.js");
  const child = spawn(process.execPath, ["--require", preload, main, "--queueHost", "127.0.0.1", "--queuePort", String(port), "--inMemoryPersistence", "--disableTelemetry", "--silent"], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully (started|listens)/.test(output)) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`azurite queue exited (${code}):\n${output}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
    setTime: (ms) =>
      new Promise<void>((resolve) => {
        const offset = ms - (performance.timeOrigin + performance.now());
        child.once("message", () => resolve());
        child.send({ offset });
      }),
    stop: async () => {
      if (child.exitCode === null) await new Promise<void>((resolve) => (child.once("exit", () => resolve()), child.kill("SIGKILL")));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
