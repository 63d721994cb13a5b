#!/usr/bin/env node
// The `jit` command. A source checkout runs the TypeScript sources through tsx (a development
// dependency); an installed package, which ships only dist/, runs the compiled CLI.
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(`jit needs Node.js 22 or newer; this is ${process.version}.\n`);
  process.exit(1);
}

// Compiled code cached on disk between runs (Node 22.1+): a command a person types starts faster.
require("node:module").enableCompileCache?.();

const source = path.join(__dirname, "..", "provider", "src", "cli");
const checkout = fs.existsSync(source);
if (checkout) {
  // Both loaders: the CLI loads commands and cloud adapters with dynamic import().
  require("tsx/esm/api").register();
  require("tsx/cjs/api").register();
}
const cli = checkout ? source : path.join(__dirname, "..", "dist", "cli");
const args = process.argv.slice(2);
const help = path.join(cli, "help.txt");
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // The version alone needs no command-line parser: scripts that ask for it on every run get it at once.
  process.stdout.write(`${require(path.join(cli, "version")).packageVersion()}\n`);
} else if (args.length === 1 && (args[0] === "--help" || args[0] === "-h") && fs.existsSync(help)) {
  // Nor does the help: the package build wrote it down (a checkout has no help.txt, and builds it).
  process.stdout.write(fs.readFileSync(help, "utf8"));
} else {
  require(path.join(cli, "main")).main();
}
