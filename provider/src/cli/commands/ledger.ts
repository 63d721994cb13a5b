import { Command } from "../commander";
import type { CliContext } from "../context";

export function registerLedger(program: Command, ctx: CliContext): void {
  const ledger = program.command("ledger").description("prepare a ledger's store, or move a ledger to another store");
  ledger
    .command("init")
    .description("create the ledger's tables and indexes in the store --ledger names (idempotent), and record the schema version")
    .addHelpText(
      "after",
      `
Examples:
  jit ledger init --ledger postgres://jit@db.internal:5432/ops?schema=jit
  AZURE_STORAGE_CONNECTION_STRING=... jit ledger init --ledger azuretable://jitledger
  jit ledger init --ledger "dynamodb://jit-ledger?region=eu-west-1"

Shared stores (Azure Table, DynamoDB, PostgreSQL) are prepared once, with credentials allowed to
create tables; everyday commands then only read and write items. A SQLite file needs no init:
commands that record (pulumi up, jit request) create it; init makes an empty one for commands that
only read (jit list, jit audit).`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const out = ctx.output(cmd);
      const { openLedger } = await import("../../ledger/open");
      const opened = await openLedger(ctx.ledgerPath(cmd), { init: true });
      const description = opened.description;
      await opened.close();
      out.result({ ledger: description, ready: true }, () => `ledger ${description} is ready`);
    });
  ledger
    .command("migrate")
    .description("copy every policy, grant and audit entry from one ledger to another (empty) one, then verify counts and the audit chain")
    .requiredOption("--from <path|url>", "the ledger to copy from (opened read-only)")
    .requiredOption("--to <path|url>", "the ledger to copy to (prepared as `jit ledger init` does; must be empty)")
    .addHelpText(
      "after",
      `
Examples:
  jit ledger migrate --from ~/.pulumi-jit/ledger.db --to postgres://jit@db.internal:5432/ops
  jit ledger migrate --from azuretable://jitledger --to "dynamodb://jit-ledger?region=eu-west-1" --json

Stop brokers and sweepers first: grants that change during the copy would be copied as they were.
Audit entries keep their positions and hashes, so the copy verifies against the same chain head.
Grants and policies start again at version 1 in the new store.`,
    )
    .action(async (opts: { from: string; to: string }, cmd: Command) => {
      const out = ctx.output(cmd);
      const { migrateLedger } = await import("../../ledger/migrate");
      const report = await migrateLedger(opts.from, opts.to, (m) => out.progress(m));
      out.result(report, () =>
        `copied ${report.policies} policies, ${report.grants} grants and ${report.auditEntries} audit entries from ${report.from} to ${report.to}; counts match and the audit chain verifies${report.head ? ` (head ${report.head})` : ""}`,
      );
    });
}
