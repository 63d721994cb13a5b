// Scheduled access on the local Azure endpoint, on a virtual clock: a grant asked for a later start
// is held as `scheduled`, opened by the daemon's loop at its start and not one second before, and
// can be cancelled with nothing written to the cloud.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestAccess, revokeAccess, runDaemon, sweep, type SweepReport } from "../../provider/src/access";
import type { TypicalVm } from "../../provider/src/emulator/azure";
import { isJitError } from "../../provider/src/model";
import { AzureWorld, azureWorld, deployPolicy, reaches } from "../azure/support";
import { jit, shown } from "../cli/support";
import { ME, OFFICE, azureConnectWorld } from "./support";

const HOUR = 3_600_000;

describe("scheduled access (virtual clock)", () => {
  let world: AzureWorld;
  let vm: TypicalVm;
  before(async () => {
    world = await azureWorld();
    vm = world.emu.seed.typicalVm({ name: "web1" });
    await deployPolicy(world, { name: "web", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: OFFICE, maxRequestAccessDuration: "PT3H" }] }] });
  });
  after(() => world.close());

  const schedule = (start: number, duration = "PT2H") =>
    requestAccess({ policy: "web", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: ME }] }], justification: "change 42" }, { ...world.options, start: new Date(start) });

  it("the daemon's loop wakes at the start and opens the grant then, not one second before; the duration counts from the start", async () => {
    const start = world.clock.t + HOUR;
    const writes = world.emu.calls.count({ write: true });
    const grant = await schedule(start);
    assert.equal(grant.state, "scheduled");
    assert.equal(grant.createdAt, new Date(start).toISOString());
    assert.equal(grant.endTimeUtc, new Date(start + 2 * HOUR).toISOString());
    assert.equal(world.emu.calls.count({ write: true }), writes, "nothing is written to the cloud when scheduling");

    world.clock.t = start - 1000;
    const early = await sweep(world.options);
    assert.deepEqual([early.opened, early.restored], [[], []]);
    assert.equal(reaches(world.emu, vm, ME, 22), false, "one second before the start, the port is closed");
    assert.equal((await world.ledger.getGrant(grant.id))?.state, "scheduled");

    // The daemon, from one minute before: it sleeps until the start, sweeps, and opens the grant.
    world.clock.t = start - 60_000;
    const stop = new AbortController();
    const sweeps: { at: number; report: SweepReport; reachable: boolean }[] = [];
    await runDaemon({
      ...world.options,
      repairBaselines: false,
      signal: stop.signal,
      onSweep: (report) => {
        sweeps.push({ at: world.clock.t, report, reachable: reaches(world.emu, vm, ME, 22) });
        if (sweeps.length === 2) stop.abort();
      },
      sleep: async (ms) => {
        world.clock.t += ms;
      },
    });
    assert.deepEqual(
      sweeps.map((s) => [s.at - start, s.report.opened.map((o) => o.grantId), s.reachable]),
      [
        [-60_000, [], false],
        [0, [grant.id], true],
      ],
      "closed at the first sweep, opened by the sweep at the start",
    );
    const opened = await world.ledger.getGrant(grant.id);
    assert.equal(opened?.state, "active");
    const audit = await world.ledger.listAudit({ grant: grant.id });
    assert.deepEqual(audit.map((e) => e.action).sort(), ["grant.apply", "grant.schedule"]);

    world.clock.t = start + 2 * HOUR;
    await sweep(world.options);
    assert.equal((await world.ledger.getGrant(grant.id))?.state, "expired");
    assert.equal(reaches(world.emu, vm, ME, 22), false);
  });

  it("a scheduled grant can be cancelled, and one whose window passed unopened ends without a cloud write", async () => {
    const cancelled = await schedule(world.clock.t + HOUR);
    const writes = world.emu.calls.count({ write: true });
    const revoked = await revokeAccess(cancelled.id, world.options);
    assert.deepEqual([revoked.state, revoked.reason], ["revoked", "UserRequested"]);
    world.clock.t += HOUR;
    assert.deepEqual((await sweep(world.options)).opened, []);
    assert.equal(reaches(world.emu, vm, ME, 22), false);

    const missed = await schedule(world.clock.t + 1000, "PT1H");
    world.clock.t += 2 * HOUR;
    const report = await sweep(world.options);
    assert.deepEqual([report.opened, report.restored], [[], [{ grantId: missed.id, state: "expired" }]]);
    assert.equal(world.emu.calls.count({ write: true }), writes, "neither the cancel nor the missed window wrote to the cloud");
  });

  it("a start beyond what the policy allows is refused at once, and a malformed one is bad input", async () => {
    await assert.rejects(schedule(world.clock.t + HOUR, "PT4H"), (err) => isJitError(err, "RequestNotAllowed"));
    await assert.rejects(
      requestAccess({ policy: "web", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: ME }] }] }, { ...world.options, start: "tomorrow" }),
      (err) => isJitError(err, "InvalidInput") && err.field === "start",
    );
  });
});

describe("jit request --start", () => {
  let world: Awaited<ReturnType<typeof azureConnectWorld>>;
  before(async () => (world = await azureConnectWorld()));
  after(() => world.close());

  it("holds the grant as scheduled, opens nothing, and jit revoke cancels it", async () => {
    const start = new Date(Date.now() + HOUR).toISOString();
    const request = await jit(world.env, "--json", "request", "--policy", "web", "--vm", "web1", "--port", "22", "--source", ME, "--duration", "PT1H", "--start", start);
    assert.equal(request.code, 0, shown(request));
    const grant = JSON.parse(request.stdout) as { id: string; state: string; createdAt: string };
    assert.deepEqual([grant.state, Date.parse(grant.createdAt)], ["scheduled", Date.parse(start)]);
    assert.equal(world.reachable(ME, 22), false);
    const list = await jit(world.env, "--json", "list");
    assert.equal(list.code, 0, shown(list));
    assert.deepEqual((JSON.parse(list.stdout) as { id: string; state: string }[]).map((g) => [g.id, g.state]), [[grant.id, "scheduled"]], "jit list shows it among the live grants");
    const swept = await jit(world.env, "--json", "sweep");
    assert.equal(swept.code, 0, shown(swept));
    assert.deepEqual((JSON.parse(swept.stdout) as SweepReport).opened, []);
    assert.equal(world.reachable(ME, 22), false);

    const text = await jit(world.env, "request", "--policy", "web", "--vm", "web1", "--port", "22", "--source", ME, "--duration", "PT1H", "--start", start);
    assert.equal(text.code, 0, shown(text));
    assert.match(text.stdout, /^Grant \w+ is scheduled: it opens .* when `jit daemon` runs/);
    assert.match(text.stdout, /Cancel with: jit revoke \w+/);

    const revoke = await jit(world.env, "revoke", grant.id);
    assert.equal(revoke.code, 0, shown(revoke));
    assert.equal(revoke.stdout, `Grant ${grant.id} revoked (UserRequested).\n`);
  });
});
