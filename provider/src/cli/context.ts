import type { Command } from "./commander";
import { createOutput, Output, Sink } from "./output";

export type AccessOptionsWithLedger = import("../access").AccessOptions & { ledger: import("../ledger").Ledger };

export interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
  ledger?: string;
}

/** Where a run of the CLI reads and writes: the process's own streams and environment, or a test's. */
export interface CliStreams {
  out: Sink;
  err: Sink;
  env: NodeJS.ProcessEnv;
}

/**
 * The modules commands use, each loaded the first time a command touches it. Commands reach them
 * only through here, so that `jit --help`, `jit --version` and `jit completion` load no cloud SDK,
 * no schema and no ledger: startup time is what a person waits for on every command.
 */
export const modules = {
  get access() {
    return require("../access") as typeof import("../access");
  },
  get policies() {
    return require("../access/policies") as typeof import("../access/policies");
  },
  get ledger() {
    return require("../ledger") as typeof import("../ledger");
  },
  get model() {
    return require("../model") as typeof import("../model");
  },
  get defender() {
    return require("../model/defender") as typeof import("../model/defender");
  },
  get scan() {
    return require("../scan") as typeof import("../scan");
  },
  get roles() {
    return require("../roles") as typeof import("../roles");
  },
  get vms() {
    return require("./commands/vms") as typeof import("./commands/vms");
  },
};

/** What every command is given: the run's streams, its global flags, the ledger, and the lazily loaded modules. */
export class CliContext {
  readonly modules = modules;

  constructor(readonly streams: CliStreams) {}

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals() as GlobalOptions;
  }

  output(cmd: Command): Output {
    return createOutput(this.globals(cmd), this.streams);
  }

  /** The ledger `--ledger` names, else `$JIT_LEDGER` of the run's environment, else the default file. */
  ledgerPath(cmd: Command): string {
    return this.globals(cmd).ledger ?? this.modules.ledger.defaultLedgerPath(this.streams.env);
  }

  /** Runs `work` with the ledger open (read-only for commands that only read) and progress on stderr; closes the ledger after, however `work` ends. */
  async withAccess<T>(cmd: Command, work: (options: AccessOptionsWithLedger) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
    const out = this.output(cmd);
    const ledger = await this.modules.ledger.openLedger(this.ledgerPath(cmd), options);
    try {
      return await work({ ledger, progress: (m: string) => out.progress(m) });
    } finally {
      await ledger.close();
    }
  }
}
