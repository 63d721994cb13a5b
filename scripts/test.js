// `npm test`: the whole suite in two runs of Node's test runner, side by side, and one verdict.
// - Unit tests (provider/src/**/*.test.ts) are pure or start their own servers on free ports, so
//   they share one process: no Node and TypeScript loader start per file.
// - End-to-end tests (test/**/*.test.ts) set the process's environment, start shared stores and
//   spawn the CLI, so each file keeps a process of its own, two at a time.
// The unit run's report is printed as one block when it ends, then the end-to-end run's as it
// comes; the last line totals both, and the exit status fails if either run failed.
"use strict";
const { spawn } = require("node:child_process");

const NODE_TEST = ["--conditions=pulumi-jit-source", "--import", "tsx", "--test", "--test-reporter=spec"];
const RUNS = [
  { name: "unit", args: [...NODE_TEST, "--experimental-test-isolation=none", "provider/src/**/*.test.ts"], live: false },
  { name: "end to end", args: [...NODE_TEST, "--test-concurrency=2", "test/**/*.test.ts"], live: true },
];
// Extra arguments go to both runs (`npm test -- --test-name-pattern=...`).
const extra = process.argv.slice(2);

/** The spec reporter's closing counts ("ℹ pass 12"), read from a run's output. */
function counts(output) {
  const found = {};
  for (const m of output.matchAll(/^\u2139 (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) found[m[1]] = Number(m[2]);
  return found;
}

function start(run) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...run.args, ...extra], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (run.live) process.stdout.write(chunk);
    });
    child.on("close", (code, signal) => {
      if (!run.live) process.stdout.write(`\n--- ${run.name} tests (one process)\n${output}`);
      resolve({ ...run, code: code ?? 1, signal, counts: counts(output) });
    });
  });
}

Promise.all(RUNS.map(start)).then((results) => {
  const total = (key) => results.reduce((sum, r) => sum + (r.counts[key] ?? 0), 0);
  const failed = results.filter((r) => r.code !== 0);
  const parts = results.map((r) => `${r.name}: ${r.counts.pass ?? 0}/${r.counts.tests ?? 0} passed${r.code === 0 ? "" : `, exit ${r.signal ?? r.code}`}`);
  const verdict = failed.length === 0 ? "PASS" : `FAIL (${failed.map((r) => r.name).join(", ")})`;
  process.stdout.write(
    `\npulumi-jit tests: ${verdict}: ${total("pass")} of ${total("tests")} passed, ${total("fail")} failed, ${total("cancelled")} cancelled, ${total("skipped")} skipped (${parts.join("; ")})\n`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
});
