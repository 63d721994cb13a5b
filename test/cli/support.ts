import { ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { run } from "../../provider/src/cli/main";
import type { PolicyResourceInputs } from "../../provider/src/pulumi/inputs";
import * as runtime from "../../provider/src/pulumi/runtime";
import { CloudUnderTest, withEnv } from "../pulumi/clouds";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "jit.js");

export interface JitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs in-process `jit` one at a time: each sets the process's environment while it runs. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs `jit` in this process through `run(argv, streams)`, the function `bin/jit.js` calls, with its
 * own stdout and stderr and `env` as its environment (set on the process too while it runs, for the
 * cloud SDKs, which read it there). Much faster than a process per command; `jitProcess` is for
 * what only a real process shows (exit status, pipes, signals).
 */
export function jit(env: Record<string, string>, ...args: string[]): Promise<JitRun> {
  const next = queue.then(() =>
    withEnv(env, async () => {
      let stdout = "";
      let stderr = "";
      const code = await run(args, { out: { write: (s: string) => (stdout += s) }, err: { write: (s: string) => (stderr += s) }, env: { ...env } });
      return { code, stdout, stderr };
    }),
  );
  queue = next.catch(() => undefined);
  return next;
}

/**
 * Runs `jit` as a user would: `node bin/jit.js ...` in a process of its own, with `env` (plus PATH)
 * as its whole environment, so that it finds its cloud and ledger exactly as it would in a shell.
 * Spawns cost a second or so each: run independent ones together (`Promise.all`).
 */
export async function jitProcess(env: Record<string, string>, ...args: string[]): Promise<JitRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], processOptions(env));
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    // A string code (ENOENT...) means the process never ran: that is the test's failure, not jit's.
    if (typeof failed.code !== "number") throw err;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** Starts `jit` as `jit()` runs it, for a command that runs until it is stopped (`jit daemon`). */
export function startJit(env: Record<string, string>, ...args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], processOptions(env));
}

function processOptions(env: Record<string, string>) {
  return { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env } };
}

/** What `jit` printed, for assertion messages. */
export function shown(run: JitRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/** Registers the cloud's policy in its ledger as `pulumi up` does: the JitPolicy provider's create, with only the environment to go on. */
export async function deployPolicy(under: CloudUnderTest): Promise<void> {
  await withEnv(under.env, () => runtime.create(under.cloud, under.inputs as unknown as PolicyResourceInputs));
}

/** The id of the one VM the cloud's policy covers. */
export function vmOf(under: CloudUnderTest): string {
  return (under.inputs.virtualMachines as { id: string }[])[0].id;
}
