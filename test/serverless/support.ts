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
