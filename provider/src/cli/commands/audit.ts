import { Command, InvalidArgumentError, Option } from "../commander";
import type { CliContext } from "../context";
import { JitError } from "../../model/errors";

function instant(value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new InvalidArgumentError("expected a date or date-time such as 2030-01-01 or 2030-01-01T12:00:00Z");
  return ms;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command("audit").description("check the audit log's hash chain, or export it for a SIEM");
  audit
    .command("verify")
    .description("walk the audit log oldest first and report any entry that was edited, removed or inserted, with its position")
    .addHelpText(
      "after",
      `
Examples:
  jit audit verify
  jit audit verify --ledger postgres://jit@db.internal:5432/ops --json

Each entry carries the hash of the one before it, so changing the log in the store breaks the chain
where it was changed. Keep the printed head hash elsewhere (or export the log) to also detect a
rewrite of the newest entries. Opens the ledger read-only. Exit 0 when intact, 6 when not.`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const out = ctx.output(cmd);
      const { verifyAuditChain } = await import("../../model/audit");
      await ctx.withAccess(
        cmd,
        async ({ ledger }) => {
          const report = verifyAuditChain(await ledger.readAuditLog());
          if (!report.ok) {
            const list = report.problems.map((p) => `entry ${p.position}: ${p.problem} (${p.detail})`).join("; ");
            throw new JitError("Unavailable", `${ledger.description}: the audit log is not intact: ${list}`, { field: "ledger" });
          }
          out.result({ ledger: ledger.description, ...report }, () =>
            report.entries === 0 ? `ledger ${ledger.description}: the audit log is empty` : `ledger ${ledger.description}: ${report.entries} audit entries, chain intact (head ${report.head})`,
          );
        },
        { readOnly: true },
      );
    });
  audit
    .command("export")
    .description("print audit entries (with their chain hashes) oldest first, one JSON object per line")
    .option("--since <time>", "only entries at or after this time (e.g. 2030-01-01 or 2030-01-01T12:00:00Z)", instant)
    .option("--until <time>", "only entries at or before this time", instant)
    .addOption(new Option("--format <format>", "output format").choices(["jsonl"]).default("jsonl"))
    .addHelpText(
      "after",
      `
Examples:
  jit audit export --since 2030-01-01 > audit.jsonl
  jit audit export --since 2030-01-01T00:00:00Z --format jsonl | your-siem-shipper

Each line is {"seq", "prev", "hash", "event"}: a SIEM can re-check the chain. Opens the ledger read-only.`,
    )
    .action(async (opts: { since?: number; until?: number }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { AuditRecord } = await import("../../model/audit");
      await ctx.withAccess(
        cmd,
        async ({ ledger }) => {
          for (const stored of await ledger.readAuditLog()) {
            const parsed = AuditRecord.safeParse(stored.record);
            if (!parsed.success) throw new JitError("Unavailable", `${ledger.description}: audit entry ${stored.position} is unreadable; run \`jit audit verify\``, { field: "ledger" });
            const time = Date.parse(parsed.data.event.time);
            if ((opts.since !== undefined && time < opts.since) || (opts.until !== undefined && time > opts.until)) continue;
            out.print(`${JSON.stringify(parsed.data)}\n`);
          }
        },
        { readOnly: true },
      );
    });
}
