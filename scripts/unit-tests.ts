// Every unit test file (provider/src/**/*.test.ts) loaded into this one process, so that `npm test`
// starts one Node and TypeScript loader for all of them instead of one per file, and Node's test
// runner still prints one summary for the whole suite. Unit tests are pure or start their own
// servers on free ports; a test that changes process-wide state belongs in test/ instead.
import { readdirSync } from "node:fs";
import * as path from "node:path";

function unitTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? unitTests(path.join(dir, e.name)) : e.name.endsWith(".test.ts") ? [path.join(dir, e.name)] : []))
    .sort();
}

for (const file of unitTests(path.join(__dirname, "..", "provider", "src"))) require(file);
