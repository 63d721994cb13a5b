import { sweep } from "../provider/src/access";
import { FakeDriver } from "../provider/src/access/testing/fake-driver";
import { Ledger, SqliteLedger, StoreLedger, parseLedgerLocation } from "../provider/src/ledger";
import type { DueItem, ItemKind, ItemStore, StoredItem } from "../provider/src/ledger/store";
import { Grant, newAuditEvent, newGrantId, parseGrant } from "../provider/src/model";
import { NOW, azurePolicy, sampleGrant } from "../provider/src/model/testing/fixtures";
import { Backend, BACKENDS, StoreServer, startStore } from "../test/support/servers";
import type { Measured, Scenario } from "./harness";

/**
 * The ledger on each backend, against the same local servers the tests use: grants recorded per
 * second (each with its audit entry), then a sweep of all of them once due. Calls are the store's
 * requests (reads and writes); SQLite is in-process, so its calls are statements. The count is
 * JIT_BENCH_GRANTS (default 10,000).
 */
const GRANTS = Number(process.env.JIT_BENCH_GRANTS ?? 10_000);
const HOUR = 3_600_000;

/** Counts an item store's reads and writes. */
class CountingStore implements ItemStore {
  reads = 0;
  writes = 0;
  readonly description: string;
  constructor(private readonly inner: ItemStore) {
    this.description = inner.description;
  }
  init() {
    return this.inner.init();
  }
  check() {
    return this.inner.check();
  }
  get(kind: ItemKind, key: string): Promise<StoredItem | undefined> {
    this.reads++;
    return this.inner.get(kind, key);
  }
  put(kind: ItemKind, key: string, body: string, expected: number, dueAt?: number): Promise<boolean> {
    this.writes++;
    return this.inner.put(kind, key, body, expected, dueAt);
  }
  delete(kind: ItemKind, key: string, expected: number): Promise<boolean> {
    this.writes++;
    return this.inner.delete(kind, key, expected);
  }
  list(kind: ItemKind, limit?: number): Promise<StoredItem[]> {
    this.reads++;
    return this.inner.list(kind, limit);
  }
  due(now: number, limit: number): Promise<DueItem[]> {
    this.reads++;
    return this.inner.due(now, limit);
  }
  close() {
    return this.inner.close();
  }
}

interface Opened {
  server: StoreServer;
  ledger: Ledger;
  counter?: CountingStore;
}

/** An active grant with its rule applied, due an hour after `now`. */
function activeGrant(i: number): Grant {
  const grant = sampleGrant({ id: newGrantId(), now: NOW + (i % 60) * 1000 });
  return parseGrant({
    ...grant,
    state: "active",
    changes: [
      { kind: "azure-nsg-rule", status: "applied", nsgId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg", ruleName: `jit-${grant.id}`, priority: 100, rule: {} },
    ],
  });
}

function counts(o: Opened, since: { reads: number; writes: number }, units: number, note: string): Measured {
  if (!o.counter) return { calls: 0, writes: 0, units, note: `${note}; in-process, no store requests` };
  return { calls: o.counter.reads + o.counter.writes - since.reads - since.writes, writes: o.counter.writes - since.writes, units, note };
}

function mark(o: Opened) {
  return { reads: o.counter?.reads ?? 0, writes: o.counter?.writes ?? 0 };
}

function scenariosFor(backend: Backend): Scenario[] {
  let opened: Opened | undefined;
  return [
    {
      api: `ledger:${backend}`,
      name: `record ${GRANTS} grants (each with its audit entry)`,
      async run() {
        const server = await startStore(backend);
        Object.assign(process.env, server.env);
        const location = parseLedgerLocation(server.url);
        let o: Opened;
        if (location.kind === "sqlite") o = { server, ledger: new SqliteLedger(location.path, { now: () => NOW }) };
        else {
          const counter = new CountingStore(await location.make());
          await counter.init();
          o = { server, ledger: new StoreLedger(counter, { now: () => NOW }), counter };
        }
        opened = o;
        await o.ledger.putPolicy({ policy: azurePolicy() });
        const since = mark(o);
        const start = Date.now();
        for (let i = 0; i < GRANTS; i++) {
          const grant = await o.ledger.createGrant(activeGrant(i));
          await o.ledger.appendAudit(newAuditEvent({ actor: "bench", action: "grant.request", target: { policy: "web", grant: grant.id }, outcome: "success", time: NOW }));
        }
        const rate = (GRANTS / ((Date.now() - start) / 1000)).toFixed(0);
        return counts(o, since, GRANTS, `${rate} grants/s`);
      },
    },
    {
      api: `ledger:${backend}`,
      name: `sweep of ${GRANTS} due grants`,
      async run() {
        const o = opened;
        if (!o) throw new Error("the record scenario did not run");
        try {
          const since = mark(o);
          const report = await sweep({ ledger: o.ledger, drivers: { azure: new FakeDriver() }, now: () => new Date(NOW + 2 * HOUR), scope: {}, repairBaselines: false });
          if (report.restored.length !== GRANTS) throw new Error(`swept ${report.restored.length} of ${GRANTS} grants: ${JSON.stringify(report.failed.slice(0, 3))}`);
          return counts(o, since, GRANTS, "due grants read from the index, each claimed by compare-and-swap");
        } finally {
          await o.ledger.close();
          await o.server.stop();
        }
      },
    },
  ];
}

export const scenarios: Scenario[] = BACKENDS.flatMap(scenariosFor);
