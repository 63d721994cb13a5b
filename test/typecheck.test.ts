// The sources, tests, benchmarks and scripts type-check under the project's strict settings, and so
// do the example programs against them: the tests run the TypeScript through a loader that strips
// types without checking them, so this is where a type error fails `npm test` (and CI, which runs
// `npm ci` and `npm test` as a new user does). `npm run lint` is the same check on its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "..");
const TSC = require.resolve("typescript/bin/tsc");

async function typeCheck(project: string): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [TSC, "-p", project, "--noEmit"], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    assert.fail(`tsc -p ${project} found errors:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

// One program for both (tsconfig.check.json): the sources are read and checked once.
test("the project and the example programs type-check (tsconfig.check.json: provider, tests, benchmarks, scripts, examples)", () => typeCheck("tsconfig.check.json"));
