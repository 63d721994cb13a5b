import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** The repository root: the pulumi-jit package itself. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..");

/**
 * A Pulumi project that uses pulumi-jit, as a user's would: its node_modules/pulumi-jit is this
 * package. A serialised JitPolicy provider resolves `pulumi-jit/pulumi-runtime` from the
 * program's working directory, so tests that reload providers run with this as their cwd. The
 * `pulumi-jit-source` export condition (set by `npm test`) makes that resolve to the TypeScript
 * sources; without it, to the compiled `dist/`.
 */
export function consumerProject(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), "pulumi-jit-consumer-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(PACKAGE_ROOT, path.join(dir, "node_modules", "pulumi-jit"), "dir");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "0.0.0", private: true }));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
