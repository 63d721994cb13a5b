import { CommanderError } from "./commander";
import { errorMessage, isJitError } from "../model/errors";
import { EXIT, exitCodeFor } from "./exit-codes";
import { CliContext, CliStreams } from "./context";
import { processStreams, runProgram } from "./program";

export type { AccessOptionsWithLedger, CliContext, CliStreams, GlobalOptions } from "./context";
export { buildProgram, commandListing, processStreams, rootHelp } from "./program";

/** Runs the CLI on `argv` (without the node and script paths); resolves to the exit code, which `bin/jit.js` exits with. */
export async function run(argv: string[], streams: Partial<CliStreams> = {}): Promise<number> {
  const ctx = new CliContext({ ...processStreams(), ...streams });
  const outcome = { code: EXIT.ok as number };
  const program = runProgram(ctx, outcome);
  try {
    await program.parseAsync(argv, { from: "user" });
    return outcome.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help or the version asked for is a success; help shown because no command was named (`jit`, `jit policy`) is a usage error, as with git.
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    if (argv.includes("--json")) ctx.streams.out.write(`${JSON.stringify({ error: describeError(err) }, null, 2)}\n`);
    else ctx.streams.err.write(`error: ${errorMessage(err)}\n`);
    return exitCodeFor(err);
  }
}

function describeError(err: unknown): Record<string, unknown> {
  if (isJitError(err)) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  return { code: "Failure", message: errorMessage(err) };
}

/**
 * The process's entry point: runs the CLI on the process's arguments and exits with the code the
 * command returned. Output into a pipe whose reader has gone (`jit --help | head -3`) ends the
 * process quietly with 0, as git, az and aws do, rather than with a stack trace.
 */
export function main(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
      process.exit(EXIT.ok);
    });
  }
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}

if (require.main === module) main();
