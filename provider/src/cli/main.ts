import { Command, CommanderError } from "commander";
import { isJitError } from "../model/errors";
import { EXIT, EXIT_CODES_HELP, exitCodeFor } from "./exit-codes";
import { createOutput, Output } from "./output";
import { packageVersion } from "./version";
import { registerDaemon } from "./commands/daemon";
import { registerList } from "./commands/list";
import { registerPolicy } from "./commands/policy";
import { registerRequest } from "./commands/request";
import { registerRevoke } from "./commands/revoke";
import { registerRole } from "./commands/role";
import { registerScan } from "./commands/scan";
import { registerServe } from "./commands/serve";
import { registerSweep } from "./commands/sweep";

export type AccessOptionsWithLedger = import("../access").AccessOptions & { ledger: import("../ledger").Ledger };

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  ledger?: string;
}

/** Lets each command get the output and access options the global flags describe. */
export interface CliContext {
  output(cmd: Command): Output;
  globals(cmd: Command): GlobalOptions;
  /** Runs `work` with the ledger `--ledger` names (or the default one) open and progress on stderr; closes the ledger after. */
  withAccess<T>(cmd: Command, work: (options: AccessOptionsWithLedger) => Promise<T>): Promise<T>;
}

export function buildProgram(): Command {
  const program = new Command("jit")
    .description("Just-in-time network access to Azure and AWS VMs.")
    .addHelpText(
      "before",
      "A JitPolicy (a Pulumi resource) keeps management ports closed; `jit request` opens one port, from one\n" +
        "address, for a bounded time; `jit sweep` (or `jit daemon`) closes it again when the time is up.\n",
    )
    .version(packageVersion(), "-V, --version")
    .option("--json", "print machine-readable JSON on stdout (progress and warnings stay on stderr)")
    .option("-q, --quiet", "print no progress")
    .option("--ledger <path>", "the ledger file (default: $JIT_LEDGER or ~/.pulumi-jit/ledger.db)")
    .addHelpText("after", `\n${EXIT_CODES_HELP}\n\nEnvironment:\n  JIT_LEDGER            the ledger file\n  AZURE_* / AWS_*       the clouds' usual credentials (DefaultAzureCredential, the AWS default chain)\n  JIT_AZURE_ENDPOINT    another ARM endpoint (sovereign clouds, the local emulator)\n  JIT_AZURE_CA_FILE     a CA certificate (PEM) to trust for that endpoint\n  JIT_AZURE_TOKEN       an ARM bearer token to use instead of DefaultAzureCredential`)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  const ctx: CliContext = {
    globals: (cmd) => cmd.optsWithGlobals() as GlobalOptions,
    output: (cmd) => createOutput(cmd.optsWithGlobals() as GlobalOptions),
    async withAccess(cmd, work) {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const out = createOutput(g);
      const ledger = await (await import("../ledger")).openLedger(g.ledger);
      try {
        return await work({ ledger, progress: (m: string) => out.progress(m) });
      } finally {
        await ledger.close();
      }
    },
  };

  registerRequest(program, ctx);
  registerList(program, ctx);
  registerRevoke(program, ctx);
  registerSweep(program, ctx);
  registerDaemon(program, ctx);
  registerPolicy(program, ctx);
  registerRole(program, ctx);
  registerScan(program, ctx);
  registerServe(program, ctx);
  return program;
}

/** Runs the CLI; resolves to the exit code. */
export async function run(argv: string[], streams = { err: process.stderr }): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? EXIT.ok : EXIT.usage;
    }
    const json = argv.includes("--json");
    if (json) {
      process.stdout.write(`${JSON.stringify({ error: describeError(err) }, null, 2)}\n`);
    } else {
      streams.err.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return exitCodeFor(err);
  }
}

function describeError(err: unknown): Record<string, unknown> {
  if (isJitError(err)) return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  return { code: "Failure", message: err instanceof Error ? err.message : String(err) };
}

if (require.main === module) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
