// `npm test` starts Node, the TypeScript loader and the cloud SDKs once per process, and that start
// costs more than most test files take to run. So the suite runs in a few shard processes, each
// loading its share of the test files one after another, and Node's test runner runs the shards
// side by side (as many as --test-concurrency) with one summary for the whole suite.
//
// Which files share a process is decided by their name:
// - `*.isolated.test.ts` (under test/) gets a process of its own, as a plain `node --test` file: one
//   that changes process-wide state and leaves it changed, or that needs the machine to itself (the
//   ledger's contention tests start and kill worker processes against a time budget).
// - every other `*.test.ts` (unit tests beside the code in provider/src, end-to-end tests under
//   test/) is loaded into a shard. Tests in a process run one at a time, so such a file may change
//   process-wide state (environment variables, the working directory, Pulumi's runtime mocks, a
//   mocked clock) if it puts it back: a test before it ends, a top-level `before` in the matching
//   `after` (setEnv in test/support/env.ts). Its top-level hooks apply to its own tests only: each
//   file is loaded inside a suite named after it.
//
// A shard is a file in this directory named `<n>.ts` containing `runShard(__filename)`: the shards
// are numbered 1..N, and adding one is copying one. Files are spread over the shards by the seconds
// they took when last measured (weights.json; a file not listed counts as one second), longest
// first onto the least loaded shard, so that the shards end together.
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { describe } from "node:test";
import { z } from "zod";

const ROOT = path.join(__dirname, "..", "..");
const ISOLATED = ".isolated.test.ts";
const DEFAULT_SECONDS = 1;

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" || e.name === "fixtures" ? [] : testFiles(rel);
    return e.name.endsWith(".test.ts") && !e.name.endsWith(ISOLATED) ? [rel] : [];
  });
}

const Weights = z.record(z.string(), z.number().nonnegative());

/** The files of shard `index` (1-based) of `count`, by longest-first onto the least loaded shard. */
export function shardFiles(index: number, count: number): string[] {
  const weights = Weights.parse(JSON.parse(readFileSync(path.join(__dirname, "weights.json"), "utf8")));
  const seconds = (f: string) => weights[f] ?? DEFAULT_SECONDS;
  const files = [...testFiles("provider/src"), ...testFiles("test")].sort((a, b) => seconds(b) - seconds(a) || a.localeCompare(b));
  const shards = Array.from({ length: count }, () => ({ load: 0, files: [] as string[] }));
  for (const file of files) {
    const least = shards.reduce((min, s) => (s.load < min.load ? s : min));
    least.load += seconds(file);
    least.files.push(file);
  }
  return shards[index - 1].files;
}

export function runShard(shardFile: string): void {
  const dir = path.dirname(shardFile);
  const count = readdirSync(dir).filter((f) => /^\d+\.ts$/.test(f)).length;
  const index = Number(path.basename(shardFile, ".ts"));
  for (const file of shardFiles(index, count)) describe(file, () => {
      require(path.join(ROOT, file));
    });
}
