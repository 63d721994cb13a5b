import { Command } from "../commander";
import type { CliContext } from "../context";
import { EXIT } from "../exit-codes";
import type { SweepReport } from "../../access";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface SweepFlags {
  subscription?: string[];
  region?: string[];
  abandonedAfter?: string;
  repair: boolean;
}

export function sweepOptionsFrom(ctx: CliContext, opts: SweepFlags) {
  const { parseDuration } = ctx.modules.model;
  const scope =
    opts.subscription || opts.region ? { ...(opts.subscription ? { azureSubscriptions: opts.subscription } : {}), ...(opts.region ? { awsRegions: opts.region } : {}) } : undefined;
  return {
    ...(scope ? { scope } : {}),
    ...(opts.abandonedAfter ? { abandonedAfterMs: parseDuration(opts.abandonedAfter) } : {}),
    repairBaselines: opts.repair,
  };
}

export function addSweepFlags(cmd: Command): Command {
  return cmd
    .option("--subscription <id>", "Azure subscription to search for orphaned rules (repeatable; default: those of the ledger's policies)", collect)
    .option("--region <name>", "AWS region to search for orphaned groups and rules (repeatable; default: those of the ledger's policies)", collect)
    .option("--abandoned-after <iso>", "treat grants still being opened after this long as abandoned (default PT15M)")
    .option("--no-repair", "do not put back missing or altered deny rules");
}

export function registerSweep(program: Command, ctx: CliContext): void {
  addSweepFlags(
    program
      .command("sweep")
      .description("close every expired grant, remove orphaned JIT rules, and put back missing deny rules")
      .addHelpText(
        "after",
        `
Examples:
  jit sweep
  jit sweep --region eu-west-1 --json

Idempotent and safe to run from several places at once. Finds rules of ours in the cloud by the
grant id and expiry stamped on them, even when the ledger has no record of them.`,
      ),
  ).action(async (opts: SweepFlags, cmd: Command) => {
    const out = ctx.output(cmd);
    return ctx.withAccess(cmd, async (options) => {
      const report = await ctx.modules.access.sweep({ ...options, ...sweepOptionsFrom(ctx, opts) });
      out.result(report, () => describeSweep(report));
      // The report says what failed; the code lets cron and CI see that something did.
      return sweepFailed(report) ? EXIT.cloud : EXIT.ok;
    });
  });
}

/** Whether the sweep left something it should have closed, removed or repaired. */
export function sweepFailed(r: SweepReport): boolean {
  return r.failed.length > 0 || r.orphans.some((o) => o.action === "failed") || r.baselines.some((b) => b.error !== undefined);
}

export function describeSweep(r: SweepReport): string {
  // A run that changed nothing says so in one line, rather than as three counts of zero.
  if (!r.restored.length && !r.opened.length && !r.failed.length && !r.orphans.length && !r.baselines.some((b) => b.repaired || b.error)) {
    const checked = r.baselines.length ? `; ${r.baselines.length} policy baseline(s) checked, all in place` : "";
    return `Nothing to do: no grant was due and no orphaned rule or group was found${checked}.`;
  }
  const lines = [
    `${r.restored.length} grant(s) closed${r.restored.length ? `: ${r.restored.map((x) => `${x.grantId} (${x.state})`).join(", ")}` : ""}`,
    ...(r.opened.length ? [`${r.opened.length} scheduled grant(s) opened: ${r.opened.map((x) => x.grantId).join(", ")}`] : []),
    `${r.orphans.filter((o) => o.action === "removed").length} orphaned rule(s) or group(s) removed`,
    `${r.baselines.filter((b) => b.repaired).length} policy baseline(s) repaired`,
  ];
  for (const f of r.failed) lines.push(`FAILED grant ${f.grantId}: ${f.error}`);
  for (const o of r.orphans.filter((x) => x.action === "failed")) lines.push(`FAILED orphan ${o.name} in ${o.container}: ${o.error}`);
  for (const b of r.baselines.filter((x) => x.error)) lines.push(`FAILED policy ${b.policy}: ${b.error}`);
  return lines.join("\n");
}
