import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { newAuditEvent, verifyAuditChain } from "../model/audit";
import { Change, Grant, restoreDueAt, transition } from "../model/grant";
import { assertRejectsJitError } from "../model/testing/assert";
import { AWS_INSTANCE, AZURE_VM, NOW, awsPolicy, azurePolicy, azurePolicyInput, azureVmId, sampleGrant } from "../model/testing/fixtures";
import { LedgerCorruptError } from "./ledger";
import { MIGRATIONS, migrate } from "./migrations";
import { DUE_FOR_RESTORE_SQL, GRANT_VMS_SQL, SqliteLedger } from "./sqlite";
import { openLedger } from "./open";
import { MEMORY, defaultLedgerPath, openDatabase } from "./sqlite-db";

const dir = mkdtempSync(join(tmpdir(), "jit-ledger-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = () => join(dir, `ledger-${++files}.db`);
const memory = () => new SqliteLedger(MEMORY, { now: () => NOW });
const HOUR = 3_600_000;
const base32 = (n: number, width: number) =>
  Array.from({ length: width }, (_, k) => "abcdefghijklmnopqrstuvwxyz234567"[Math.floor(n / 32 ** (width - 1 - k)) % 32]).join("");

const removedRule: Change = {
  kind: "azure-nsg-rule",
  status: "removed",
  nsgId: "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/networkSecurityGroups/nsg1",
  ruleName: "jit-rule",
  priority: 100,
  rule: {},
};
const withChanges = (grant: Grant, status: Change["status"]): Grant => ({ ...grant, changes: [{ ...removedRule, status }] });

/** Moves a stored grant through states, one compare-and-swap per step. */
async function move(ledger: SqliteLedger, grant: Grant, ...steps: [Grant["state"], Grant["reason"]?, string?][]): Promise<Grant> {
  for (const [to, reason, error] of steps) grant = await ledger.updateGrant(grant.id, grant.version, transition(grant, to, reason, error));
  return grant;
}

test("policies: put, get, list, delete, with versions and compare-and-swap", async () => {
  const ledger = memory();
  const baseline = { nsgRules: [{ nsgId: "nsg1", ruleName: "jit-deny-web1", priority: 4000 }], revoked: [] };
  const created = await ledger.putPolicy({ policy: azurePolicyInput(), baseline }, { expectedVersion: 0 });
  assert.equal(created.version, 1);
  assert.equal(created.updatedAt, "2030-01-01T12:00:00.000Z");
  assert.deepEqual(created.policy, azurePolicy());
  assert.deepEqual(created.baseline, baseline);
  assert.deepEqual(await ledger.getPolicy("web"), created);
  assert.deepEqual(await ledger.getPolicy("WEB"), created, "names compare case-insensitively, as Azure rule names do");
  await assertRejectsJitError(() => ledger.putPolicy({ policy: azurePolicy() }, { expectedVersion: 0 }), "VersionConflict", "version", /policy "web" already exists \(at version 1\), not at version 0/);
  const updated = await ledger.putPolicy({ policy: azurePolicy() }, { expectedVersion: 1 });
  assert.equal(updated.version, 2);
  assert.equal(updated.baseline, null);
  await assertRejectsJitError(() => ledger.putPolicy({ policy: azurePolicy() }, { expectedVersion: 1 }), "VersionConflict", "version", /policy "web" is at version 2, not at version 1: someone else changed it; read it again and retry/);
  assert.equal((await ledger.putPolicy({ policy: azurePolicy() })).version, 3, "without expectedVersion the write is unconditional");
  await ledger.putPolicy({ policy: awsPolicy() });
  assert.deepEqual((await ledger.listPolicies()).map((r) => r.policy.name), ["ops", "web"]);
  assert.deepEqual((await ledger.listPolicies({ cloud: "aws" })).map((r) => r.policy.name), ["ops"]);
  await assertRejectsJitError(() => ledger.putPolicy({ policy: { ...azurePolicyInput(), name: "bad name" } }), "InvalidInput", "policy.name", /invalid policy: must start with a letter or digit/);
  await assertRejectsJitError(() => ledger.deletePolicy("web", { expectedVersion: 2 }), "VersionConflict", "version", /is at version 3/);
  assert.equal(await ledger.deletePolicy("web", { expectedVersion: 3 }), true);
  assert.equal(await ledger.deletePolicy("web"), false);
  assert.equal(await ledger.getPolicy("web"), undefined);
  await ledger.close();
  await ledger.close();
});

test("grants: created at version 1, read back, updated only by compare-and-swap", async () => {
  const ledger = memory();
  const grant = await ledger.createGrant({ ...sampleGrant({ id: "aaaaaaaaaaaa" }), version: 7 });
  assert.equal(grant.version, 1);
  assert.deepEqual(await ledger.getGrant("aaaaaaaaaaaa"), grant);
  assert.equal(await ledger.getGrant("bbbbbbbbbbbb"), undefined);
  await assertRejectsJitError(() => ledger.createGrant(grant), "Conflict", "id", /grant aaaaaaaaaaaa already exists/);

  const applying = await ledger.updateGrant(grant.id, 1, transition(grant, "applying"));
  assert.equal(applying.version, 2);
  assert.equal(applying.state, "applying");
  assert.deepEqual(await ledger.getGrant(grant.id), applying);
  await assertRejectsJitError(
    () => ledger.updateGrant(grant.id, 1, transition(grant, "restoring", "UserRequested")),
    "VersionConflict",
    "version",
    /grant aaaaaaaaaaaa is at version 2, not at version 1: someone else changed it; read it again and retry/,
  );
  await assertRejectsJitError(() => ledger.updateGrant("bbbbbbbbbbbb", 1, { ...applying, id: "bbbbbbbbbbbb" }), "NotFound", "id", /grant bbbbbbbbbbbb does not exist/);
  await assertRejectsJitError(() => ledger.updateGrant(grant.id, 2, { ...applying, id: "bbbbbbbbbbbb" }), "InvalidInput", "id", /the grant passed is bbbbbbbbbbbb, not aaaaaaaaaaaa/);
  await assertRejectsJitError(() => ledger.updateGrant(grant.id, 2, { ...applying, policy: "other" }), "InvalidInput", "policy", /its policy, cloud, VMs and creation time never change/);
  const elsewhere = { ...applying, virtualMachines: [{ ...applying.virtualMachines[0], id: azureVmId("web2") }] };
  await assertRejectsJitError(() => ledger.updateGrant(grant.id, 2, elsewhere), "InvalidInput", "policy", /its policy, cloud, VMs and creation time never change/);
  await assertRejectsJitError(() => ledger.updateGrant(grant.id, 2, { ...applying, state: "bogus" as never }), "InvalidInput", "state", /invalid grant: Invalid option/);
  assert.equal((await ledger.getGrant(grant.id))?.version, 2, "refused updates change nothing");
  await ledger.close();
});

test("listGrants filters by state, policy, VM (any spelling) and cloud, newest first", async () => {
  const ledger = memory();
  const a = await ledger.createGrant(sampleGrant({ id: "aaaaaaaaaaaa", now: NOW }));
  const b = await ledger.createGrant(sampleGrant({ id: "bbbbbbbbbbbb", now: NOW + 1000 }));
  const c = await ledger.createGrant(sampleGrant({ id: "cccccccccccc", now: NOW + 2000, policy: awsPolicy(), source: "198.51.100.7" }));
  await move(ledger, b, ["applying"], ["active"]);
  const ids = async (filter: Parameters<SqliteLedger["listGrants"]>[0]) => (await ledger.listGrants(filter)).map((g) => g.id);
  assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
  assert.deepEqual(await ids({ state: "active" }), [b.id]);
  assert.deepEqual(await ids({ state: ["pending", "active"] }), [c.id, b.id, a.id]);
  assert.deepEqual(await ids({ state: [] }), [c.id, b.id, a.id]);
  assert.deepEqual(await ids({ policy: "web" }), [b.id, a.id]);
  assert.deepEqual(await ids({ cloud: "aws" }), [c.id]);
  assert.deepEqual(await ids({ vm: AZURE_VM.toUpperCase().replace(/SUBSCRIPTIONS\/[^/]+/, `subscriptions/${AZURE_VM.split("/")[2]}`) }), [b.id, a.id]);
  assert.deepEqual(await ids({ vm: `arn:aws:ec2:eu-west-1:123456789012:instance/${AWS_INSTANCE}` }), [c.id]);
  assert.deepEqual(await ids({ policy: "web", state: "pending", limit: 1 }), [a.id]);
  assert.deepEqual(await ids({ limit: 2 }), [c.id, b.id]);
  await assertRejectsJitError(() => ledger.listGrants({ limit: 0 }), "InvalidInput", "limit", /0 is not a positive whole number/);
  await assertRejectsJitError(() => ledger.listGrants({ vm: "web1" }), "InvalidInput", "vm", /"web1" is not a VM id/);
  await ledger.close();
});

test("dueForRestore returns exactly what the reconciler must act on, soonest first", async () => {
  const ledger = memory();
  const grant = (id: string, start: number) => ledger.createGrant(sampleGrant({ id, now: start }));
  // Each sample grant ends one hour after it starts.
  const activePast = await move(ledger, await grant("activepastaa", NOW - 2 * HOUR), ["applying"], ["active"]);
  const activeFuture = await move(ledger, await grant("activefuture", NOW), ["applying"], ["active"]);
  const applyingPast = await move(ledger, await grant("applyingpast", NOW - 3 * HOUR), ["applying"]);
  await ledger.updateGrant(applyingPast.id, applyingPast.version, withChanges(applyingPast, "intended"));
  const pendingPast = await grant("pendingpasta", NOW - 90 * 60_000);
  const revoking = await move(ledger, await grant("revokingaaaa", NOW), ["applying"], ["active"], ["restoring", "UserRequested"]);
  let failedLeft = await move(ledger, await grant("failedleftaa", NOW - 5 * HOUR), ["applying"]);
  failedLeft = await ledger.updateGrant(failedLeft.id, failedLeft.version, withChanges(failedLeft, "applied"));
  failedLeft = await move(ledger, failedLeft, ["failed", undefined, "NSG full"]);
  await move(ledger, await grant("failedcleana", NOW - 6 * HOUR), ["applying"], ["failed"]);
  await move(ledger, await grant("expiredaaaaa", NOW - 7 * HOUR), ["applying"], ["active"], ["restoring", "Expired"], ["expired"]);
  await move(ledger, await grant("revokedaaaaa", NOW - 8 * HOUR), ["applying"], ["active"], ["restoring", "UserRequested"], ["revoked"]);
  let early = await move(ledger, await grant("earlyendaaaa", NOW - 30 * 60_000), ["applying"]);
  early = await ledger.updateGrant(early.id, early.version, { ...early, changes: [{ ...removedRule, status: "applied", endTimeUtc: new Date(NOW - 60_000).toISOString() }] });

  const due = async (at: number) => (await ledger.dueForRestore(at)).map((g) => g.id);
  // Due at: failedLeft and revoking at their creation, then the ends of applyingPast, activePast, pendingPast, early's change.
  assert.deepEqual(await due(NOW), [failedLeft.id, applyingPast.id, activePast.id, pendingPast.id, early.id, revoking.id]);
  assert.deepEqual(await due(NOW + HOUR), [failedLeft.id, applyingPast.id, activePast.id, pendingPast.id, early.id, revoking.id, activeFuture.id]);
  assert.deepEqual(await ledger.dueForRestore(new Date(NOW), 2).then((gs) => gs.map((g) => g.id)), [failedLeft.id, applyingPast.id]);
  const restored = await ledger.updateGrant(failedLeft.id, failedLeft.version, { ...failedLeft, changes: [removedRule] });
  assert.equal(restored.state, "failed");
  assert.ok(!(await due(NOW)).includes(failedLeft.id), "once its leftovers are removed a failed grant is done");
  const [soonest] = await ledger.dueForRestore(NOW + HOUR, 1);
  assert.equal(soonest.id, applyingPast.id);
  assert.equal(await ledger.nextDueAt(), restoreDueAt(soonest), "the soonest due time, for the daemon's sleep");
  const empty = memory();
  assert.equal(await empty.nextDueAt(), undefined, "nothing is due in an empty ledger");
  await empty.close();
  await ledger.close();
});

test("the expiry query reads the restore index, never scanning the grants' history", async () => {
  const HISTORY = 200;
  const path = newFile();
  const ledger = new SqliteLedger(path);
  // Finished grants are written in their final state directly: the moves in between are pure.
  for (let i = 0; i < HISTORY; i++) {
    const g = sampleGrant({ id: `hist${base32(i, 8)}`, now: NOW - (i + 2) * HOUR });
    await ledger.createGrant(transition(transition(transition(transition(g, "applying"), "active"), "restoring", "Expired"), "expired"));
  }
  await ledger.createGrant(sampleGrant({ id: "liveaaaaaaaa" }));
  await ledger.close();
  const db = openDatabase(path, 1000);
  db.exec("ANALYZE");
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${DUE_FOR_RESTORE_SQL}`).all(NOW, -1).map((row) => String(row.detail));
  const vmsPlan = db.prepare(`EXPLAIN QUERY PLAN ${GRANT_VMS_SQL}`).all("liveaaaaaaaa").map((row) => String(row.detail));
  const entries = db.prepare("SELECT count(*) AS n FROM grants WHERE due_at IS NOT NULL").get();
  db.close();
  assert.deepEqual(plan, ["SEARCH grants USING INDEX grants_due (due_at<?)"], "a range read of the index; no SCAN, no temporary sort");
  assert.deepEqual(vmsPlan, ["SEARCH grant_vms USING COVERING INDEX grant_vms_grant (grant_id=?)"], "an update reads its grant's VMs by index, whatever the history");
  assert.equal(Number(entries?.n), 1, `${HISTORY} finished grants leave no entry in the restore index`);
  const reopened = new SqliteLedger(path);
  assert.deepEqual((await reopened.dueForRestore(NOW + 2 * HOUR)).map((g) => g.id), ["liveaaaaaaaa"]);
  await reopened.close();
});

test("audit: append, filter, newest first, limit; events are validated and redacted", async () => {
  const ledger = memory();
  const event = (minutes: number, fields: Partial<Parameters<typeof newAuditEvent>[0]> = {}) =>
    ledger.appendAudit(newAuditEvent({ actor: "ana@contoso.com", action: "grant.request", target: { policy: "web" }, outcome: "success", time: NOW + minutes * 60_000, ...fields }));
  const first = await event(0);
  const refused = await event(1, { action: "grant.refuse", outcome: "refused", target: { policy: "web", vm: AZURE_VM }, message: "denied, client_secret=abc" });
  const applied = await event(2, { action: "grant.apply", target: { policy: "web", grant: "aaaaaaaaaaaa", vm: AZURE_VM } });
  const sweep = await event(3, { actor: "pulumi-jit", action: "grant.sweep", target: {} });
  const ids = async (filter: Parameters<SqliteLedger["listAudit"]>[0]) => (await ledger.listAudit(filter)).map((e) => e.id);
  assert.deepEqual(await ids({}), [sweep.id, applied.id, refused.id, first.id]);
  assert.deepEqual(await ids({ limit: 2 }), [sweep.id, applied.id]);
  assert.deepEqual(await ids({ action: ["grant.refuse", "grant.apply"] }), [applied.id, refused.id]);
  assert.deepEqual(await ids({ actor: "pulumi-jit" }), [sweep.id]);
  assert.deepEqual(await ids({ outcome: "refused" }), [refused.id]);
  assert.deepEqual(await ids({ policy: "WEB" }), [applied.id, refused.id, first.id]);
  assert.deepEqual(await ids({ grant: "aaaaaaaaaaaa" }), [applied.id]);
  assert.deepEqual(await ids({ vm: AZURE_VM.toLowerCase() }), [applied.id, refused.id]);
  assert.deepEqual(await ids({ since: NOW + 60_000, until: new Date(NOW + 2 * 60_000) }), [applied.id, refused.id]);
  assert.equal((await ledger.listAudit({ outcome: "refused" }))[0].message, "denied, [redacted]");
  await assertRejectsJitError(() => ledger.appendAudit(first), "Conflict", "id", /audit event .* already exists/);
  await assertRejectsJitError(() => ledger.appendAudit({ ...first, id: "zzzzzzzzzzzzzzzz", outcome: "maybe" as never }), "InvalidInput", "outcome", /invalid audit event/);
  await ledger.close();
});

test("a ledger file survives close and reopen, in WAL mode, at the latest schema version", async () => {
  const path = join(dir, "nested", "deeper", "ledger.db");
  const first = await openLedger(path);
  await first.putPolicy({ policy: azurePolicy(), baseline: { deny: ["rule-1"] } });
  const grant = await first.createGrant(sampleGrant({ id: "persistaaaaa" }));
  const event = await first.appendAudit(newAuditEvent({ actor: "ana@contoso.com", action: "policy.create", target: { policy: "web" }, outcome: "success" }));
  await first.close();
  assert.equal(statSync(join(dir, "nested")).mode & 0o777, 0o700, "a new ledger directory is private");

  const second = new SqliteLedger(path);
  assert.deepEqual((await second.getPolicy("web"))?.baseline, { deny: ["rule-1"] });
  assert.deepEqual(await second.getGrant(grant.id), grant);
  assert.deepEqual(await second.listAudit(), [event]);
  await second.close();

  const db = openDatabase(path, 1000);
  assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()?.value, String(MIGRATIONS.length));
  db.exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  db.close();
  assert.throws(() => new SqliteLedger(path), new RegExp(`the ledger has schema version 99, newer than this pulumi-jit knows \\(${MIGRATIONS.length}\\); upgrade pulumi-jit`));
});

test("migrations run in order, once", () => {
  const db = openDatabase(MEMORY, 1000);
  assert.equal(migrate(db), MIGRATIONS.length);
  const next = [...MIGRATIONS, "CREATE TABLE later (x INTEGER) STRICT"];
  assert.equal(migrate(db, next), MIGRATIONS.length + 1);
  assert.equal(migrate(db, next), MIGRATIONS.length + 1, "a migrated database is left alone");
  assert.ok(db.prepare("SELECT name FROM sqlite_master WHERE name = 'later'").get());
  db.close();
});

test("the default path is $JIT_LEDGER, else ~/.pulumi-jit/ledger.db", () => {
  assert.equal(defaultLedgerPath({ JIT_LEDGER: "/srv/jit/ledger.db" }), "/srv/jit/ledger.db");
  assert.match(defaultLedgerPath({}), /[/\\]\.pulumi-jit[/\\]ledger\.db$/);
});

test("a corrupt record is reported naming its table and key", async () => {
  const path = newFile();
  const ledger = new SqliteLedger(path);
  await ledger.putPolicy({ policy: azurePolicy() });
  await ledger.createGrant(sampleGrant({ id: "corruptaaaaa" }));
  await ledger.createGrant(sampleGrant({ id: "notjsonaaaaa" }));
  await ledger.createGrant(sampleGrant({ id: "mismatchaaaa" }));
  const event = await ledger.appendAudit(newAuditEvent({ actor: "a", action: "grant.sweep", target: {}, outcome: "success" }));
  const db = openDatabase(path, 1000);
  db.exec(`UPDATE grants SET record = json_set(record, '$.state', 'exploded') WHERE id = 'corruptaaaaa'`);
  db.exec(`UPDATE grants SET record = '{"id": "notjsonaaaaa",' WHERE id = 'notjsonaaaaa'`);
  db.exec(`UPDATE grants SET version = 5 WHERE id = 'mismatchaaaa'`);
  db.exec(`UPDATE policies SET record = json_set(record, '$.policy.virtualMachines[0].ports[0].number', 99999)`);
  db.exec(`UPDATE audit SET record = json_set(record, '$.actor', '')`);
  db.close();
  const corrupt = async (run: () => Promise<unknown>, table: string, key: string, problem: RegExp) => {
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof LedgerCorruptError, String(err));
      assert.equal(err.table, table);
      assert.equal(err.key, key);
      assert.match(err.message, new RegExp(`^ledger record ${table}\\["${key}"\\] is corrupt: `));
      assert.match(err.message, problem);
      return true;
    });
  };
  await corrupt(() => ledger.getGrant("corruptaaaaa"), "grants", "corruptaaaaa", /invalid grant: Invalid option: expected one of "pending"\|/);
  await corrupt(() => ledger.listGrants(), "grants", "corruptaaaaa", /state/);
  await corrupt(() => ledger.getGrant("notjsonaaaaa"), "grants", "notjsonaaaaa", /not JSON/);
  await corrupt(() => ledger.getGrant("mismatchaaaa"), "grants", "mismatchaaaa", /its version column says 5 but its record says 1/);
  await corrupt(() => ledger.getPolicy("web"), "policies", "web", /policy\.virtualMachines\[0\]\.ports\[0\]\.number|must be a whole number from 0 to 65535/);
  await corrupt(() => ledger.listAudit(), "audit", event.id, /invalid audit event/);
  await ledger.close();
});

test("two ledgers on one file: one writer wins each version, the other is told", async () => {
  const path = newFile();
  const a = new SqliteLedger(path);
  const b = new SqliteLedger(path);
  const grant = await a.createGrant(sampleGrant({ id: "sharedaaaaaa" }));
  const seenByA = await a.getGrant(grant.id);
  const seenByB = await b.getGrant(grant.id);
  assert.deepEqual(seenByA, seenByB);
  const won = await a.updateGrant(grant.id, 1, transition(seenByA as Grant, "applying"));
  assert.equal(won.version, 2);
  await assertRejectsJitError(() => b.updateGrant(grant.id, 1, transition(seenByB as Grant, "restoring", "UserRequested")), "VersionConflict", "version", /is at version 2, not at version 1/);
  const fresh = (await b.getGrant(grant.id)) as Grant;
  assert.equal(fresh.state, "applying", "B sees A's write");
  assert.equal((await b.updateGrant(grant.id, fresh.version, transition(fresh, "restoring", "UserRequested"))).version, 3);
  await a.close();
  await b.close();
});

test("two processes racing updateGrant: exactly one wins each version and no update is lost", async () => {
  const path = newFile();
  const ledger = new SqliteLedger(path);
  const grant = await ledger.createGrant(sampleGrant({ id: "raceaaaaaaaa" }));
  await ledger.close();
  const updates = 60;
  const root = resolve(__dirname, "..", "..", "..");
  const worker = join(__dirname, "testing", "race-worker.ts");
  const children = ["left", "right"].map((name) => spawn(process.execPath, ["--import", "tsx", worker, path, grant.id, name, String(updates)], { cwd: root }));
  const outputs = children.map((child) => {
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const ready = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        if (stdout.startsWith("ready\n")) resolve();
      }),
    );
    const done = new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => child.on("close", (code) => resolve({ stdout, stderr, code })));
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const child of children) child.stdin.end("go\n");
  const results = await Promise.all(outputs.map((o) => o.done));
  for (const { stderr, code } of results) {
    assert.equal(stderr, "", "no warnings, no errors");
    assert.equal(code, 0);
  }
  const [left, right] = results.map(({ stdout }) => JSON.parse(stdout.slice("ready\n".length)) as { wins: number[]; conflicts: number });
  const all = [...left.wins, ...right.wins].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 2 * updates }, (_, i) => i + 2), "every version from 2 up was written exactly once");
  assert.ok(left.conflicts + right.conflicts > 0, "the two processes did race");

  const final = (await new SqliteLedger(path).getGrant(grant.id)) as Grant;
  assert.equal(final.version, 2 * updates + 1);
  const names = final.changes.map((c) => (c.kind === "azure-nsg-rule" ? c.ruleName : ""));
  assert.deepEqual(names, all.map((v) => `${left.wins.includes(v) ? "left" : "right"}-v${v}`), "each win built on the one before it");
  assert.ok(!existsSync(`${path}-journal`), "WAL mode: no rollback journal");
});

test("a ledger written before the audit chain is chained in order when it is opened, and then verifies", async () => {
  const path = newFile();
  const db = openDatabase(path, 1000);
  migrate(db, MIGRATIONS.slice(0, 1));
  const events = [0, 1, 2].map((i) => newAuditEvent({ actor: "ana@contoso.com", action: "grant.request", target: { policy: "web" }, outcome: "success", time: NOW + i }));
  for (const e of events) {
    db.prepare("INSERT INTO audit (id, time, action, actor, outcome, record) VALUES (?, ?, ?, ?, ?, ?)").run(e.id, Date.parse(e.time), e.action, e.actor, e.outcome, JSON.stringify(e));
  }
  db.close();
  assert.throws(() => new SqliteLedger(path, { readOnly: true }), new RegExp(`schema version 1, and this release reads version ${MIGRATIONS.length}; run \`jit ledger init\``));
  const ledger = new SqliteLedger(path);
  const log = await ledger.readAuditLog();
  assert.deepEqual(verifyAuditChain(log), { ok: true, entries: 3, head: (log[2].record as { hash: string }).hash, problems: [] });
  await ledger.appendAudit(newAuditEvent({ actor: "pulumi", action: "policy.create", target: { policy: "web" }, outcome: "success" }));
  assert.equal(verifyAuditChain(await ledger.readAuditLog()).entries, 4);
  await ledger.close();
});
