// What `jit` says about itself, and `jit policy validate`: commands that need no cloud.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { buildProgram } from "../../provider/src/cli/main";
import { fromDefenderPolicy } from "../../provider/src/model";
import { jit, jitProcess, shown } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
/** A Defender policy as its REST API's published example creates and returns it. */
const DEFENDER_EXAMPLE = path.join(
  ROOT,
  "specs/azure/security/resource-manager/Microsoft.Security/stable/2020-01-01/examples/JitNetworkAccessPolicies/CreateJitNetworkAccessPolicy_example.json",
);

/** Every command, with the words that run it (`policy show`). */
function commands(cmd: Command, words: string[] = []): { words: string; cmd: Command }[] {
  // `__complete` is the completion scripts' own, hidden from --help.
  return cmd.commands.filter((c) => !c.name().startsWith("__")).flatMap((c) => [{ words: [...words, c.name()].join(" "), cmd: c }, ...commands(c, [...words, c.name()])]);
}

/** The help a command prints, the text added after it included. */
function helpOf(cmd: Command): string {
  let text = "";
  cmd.configureOutput({ writeOut: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

test("jit --version, jit --help and a command's --help, as printed by the command itself", async () => {
  const [version, help, requestHelp] = await Promise.all([jitProcess({}, "--version"), jitProcess({}, "--help"), jitProcess({}, "request", "--help")]);
  assert.equal(version.code, 0, shown(version));
  assert.equal(version.stdout, `${PACKAGE.version}\n`);

  assert.equal(help.code, 0, shown(help));
  for (const name of ["request", "list", "revoke", "sweep", "daemon", "policy", "role", "scan", "serve", "ledger", "audit", "completion"]) assert.match(help.stdout, new RegExp(`^  ${name} `, "m"), `jit --help lists ${name}`);
  assert.match(help.stdout, /^Exit codes:\n {2}0 {2}success\n {2}1 .*\n {2}2 .*\n {2}3 .*\n {2}4 .*\n {2}5 .*$/m);
  assert.match(help.stdout, /^Environment:\n {2}JIT_LEDGER /m);
  assert.ok(!help.stdout.endsWith("\n\n"), "no blank line at the end");

  assert.equal(requestHelp.code, 0, shown(requestHelp));
  assert.match(requestHelp.stdout, /^Usage: jit request \[options\]$/m);
  assert.match(requestHelp.stdout, /^Examples:\n {2}jit request --policy web --vm web1 --port 22 --duration PT1H --justification INC-1234$/m);
});

test("naming no command prints the usage on stderr and exits 2; an unknown command too", async () => {
  for (const args of [[], ["policy"], ["role"]]) {
    const run = await jit({}, ...args);
    assert.equal(run.code, 2, shown(run));
    assert.equal(run.stdout, "");
    assert.match(run.stderr, new RegExp(`^Usage: jit ${args.map((a) => `${a} `).join("")}\\[options\\] \\[command\\]$`, "m"), shown(run));
  }
  const unknown = await jit({}, "nonsense");
  assert.equal(unknown.code, 2, shown(unknown));
  assert.match(unknown.stderr, /^error: unknown command 'nonsense'\n/);
});

test("every command's --help names its options and shows examples that use it", () => {
  const all = commands(buildProgram());
  assert.deepEqual(
    all.map((c) => c.words),
    ["request", "list", "revoke", "approve", "deny", "sweep", "daemon", "policy", "policy show", "policy validate", "role", "role azure", "role aws", "scan", "serve", "ledger", "ledger init", "ledger migrate", "audit", "audit verify", "audit export", "completion"],
  );
  for (const { words, cmd } of all) {
    const help = helpOf(cmd);
    assert.match(help, new RegExp(`^Usage: jit ${words} `, "m"));
    for (const option of cmd.options) assert.ok(help.includes(option.flags), `jit ${words} --help: ${option.flags}`);
    if (cmd.commands.length > 0) {
      for (const sub of cmd.commands) assert.match(help, new RegExp(`^  ${sub.name()} `, "m"), `jit ${words} --help lists ${sub.name()}`);
      continue;
    }
    const examples = /\nExamples:\n((?: {2}.+\n?)+)/.exec(help)?.[1] ?? "";
    assert.ok(examples.includes(`jit ${words}`), `jit ${words} --help has examples of it:\n${help}`);
  }
});

test("jit policy validate reads a Defender policy as Defender's API returns it, and says what a PUT body lacks", async () => {
  const example = JSON.parse(readFileSync(DEFENDER_EXAMPLE, "utf8")) as { parameters: { body: unknown }; responses: { "200": { body: unknown } } };
  const dir = mkdtempSync(path.join(tmpdir(), "jit-cli-validate-"));
  try {
    const returned = path.join(dir, "returned.json");
    const putBody = path.join(dir, "put.json");
    writeFileSync(returned, JSON.stringify(example.responses["200"].body));
    writeFileSync(putBody, JSON.stringify(example.parameters.body));
    const [text, json, nameless, broken] = await Promise.all([
      jit({}, "policy", "validate", returned),
      jit({}, "--json", "policy", "validate", returned),
      jit({}, "policy", "validate", putBody),
      jit({}, "policy", "validate", path.join(dir, "missing.json")),
    ]);
    assert.equal(text.code, 0, shown(text));
    assert.equal(text.stdout, `${returned}: policy "default" is valid (1 VM(s)).\n`);
    assert.equal(json.code, 0, shown(json));
    assert.deepEqual(JSON.parse(json.stdout), fromDefenderPolicy(example.responses["200"].body).policy);
    assert.equal(nameless.code, 2, shown(nameless));
    assert.equal(nameless.stderr, `error: ${putBody} is a Defender policy without a "name" (a PUT body carries it in the URL): add "name": "<policy>" next to "properties"\n`);
    assert.equal(broken.code, 2, shown(broken));
    assert.match(broken.stderr, /^error: cannot read .*missing\.json: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("jit --help, --version and completion load no cloud SDK, no schema library and no ledger", async () => {
  // A fresh process per question: the modules it has loaded once the CLI has answered.
  const loaded = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `const { run } = require("./provider/src/cli/main.ts");
run(${JSON.stringify(args)}, { out: { write() {} } }).then((code) => console.log(JSON.stringify({ code, modules: Object.keys(require.cache) })));`,
      ],
      { cwd: ROOT },
    ).then(({ stdout }) => JSON.parse(stdout) as { code: number; modules: string[] });
  const runs = await Promise.all([["--help"], ["--version"], ["completion", "bash"]].map(loaded));
  for (const { code, modules } of runs) {
    assert.equal(code, 0);
    assert.deepEqual(
      modules.filter((m) => /[\\/]node_modules[\\/](zod|@aws-sdk|@azure|@pulumi)[\\/]|[\\/]provider[\\/]src[\\/](ledger|access|azure|aws|scan|model[\\/](?!errors))/.test(m)),
      [],
    );
    assert.ok(modules.some((m) => m.endsWith(path.join("cli", "main.ts"))), "the check sees the CLI's own modules");
  }
});
