import { buildSync } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

const ROOT = join(__dirname, "..", "..");

/** A program a test spawns many times, and how to start it. */
export interface Bundled {
  /** Arguments to `node` before the program's own. */
  args: string[];
  /** Environment the program needs beside the caller's (where its packages are). */
  env: Record<string, string>;
  remove(): void;
}

/**
 * Bundles the TypeScript program `entry` (its packages left to `require`) into one CommonJS file,
 * so that each process started from it loads plain JavaScript instead of paying the TypeScript
 * loader's start again: for a test that starts and kills the same program many times.
 */
export function bundle(entry: string): Bundled {
  const dir = mkdtempSync(join(tmpdir(), "jit-bundle-"));
  const outfile = join(dir, basename(entry).replace(/\.ts$/, ".js"));
  buildSync({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "cjs", target: "node22", packages: "external", conditions: ["pulumi-jit-source"], logLevel: "error" });
  return { args: [outfile], env: { NODE_PATH: join(ROOT, "node_modules") }, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
