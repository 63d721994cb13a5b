/**
 * The ledger contract: one suite, run unchanged against every backend (each `contract-*.test.ts`
 * starts its real server and calls `ledgerContract`). Whatever the store, the ledger must behave
 * the same: compare-and-swap on versions, due grants from the index, a hash-chained audit log
 * whose tampering is found with its position, and errors in the product's own codes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { AuditRecord, auditHash, newAuditEvent, verifyAuditChain } from "../../provider/src/model/audit";
import { Grant, newGrantId, transition } from "../../provider/src/model/grant";
import { newNotification } from "../../provider/src/model/notification";
import { assertRejectsJitError } from "../../provider/src/model/testing/assert";
import { AWS_INSTANCE, NOW, awsPolicy, azurePolicy, azurePolicyInput, azureVmId, sampleGrant } from "../../provider/src/model/testing/fixtures";
import { setEnv } from "../support/env";
import { Backend, StoreServer, startStore } from "../support/servers";
import { tamper } from "./tamper";

const MINUTE = 60_000;

export function ledgerContract(backend: Backend): void {
  let server: StoreServer;
  const clock = NOW;
  const ledgers: Ledger[] = [];
  /** A ledger on a fresh table / database / file for each test, so that tests do not see each other. */
  let tables = 0;
  const fresh = async (): Promise<{ ledger: Ledger; url: string }> => {
    const url = locationFor(backend, server.url, ++tables);
    const ledger = await openLedger(url, { init: true, now: () => clock });
    ledgers.push(ledger);
    return { ledger, url };
  };

  let restoreEnv = () => {};
  before(async () => {
    server = await startStore(backend);
    restoreEnv = setEnv(server.env);
  });
  after(async () => {
    restoreEnv();
    for (const l of ledgers) await l.close();
    await server?.stop();
  });

  test(`${backend}: policies are written by compare-and-swap and read back case-insensitively`, async () => {
    const { ledger } = await fresh();
    const created = await ledger.putPolicy({ policy: azurePolicyInput(), baseline: { rules: ["jit-deny-web1"] } }, { expectedVersion: 0 });
    assert.equal(created.version, 1);
    assert.deepEqual(await ledger.getPolicy("WEB"), created);
    await assertRejectsJitError(() => ledger.putPolicy({ policy: azurePolicy() }, { expectedVersion: 0 }), "VersionConflict", "version", /policy "web" already exists \(at version 1\)/);
    assert.equal((await ledger.putPolicy({ policy: azurePolicy() }, { expectedVersion: 1 })).version, 2);
    assert.equal((await ledger.putPolicy({ policy: azurePolicy() })).version, 3, "without an expected version the write is unconditional");
    await ledger.putPolicy({ policy: awsPolicy() });
    assert.deepEqual((await ledger.listPolicies()).map((r) => r.policy.name), ["ops", "web"]);
    assert.deepEqual((await ledger.listPolicies({ cloud: "aws" })).map((r) => r.policy.name), ["ops"]);
    await assertRejectsJitError(() => ledger.deletePolicy("web", { expectedVersion: 2 }), "VersionConflict", "version", /is at version 3/);
    assert.equal(await ledger.deletePolicy("web", { expectedVersion: 3 }), true);
    assert.equal(await ledger.deletePolicy("web"), false);
    assert.equal(await ledger.getPolicy("web"), undefined);
  });

  test(`${backend}: grants are created once and updated only by compare-and-swap`, async () => {
    const { ledger } = await fresh();
    const grant = await ledger.createGrant(sampleGrant());
    assert.equal(grant.version, 1);
    assert.deepEqual(await ledger.getGrant(grant.id), grant);
    await assertRejectsJitError(() => ledger.createGrant(grant), "Conflict", "id", /already exists/);
    const applying = await ledger.updateGrant(grant.id, 1, transition(grant, "applying"));
    assert.equal(applying.version, 2);
    await assertRejectsJitError(() => ledger.updateGrant(grant.id, 1, transition(grant, "applying")), "VersionConflict", "version", /is at version 2, not at version 1/);
    await assertRejectsJitError(() => ledger.updateGrant("aaaaaaaaaaaa", 1, { ...grant, id: "aaaaaaaaaaaa" }), "NotFound", "id", /does not exist/);
    await assertRejectsJitError(() => ledger.updateGrant(grant.id, 2, { ...applying, requester: "x", policy: "other" }), "InvalidInput", "policy", /never change/);
    assert.equal(await ledger.getGrant("bbbbbbbbbbbb"), undefined);
  });

  test(`${backend}: two writers racing on one version: exactly one wins (a sweeper's claim)`, async () => {
    const { ledger, url } = await fresh();
    const other = await openLedger(url, { now: () => clock });
    ledgers.push(other);
    for (let round = 0; round < 5; round++) {
      const grant = await ledger.createGrant(sampleGrant({ id: newGrantId() }));
      const claims = await Promise.allSettled([
        ledger.updateGrant(grant.id, 1, transition(grant, "restoring", "Expired")),
        other.updateGrant(grant.id, 1, transition(grant, "restoring", "Expired")),
      ]);
      assert.equal(claims.filter((c) => c.status === "fulfilled").length, 1, JSON.stringify(claims.map((c) => c.status)));
      const lost = claims.find((c): c is PromiseRejectedResult => c.status === "rejected");
      assert.equal((lost?.reason as { code?: string }).code, "VersionConflict");
    }
  });

  test(`${backend}: writes made side by side by one ledger each land or fail on their own, and due grants read back whole`, async () => {
    const { ledger } = await fresh();
    const grants = await Promise.all(Array.from({ length: 12 }, (_, i) => ledger.createGrant(sampleGrant({ id: newGrantId(), now: NOW + i * MINUTE }))));
    // In one turn: a claim on each grant, every third at a stale version, and a second claim on the first grant.
    const claims = await Promise.allSettled([
      ...grants.map((g, i) => ledger.updateGrant(g.id, i % 3 === 2 ? 7 : 1, transition(g, "restoring", "Expired"))),
      ledger.updateGrant(grants[0].id, 1, transition(grants[0], "restoring", "Expired")),
    ]);
    const codes = claims.map((c) => (c.status === "fulfilled" ? "ok" : (c.reason as { code?: string }).code));
    // The two claims on the first grant race (a store with a connection pool may land either first): one wins.
    const [first, ...rest] = codes.slice(0, grants.length);
    assert.deepEqual(rest, grants.slice(1).map((_, i) => (i % 3 === 1 ? "VersionConflict" : "ok")));
    assert.deepEqual([first, codes[grants.length]].sort(), ["VersionConflict", "ok"]);
    const stored = await Promise.all(grants.map((g) => ledger.getGrant(g.id)));
    assert.deepEqual(
      stored.map((g) => `${g?.state}@${g?.version}`),
      grants.map((_, i) => (i % 3 === 2 ? "pending@1" : "restoring@2")),
    );
    const due = await ledger.dueForRestore(NOW + 2 * 60 * MINUTE);
    assert.equal(due.length, grants.length);
    assert.deepEqual(
      [...due].sort((a, b) => (a.id < b.id ? -1 : 1)),
      [...stored].sort((a, b) => (a!.id < b!.id ? -1 : 1)),
      "each due grant is its record as stored, at its version",
    );
  });

  test(`${backend}: listGrants filters by state, policy, VM and cloud, newest first`, async () => {
    const { ledger } = await fresh();
    const a = await ledger.createGrant(sampleGrant({ id: newGrantId(), now: NOW }));
    const b = await ledger.createGrant(sampleGrant({ id: newGrantId(), now: NOW + MINUTE }));
    const c = await ledger.createGrant(sampleGrant({ id: newGrantId(), now: NOW + 2 * MINUTE, policy: awsPolicy(), source: "198.51.100.7" }));
    await ledger.updateGrant(b.id, 1, transition(b, "applying"));
    assert.deepEqual((await ledger.listGrants()).map((g) => g.id), [c.id, b.id, a.id]);
    assert.deepEqual((await ledger.listGrants({ state: "applying" })).map((g) => g.id), [b.id]);
    assert.deepEqual((await ledger.listGrants({ policy: "WEB" })).map((g) => g.id), [b.id, a.id]);
    assert.deepEqual((await ledger.listGrants({ vm: AWS_INSTANCE })).map((g) => g.id), [c.id]);
    assert.deepEqual((await ledger.listGrants({ vm: azureVmId("WEB1") })).map((g) => g.id), [b.id, a.id], "any spelling of the VM id");
    assert.deepEqual((await ledger.listGrants({ cloud: "aws" })).map((g) => g.id), [c.id]);
    assert.deepEqual((await ledger.listGrants({ limit: 1 })).map((g) => g.id), [c.id]);
  });

  test(`${backend}: due grants come from the index, soonest first, and leave it when they end`, async () => {
    const { ledger } = await fresh();
    const grants: Grant[] = [];
    for (const offset of [30, 10, 20, 50]) grants.push(await ledger.createGrant(sampleGrant({ id: newGrantId(), now: NOW + offset * MINUTE })));
    // sampleGrant lasts an hour: due at NOW + offset + 60 minutes.
    const at = (minutes: number) => NOW + minutes * MINUTE;
    assert.deepEqual(await ledger.dueForRestore(at(69)), []);
    assert.deepEqual((await ledger.dueForRestore(at(85))).map((g) => g.id), [grants[1].id, grants[2].id]);
    assert.deepEqual((await ledger.dueForRestore(at(95))).map((g) => g.id), [grants[1].id, grants[2].id, grants[0].id]);
    assert.deepEqual((await ledger.dueForRestore(at(95), 2)).map((g) => g.id), [grants[1].id, grants[2].id]);
    assert.equal(await ledger.nextDueAt(), at(70));
    // Restoring is due at once; expired (nothing left open) is never due again.
    let g = await ledger.updateGrant(grants[3].id, 1, transition(grants[3], "restoring", "Expired"));
    assert.ok((await ledger.dueForRestore(at(50))).some((d) => d.id === g.id), "a begun restore is due at once (from its creation)");
    g = await ledger.updateGrant(g.id, g.version, transition(g, "expired"));
    const first = await ledger.updateGrant(grants[1].id, 1, transition(transition(grants[1], "restoring", "Expired"), "expired"));
    assert.equal(first.state, "expired");
    assert.deepEqual((await ledger.dueForRestore(at(1000))).map((d) => d.id), [grants[2].id, grants[0].id]);
    assert.equal(await ledger.nextDueAt(), at(80));
  });

  test(`${backend}: what a ledger last wrote gives way to another writer's later write (grants and the audit log's head)`, async () => {
    const { ledger, url } = await fresh();
    const other = await openLedger(url, { now: () => clock });
    ledgers.push(other);
    const grant = await ledger.createGrant(sampleGrant({ id: newGrantId() }));
    await other.updateGrant(grant.id, 1, transition(grant, "applying"));
    await assertRejectsJitError(() => ledger.updateGrant(grant.id, 1, transition(grant, "applying")), "VersionConflict", "version", /is at version 2, not at version 1/);
    const applying = (await ledger.getGrant(grant.id))!;
    assert.equal((await ledger.updateGrant(grant.id, 2, transition(applying, "active"))).version, 3);
    await assertRejectsJitError(() => other.updateGrant(grant.id, 2, transition(applying, "active")), "VersionConflict", "version", /is at version 3/);

    const event = (i: number) => newAuditEvent({ actor: "sweeper", action: "grant.expire", target: { policy: "web" }, outcome: "success", time: NOW + i });
    await ledger.appendAudit(event(1));
    await other.appendAudit(event(2));
    await other.appendAudit(event(3));
    await ledger.appendAudit(event(4));
    const log = await other.readAuditLog();
    assert.deepEqual(log.map((e) => e.position), [1, 2, 3, 4]);
    assert.deepEqual(verifyAuditChain(log).problems, []);
  });

  test(`${backend}: concurrent audit appends form one chain that verifies`, async () => {
    const { ledger, url } = await fresh();
    const other = await openLedger(url, { now: () => clock });
    ledgers.push(other);
    const events = Array.from({ length: 16 }, (_, i) =>
      newAuditEvent({ actor: i % 2 ? "sweeper" : "ana@contoso.com", action: i % 2 ? "grant.expire" : "grant.request", target: { policy: "web" }, outcome: "success", time: NOW + i }),
    );
    await Promise.all(events.map((e, i) => (i % 2 ? other : ledger).appendAudit(e)));
    const log = await ledger.readAuditLog();
    assert.deepEqual(
      log.map((e) => e.position),
      events.map((_, i) => i + 1),
    );
    const verified = verifyAuditChain(log);
    assert.deepEqual(verified.problems, []);
    assert.equal(verified.entries, 16);
    assert.deepEqual(new Set((await ledger.listAudit()).map((e) => e.id)), new Set(events.map((e) => e.id)));
    assert.equal((await ledger.listAudit({ actor: "sweeper" })).length, 8);
    assert.equal((await ledger.listAudit({ action: "grant.request", limit: 3 })).length, 3);
    assert.equal((await ledger.listAudit({ since: NOW + 10 })).length, 6);
  });

  test(`${backend}: an audit entry edited, removed or inserted in the store is found at its position`, async () => {
    const { ledger, url } = await fresh();
    for (let i = 0; i < 6; i++) await ledger.appendAudit(newAuditEvent({ actor: "ana@contoso.com", action: "grant.request", target: { policy: "web" }, outcome: "success", time: NOW + i }));
    const before = await ledger.readAuditLog();
    const entry = (n: number) => AuditRecord.parse(before[n - 1].record);

    await tamper(backend, url, { kind: "edit", position: 3, record: { ...entry(3), event: { ...entry(3).event, actor: "mallory" } } });
    assert.deepEqual(
      verifyAuditChain(await ledger.readAuditLog()).problems.map((p) => [p.position, p.problem]),
      [[3, "edited"]],
    );
    await tamper(backend, url, { kind: "edit", position: 3, record: entry(3) });

    await tamper(backend, url, { kind: "remove", position: 4 });
    assert.deepEqual(
      verifyAuditChain(await ledger.readAuditLog()).problems.map((p) => [p.position, p.problem]),
      [[4, "removed"]],
    );
    await tamper(backend, url, { kind: "edit", position: 4, record: entry(4) });

    const forged = newAuditEvent({ actor: "mallory", action: "grant.revoke", target: { policy: "web" }, outcome: "success", time: NOW + 100 });
    const prev = entry(5).hash;
    await tamper(backend, url, { kind: "edit", position: 7, record: { seq: 7, prev, hash: auditHash(7, prev, forged), event: forged } });
    const found = verifyAuditChain(await ledger.readAuditLog());
    assert.deepEqual(
      found.problems.map((p) => [p.position, p.problem]),
      [[7, "inserted"]],
    );
    assert.match(found.problems[0].detail, /entry 7 does not follow entry 6/);
  });

  test(`${backend}: the notifications outbox keeps events in order, records deliveries by compare-and-swap, and forgets delivered ones`, async () => {
    const { ledger } = await fresh();
    const grant = sampleGrant();
    const kinds = ["requested", "pending-approval", "approved", "granted"] as const;
    // Two events in the same millisecond keep the order they were queued in.
    const queued = [];
    for (const [i, kind] of kinds.entries()) queued.push(await ledger.enqueueNotification(newNotification(kind, grant, { time: clock + (i < 2 ? 0 : i) })));
    const listed = await ledger.listOutbox();
    assert.deepEqual(listed.map((e) => e.event.kind), [...kinds]);
    assert.deepEqual(listed, queued);
    assert.deepEqual((await ledger.listOutbox(2)).map((e) => e.event.kind), kinds.slice(0, 2));

    const first = listed[0];
    const delivered = await ledger.updateOutbox(first.key, 1, { ...first, deliveries: { hook: { attempts: 1, deliveredAt: new Date(clock).toISOString() } } });
    assert.equal(delivered.version, 2);
    await assertRejectsJitError(() => ledger.updateOutbox(first.key, 1, { ...first, deliveries: { hook: { attempts: 9 } } }), "VersionConflict", "version", /is at version 2, not at version 1/);
    await assertRejectsJitError(() => ledger.updateOutbox(first.key, 2, { ...first, key: listed[1].key }), "InvalidInput", "key", /not/);
    await assertRejectsJitError(() => ledger.updateOutbox("000000000000000_000000001_aaaaaaaaaaaaaaaa", 1, { ...first, key: "000000000000000_000000001_aaaaaaaaaaaaaaaa" }), "NotFound", "key", /does not exist/);
    assert.deepEqual((await ledger.listOutbox(1))[0].deliveries, { hook: { attempts: 1, deliveredAt: new Date(clock).toISOString() } });
    assert.equal(await ledger.deleteOutbox(first.key, 1), false, "only at its version");
    assert.equal(await ledger.deleteOutbox(first.key, 2), true);
    assert.deepEqual((await ledger.listOutbox()).map((e) => e.event.kind), kinds.slice(1));
  });

  test(`${backend}: a ledger opened read-only reads what is there`, async () => {
    const { ledger, url } = await fresh();
    await ledger.putPolicy({ policy: azurePolicy() });
    await ledger.appendAudit(newAuditEvent({ actor: "pulumi", action: "policy.create", target: { policy: "web" }, outcome: "success" }));
    const reader = await openLedger(url, { readOnly: true });
    ledgers.push(reader);
    assert.deepEqual((await reader.listPolicies()).map((p) => p.policy.name), ["web"]);
    assert.equal(verifyAuditChain(await reader.readAuditLog()).entries, 1);
  });
}

/** Each test's own table (Table, DynamoDB), schema (PostgreSQL) or file (SQLite), so that tests do not see each other's records. */
function locationFor(backend: Backend, base: string, n: number): string {
  switch (backend) {
    case "sqlite":
      return base.replace(/ledger\.db$/, `ledger-${n}.db`);
    case "azuretable":
      return base.replace(/^azuretable:\/\/[A-Za-z0-9]+/, `azuretable://jitledger${n}`);
    case "dynamodb":
      return base.replace(/^dynamodb:\/\/[^?]+/, `dynamodb://jit-ledger-${n}`);
    case "postgres":
      return `${base}?schema=t${n}`;
  }
}
