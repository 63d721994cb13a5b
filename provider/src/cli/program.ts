import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Command, Help, type ParseOptionsResult } from "./commander";
import { EXIT, EXIT_CODES_HELP } from "./exit-codes";
import { CliContext } from "./context";
import { packageVersion } from "./version";
import { LEDGER_URL_HELP } from "./ledger-help";

type Register = (program: Command, ctx: CliContext) => void;

/**
 * The commands' definitions, in the order `jit --help` lists them. Each module is loaded when its
 * commands are defined, so that a run loads only the one it runs.
 */
const REGISTERS: (() => Register)[] = [
  () => (require("./commands/request") as typeof import("./commands/request")).registerRequest,
  () => (require("./commands/connect") as typeof import("./commands/connect")).registerSsh,
  () => (require("./commands/connect") as typeof import("./commands/connect")).registerRdp,
  () => (require("./commands/connect") as typeof import("./commands/connect")).registerConnect,
  () => (require("./commands/list") as typeof import("./commands/list")).registerList,
  () => (require("./commands/extend") as typeof import("./commands/extend")).registerExtend,
  () => (require("./commands/revoke") as typeof import("./commands/revoke")).registerRevoke,
  () => (require("./commands/approve") as typeof import("./commands/approve")).registerApprove,
  () => (require("./commands/sweep") as typeof import("./commands/sweep")).registerSweep,
  () => (require("./commands/daemon") as typeof import("./commands/daemon")).registerDaemon,
  () => (require("./commands/policy") as typeof import("./commands/policy")).registerPolicy,
  () => (require("./commands/role") as typeof import("./commands/role")).registerRole,
  () => (require("./commands/scan") as typeof import("./commands/scan")).registerScan,
  () => (require("./commands/serve") as typeof import("./commands/serve")).registerServe,
  () => (require("./commands/ledger") as typeof import("./commands/ledger")).registerLedger,
  () => (require("./commands/audit") as typeof import("./commands/audit")).registerAudit,
  () => (require("./commands/completion") as typeof import("./commands/completion")).registerCompletion,
];

/** A command as `jit --help` lists it, and which of REGISTERS defines it. */
export interface ListedCommand {
  name: string;
  term: string;
  description: string;
  hidden: boolean;
  register: number;
}

/** An action's exit code: what it returned, or 0 when it returned nothing. */
type ActionResult = number | void;

declare module "commander" {
  interface Command {
    /** Every command of `jit` is a JitCommand, whose action may return its exit code. */
    action(fn: (this: this, ...args: any[]) => ActionResult | Promise<ActionResult>): this;
  }
}

/** The help of a command whose subcommands may be listed before they are defined (see JitCommand.listedTerm). */
class JitHelp extends Help {
  override subcommandTerm(cmd: Command): string {
    return (cmd instanceof JitCommand && cmd.listedTerm) || super.subcommandTerm(cmd);
  }
}

/**
 * A command whose action may return its exit code. The code travels back to `run` through the
 * `outcome` every subcommand shares with the program, so that there is one path from a command to
 * the process's exit status and nothing (such as `process.exitCode`) for a later exit to override.
 *
 * The program of a run lists every command but defines only the one the run dispatches to: the
 * others stay as listed (name, term and description, from `commandListing`), because building
 * every command's options and help costs more than all the rest of `jit --help`.
 */
export class JitCommand extends Command {
  /** The term `jit --help` shows for this command while it is only listed. */
  listedTerm?: string;
  /** The root's commands that are listed but not defined yet, by name, and how to define them. */
  private readonly listed = new Map<string, { command: JitCommand; register: number }>();
  private defineFrom?: (register: number) => void;

  constructor(
    name: string | undefined,
    readonly outcome: { code: number },
  ) {
    super(name);
  }

  override createCommand(name?: string): JitCommand {
    return new JitCommand(name, this.outcome);
  }

  override createHelp(): Help {
    return Object.assign(new JitHelp(), this.configureHelp());
  }

  override action(fn: (this: this, ...args: any[]) => ActionResult | Promise<ActionResult>): this {
    const outcome = this.outcome;
    return super.action(async function (this: JitCommand, ...args: unknown[]) {
      const code = await fn.apply(this as never, args);
      outcome.code = typeof code === "number" ? code : EXIT.ok;
    });
  }

  // A definition asking for a command that is only listed gets that command, to define in place.
  override command(nameAndArgs: string, ...rest: any[]): any {
    const listed = this.listed.get(nameAndArgs);
    if (!listed) return (super.command as (...args: unknown[]) => unknown)(nameAndArgs, ...rest);
    this.listed.delete(nameAndArgs);
    listed.command.listedTerm = undefined;
    return listed.command;
  }

  /** Lists `commands` without defining them; `define` defines those of one of REGISTERS. */
  listCommands(commands: ListedCommand[], define: (register: number) => void): void {
    this.defineFrom = define;
    for (const c of commands) {
      const command = (super.command as (name: string, opts: object) => JitCommand)(c.name, { hidden: c.hidden }).description(c.description);
      command.listedTerm = c.term;
      this.listed.set(c.name, { command, register: c.register });
    }
  }

  /** Defines the listed command `name` (and the others its definition makes), if it is only listed. */
  define(name: string | undefined): void {
    const listed = name === undefined ? undefined : this.listed.get(name);
    if (listed) this.defineFrom?.(listed.register);
  }

  /** Defines every listed command: for what describes them all, such as a completion script. */
  defineAll(): this {
    for (const name of [...this.listed.keys()]) this.define(name);
    return this;
  }

  // Before commander looks for the command to dispatch to, and reads that command's options, the
  // command (`jit help <command>` names it second) is defined.
  override parseOptions(args: string[]): ParseOptionsResult {
    const parsed = super.parseOptions(args);
    const [first, second] = parsed.operands;
    this.define(first === "help" ? second : first);
    return parsed;
  }
}

const HELP_WIDTH = 80;

/** The program with its global options and no commands. */
function root(ctx: CliContext, outcome: { code: number }): JitCommand {
  const { out, err } = ctx.streams;
  return (
    new JitCommand("jit", outcome)
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
      // Set before the commands are added: each inherits it, so help and usage errors go to the run's
      // streams. Help is the same text in a terminal of any width, a pipe or a file (80 columns, no
      // colour), which is what lets the package build write `jit --help` down in advance (rootHelp).
      .configureOutput({
        writeOut: (s) => void out.write(s),
        writeErr: (s) => void err.write(s),
        getOutHelpWidth: () => HELP_WIDTH,
        getErrHelpWidth: () => HELP_WIDTH,
        getOutHasColors: () => false,
        getErrHasColors: () => false,
      })
      .showHelpAfterError("(run with --help for usage)")
      .exitOverride()
  );
}

/** The program with every command defined: for what walks all of them (tests, the listing). */
export function buildProgram(ctx = new CliContext(processStreams()), outcome = { code: EXIT.ok as number }): JitCommand {
  const program = root(ctx, outcome);
  for (const register of REGISTERS) register()(program, ctx);
  return program;
}

/** What `jit --help` lists, read off the program with every command defined. The package build writes it down (commands.json). */
export function commandListing(): ListedCommand[] {
  const quiet = { write: () => true };
  const ctx = new CliContext({ out: quiet, err: quiet, env: {} });
  const program = root(ctx, { code: EXIT.ok });
  const definedBy = REGISTERS.flatMap((register, index) => {
    const before = program.commands.length;
    register()(program, ctx);
    return program.commands.slice(before).map((cmd) => ({ cmd, index }));
  });
  const help = program.createHelp();
  const visible = help.visibleCommands(program);
  return definedBy.map(({ cmd, index }) => ({
    name: cmd.name(),
    term: help.subcommandTerm(cmd),
    description: help.subcommandDescription(cmd),
    hidden: !visible.includes(cmd),
    register: index,
  }));
}

/** What `jit --help` prints. The package build writes it down (help.txt), for bin/jit.js to print without building the program. */
export function rootHelp(): string {
  let text = "";
  const ctx = new CliContext({ out: { write: (s: string) => (text += s) }, err: { write: () => true }, env: {} });
  buildProgram(ctx).outputHelp();
  return text;
}

/** The listing the package build wrote beside this file, or, in a source checkout, the one read off the program. */
let listing: ListedCommand[] | undefined;
function commandsListed(): ListedCommand[] {
  const file = path.join(__dirname, "commands.json");
  return (listing ??= existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ListedCommand[]) : commandListing());
}

/** The program of one run: every command listed, each defined only when the run dispatches to it. */
export function runProgram(ctx: CliContext, outcome: { code: number }): JitCommand {
  const program = root(ctx, outcome);
  program.listCommands(commandsListed(), (register) => REGISTERS[register]()(program, ctx));
  return program;
}

/** The process's own streams and environment: what `bin/jit.js` runs the CLI with. */
export function processStreams(): CliContext["streams"] {
  return { out: process.stdout, err: process.stderr, env: process.env };
}
