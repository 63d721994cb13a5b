// A run of `jit` lists every command but defines only the one it runs (cli/program.ts): what it
// prints and parses must be what the program with every command defined prints and parses.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Command } from "commander";
import { CliContext } from "../../provider/src/cli/context";
import { buildProgram, commandListing, rootHelp, type JitCommand } from "../../provider/src/cli/program";
import { jit, shown } from "./support";

const quiet = () => new CliContext({ out: { write: () => true }, err: { write: () => true }, env: {} });

/** The help `words --help` prints from the program with every command defined. */
function fullHelp(words: string[]): string {
  let cmd: Command = buildProgram(quiet());
  for (const word of words) cmd = cmd.commands.find((c) => c.name() === word)!;
  let text = "";
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

/** The run program of `runProgram`, parsed on `argv` with its actions never reached. */
async function parsed(argv: string[]): Promise<JitCommand> {
  const { runProgram } = await import("../../provider/src/cli/program");
  const program = runProgram(quiet(), { code: 0 });
  await program.parseAsync(argv, { from: "user" }).catch((err: { code?: string }) => assert.match(err.code ?? "", /^commander\.help/));
  return program;
}

const defined = (program: Command) => program.commands.filter((c) => (c as JitCommand).listedTerm === undefined).map((c) => c.name());

test("jit --help, jit help <command> and every command's --help print what the fully defined program prints", async () => {
  const top = await jit({}, "--help");
  assert.equal(top.code, 0, shown(top));
  assert.equal(top.stdout, fullHelp([]));
  assert.equal(rootHelp(), top.stdout, "what the package build writes down for bin/jit.js to print");
  for (const { name, hidden } of commandListing()) {
    if (hidden) continue;
    const own = await jit({}, name, "--help");
    assert.equal(own.code, 0, shown(own));
    assert.equal(own.stdout, fullHelp([name]), `jit ${name} --help`);
    const viaHelp = await jit({}, "help", name);
    assert.equal(viaHelp.stdout, own.stdout, `jit help ${name}`);
  }
  const nested = await jit({}, "policy", "show", "--help");
  assert.equal(nested.stdout, fullHelp(["policy", "show"]));
});

test("the listing names every command of the full program once, in its order, with the term and description its help shows", () => {
  const full = buildProgram(quiet());
  const help = full.createHelp();
  const listing = commandListing();
  assert.deepEqual(
    listing.map((c) => c.name),
    full.commands.map((c) => c.name()),
  );
  for (const [i, cmd] of full.commands.entries()) {
    assert.equal(listing[i].term, help.subcommandTerm(cmd));
    assert.equal(listing[i].description, help.subcommandDescription(cmd));
  }
  assert.deepEqual(
    listing.filter((c) => c.hidden).map((c) => c.name),
    ["__complete"],
  );
});

test("a run defines the command it runs (and those defined with it), nothing else", async () => {
  assert.deepEqual(defined(await parsed(["--help"])), []);
  assert.deepEqual(defined(await parsed(["--json", "--ledger", "x.db", "revoke", "--help"])), ["revoke"]);
  assert.deepEqual(defined(await parsed(["help", "extend"])), ["extend"]);
  // approve and deny are defined by one function: asking for one defines both.
  assert.deepEqual(defined(await parsed(["deny", "--help"])).sort(), ["approve", "deny"]);
  const all = (await parsed(["--help"])).defineAll();
  assert.deepEqual(defined(all), buildProgram(quiet()).commands.map((c) => c.name()));
});

test("a command defined on dispatch gets its defaults, a lone --no-* option's true included", async () => {
  const program = await parsed(["rdp", "--help"]);
  const rdp = program.commands.find((c) => c.name() === "rdp")!;
  assert.equal(rdp.getOptionValue("open"), true);
  const list = (await parsed(["list", "--help"])).commands.find((c) => c.name() === "list")!;
  assert.equal(list.getOptionValue("limit"), 100);
});
