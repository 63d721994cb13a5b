import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// Planning decides and never does I/O: it may use its own modules and the model's pure parts only.
const ALLOWED_OUTSIDE = new Set(["../model/address", "../model/errors", "../model/protocol"]);

test("planning modules import nothing that could do I/O", () => {
  const modules = readdirSync(__dirname).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
  assert.ok(modules.length > 10);
  for (const file of modules) {
    const source = readFileSync(join(__dirname, file), "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import|require\()\s*"([^"]+)"/g)) {
      const ok = (specifier.startsWith("./") && !specifier.startsWith("./testing")) || ALLOWED_OUTSIDE.has(specifier);
      assert.ok(ok, `${file} imports "${specifier}"`);
    }
  }
});
