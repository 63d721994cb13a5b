import { sweep } from "../provider/src/access";
import { FakeDriver } from "../provider/src/access/testing/fake-driver";
import { Ledger, SqliteLedger, StoreLedger, parseLedgerLocation } from "../provider/src/ledger";
import type { ItemStore } from "../provider/src/ledger/store";
import { mapLimit } from "../provider/src/util/parallel";
import { Grant, newAuditEvent, newGrantId, parseGrant } from "../provider/src/model";
import { NOW, azurePolicy, sampleGrant } from "../provider/src/model/testing/fixtures";
import { Backend, BACKENDS, StoreServer, startStore } from "../test/support/servers";
import type { Measured, Scenario } from "./harness";

/**
 * The ledger on each backend, against the same local servers the tests use: grants recorded per
 * second (each with its audit entry, by several requesters at once, as a broker takes them), then
 * a sweep of all of them once due. Calls are the store's requests (reads and writes); SQLite is
 * in-process and has none. The count is JIT_BENCH_GRANTS (default 1,000); JIT_BENCH_LEDGERS
 * picks backends (e.g. `postgres,dynamodb`; default all).
 */
const GRANTS = Number(process.env.JIT_BENCH_GRANTS ?? 1_000);
const PICKED = process.env.JIT_BENCH_LEDGERS?.split(",").map((b) => b.trim());
const unknown = PICKED?.filter((b) => !(BACKENDS as readonly string[]).includes(b)) ?? [];
if (unknown.length) throw new Error(`JIT_BENCH_LEDGERS: no backend ${unknown.join(", ")} (known: ${BACKENDS.join(", ")})`);
/** Requests recorded at once, as a broker serving many requesters would. */
const REQUESTERS = 16;
const HOUR = 3_600_000;

interface Opened {
  server: StoreServer;
  ledger: Ledger;
  store?: ItemStore;
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
  if (!o.store) return { calls: 0, writes: 0, units, note: `${note}; in-process, no store requests` };
  const { reads, writes } = o.store.requests;
  return { calls: reads + writes - since.reads - since.writes, writes: writes - since.writes, units, note };
}

function mark(o: Opened) {
  return { ...(o.store?.requests ?? { reads: 0, writes: 0 }) };
}

const perSecond = (n: number, ms: number) => (n / (ms / 1000)).toFixed(0);

function scenariosFor(backend: Backend): Scenario[] {
  let opened: Opened | undefined;
  return [
    {
      api: `ledger:${backend}`,
      name: `record ${GRANTS} grants (each with its audit entry, ${REQUESTERS} at a time)`,
      async run() {
        const server = await startStore(backend);
        Object.assign(process.env, server.env);
        const location = parseLedgerLocation(server.url);
        let o: Opened;
        if (location.kind === "sqlite") o = { server, ledger: new SqliteLedger(location.path, { now: () => NOW }) };
        else {
          const store = await location.make();
          await store.init();
          o = { server, ledger: new StoreLedger(store, { now: () => NOW }), store };
        }
        opened = o;
        await o.ledger.putPolicy({ policy: azurePolicy() });
        const since = mark(o);
        const start = Date.now();
        await mapLimit(
          Array.from({ length: GRANTS }, (_, i) => i),
          REQUESTERS,
          async (i) => {
            const grant = await o.ledger.createGrant(activeGrant(i));
            await o.ledger.appendAudit(newAuditEvent({ actor: "bench", action: "grant.request", target: { policy: "web", grant: grant.id }, outcome: "success", time: NOW }));
          },
        );
        return counts(o, since, GRANTS, `${perSecond(GRANTS, Date.now() - start)} grants/s`);
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
          const start = Date.now();
          const report = await sweep({ ledger: o.ledger, drivers: { azure: new FakeDriver() }, now: () => new Date(NOW + 2 * HOUR), scope: {}, repairBaselines: false });
          if (report.restored.length !== GRANTS) throw new Error(`swept ${report.restored.length} of ${GRANTS} grants: ${JSON.stringify(report.failed.slice(0, 3))}`);
          return counts(o, since, GRANTS, `${perSecond(GRANTS, Date.now() - start)} grants/s; due grants read from the index with their records, each claimed by compare-and-swap`);
        } finally {
          await o.ledger.close();
          await o.server.stop();
        }
      },
    },
  ];
}

export const scenarios: Scenario[] = BACKENDS.filter((b) => PICKED === undefined || PICKED.includes(b)).flatMap(scenariosFor);
