import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The layers' import rules, checked on the source (static and dynamic imports alike):
 * - `access/` is the one use-case layer and knows no cloud: it reaches drivers through the port
 *   (`driver/`) and the composition root (`clouds.ts`);
 * - adapters (`azure/`, `aws/`) act for the use cases and never call back up into them;
 * - the CLI ships without the emulator;
 * - the broker is a face like the CLI: it does its work through `access/`, never around it.
 * (`plan/purity.test.ts` holds the planner to no I/O at all.)
 */
const RULES: { from: string; forbidden: string[]; why: string }[] = [
  { from: "access", forbidden: ["azure", "aws", "emulator"], why: "access knows no cloud" },
  { from: "azure", forbidden: ["access", "cli", "broker", "pulumi"], why: "adapters do not import use cases or faces" },
  { from: "aws", forbidden: ["access", "cli", "broker", "pulumi"], why: "adapters do not import use cases or faces" },
  { from: "driver", forbidden: ["access", "azure", "aws"], why: "the port depends on the model only" },
  { from: "cli", forbidden: ["emulator"], why: "the CLI ships without the emulator" },
  { from: "broker", forbidden: ["azure", "aws", "plan", "emulator", "clouds.ts", "scan"], why: "the broker works through access only" },
  { from: "console", forbidden: ["access", "azure", "aws", "plan", "emulator", "clouds.ts", "scan", "cli", "pulumi"], why: "the console works through the broker's own routes only" },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "testing" ? [] : sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The top-level part of provider/src a relative import lands in (`azure`, `clouds.ts`, ...). */
function landsIn(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const target = relative(__dirname, resolve(dirname(file), specifier));
  if (target.startsWith("..")) return undefined;
  const [top] = target.split(sep);
  return top.includes(".") || !target.includes(sep) ? (top.endsWith(".ts") ? top : `${top}.ts`) : top;
}

test("each layer imports only what it may", () => {
  let checked = 0;
  for (const rule of RULES) {
    for (const file of sources(join(__dirname, rule.from))) {
      checked++;
      const source = readFileSync(file, "utf8");
      for (const [, specifier] of source.matchAll(/(?:from|import\(|require\()\s*"([^"]+)"/g)) {
        const top = landsIn(file, specifier);
        assert.ok(top === undefined || !rule.forbidden.includes(top), `${relative(__dirname, file)} imports "${specifier}" (${rule.why})`);
      }
    }
  }
  assert.ok(checked > 60, `checked ${checked} files`);
});

test("the rule checker sees through relative paths", () => {
  const file = join(__dirname, "access", "request.ts");
  assert.equal(landsIn(file, "../azure/driver"), "azure");
  assert.equal(landsIn(file, "../clouds"), "clouds.ts");
  assert.equal(landsIn(file, "./journal"), "access");
  assert.equal(landsIn(file, "zod"), undefined);
});
