import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestAccess, revokeAccess, sweep } from "../../provider/src/access";
import type { AwsEmulator } from "../../provider/src/emulator/aws";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { Grant, PolicyInput, isFinalState, openChanges, parsePolicy } from "../../provider/src/model";
import { dieAfter, driverFor, fingerprint, grantGroups, withAws } from "./support";

/**
 * Expiry must hold however the process dies. For every point of a grant and of a restore, the
 * work stops right after the N-th cloud call and never continues: either the cloud becomes
 * unreachable (the process lives on, its rollback fails too) or the process dies (no cloud call
 * and no ledger write after call N). A sweep by another process must then leave no grant group or
 * grant rule behind, lose none of the baseline's revoked rules, and end the grant's record. Both
 * ways of placing a grant are run: into the instance's JIT group (the baseline made one), and into
 * a grant group made for it (an instance without one).
 */

type Death = "cloud lost" | "process died";
const DEATHS: Death[] = ["cloud lost", "process died"];

interface World {
  emu: AwsEmulator;
  instanceId: string;
  groupId: string;
  input: PolicyInput;
  baseline: unknown;
  /** The user's group as the baseline left it. */
  closed: string[];
  /** The instance's JIT group, when the world has one. */
  jit?: string;
}

async function world(emu: AwsEmulator, withJit = true): Promise<World> {
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 0, toPort: 65535, source: "10.0.0.0/8" }, { port: 22, source: "0.0.0.0/0" }] });
  const vm = emu.seed.instance({ groupIds: [web.id] });
  const input: PolicyInput = { name: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] };
  const driver = driverFor(emu);
  const { record } = await driver.applyBaseline(parsePolicy(input), undefined, {});
  await driver.destroy();
  const [eni] = emu.state.interfacesOf(vm);
  const jit = eni.groupIds.find((g) => g !== web.id);
  if (!withJit && jit) {
    // A baseline from before JIT groups: the instance wears its own group only.
    eni.groupIds = [web.id];
    emu.state.groups.delete(jit);
    return { emu, instanceId: vm.id, groupId: web.id, input, baseline: { ...record, jitGroups: [] }, closed: fingerprint(emu, web.id) };
  }
  return { emu, instanceId: vm.id, groupId: web.id, input, baseline: record, closed: fingerprint(emu, web.id), ...(jit ? { jit } : {}) };
}

/** A ledger whose every method fails once `dead` is set, as a killed process writes nothing more. */
function mortal(ledger: Ledger, state: { dead: boolean }): Ledger {
  return new Proxy(ledger, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (state.dead ? Promise.reject(new Error("the process died")) : value.apply(target, args));
    },
  });
}

async function freshLedger(w: World): Promise<Ledger> {
  const ledger = await openLedger(":memory:");
  await ledger.putPolicy({ policy: w.input, baseline: w.baseline as never });
  return ledger;
}

function grantOn(w: World, ledger: Ledger) {
  const driver = driverFor(w.emu);
  const run = requestAccess(
    { policy: "web", virtualMachines: [{ id: w.instanceId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] }] },
    { ledger, drivers: { aws: driver } },
  );
  return run.finally(() => driver.destroy());
}

/** Sweeps from a new process (driver) and checks that nothing is left and the record is final. */
async function sweepAndCheck(w: World, ledger: Ledger, why: string): Promise<Grant[]> {
  const driver = driverFor(w.emu);
  const report = await sweep({ ledger, drivers: { aws: driver }, abandonedAfterMs: 0 });
  await driver.destroy();
  assert.deepEqual(report.failed, [], why);
  assert.deepEqual(report.baselines.map((b) => b.drift), [[]], `${why}: the baseline is intact`);
  assert.deepEqual(grantGroups(w.emu).map((g) => g.id), w.jit ? [w.jit] : [], `${why}: no grant group left but the JIT group`);
  if (w.jit) assert.deepEqual(w.emu.state.group(w.jit).rules.filter((r) => !r.egress), [], `${why}: no rule left in the JIT group`);
  assert.deepEqual(w.emu.state.interfacesOf(w.emu.state.instance(w.instanceId))[0].groupIds, [w.groupId, ...(w.jit ? [w.jit] : [])], `${why}: the interface wears its own groups`);
  assert.deepEqual(fingerprint(w.emu, w.groupId), w.closed, `${why}: no revoked baseline rule came back, no split rule was lost`);
  const grants = await ledger.listGrants();
  for (const g of grants) {
    assert.ok(isFinalState(g.state), `${why}: grant ${g.id} is ${g.state}`);
    assert.deepEqual(openChanges(g), [], `${why}: grant ${g.id} has changes left`);
  }
  return grants;
}

for (const withJit of [true, false]) {
const into = withJit ? "the JIT group" : "a new grant group";

test(`a grant into ${into} that stops after any of its cloud calls is finished by sweep`, () =>
  withAws({}, async (emu) => {
    const w = await world(emu, withJit);
    const first = await freshLedger(w);
    const mark = emu.calls.mark();
    const clean = await grantOn(w, first);
    const total = emu.calls.count({ since: mark });
    assert.equal(clean.state, "active");
    await revokeAccess(clean.id, { ledger: first, drivers: { aws: driverFor(emu) } });
    assert.ok(total >= (withJit ? 4 : 8), `a grant makes ${total} calls`);

    for (const death of DEATHS) {
      for (let n = 1; n <= total; n++) {
        const why = `${death} after call ${n} of ${total} of a grant`;
        const ledger = await freshLedger(w);
        const life = { dead: false };
        const revive = dieAfter(emu, n, () => (life.dead = death === "process died"));
        const outcome = await grantOn(w, mortal(ledger, life)).then(
          (g) => g.state,
          () => "interrupted",
        );
        revive();
        assert.equal(outcome, n === total && death === "cloud lost" ? "active" : "interrupted", why);
        if (outcome === "active") {
          const [g] = await ledger.listGrants();
          await revokeAccess(g.id, { ledger, drivers: { aws: driverFor(emu) } });
        }
        await sweepAndCheck(w, ledger, why);
      }
    }
  }));

test(`a restore from ${into} that stops after any of its cloud calls is finished by sweep`, () =>
  withAws({}, async (emu) => {
    const w = await world(emu, withJit);
    const ledger = await freshLedger(w);
    const probe = await grantOn(w, ledger);
    const mark = emu.calls.mark();
    await revokeAccess(probe.id, { ledger, drivers: { aws: driverFor(emu) } });
    const total = emu.calls.count({ since: mark });
    assert.ok(total >= (withJit ? 2 : 6), `a restore makes ${total} calls`);

    for (const death of DEATHS) {
      for (let n = 1; n <= total; n++) {
        const why = `${death} after call ${n} of ${total} of a restore`;
        const fresh = await freshLedger(w);
        const grant = await grantOn(w, fresh);
        const life = { dead: false };
        const revive = dieAfter(emu, n, () => (life.dead = death === "process died"));
        const driver = driverFor(emu);
        await revokeAccess(grant.id, { ledger: mortal(fresh, life), drivers: { aws: driver } }).catch(() => undefined);
        await driver.destroy();
        revive();
        const [after] = await sweepAndCheck(w, fresh, why);
        assert.equal(after.state, "revoked", why);
      }
    }
  }));

}

test("a grant whose process is killed half-way is finished by sweep from another process", () =>
  withAws({}, async (emu) => {
    // Without a JIT group, so that the grant makes a group and attaches it.
    const w = await world(emu, false);
    const dir = mkdtempSync(join(tmpdir(), "jit-crash-"));
    try {
      const path = join(dir, "ledger.db");
      const setup = await openLedger(path);
      await setup.putPolicy({ policy: w.input, baseline: w.baseline as never });
      await setup.close();

      // Hold the child at its first interface read, after it created the group and opened the rule.
      emu.faults.inject({ operation: "DescribeNetworkInterfaces" }, { kind: "delay", ms: 1500 });
      const mark = emu.calls.mark();
      const { accessKeyId, secretAccessKey } = emu.credentials;
      const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, "fixtures", "grant-child.ts"), w.instanceId], {
        env: { ...process.env, AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: emu.region, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, JIT_LEDGER: path, AWS_PROFILE: "" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
      const deadline = Date.now() + 30_000;
      while (emu.calls.count({ since: mark, operation: "AuthorizeSecurityGroupIngress" }) === 0) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the child never opened the rule: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 200));
      child.kill("SIGKILL");
      assert.equal(await exited, "SIGKILL");

      const ledger = await openLedger(path);
      const [stuck] = await ledger.listGrants();
      assert.equal(stuck.state, "applying", "the child died while applying");
      assert.equal(grantGroups(emu).length, 1, "with its group made and not yet attached");
      emu.faults.clear();
      const [done] = await sweepAndCheck(w, ledger, "after SIGKILL");
      assert.deepEqual([done.state, done.reason], ["failed", "Failed"]);
      await ledger.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }));
