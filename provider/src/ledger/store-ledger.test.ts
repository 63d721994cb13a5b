import { test } from "node:test";
import assert from "node:assert/strict";
import { newAuditEvent, verifyAuditChain } from "../model/audit";
import { NOW } from "../model/testing/fixtures";
import { StoreLedger } from "./store-ledger";
import { DueItem, ItemKind, ItemStore, RequestCounts, StoredItem, auditKey } from "./store";

/** Items in memory, written by compare-and-swap; a write can be made to land and still answer "lost", as after a dropped response and a retry. */
class MemoryStore implements ItemStore {
  readonly description = "memory";
  readonly requests: RequestCounts = { reads: 0, writes: 0 };
  readonly items = new Map<string, StoredItem>();
  /** Writes of these keys land, and then say another writer got there first. */
  readonly answerLost = new Set<string>();

  async init(): Promise<void> {}
  async check(): Promise<void> {}
  async get(kind: ItemKind, key: string): Promise<StoredItem | undefined> {
    return this.items.get(`${kind}/${key}`);
  }
  async put(kind: ItemKind, key: string, body: string, expected: number): Promise<boolean> {
    const id = `${kind}/${key}`;
    if ((this.items.get(id)?.version ?? 0) !== expected) return false;
    this.items.set(id, { key, version: expected + 1, body });
    return !this.answerLost.delete(key);
  }
  async delete(): Promise<boolean> {
    return false;
  }
  async list(kind: ItemKind, limit?: number): Promise<StoredItem[]> {
    const mine = [...this.items.entries()].filter(([id]) => id.startsWith(`${kind}/`)).map(([, item]) => item);
    return mine.sort((a, b) => (a.key < b.key ? -1 : 1)).slice(0, limit);
  }
  async due(): Promise<DueItem[]> {
    return [];
  }
  async close(): Promise<void> {}
}

test("an audit append whose write landed but whose answer was lost is appended once, and the chain goes on after it", async () => {
  const store = new MemoryStore();
  const ledger = new StoreLedger(store, { now: () => NOW });
  const event = (n: number) => newAuditEvent({ actor: "test", action: "grant.expire", target: {}, message: `e${n}`, outcome: "success", time: NOW });
  await ledger.appendAudit(event(1));
  store.answerLost.add(auditKey(2));
  await ledger.appendAudit(event(2));
  await ledger.appendAudit(event(3));
  const log = await ledger.readAuditLog();
  assert.deepEqual(
    (await ledger.listAudit()).map((e) => e.message),
    ["e3", "e2", "e1"],
  );
  assert.deepEqual(verifyAuditChain(log).problems, []);
});

test("appends made side by side by one ledger chain one after another, without racing for a position", async () => {
  const store = new MemoryStore();
  const ledger = new StoreLedger(store, { now: () => NOW });
  await Promise.all(Array.from({ length: 20 }, (_, n) => ledger.appendAudit(newAuditEvent({ actor: "test", action: "grant.request", target: {}, message: `e${n}`, outcome: "success", time: NOW }))));
  assert.equal(store.requests.reads, 0, "no append had to read the head");
  const log = await ledger.readAuditLog();
  assert.equal(log.length, 20);
  assert.deepEqual(verifyAuditChain(log).problems, []);
});
