/**
 * The ledger as cron jobs and pipelines meet it: `bin/jit.js` run as a process. A damaged, missing
 * or read-only ledger gives one line naming it and the fix, with exit code 6 and no stack trace;
 * commands that only read work on a read-only file in a read-only directory; `jit audit verify`
 * finds a tampered entry; `jit ledger migrate` copies a ledger to a shared store; a store's
 * credentials never show in what is printed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { openLedger } from "../../provider/src/ledger";
import { AuditRecord, newAuditEvent } from "../../provider/src/model/audit";
import { azurePolicy } from "../../provider/src/model/testing/fixtures";
import { POSTGRES_PASSWORD, StoreServer, freePort, startDynalite } from "../support/servers";
import { tamper } from "./tamper";

const BIN = resolve(__dirname, "..", "..", "bin", "jit.js");
/**
 * Permissions do not bind root: as root, jit runs without the capabilities that override them
 * (`setpriv`, util-linux), so that a read-only file is read-only to it. Staying root keeps the
 * checkout readable wherever it sits (a private home directory included).
 */
const AS_OWNER = process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--"] : [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function jit(env: Record<string, string>, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(AS_OWNER[0] ?? process.execPath, [...AS_OWNER.slice(1), ...(AS_OWNER.length ? [process.execPath] : []), BIN, ...args], { env: { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw err;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const shown = (run: Run) => `exit ${run.code}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;

/** One line on stderr, naming the ledger, no stack trace, exit 6. */
function assertLedgerError(run: Run, names: string, says: RegExp): void {
  assert.equal(run.code, 6, shown(run));
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, shown(run));
  assert.ok(lines[0].includes(names), shown(run));
  assert.match(lines[0], says);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
}

const dir = mkdtempSync(join(tmpdir(), "jit-ledger-cli-"));
chmodSync(dir, 0o755);
let dynamo: StoreServer;
before(async () => {
  dynamo = await startDynalite("jit-migrated");
});
after(async () => {
  chmodSync(join(dir, "ro"), 0o755);
  rmSync(dir, { recursive: true, force: true });
  await dynamo?.stop();
});

/** A ledger with a policy and three audit entries, made writable or not. */
async function seeded(path: string): Promise<void> {
  const ledger = await openLedger(path);
  await ledger.putPolicy({ policy: azurePolicy() });
  for (const action of ["policy.create", "grant.request", "grant.expire"] as const) {
    await ledger.appendAudit(newAuditEvent({ actor: "ana@contoso.com", action, target: { policy: "web" }, outcome: "success", time: "2030-01-01T12:00:00Z" }));
  }
  await ledger.close();
}

test("a damaged, missing or read-only ledger: one line naming it and the fix, exit 6; reading commands work read-only", async () => {
  const corrupt = join(dir, "corrupt.db");
  writeFileSync(corrupt, "this is not a database, it is a note someone saved here\n".repeat(200));
  const ro = join(dir, "ro");
  mkdirSync(ro);
  const file = join(ro, "ledger.db");
  await seeded(file);
  chmodSync(file, 0o444);
  chmodSync(ro, 0o555);
  const missing = join(dir, "nowhere", "ledger.db");

  const [damaged, absent, writeInReadOnly, newInReadOnly, list, show, exported, verified] = await Promise.all([
    jit({}, "list", "--ledger", corrupt),
    jit({}, "list", "--ledger", missing),
    jit({}, "ledger", "init", "--ledger", file),
    jit({ JIT_LEDGER: join(ro, "new.db") }, "ledger", "init"),
    jit({}, "list", "policies", "--ledger", file, "--json"),
    jit({}, "policy", "show", "web", "--ledger", file),
    jit({}, "audit", "export", "--since", "2030-01-01", "--ledger", file),
    jit({ JIT_LEDGER: file }, "audit", "verify", "--json"),
  ]);
  assertLedgerError(damaged, corrupt, /not a readable pulumi-jit ledger .*restore it from a backup, or point --ledger/);
  assertLedgerError(absent, missing, /there is no ledger file here; .*jit ledger init/);
  assertLedgerError(writeInReadOnly, file, /read-only, and this command writes; make both writable .* or use a command that only reads/);
  assertLedgerError(newInReadOnly, join(ro, "new.db"), /cannot open the file in .*make the directory writable/);

  assert.equal(list.code, 0, shown(list));
  assert.deepEqual(JSON.parse(list.stdout).map((r: { policy: { name: string } }) => r.policy.name), ["web"]);
  assert.equal(show.code, 0, shown(show));
  assert.equal(JSON.parse(show.stdout).name, "web");
  assert.equal(exported.code, 0, shown(exported));
  const lines = exported.stdout.trimEnd().split("\n").map((l) => AuditRecord.parse(JSON.parse(l)));
  assert.deepEqual(
    lines.map((l) => [l.seq, l.event.action]),
    [
      [1, "policy.create"],
      [2, "grant.request"],
      [3, "grant.expire"],
    ],
  );
  assert.equal(verified.code, 0, shown(verified));
  assert.equal(JSON.parse(verified.stdout).entries, 3);
});

test("jit audit verify names the tampered entry; export honours --since; bad input is exit 2", async () => {
  const file = join(dir, "tampered.db");
  await seeded(file);
  const before = await jit({}, "audit", "verify", "--ledger", file);
  assert.equal(before.code, 0, shown(before));
  assert.match(before.stdout, /3 audit entries, chain intact \(head [0-9a-f]{64}\)/);

  const ledger = await openLedger(file);
  const second = AuditRecord.parse((await ledger.readAuditLog())[1].record);
  await ledger.close();
  await tamper("sqlite", file, { kind: "edit", position: 2, record: { ...second, event: { ...second.event, actor: "mallory" } } });
  const [after, since, badSince] = await Promise.all([
    jit({}, "audit", "verify", "--ledger", file),
    jit({}, "audit", "export", "--since", "2031-01-01", "--ledger", file),
    jit({}, "audit", "export", "--since", "yesterday", "--ledger", file),
  ]);
  assertLedgerError(after, file, /the audit log is not intact: entry 2: edited/);
  assert.equal(since.code, 0, shown(since));
  assert.equal(since.stdout, "", "nothing at or after --since");
  assert.equal(badSince.code, 2, shown(badSince));
});

test("jit ledger migrate copies a SQLite ledger into DynamoDB and the copy verifies", async () => {
  const file = join(dir, "to-migrate.db");
  await seeded(file);
  const run = await jit(dynamo.env, "ledger", "migrate", "--from", file, "--to", dynamo.url, "--json");
  assert.equal(run.code, 0, shown(run));
  const report = JSON.parse(run.stdout);
  assert.deepEqual([report.policies, report.grants, report.auditEntries], [1, 0, 3]);
  const [verify, again] = await Promise.all([jit(dynamo.env, "audit", "verify", "--ledger", dynamo.url, "--json"), jit(dynamo.env, "ledger", "migrate", "--from", file, "--to", dynamo.url)]);
  assert.equal(verify.code, 0, shown(verify));
  assert.equal(JSON.parse(verify.stdout).head, report.head, "the same chain head in both ledgers");
  assert.equal(again.code, 2, shown(again));
  assert.match(again.stderr, /is not empty; migrate only into a new ledger/);
});

test("an unreachable store: exit 6, its URL without the password, and no credential anywhere in the output", async () => {
  const port = await freePort();
  const key = "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=";
  const [pg, table] = await Promise.all([
    jit({}, "list", "--ledger", `postgres://jit:${POSTGRES_PASSWORD}@127.0.0.1:${port}/postgres`),
    jit({ AZURE_STORAGE_CONNECTION_STRING: `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${key};TableEndpoint=http://127.0.0.1:${port}/acct;` }, "list", "--ledger", "azuretable://jitledger", "--json"),
  ]);
  assertLedgerError(pg, `postgres://jit:***@127.0.0.1:${port}/postgres`, /cannot reach the store .*check that it is running/);
  assert.equal(table.code, 6, shown(table));
  assert.equal(JSON.parse(table.stdout).error.code, "Unavailable");
  for (const run of [pg, table]) {
    const all = run.stdout + run.stderr;
    assert.ok(!all.includes(POSTGRES_PASSWORD) && !all.includes(key), shown(run));
  }
});
