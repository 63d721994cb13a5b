import { Command } from "../commander";
import type { CliContext } from "../context";
import { SweepFlags, addSweepFlags, describeSweep, sweepOptionsFrom } from "./sweep";

export function registerDaemon(program: Command, ctx: CliContext): void {
  addSweepFlags(
    program
      .command("daemon")
      .description("sweep, sleep until the next grant ends, and repeat (stop with Ctrl-C or SIGTERM)")
      .option("--max-interval <iso>", "sweep at least this often, for orphans and drift (default PT5M)")
      .addHelpText(
        "after",
        `
Examples:
  jit daemon
  jit daemon --max-interval PT1M --json >> /var/log/jit-daemon.jsonl

Keeps no state of its own: a restarted daemon carries on from the ledger, and several may run at
once.`,
      ),
  ).action(async (opts: SweepFlags & { maxInterval?: string }, cmd: Command) => {
    const out = ctx.output(cmd);
    const { parseDuration } = ctx.modules.model;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      await ctx.withAccess(cmd, async (options) => {
        await ctx.modules.access.runDaemon({
          ...options,
          ...sweepOptionsFrom(ctx, opts),
          ...(opts.maxInterval ? { maxIntervalMs: parseDuration(opts.maxInterval) } : {}),
          signal: stop.signal,
          onSweep: (report, nextAt) => {
            if (out.json) out.print(`${JSON.stringify({ ...report, nextAt: nextAt.toISOString() })}\n`);
            else out.progress(`${new Date().toISOString()} ${describeSweep(report).replace(/\n/g, "; ")}; next sweep ${nextAt.toISOString()}`);
          },
        });
      });
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  });
}
