import { readdirSync } from "node:fs";
import * as path from "node:path";
import { formatRows, jsonRows, Row, runScenario, Scenario } from "./harness";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const only = args.find((a) => !a.startsWith("--"));
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
  process.stdout.write(`${json ? jsonRows(rows) : formatRows(rows)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
