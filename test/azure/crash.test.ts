import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import type { TypicalVm } from "../../provider/src/emulator/azure";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { Grant, isFinalState, openChanges } from "../../provider/src/model";
import { AzureWorld, allowRules, azureWorld, deployPolicy, dieAfter, nsgIdsOf, snapshot } from "./support";

/**
 * Crash safety: the process dies right after its Nth cloud call, for every N a grant (or a restore)
 * makes, and a sweep afterwards leaves no allow rule behind, no deny rule missing, and every grant
 * in a final state. "Dies" means that from then on none of its calls reach the cloud (connections
 * drop) and none of its ledger writes land.
 */
describe("crash safety of grants and restores on Azure", () => {
  let world: AzureWorld;
  let vm: TypicalVm;
  let ids: string[];
  let baseline: ReturnType<typeof snapshot>;

  before(async () => {
    // No SDK retries: a dropped connection fails the call at once, as a dead process would.
    world = await azureWorld({ connection: { retryOptions: { maxRetries: 0 } } });
    vm = world.emu.seed.typicalVm({ resourceGroup: "crash", name: "vm1" });
    await deployPolicy(world, { name: "crash", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });
    ids = nsgIdsOf(vm);
    baseline = snapshot(world.emu, ids);
  });
  after(() => world.close());

  const request = (ledger: Ledger = world.ledger) =>
    requestAccess({ policy: "crash", virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] }, { ...world.options, ledger });

  async function assertSwept(why: string): Promise<void> {
    const report = await sweep({ ...world.options, abandonedAfterMs: 0 });
    assert.deepEqual(report.failed, [], why);
    assert.deepEqual(allowRules(world.emu, ids), [], `${why}: no allow rule is left`);
    assert.deepEqual(snapshot(world.emu, ids), baseline, `${why}: the NSGs are the baseline, deny rules included`);
    const grants = await world.ledger.listGrants({ policy: "crash" });
    for (const g of grants) assert.ok(isFinalState(g.state) && openChanges(g).length === 0, `${why}: grant ${g.id} is ${g.state} with ${openChanges(g).length} open change(s)`);
  }

  /** How many cloud calls `work` makes when nothing goes wrong. */
  async function callsOf(work: () => Promise<unknown>): Promise<number> {
    const mark = world.emu.calls.mark();
    await work();
    return world.emu.calls.count({ since: mark });
  }

  it("a grant interrupted after any of its cloud calls is undone by the next sweep", async () => {
    let grant: Grant | undefined;
    const calls = await callsOf(async () => (grant = await request()));
    await revokeAccess(grant!.id, world.options);
    assert.ok(calls >= 7, `a grant makes ${calls} calls`);
    for (let n = 1; n <= calls; n++) {
      const dying = dieAfter(world, n);
      await assert.rejects(request(dying.ledger), `the grant dies after call ${n}`);
      dying.revive();
      await assertSwept(`grant, died after call ${n} of ${calls}`);
    }
  });

  it("a restore interrupted after any of its cloud calls is finished by the next sweep", async () => {
    const first = await request();
    const calls = await callsOf(() => revokeAccess(first.id, world.options));
    assert.ok(calls >= 4, `a restore makes ${calls} calls`);
    for (let n = 1; n <= calls; n++) {
      const grant = await request();
      const dying = dieAfter(world, n);
      await assert.rejects(revokeAccess(grant.id, { ...world.options, ledger: dying.ledger }), `the restore dies after call ${n}`);
      dying.revive();
      await assertSwept(`restore, died after call ${n} of ${calls}`);
      assert.equal((await world.ledger.getGrant(grant.id))?.state, "revoked");
    }
  });

  it("a process killed (SIGKILL) while its grant waits on Azure leaves a record the sweep finishes from", async () => {
    const { emu } = world;
    const dir = mkdtempSync(join(tmpdir(), "jit-crash-"));
    const ledger = await openLedger(join(dir, "ledger.db"));
    try {
      const record = await world.ledger.getPolicy("crash");
      await ledger.putPolicy({ policy: record!.policy, baseline: record!.baseline });
      // The first poll of each write answers "in progress"; the child then waits 2 s before polling
      // again (the SDK's default interval), which is when it is killed.
      emu.options.lroPolls = 1;
      const child = spawn(process.execPath, ["--import", "tsx", resolve(__dirname, "fixtures/request-child.ts"), "crash", vm.vmId, "203.0.113.7"], {
        cwd: resolve(__dirname, "../.."),
        env: { ...process.env, ...emu.env(), JIT_LEDGER: join(dir, "ledger.db") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise<NodeJS.Signals | null>((done) => child.on("exit", (_code, signal) => done(signal)));
      for await (const line of createInterface({ input: child.stdout })) {
        if (/^waiting for Azure: \d+ rule\(s\) put in NSG /.test(line)) {
          child.kill("SIGKILL");
          break;
        }
      }
      assert.equal(await exited, "SIGKILL");
      const [grant] = await ledger.listGrants({ policy: "crash" });
      assert.equal(grant.state, "applying", "killed mid-way");
      // Both NSGs are written side by side: the kill finds one or both writes under way.
      const statuses = grant.changes.map((c) => c.status);
      assert.ok(statuses.length >= 1 && statuses.every((st) => st === "intended"), `each rule being written was recorded first: ${statuses.join(", ")}`);
      const inCloud = allowRules(emu, ids).length;
      assert.ok(inCloud >= 1 && inCloud <= statuses.length, `the rule waited on is in the cloud, and nothing unrecorded is (${inCloud} of ${statuses.length})`);

      emu.lro.settle();
      const report = await sweep({ ledger, drivers: { azure: world.driver }, abandonedAfterMs: 0 });
      assert.deepEqual(report.restored, [{ grantId: grant.id, state: "failed" }]);
      assert.deepEqual(allowRules(emu, ids), []);
      assert.deepEqual(snapshot(emu, ids), baseline);
      const ended = await ledger.getGrant(grant.id);
      assert.deepEqual([ended?.state, openChanges(ended!).length], ["failed", 0]);
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
