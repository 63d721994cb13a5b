import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

// Planning decides and never does I/O: it may use its own modules (in any of its folders: nsg/,
// firewall/, sg/ and the shared ones here) and the model's pure parts only.
const ALLOWED_OUTSIDE = new Set(["../model/address", "../model/errors", "../model/protocol"]);

/** The planning modules, in this folder and its concern folders; test support is not planning. */
function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "testing" ? [] : modules(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Whether `specifier`, imported by `file`, stays inside planning or reaches an allowed model part. */
function allowed(file: string, specifier: string): boolean {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return false;
  const target = relative(__dirname, resolve(dirname(file), specifier)).split(sep).join("/");
  if (target.startsWith("../")) return ALLOWED_OUTSIDE.has(target);
  return target !== "testing" && !target.startsWith("testing/");
}

test("planning modules import nothing that could do I/O", () => {
  // The check itself sees through relative paths, from a concern folder as from here.
  const sample = join(__dirname, "nsg", "allow.ts");
  for (const ok of ["./names", "../port-ranges", "../sg/types", "../../model/address"]) assert.ok(allowed(sample, ok), ok);
  for (const bad of ["../testing/nsg-fixtures", "../../model/policy", "../../azure/nsgs", "node:fs"]) assert.ok(!allowed(sample, bad), bad);
  assert.ok(!allowed(join(__dirname, "index.ts"), "./testing/nsg-fixtures"));

  const files = modules(__dirname);
  assert.ok(files.length > 10);
  for (const folder of ["nsg", "firewall", "sg"]) {
    assert.ok(files.some((f) => relative(__dirname, f).startsWith(folder + sep)), `no modules checked in ${folder}/`);
  }
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import|require\()\s*"([^"]+)"/g)) {
      assert.ok(allowed(file, specifier), `${relative(__dirname, file)} imports "${specifier}"`);
    }
  }
});
