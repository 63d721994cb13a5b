import { test } from "node:test";
import assert from "node:assert/strict";
import { openLedger } from "../ledger";
import { Change, transition } from "../model";
import { sampleGrant } from "../model/testing/fixtures";
import { LedgerJournal } from "./journal";

const rule = (name: string, status: Change["status"]): Change => ({
  kind: "azure-nsg-rule",
  status,
  nsgId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg1",
  ruleName: name,
  priority: 100,
  rule: { direction: "Inbound", access: "Allow", protocol: "Tcp" },
});

/** A grant being restored, with two applied rules, as a sweep takes it. */
async function restoring() {
  const ledger = await openLedger(":memory:");
  const active = transition(transition({ ...sampleGrant(), changes: [rule("a", "applied"), rule("b", "applied")] }, "applying"), "active");
  const created = await ledger.createGrant(active);
  const taken = await ledger.updateGrant(created.id, created.version, transition(created, "restoring", "Expired"));
  return { ledger, grant: taken };
}

test("held removals stay in memory until the grant's next edit, which writes them with it", async () => {
  const { ledger, grant } = await restoring();
  try {
    const journal = new LedgerJournal(ledger, grant);
    journal.holdRemovals();
    await journal.update(rule("a", "removed"));
    await journal.update(rule("b", "removed"));
    assert.equal((await ledger.getGrant(grant.id))!.version, grant.version, "nothing written yet");
    assert.deepEqual(journal.grant.changes.map((c) => c.status), ["removed", "removed"], "the journal's grant already says so");

    await journal.edit((g) => transition(g, "expired"));
    const stored = (await ledger.getGrant(grant.id))!;
    assert.equal(stored.version, grant.version + 1, "one write for both removals and the final state");
    assert.equal(stored.state, "expired");
    assert.deepEqual(stored.changes.map((c) => c.status), ["removed", "removed"]);
  } finally {
    await ledger.close();
  }
});

test("a held removal survives a conflict with another writer, and flush writes it on its own", async () => {
  const { ledger, grant } = await restoring();
  try {
    const journal = new LedgerJournal(ledger, grant);
    journal.holdRemovals();
    await journal.update(rule("a", "removed"));
    // Another process edits the grant meanwhile (it stays restoring).
    await ledger.updateGrant(grant.id, grant.version, { ...grant, error: "noted elsewhere" });
    await journal.flush();
    const stored = (await ledger.getGrant(grant.id))!;
    assert.deepEqual(stored.changes.map((c) => c.status), ["removed", "applied"]);
    assert.equal(stored.error, "noted elsewhere", "the other writer's edit is kept");
    const version = stored.version;
    await journal.flush();
    assert.equal((await ledger.getGrant(grant.id))!.version, version, "nothing held, nothing written");
  } finally {
    await ledger.close();
  }
});

test("without holding, every removal is written as it is reported", async () => {
  const { ledger, grant } = await restoring();
  try {
    const journal = new LedgerJournal(ledger, grant);
    await journal.update(rule("a", "removed"));
    assert.deepEqual((await ledger.getGrant(grant.id))!.changes.map((c) => c.status), ["removed", "applied"]);
    await assert.rejects(journal.update(rule("c", "removed")), /no recorded change/);
  } finally {
    await ledger.close();
  }
});
