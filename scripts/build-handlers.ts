/**
 * Bundles the serverless handlers into self-contained function packages (no node_modules needed):
 *
 *   <out>/aws/index.js      Lambda: handlers index.http, index.sweep, index.expire
 *   <out>/azure/index.js    Azure Functions (v4 model) with package.json and host.json
 *
 * Usage: node --import tsx scripts/build-handlers.ts [out-dir]   (default dist/serverless)
 *
 * esbuild bundles the code and its dependencies into one CommonJS file per cloud, for Node 22.
 * Nothing is serialised from a Pulumi program, so a package holds no captured value or secret.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(__dirname, "..");
export const DEFAULT_OUT = join(ROOT, "dist", "serverless");

const ENTRIES = {
  aws: join(ROOT, "provider", "src", "serverless", "aws", "index.ts"),
  azure: join(ROOT, "provider", "src", "serverless", "azure", "index.ts"),
} as const;

/** host.json of the Functions app: the v4 extension bundle and base64 queue messages (the default encoding). */
const HOST_JSON = {
  version: "2.0",
  extensionBundle: { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" },
  extensions: { http: { routePrefix: "" }, queues: { maxDequeueCount: 5, visibilityTimeout: "00:00:30" } },
  functionTimeout: "00:10:00",
};

export type HandlerCloud = keyof typeof ENTRIES;

/** Builds the packages of `clouds` (default both) under `out`; returns each package's directory. */
export async function buildHandlers(out: string = DEFAULT_OUT, clouds: readonly HandlerCloud[] = ["aws", "azure"]): Promise<Record<HandlerCloud, string>> {
  const dirs = { aws: join(out, "aws"), azure: join(out, "azure") };
  for (const cloud of clouds) {
    const entry = ENTRIES[cloud];
    mkdirSync(dirs[cloud], { recursive: true });
    await build({
      entryPoints: [entry],
      outfile: join(dirs[cloud], "index.js"),
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      // The PostgreSQL client's optional native binding is never installed (the pure-JS client is
      // used), and the Functions worker provides @azure/functions-core to the app it runs.
      external: ["pg-native", "@azure/functions-core"],
      minify: true,
      keepNames: true,
      legalComments: "none",
      logLevel: "warning",
    });
  }
  if (!clouds.includes("azure")) return dirs;
  writeFileSync(join(dirs.azure, "package.json"), `${JSON.stringify({ name: "pulumi-jit-broker", private: true, main: "index.js" }, null, 2)}\n`);
  writeFileSync(join(dirs.azure, "host.json"), `${JSON.stringify(HOST_JSON, null, 2)}\n`);
  return dirs;
}

if (require.main === module) {
  buildHandlers(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT).then(
    (dirs) => process.stdout.write(`built ${dirs.aws}/index.js and ${dirs.azure}/index.js\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
