// The `jit` command end to end on the local EC2 endpoint: each command runs through `run(argv, streams)`
// (the daemon as its own process), pointed at the endpoint and the ledger by the environment alone, after a JitPolicy has been
// deployed the way `pulumi up` deploys it. The tests run in order and build on each other: two
// grants are made, one is revoked, the rest is listed, refused and swept.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { SweepReport, requestAccess } from "../../provider/src/access";
import { PolicyRecord, openLedger } from "../../provider/src/ledger";
import { AuditEvent, Grant, fromDefenderPolicy } from "../../provider/src/model";
import { CloudUnderTest, awsUnderTest, withEnv } from "../pulumi/clouds";
import { deployPolicy, jit, shown, startJit, vmOf } from "./support";

let under: CloudUnderTest;
let env: Record<string, string>;
let vm: string;
/** The grants `jit request` made: from 203.0.113.7 (revoked later) and from 203.0.113.8, which stays live. */
const ids = { first: "", second: "" };
let secondEnds = "";
const HOUR = 3_600_000;

before(async () => {
  under = await awsUnderTest();
  env = under.env;
  vm = vmOf(under);
  await deployPolicy(under);
});

after(() => under?.close());

test("jit request opens port 22 for the source alone and prints the grant; --json prints the grant itself", async () => {
  assert.equal(under.reachable("203.0.113.7", 22), false, "the policy closed port 22");

  const table = await jit(env, "request", "--policy", "web", "--vm", vm, "--port", "22", "--source", "203.0.113.7", "--duration", "PT30M", "--justification", "INC-1234");
  assert.equal(table.code, 0, shown(table));
  const [, id] = /^Grant (\w{12}) is active \(policy web, requested by arn:aws:iam::123456789012:user\/admin\)\.$/m.exec(table.stdout) ?? [];
  assert.ok(id, shown(table));
  ids.first = id;
  const lines = table.stdout.split("\n");
  assert.match(lines[2], /^VM\s+PORT\s+PROTOCOL\s+SOURCE\s+ENDS$/);
  assert.match(lines[3], new RegExp(`^${vm}\\s+22\\s+TCP\\s+203\\.0\\.113\\.7\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(in 30m\\)$`));
  assert.match(table.stdout, new RegExp(`\\nRevoke early with: jit revoke ${id}\\n$`));
  assert.match(table.stderr, new RegExp(`^opening 22/TCP on ${vm} for grant ${id} until `, "m"), "progress goes to stderr");
  assert.equal(under.reachable("203.0.113.7", 22), true, "the port is open to the source");
  assert.equal(under.reachable("203.0.113.9", 22), false, "and to no one else");

  // Without --duration the grant lasts the policy's maximum for the port (PT1H).
  const json = await jit(env, "--json", "request", "--policy", "web", "--vm", vm, "--port", "22", "--source", "203.0.113.8");
  assert.equal(json.code, 0, shown(json));
  assert.equal(json.stderr, "", "no progress with --json");
  const grant = JSON.parse(json.stdout) as Grant;
  ids.second = grant.id;
  secondEnds = grant.endTimeUtc;
  assert.deepEqual(
    { policy: grant.policy, cloud: grant.cloud, state: grant.state, requester: grant.requester },
    { policy: "web", cloud: "aws", state: "active", requester: "arn:aws:iam::123456789012:user/admin" },
  );
  assert.deepEqual(grant.virtualMachines, [{ id: vm, ports: [{ number: 22, protocol: "TCP", sourceAddressPrefix: "203.0.113.8", endTimeUtc: grant.endTimeUtc }] }]);
  assert.equal(Date.parse(grant.endTimeUtc) - Date.parse(grant.createdAt), HOUR);
  assert.ok(grant.changes.length > 0 && grant.changes.every((c) => c.status === "applied"), "every change is recorded as applied");
  assert.equal(under.reachable("203.0.113.8", 22), true);
  assert.equal(under.reachable("203.0.113.7", 22), true, "a grant from another source leaves the first alone");
});

test("jit revoke closes the port for that grant's source and no other", async () => {
  const run = await jit(env, "revoke", ids.first);
  assert.equal(run.code, 0, shown(run));
  assert.equal(run.stdout, `Grant ${ids.first} revoked (UserRequested).\n`);
  assert.equal(under.reachable("203.0.113.7", 22), false);
  assert.equal(under.reachable("203.0.113.8", 22), true);
});

test("jit list [grants|policies|history|audit] and jit policy show: tables for people, JSON for scripts, and no cloud call", async () => {
  const writes = under.writes();
  const [grants, grantsJson, policies, policiesJson, history, historyJson, audit, auditJson, defender] = await Promise.all([
    jit(env, "list"),
    jit(env, "list", "--json"),
    jit(env, "list", "policies"),
    jit(env, "--json", "list", "policies"),
    jit(env, "list", "history"),
    jit(env, "list", "history", "--json"),
    jit(env, "list", "audit"),
    jit(env, "list", "audit", "--json", "--limit", "3"),
    jit(env, "policy", "show", "web", "--defender"),
  ]);
  for (const run of [grants, grantsJson, policies, policiesJson, history, historyJson, audit, auditJson, defender]) {
    assert.equal(run.code, 0, shown(run));
    assert.equal(run.stderr, "", shown(run));
    assert.ok(run.stdout.endsWith("\n") && !run.stdout.endsWith("\n\n"), `one newline at the end:\n${shown(run)}`);
  }

  const grantRow = (id: string, state: string, source: string) =>
    new RegExp(`^${id}\\s+web\\s+${state.replace(/[()]/g, "\\$&")}\\s+${vm}\\s+22/TCP\\s+${source.replace(/\./g, "\\.")}\\s+arn:aws:iam::123456789012:user/admin\\s+\\S+Z \\((in|ago) [\\d.]+[smh]\\)$`, "m");
  assert.match(grants.stdout, /^GRANT\s+POLICY\s+STATE\s+VM\s+PORT\s+SOURCE\s+REQUESTER\s+ENDS\n/);
  assert.match(grants.stdout, grantRow(ids.second, "active", "203.0.113.8"));
  assert.doesNotMatch(grants.stdout, new RegExp(ids.first), "a revoked grant is not live");
  assert.deepEqual((JSON.parse(grantsJson.stdout) as Grant[]).map((g) => [g.id, g.state]), [[ids.second, "active"]]);

  assert.match(history.stdout, grantRow(ids.first, "revoked (UserRequested)", "203.0.113.7"));
  assert.match(history.stdout, grantRow(ids.second, "active", "203.0.113.8"));
  assert.deepEqual(
    (JSON.parse(historyJson.stdout) as Grant[]).map((g) => [g.id, g.state, g.reason]).sort(),
    [[ids.first, "revoked", "UserRequested"], [ids.second, "active", undefined]].sort(),
  );

  assert.match(policies.stdout, new RegExp(`^POLICY\\s+VM\\s+PORTS\\s+SOURCES\nweb\\s+${vm}\\s+22/TCP max PT1H\\s+203\\.0\\.113\\.0/24\n$`));
  const [record] = JSON.parse(policiesJson.stdout) as PolicyRecord[];
  assert.deepEqual(record.policy, { name: "web", virtualMachines: [{ id: vm, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" }] }] });

  assert.match(audit.stdout, /^TIME\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+MESSAGE\n/);
  assert.match(audit.stdout, new RegExp(`^\\S+Z\\s+arn:aws:iam::123456789012:user/admin\\s+grant\\.request\\s+web/${ids.first}\\s+success\\s+INC-1234$`, "m"));
  assert.match(audit.stdout, /^\S+Z\s+pulumi\s+policy\.create\s+web\s+success\s+/m);
  const events = JSON.parse(auditJson.stdout) as AuditEvent[];
  assert.deepEqual(
    events.map((e) => [e.action, e.target.grant]),
    [
      ["grant.revoke", ids.first],
      ["grant.apply", ids.second],
      ["grant.request", ids.second],
    ],
    "newest first, at most --limit",
  );

  // `policy show --defender` prints a resource Defender's own format reads back as the same policy.
  assert.deepEqual(fromDefenderPolicy(JSON.parse(defender.stdout)).policy, record.policy);
  assert.equal(under.writes(), writes, "reading the ledger touches no cloud");
});

test("refusals exit with their code, say why, record no grant and make no cloud write", async () => {
  const writes = under.writes();
  const ask = (...extra: string[]) => jit(env, "request", "--policy", "web", "--vm", vm, "--source", "203.0.113.7", "--duration", "PT30M", ...extra);
  const [notInPolicy, badPort, noPolicy, noGrant] = await Promise.all([
    ask("--port", "3389", "--json"),
    ask("--port", "abc"),
    jit(env, "request", "--policy", "nope", "--vm", vm, "--port", "22", "--source", "203.0.113.7"),
    jit(env, "revoke", "aaaaaaaaaaaa"),
  ]);

  assert.equal(notInPolicy.code, 3, shown(notInPolicy));
  const { error } = JSON.parse(notInPolicy.stdout) as { error: { code: string; message: string; field: string } };
  assert.equal(error.code, "RequestNotAllowed");
  assert.match(error.message, new RegExp(`port 3389 of VM "${vm}" is not in policy "web"; it allows ports 22$`));
  assert.equal(error.field, "virtualMachines[0].ports[0].number");

  assert.equal(badPort.code, 2, shown(badPort));
  assert.equal(badPort.stdout, "");
  assert.equal(badPort.stderr, 'error: --port: "abc" is not a port number (0-65535)\n');

  assert.equal(noPolicy.code, 4, shown(noPolicy));
  assert.equal(noPolicy.stderr, 'error: policy: no policy named "nope" in the ledger (it has web)\n');

  assert.equal(noGrant.code, 4, shown(noGrant));
  assert.match(noGrant.stderr, /^error: grantId: no grant with id "aaaaaaaaaaaa"\n$/m);

  const ledger = await openLedger(env.JIT_LEDGER);
  try {
    assert.deepEqual((await ledger.listGrants()).map((g) => g.id).sort(), [ids.first, ids.second].sort(), "no grant was recorded");
    assert.equal((await ledger.listAudit({ action: "grant.refuse" })).length, 1, "the refused request is in the audit log");
  } finally {
    await ledger.close();
  }
  assert.equal(under.writes(), writes, "nothing was written to the cloud");
});

test("jit sweep says when nothing is due, and closes a grant that ran out (--json: the report)", async () => {
  const idle = await jit(env, "sweep");
  assert.equal(idle.code, 0, shown(idle));
  assert.equal(idle.stdout, "Nothing to do: no grant was due and no orphaned rule or group was found; 1 policy baseline(s) checked, all in place.\n");

  // A grant made two hours ago for one hour, as if no sweep had run since.
  const ranOut = await withEnv(env, () =>
    requestAccess(
      { policy: "web", virtualMachines: [{ id: vm, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.9" }] }] },
      { now: () => new Date(Date.now() - 2 * HOUR) },
    ),
  );
  assert.equal(under.reachable("203.0.113.9", 22), true, "nothing has closed it yet");

  const run = await jit(env, "--json", "sweep");
  assert.equal(run.code, 0, shown(run));
  const report = JSON.parse(run.stdout) as SweepReport;
  assert.deepEqual(report, { restored: [{ grantId: ranOut.id, state: "expired" }], opened: [], failed: [], orphans: [], baselines: [{ policy: "web", drift: [], repaired: false }] });
  assert.equal(under.reachable("203.0.113.9", 22), false, "the grant that ran out is closed");
  assert.equal(under.reachable("203.0.113.8", 22), true, "the live one is not");
});

test("jit daemon sweeps at once, prints a JSON line per sweep with its next wake-up, and exits 0 on SIGTERM", { timeout: 60_000 }, async (t) => {
  const daemon = startJit(env, "--json", "daemon", "--max-interval", "PT2H");
  const exited = once(daemon, "exit");
  // Should an assertion fail before the SIGTERM, the daemon must not outlive the test.
  t.after(() => daemon.kill());
  let stdout = "";
  let stderr = "";
  daemon.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    daemon.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.includes("\n")) resolve();
    });
    daemon.on("exit", (code) => reject(new Error(`jit daemon exited (${code}) before its first sweep:\n${stderr}`)));
  });
  const [line] = stdout.split("\n");
  const sweep = JSON.parse(line) as SweepReport & { nextAt: string };
  assert.deepEqual(sweep.restored, []);
  assert.equal(sweep.nextAt, secondEnds, "it sleeps until the live grant ends, sooner than --max-interval");

  const stopping = performance.now();
  daemon.kill("SIGTERM");
  const [code, signal] = await exited;
  assert.deepEqual([code, signal], [0, null], `a clean exit:\n${stderr}`);
  assert.ok(performance.now() - stopping < 10_000, "it stops without waiting for its sleep to end");
  assert.equal(stderr, "");
});
