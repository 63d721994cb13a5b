// The exit codes cron jobs and pipelines rely on, as they see them: each command runs as a real
// process (`node bin/jit.js`), in the situation that produces each documented code, and a closed
// pipe on stdout ends `jit` quietly.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { requestAccess } from "../../provider/src/access";
import { EXIT } from "../../provider/src/cli/exit-codes";
import { CloudUnderTest, awsUnderTest, withEnv } from "../pulumi/clouds";
import { deployPolicy, jitProcess, shown, vmOf } from "./support";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "jit.js");
const HOUR = 3_600_000;

let under: CloudUnderTest;
let dir: string;
/** A grant that ran out an hour ago, for sweep to close. */
let ranOut: string;

before(async () => {
  under = await awsUnderTest();
  dir = mkdtempSync(path.join(tmpdir(), "jit-exit-codes-"));
  await deployPolicy(under);
  const grant = await withEnv(under.env, () =>
    requestAccess(
      { policy: "web", virtualMachines: [{ id: vmOf(under), ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.9" }] }] },
      { now: () => new Date(Date.now() - 2 * HOUR) },
    ),
  );
  ranOut = grant.id;
});

after(async () => {
  await under?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A stack trace's frames: what no exit of `jit` may print. */
const TRACE = /^\s+at /m;

test("each documented exit code, from a real process, with one line on stderr and no stack trace", async () => {
  // A bug: an exception that is not one of the product's errors, thrown while the command runs.
  const bug = path.join(dir, "bug.cjs");
  writeFileSync(
    bug,
    `const stringify = JSON.stringify;
JSON.stringify = function (value, ...rest) {
  if (value && value.Version === "2012-10-17") throw new TypeError("Cannot read properties of undefined (reading 'map')");
  return stringify.call(this, value, ...rest);
};`,
  );
  const env = under.env;
  const request = (...extra: string[]) => jitProcess(env, "request", "--policy", "web", "--vm", vmOf(under), "--source", "203.0.113.7", "--duration", "PT30M", ...extra);
  const rows: { situation: string; run: Promise<{ code: number; stdout: string; stderr: string }>; code: number; stderr: RegExp }[] = [
    { situation: "success", run: jitProcess(env, "list", "policies"), code: EXIT.ok, stderr: /^$/ },
    { situation: "bad input: a port that is no number", run: request("--port", "abc"), code: EXIT.usage, stderr: /^error: --port: "abc" is not a port number \(0-65535\)\n$/ },
    { situation: "bad input: an unknown flag", run: jitProcess(env, "list", "--bogus"), code: EXIT.usage, stderr: /^error: unknown option '--bogus'\n/ },
    { situation: "refused: a port the policy does not have", run: request("--port", "3389"), code: EXIT.refused, stderr: /^error: .*port 3389 of VM ".*" is not in policy "web"; it allows ports 22\n$/ },
    { situation: "not found: a grant", run: jitProcess(env, "revoke", "aaaaaaaaaaaa"), code: EXIT.notFound, stderr: /^revoking aaaaaaaaaaaa\.\.\.\nerror: grantId: no grant with id "aaaaaaaaaaaa"\n$/ },
    { situation: "not found: a policy", run: jitProcess(env, "policy", "show", "nope"), code: EXIT.notFound, stderr: /^error: no policy named "nope" in the ledger\n$/ },
    {
      situation: "unexpected: a bug",
      run: jitProcess({ ...env, NODE_OPTIONS: `--require ${bug}` }, "role", "aws", "--kind", "read"),
      code: EXIT.failure,
      stderr: /^error: Cannot read properties of undefined \(reading 'map'\)\n$/,
    },
  ];
  const runs = await Promise.all(rows.map((r) => r.run));
  rows.forEach((row, i) => {
    const run = runs[i];
    assert.equal(run.code, row.code, `${row.situation}:\n${shown(run)}`);
    assert.match(run.stderr, row.stderr, `${row.situation}:\n${shown(run)}`);
    assert.doesNotMatch(run.stderr, TRACE, `${row.situation}: no stack trace`);
  });
});

test("cloud kept failing: a sweep whose deletes the cloud refuses reports the failure and exits 5; once the cloud accepts them, 0", async () => {
  const writes = under.writes();
  under.faults.inject({ operation: /^(RevokeSecurityGroupIngress|DeleteSecurityGroup|ModifyNetworkInterfaceAttribute)$/ }, { kind: "error", status: 403, code: "UnauthorizedOperation", message: "You are not authorized to perform this operation." }, 1000);
  try {
    const [failing, failingJson] = [await jitProcess(under.env, "sweep"), await jitProcess(under.env, "--json", "sweep")];
    assert.equal(failing.code, EXIT.cloud, shown(failing));
    assert.match(failing.stdout, new RegExp(`^FAILED grant ${ranOut}: .*UnauthorizedOperation`, "m"), shown(failing));
    assert.doesNotMatch(failing.stderr, TRACE);
    assert.equal(failingJson.code, EXIT.cloud, shown(failingJson));
    const report = JSON.parse(failingJson.stdout) as { restored: unknown[]; failed: { grantId: string }[] };
    assert.deepEqual([report.restored, report.failed.map((f) => f.grantId)], [[], [ranOut]]);
    assert.ok(under.faults.injected > 0, "the cloud refused the deletes");
    assert.equal(under.reachable("203.0.113.9", 22), true, "the grant is still open: the cloud refused to close it");
  } finally {
    under.faults.clear();
  }
  const recovered = await jitProcess(under.env, "sweep");
  assert.equal(recovered.code, EXIT.ok, shown(recovered));
  assert.match(recovered.stdout, new RegExp(`^1 grant\\(s\\) closed: ${ranOut} \\(expired\\)$`, "m"));
  assert.equal(under.reachable("203.0.113.9", 22), false);
  assert.ok(under.writes() > writes);
});

/** Runs `script` in bash and returns what it printed and jit's own exit status (`${PIPESTATUS[0]}`, printed last on stdout). */
async function piped(script: string): Promise<{ stdout: string; stderr: string; status: number }> {
  const { stdout, stderr } = await promisify(execFile)("bash", ["--norc", "--noprofile", "-c", `${script}; echo "status=\${PIPESTATUS[0]}"`], { cwd: ROOT, env: { PATH: process.env.PATH ?? "" } });
  const [, status] = /status=(\d+)\n$/.exec(stdout) ?? [];
  return { stdout: stdout.replace(/status=\d+\n$/, ""), stderr, status: Number(status) };
}

test("output into a pipe that closes early ends jit quietly with 0, as git, az and aws do", async () => {
  const jit = `"${process.execPath}" "${BIN}"`;
  // `true` exits before jit has started, so every write jit makes meets a closed pipe (EPIPE).
  const [head, closedHelp, closedScript, closedJson] = await Promise.all([
    piped(`${jit} --help | head -3`),
    piped(`${jit} --help | true`),
    piped(`${jit} completion fish | true`),
    piped(`${jit} --json role aws --kind read | true`),
  ]);
  assert.deepEqual(head.stdout.split("\n").slice(0, 3), [
    "A JitPolicy (a Pulumi resource) keeps management ports closed; `jit request` opens one port, from one",
    "address, for a bounded time; `jit sweep` (or `jit daemon`) closes it again when the time is up.",
    "",
  ]);
  for (const run of [head, closedHelp, closedScript, closedJson]) {
    assert.equal(run.status, 0, `${run.stderr}`);
    assert.equal(run.stderr, "", "no EPIPE trace");
  }
});
