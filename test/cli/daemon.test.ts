// `runDaemon`, the loop behind `jit daemon`, through the library API: an injected clock, the
// process's timers under node:test's mock (so that an hour passes at once), and an AbortSignal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SweepReport, requestAccess, runDaemon } from "../../provider/src/access";
import { FakeDriver } from "../../provider/src/access/testing/fake-driver";
import { openLedger } from "../../provider/src/ledger";

const VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
const port = (number: number) => ({ number, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" });
const START = Date.parse("2030-01-01T00:00:00Z");
const MINUTE = 60_000;

/** Lets every callback and promise that is ready run (the mocked timers leave setImmediate real). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test("the daemon sleeps until the next grant is due, closes it then, and stops at once when aborted", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const ledger = await openLedger(":memory:");
  t.after(() => ledger.close());
  await ledger.putPolicy({ policy: { name: "web", virtualMachines: [{ id: VM, ports: [port(22), port(3389)] }] }, baseline: {} });
  const driver = new FakeDriver();
  const clock = { t: START };
  const options = { ledger, drivers: { azure: driver }, now: () => new Date(clock.t) };
  const ask = (number: number, duration: string) =>
    requestAccess({ policy: "web", virtualMachines: [{ id: VM, ports: [{ number, duration, allowedSourceAddressPrefix: "203.0.113.7" }] }] }, options);
  const short = await ask(22, "PT30M");
  const long = await ask(3389, "PT1H");

  const sweeps: { report: SweepReport; nextAt: Date }[] = [];
  const stop = new AbortController();
  const daemon = runDaemon({ ...options, maxIntervalMs: 2 * 60 * MINUTE, signal: stop.signal, onSweep: (report, nextAt) => sweeps.push({ report, nextAt }) });

  await settle();
  assert.equal(sweeps.length, 1, "it sweeps as soon as it starts");
  assert.deepEqual(sweeps[0].report.restored, [], "nothing is due yet");
  assert.equal(sweeps[0].nextAt.getTime(), await ledger.nextDueAt(), "it wakes when the ledger says the next grant is due");
  assert.equal(sweeps[0].nextAt.getTime(), START + 30 * MINUTE, "the shorter grant's end, well before its longest sleep");

  clock.t = START + 30 * MINUTE - 1;
  t.mock.timers.tick(30 * MINUTE - 1);
  await settle();
  assert.equal(sweeps.length, 1, "it does not wake early");

  clock.t = START + 30 * MINUTE;
  t.mock.timers.tick(1);
  await settle();
  assert.equal(sweeps.length, 2, "it wakes when the grant is due");
  assert.deepEqual(sweeps[1].report.restored, [{ grantId: short.id, state: "expired" }]);
  assert.equal((await ledger.getGrant(short.id))?.state, "expired");
  assert.deepEqual([...driver.rules.values()].map((r) => r.grantId), [long.id], "only the ended grant's rule is gone");
  assert.equal(sweeps[1].nextAt.getTime(), START + 60 * MINUTE, "and sleeps until the next one ends");

  let stopped = false;
  void daemon.then(() => (stopped = true));
  stop.abort();
  await settle();
  assert.ok(stopped, "aborting ends its sleep: it stops without waiting for the timer");
  await daemon;
  assert.equal(sweeps.length, 2, "and sweeps no more");
  assert.equal((await ledger.getGrant(long.id))?.state, "active", "a grant that has not ended is left for the next daemon");
});

test("with nothing due the daemon sleeps its longest interval; aborted before it starts, it does nothing", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const ledger = await openLedger(":memory:");
  t.after(() => ledger.close());
  await ledger.putPolicy({ policy: { name: "web", virtualMachines: [{ id: VM, ports: [port(22)] }] }, baseline: {} });
  const options = { ledger, drivers: { azure: new FakeDriver() }, now: () => new Date(START) };
  const sweeps: Date[] = [];
  const stop = new AbortController();
  const daemon = runDaemon({ ...options, maxIntervalMs: 5 * MINUTE, signal: stop.signal, onSweep: (_report, nextAt) => sweeps.push(nextAt) });
  await settle();
  assert.equal(await ledger.nextDueAt(), undefined);
  assert.deepEqual(sweeps, [new Date(START + 5 * MINUTE)], "with no grant it still sweeps every interval, for orphans and drift");
  t.mock.timers.tick(5 * MINUTE);
  await settle();
  assert.equal(sweeps.length, 2);
  stop.abort();
  await daemon;

  const never: Date[] = [];
  await runDaemon({ ...options, signal: AbortSignal.abort(), onSweep: (_report, nextAt) => never.push(nextAt) });
  assert.deepEqual(never, []);
});
