import { Command, CommanderError } from "commander";
import { isJitError } from "../model/errors";
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./exit-codes";
import { CliContext, CliStreams } from "./context";
import { packageVersion } from "./version";
import { LEDGER_URL_HELP } from "./ledger-help";
import { registerApprove } from "./commands/approve";
import { registerAudit } from "./commands/audit";
import { registerCompletion } from "./commands/completion";
import { registerDaemon } from "./commands/daemon";
import { registerLedger } from "./commands/ledger";
import { registerList } from "./commands/list";
import { registerPolicy } from "./commands/policy";
import { registerRequest } from "./commands/request";
import { registerRevoke } from "./commands/revoke";
import { registerRole } from "./commands/role";
import { registerScan } from "./commands/scan";
import { registerServe } from "./commands/serve";
import { registerSweep } from "./commands/sweep";

export type { AccessOptionsWithLedger, CliContext, CliStreams, GlobalOptions } from "./context";

/** The commands, in the order `jit --help` lists them. */
const COMMANDS: ((program: Command, ctx: CliContext) => void)[] = [
  registerRequest,
  registerList,
  registerRevoke,
  registerApprove,
  registerSweep,
  registerDaemon,
  registerPolicy,
  registerRole,
  registerScan,
  registerServe,
  registerLedger,
  registerAudit,
  registerCompletion,
];

/** An action's exit code: what it returned, or 0 when it returned nothing. */
type ActionResult = number | void;

declare module "commander" {
  interface Command {
    /** Every command of `jit` is a JitCommand, whose action may return its exit code. */
    action(fn: (this: this, ...args: any[]) => ActionResult | Promise<ActionResult>): this;
  }
}

/**
 * A command whose action may return its exit code. The code travels back to `run` through the
 * `outcome` every subcommand shares with the program, so that there is one path from a command to
 * the process's exit status and nothing (such as `process.exitCode`) for a later exit to override.
 */
class JitCommand extends Command {
  constructor(
    name: string | undefined,
    readonly outcome: { code: number },
  ) {
    super(name);
  }

  override createCommand(name?: string): JitCommand {
    return new JitCommand(name, this.outcome);
  }

  override action(fn: (this: this, ...args: any[]) => ActionResult | Promise<ActionResult>): this {
    const outcome = this.outcome;
    return super.action(async function (this: JitCommand, ...args: unknown[]) {
      const code = await fn.apply(this as never, args);
      outcome.code = typeof code === "number" ? code : EXIT.ok;
    });
  }
}

export function buildProgram(ctx = new CliContext(processStreams()), outcome = { code: EXIT.ok as number }): Command {
  const { out, err } = ctx.streams;
  const program = new JitCommand("jit", outcome)
    .description("Just-in-time network access to Azure and AWS VMs.")
    .addHelpText(
      "before",
      "A JitPolicy (a Pulumi resource) keeps management ports closed; `jit request` opens one port, from one\n" +
        "address, for a bounded time; `jit sweep` (or `jit daemon`) closes it again when the time is up.\n",
    )
    .version(packageVersion(), "-V, --version")
    .option("--json", "print machine-readable JSON on stdout (progress and warnings stay on stderr)")
    .option("-q, --quiet", "print no progress")
    .option("--ledger <path|url>", "the ledger: a SQLite file or a shared store's URL (default: $JIT_LEDGER or ~/.pulumi-jit/ledger.db)")
    .addHelpText(
      "after",
      `\n${EXIT_CODES_HELP}\n\n${LEDGER_URL_HELP}\n\nEnvironment:\n  JIT_LEDGER            the ledger (a file or a URL, as --ledger)\n  AZURE_* / AWS_*       the clouds' usual credentials (DefaultAzureCredential, the AWS default chain)\n  AWS_REGION            the region of instances given by bare id (else AWS_DEFAULT_REGION, else the profile's;\n                        a JitPolicy in a Pulumi program falls back to the stack's aws:region)\n  JIT_AZURE_ENDPOINT    another ARM endpoint (sovereign clouds, the local emulator)\n  JIT_AZURE_CA_FILE     a CA certificate (PEM) to trust for that endpoint\n  JIT_AZURE_TOKEN       an ARM bearer token to use instead of DefaultAzureCredential`,
    )
    // Set before the commands are added: each inherits it, so help and usage errors go to the run's streams.
    .configureOutput({ writeOut: (s) => void out.write(s), writeErr: (s) => void err.write(s) })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** The process's own streams and environment: what `bin/jit.js` runs the CLI with. */
export function processStreams(): CliStreams {
  return { out: process.stdout, err: process.stderr, env: process.env };
}

/** Runs the CLI on `argv` (without the node and script paths); resolves to the exit code, which `bin/jit.js` exits with. */
export async function run(argv: string[], streams: Partial<CliStreams> = {}): Promise<number> {
  const ctx = new CliContext({ ...processStreams(), ...streams });
  const outcome = { code: EXIT.ok as number };
  const program = buildProgram(ctx, outcome);
  try {
    await program.parseAsync(argv, { from: "user" });
    return outcome.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help or the version asked for is a success; help shown because no command was named (`jit`, `jit policy`) is a usage error, as with git.
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    if (argv.includes("--json")) ctx.streams.out.write(`${JSON.stringify({ error: describeError(err) }, null, 2)}\n`);
    else ctx.streams.err.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return exitCodeFor(err);
  }
}

function describeError(err: unknown): Record<string, unknown> {
  if (isJitError(err)) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  return { code: "Failure", message: err instanceof Error ? err.message : String(err) };
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
