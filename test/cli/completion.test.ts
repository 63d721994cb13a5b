// `jit completion bash|zsh|fish`: scripts made from the commander program, checked by the shells
// that are installed (bash always), and the ledger values they complete.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Command } from "commander";
import { buildProgram } from "../../provider/src/cli/main";
import { openLedger } from "../../provider/src/ledger";
import { jit, shown } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";

let dir: string;
/** A directory holding a `jit` that runs this checkout, for the scripts' `jit __complete` calls. */
let bin: string;
let env: Record<string, string>;
const scripts: Record<string, string> = {};

/** The shells on this machine, among those `jit completion` writes for. */
const installed = ["bash", "zsh", "fish"].filter((shell) => {
  try {
    execFileSync(shell, ["-c", "exit 0"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "jit-completion-"));
  bin = path.join(dir, "bin");
  execFileSync("mkdir", [bin]);
  writeFileSync(path.join(bin, "jit"), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, "bin", "jit.js")}" "$@"\n`);
  chmodSync(path.join(bin, "jit"), 0o755);
  env = { JIT_LEDGER: path.join(dir, "ledger.db") };
  const ledger = await openLedger(env.JIT_LEDGER);
  const port = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" };
  await ledger.putPolicy({ policy: { name: "web", virtualMachines: [{ id: VM, ports: [port] }] }, baseline: {} });
  await ledger.putPolicy({ policy: { name: "db-admin", virtualMachines: [{ id: VM, ports: [port] }] }, baseline: {} });
  await ledger.close();
  for (const shell of ["bash", "zsh", "fish"]) {
    const run = await jit(env, "completion", shell);
    assert.equal(run.code, 0, shown(run));
    assert.equal(run.stderr, "");
    scripts[shell] = run.stdout;
  }
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Every command path and the flags it takes, from the program itself. */
function everyCommand(cmd: Command, words: string[] = []): { words: string[]; flags: string[] }[] {
  return cmd.commands
    .filter((c) => !c.name().startsWith("__"))
    .flatMap((c) => [{ words: [...words, c.name()], flags: c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)) }, ...everyCommand(c, [...words, c.name()])]);
}

test("bash is installed, and every installed shell reads its script without a syntax error", () => {
  assert.ok(installed.includes("bash"));
  for (const shell of installed) {
    const file = path.join(dir, `jit.${shell}`);
    writeFileSync(file, scripts[shell]);
    // -n: parse only. A syntax error exits non-zero and fails the test with the shell's message.
    execFileSync(shell, ["-n", file], { encoding: "utf8" });
  }
});

test("each script names every command and every flag of the program, and no hidden command", () => {
  const commands = everyCommand(buildProgram());
  assert.ok(commands.length >= 13);
  for (const [shell, script] of Object.entries(scripts)) {
    assert.doesNotMatch(script, /'__complete'/, `${shell}: the hidden command is not offered`);
    for (const c of commands) {
      assert.ok(script.includes(`'${c.words.join(" ")}'`), `${shell}: jit ${c.words.join(" ")}`);
      for (const flag of c.flags) {
        const written = shell === "fish" ? (flag.startsWith("--") ? `-l '${flag.slice(2)}'` : `-s '${flag.slice(1)}'`) : flag;
        assert.ok(script.includes(written), `${shell}: jit ${c.words.join(" ")} ${flag}`);
      }
    }
  }
});

/** What bash completes for the words typed so far (the last one being completed). */
async function bashCompletes(...words: string[]): Promise<string[]> {
  const file = path.join(dir, "complete.bash");
  writeFileSync(file, `${scripts.bash}\nCOMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _jit; printf '%s\\n' "\${COMPREPLY[@]}"\n`);
  const { stdout } = await promisify(execFile)("bash", ["--norc", "--noprofile", file, ...words], { env: { PATH: `${bin}:${process.env.PATH ?? ""}`, ...env } });
  return stdout.split("\n").filter(Boolean).sort();
}

test("bash completes commands, subcommands, choices, flags, and policy names from the ledger", async () => {
  assert.deepEqual(await bashCompletes("jit", ""), ["approve", "audit", "completion", "daemon", "deny", "ledger", "list", "policy", "request", "revoke", "role", "scan", "serve", "sweep"]);
  assert.deepEqual(await bashCompletes("jit", "--ledger", "x", "po"), ["policy"]);
  assert.deepEqual(await bashCompletes("jit", "policy", ""), ["show", "validate"]);
  assert.deepEqual(await bashCompletes("jit", "list", ""), ["audit", "grants", "history", "pending", "policies"]);
  assert.deepEqual(await bashCompletes("jit", "role", "aws", "--kind", ""), ["broker", "configure", "direct", "read", "request"]);
  assert.deepEqual(await bashCompletes("jit", "request", "--po"), ["--policy", "--policy-file", "--port"]);
  assert.deepEqual(await bashCompletes("jit", "request", "--policy", ""), ["db-admin", "web"]);
  assert.deepEqual(await bashCompletes("jit", "--json", "policy", "show", "w"), ["web"]);
});

// Only where fish is installed: the suite must not need it.
if (installed.includes("fish")) test("fish completes the same from its script", async () => {
  const file = path.join(dir, "jit.fish");
  writeFileSync(file, scripts.fish);
  const complete = async (line: string) => {
    const { stdout } = await promisify(execFile)("fish", ["--no-config", "-c", `source ${file}; complete -C '${line}'`], { env: { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: dir, ...env } });
    return stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]).sort();
  };
  assert.deepEqual(await complete("jit policy "), ["show", "validate"]);
  assert.deepEqual(await complete("jit request --policy "), ["db-admin", "web"]);
  assert.deepEqual(await complete("jit role azure --kind "), ["broker", "configure", "direct", "read", "request"]);
});

// Only where zsh is installed. Its completion builtins exist only inside its completion system, so
// they are stood in for by functions that print what they are given.
if (installed.includes("zsh")) test("zsh completes the same from its script (commands, choices, files, and policy names with PATH intact)", async () => {
  const file = path.join(dir, "complete.zsh");
  writeFileSync(
    file,
    `${scripts.zsh}
compadd() { shift; print -rl -- "$@"; }
_describe() { local -a entries; entries=("\${(@P)4}"); print -rl -- "\${entries[@]%%:*}"; }
_files() { print -r -- "<files>"; }
words=("$@"); CURRENT=$#; PREFIX=\${words[-1]}; _jit
`,
  );
  const complete = async (...words: string[]) => {
    const { stdout } = await promisify(execFile)("zsh", ["-f", file, ...words], { env: { PATH: `${bin}:${process.env.PATH ?? ""}`, ...env } });
    return stdout.split("\n").filter(Boolean).sort();
  };
  assert.deepEqual(await complete("jit", "policy", ""), ["show", "validate"].concat(await complete("jit", "policy", "-")).sort());
  assert.deepEqual(await complete("jit", "request", "--policy", ""), ["db-admin", "web"]);
  assert.deepEqual(await complete("jit", "list", "--limit", "5", ""), ["audit", "grants", "history", "pending", "policies"].concat(await complete("jit", "list", "-")).sort());
  assert.deepEqual(await complete("jit", "request", "--policy-file", ""), ["<files>"]);
  assert.deepEqual(await complete("jit", "role", "aws", "-k", ""), ["broker", "configure", "direct", "read", "request"]);
});

test("jit __complete prints the ledger's policy names and live grant ids, one a line, and never creates a ledger", async () => {
  const [policies, grants] = [await jit(env, "__complete", "policies"), await jit(env, "__complete", "grants")];
  assert.deepEqual([policies.code, policies.stdout.split("\n").sort()], [0, ["", "db-admin", "web"]]);
  assert.deepEqual([grants.code, grants.stdout], [0, ""]);
  const missing = path.join(dir, "none", "ledger.db");
  const none = await jit({ JIT_LEDGER: missing }, "__complete", "policies");
  assert.deepEqual([none.code, none.stdout, none.stderr], [0, "", ""]);
  assert.equal(existsSync(missing), false);
});
