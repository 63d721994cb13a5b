import { readdirSync } from "node:fs";
import * as path from "node:path";
import { formatRows, Row, runScenario, Scenario } from "./harness";

async function main(): Promise<void> {
  const only = process.argv[2];
  const files = readdirSync(__dirname).filter((f) => f.endsWith(".bench.ts") && (!only || f.includes(only))).sort();
  if (files.length === 0) throw new Error(`no benchmark matches "${only ?? ""}"`);
  const rows: Row[] = [];
  for (const file of files) {
    const mod = (await import(path.join(__dirname, file))) as { scenarios: Scenario[] };
    for (const s of mod.scenarios) {
      process.stderr.write(`running ${s.api} ${s.name}...\n`);
      rows.push(await runScenario(s));
    }
  }
  process.stdout.write(`${formatRows(rows)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
