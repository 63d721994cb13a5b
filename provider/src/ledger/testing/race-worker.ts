/**
 * One of two processes racing `updateGrant` on the same grant (see sqlite.test.ts). Arguments:
 * ledger path, grant id, worker name, number of updates to win. It opens the ledger, prints
 * "ready", and starts when a line arrives on stdin, so that both workers start together. Each
 * update appends one NSG-rule change named after the worker and the version it wrote, so the
 * final record shows whether any update was lost. Prints `{wins, conflicts}` as JSON.
 */
import { isJitError } from "../../model/errors";
import { SqliteLedger } from "../sqlite";

async function main(): Promise<void> {
  const [path, grantId, worker, updates] = process.argv.slice(2);
  const ledger = new SqliteLedger(path);
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.pause();
  const wins: number[] = [];
  let conflicts = 0;
  while (wins.length < Number(updates)) {
    const grant = await ledger.getGrant(grantId);
    if (!grant) throw new Error(`grant ${grantId} is missing`);
    const change = {
      kind: "azure-nsg-rule" as const,
      status: "intended" as const,
      nsgId: "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg",
      ruleName: `${worker}-v${grant.version + 1}`,
      priority: 100,
      rule: {},
    };
    try {
      const stored = await ledger.updateGrant(grantId, grant.version, { ...grant, changes: [...grant.changes, change] });
      wins.push(stored.version);
    } catch (err) {
      if (!isJitError(err, "VersionConflict")) throw err;
      conflicts++;
    }
  }
  await ledger.close();
  process.stdout.write(`${JSON.stringify({ wins, conflicts })}\n`);
}

main().catch((err) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err));
  process.exit(1);
});
