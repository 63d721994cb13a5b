// How the engine finds the plugin: the name it derives from the schema, the npm package's bin
// entry and files, and PulumiPlugin.yaml's entry point, which the build must produce.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { packageSchema } from "../../provider/src/plugin/schema";
import { ROOT } from "./support";

const yaml = require("js-yaml") as { load(text: string): unknown };

test("the package ships the plugin under the name the engine derives from the schema", () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string>; files: string[] };
  const name = `pulumi-resource-${packageSchema().doc.name}`;
  assert.equal(pkg.bin[name], `bin/${name}`);
  assert.ok(existsSync(path.join(ROOT, pkg.bin[name])));
  for (const shipped of ["dist", "bin", "schema.json", "PulumiPlugin.yaml"]) assert.ok(pkg.files.includes(shipped), `package.json files has ${shipped}`);
});

test("PulumiPlugin.yaml starts the compiled plugin entry point", () => {
  const manifest = yaml.load(readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8")) as { runtime: { name: string; options?: Record<string, unknown> }; main: string };
  assert.equal(manifest.runtime.name, "nodejs");
  assert.equal(manifest.runtime.options?.typescript, false, "the entry point is JavaScript; no ts-node");
  // The build compiles provider/src to dist (tsconfig.build.json): the entry point's source must exist.
  const build = JSON.parse(readFileSync(path.join(ROOT, "tsconfig.build.json"), "utf8")) as { compilerOptions: { rootDir: string; outDir: string } };
  const relative = path.relative(build.compilerOptions.outDir, manifest.main).replace(/\.js$/, ".ts");
  assert.ok(!relative.startsWith(".."), `${manifest.main} is inside ${build.compilerOptions.outDir}`);
  assert.ok(existsSync(path.join(ROOT, build.compilerOptions.rootDir, relative)), `${relative} is the plugin's source`);
  assert.equal(path.join(build.compilerOptions.rootDir, relative), path.join("provider", "src", "plugin", "main.ts"));
});
