// The package build: the TypeScript compiler writes dist/ (tsconfig.build.json), then commander,
// which is published as ES modules only, is bundled into the CLI's one entry to it
// (dist/cli/commander.js) as CommonJS, so that `jit` never starts Node's ESM loader. Commander
// needs child_process only to run external subcommands, which `jit` has none of: the bundle loads
// it on first use rather than pay for it (and the net and dgram modules it pulls in) on every start.
// Then the CLI's own modules (dist/cli: the parser, every command's definition) are bundled into
// dist/cli/main.js, so that `jit --help` reads and compiles one file instead of some twenty-five;
// everything outside dist/cli (the use cases, the ledger, the cloud adapters, which the commands load
// only when they run) stays a require of the compiled file beside it. Last, what `jit --help` lists
// is read off the built program into dist/cli/commands.json: a run then lists the commands from it
// and defines only the one it runs (cli/program.ts); and `jit --help` itself, which is the same text
// on every run, into dist/cli/help.txt, which bin/jit.js prints without building the program.
// `node scripts/build.js [--outDir <dir>]`; the startup benchmark builds a package this way.
"use strict";
const { execFileSync } = require("node:child_process");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const at = process.argv.indexOf("--outDir");
const outDir = at === -1 ? path.join(ROOT, "dist") : path.resolve(process.argv[at + 1]);

execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", outDir], { cwd: ROOT, stdio: "inherit" });
const esbuild = require("esbuild");
const cli = path.join(outDir, "cli");
/** One CommonJS file for Node 22 from `entry`, with `plugin` deciding what stays outside it. */
const bundle = (entry, outfile, plugin) =>
  esbuild.build({ entryPoints: [entry], outfile, allowOverwrite: true, bundle: true, platform: "node", format: "cjs", target: "node22", logLevel: "warning", plugins: [plugin] });

bundle(path.join(ROOT, "provider", "src", "cli", "commander.ts"), path.join(cli, "commander.js"), {
  name: "lazy-child-process",
  setup(build) {
    // Commander's import resolves to the proxy; the proxy's own require to Node's module.
    build.onResolve({ filter: /^node:child_process$/ }, (args) => (args.namespace === "lazy" ? { path: args.path, external: true } : { path: "child_process", namespace: "lazy" }));
    build.onLoad({ filter: /.*/, namespace: "lazy" }, () => ({
      contents: 'module.exports = new Proxy({}, { get: (_, name) => require("node:child_process")[name] });',
      loader: "js",
    }));
  },
})
  .then(() =>
    bundle(path.join(cli, "main.js"), path.join(cli, "main.js"), {
      name: "cli-only",
      setup(build) {
        build.onResolve({ filter: /^\./ }, (args) => {
          const target = path.resolve(args.resolveDir, args.path);
          const inCli = target.startsWith(cli + path.sep) && target !== path.join(cli, "commander");
          return inCli ? undefined : { path: `./${path.relative(cli, target).split(path.sep).join("/")}`, external: true };
        });
      },
    }),
  )
  .then(() => {
    const { commandListing, rootHelp } = require(path.join(cli, "main.js"));
    const fs = require("node:fs");
    fs.writeFileSync(path.join(cli, "commands.json"), `${JSON.stringify(commandListing(), null, 2)}\n`);
    fs.writeFileSync(path.join(cli, "help.txt"), rootHelp());
  })
  .catch((err) => {
    if (err?.errors === undefined) console.error(err);
    process.exit(1);
  });
