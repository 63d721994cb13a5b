import { openContext, requestWith, sweepWith, expireGrantWith, applyPolicy } from "../provider/src/access";
import { createAwsDriver } from "../provider/src/aws";
import { startAwsEmulator } from "../provider/src/emulator/aws";
import { openLedger } from "../provider/src/ledger";
import { Grant, epochMs, parsePolicy } from "../provider/src/model";
import { EventBridgeExpiryScheduler } from "../provider/src/serverless/aws/scheduler";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import type { Measured, Scenario } from "./harness";

/**
 * How late grants close, on a virtual clock: GRANTS grants of 5 to 59 minutes requested over a
 * quarter of an hour, closed either by their own one-time EventBridge Scheduler schedule (the
 * serverless broker's exact-time expiry, run against the local Scheduler endpoint) or by a sweep
 * every 5 minutes (cron or `jit daemon`). `modelledSeconds` is the latest close after a grant's end;
 * calls and writes count every AWS call (EC2 and Scheduler) of the closing work and scheduling.
 * The service's own delivery delay is not modelled (EventBridge Scheduler documents invoking at the
 * scheduled time with no flexible window; expect seconds).
 */
const GRANTS = 20;
const POLL_MS = 5 * 60_000;
const START = Date.parse("2030-06-01T09:00:00.000Z");

async function lateness(mode: "exact" | "poll"): Promise<Measured> {
  const emu = await startAwsEmulator({ randomSeed: 7 });
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const vm = emu.seed.instance({ groupIds: [web.id] });
  const driver = createAwsDriver({ ...emu.clientConfig, maxAttempts: 1, backoffMs: 2 });
  const ledger = await openLedger(":memory:");
  const scheduler = new SchedulerClient({ ...emu.clientConfig, maxAttempts: 1 });
  let t = START;
  const expiry = new EventBridgeExpiryScheduler({ targetArn: "arn:aws:lambda:us-east-1:123456789012:function:jit-expire", roleArn: "arn:aws:iam::123456789012:role/jit-scheduler", client: scheduler });
  const ctx = await openContext({ ledger, drivers: { aws: driver }, now: () => new Date(t), ...(mode === "exact" ? { expiry } : {}) });
  try {
    const policy = parsePolicy({ name: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" }] }] });
    await applyPolicy({ policy, mode: "create" }, { ledger, drivers: { aws: driver }, now: () => new Date(t) });
    const since = emu.calls.mark();
    const grants: Grant[] = [];
    for (let i = 0; i < GRANTS; i++) {
      t = START + i * 47_000;
      const minutes = 5 + ((i * 17) % 55);
      grants.push(await requestWith(ctx, { policy: "web", virtualMachines: [{ id: vm.id, ports: [{ number: 22, duration: `PT${minutes}M`, allowedSourceAddressPrefix: `203.0.113.${i + 1}` }] }] } as never));
    }
    const closedAt = new Map<string, number>();
    if (mode === "exact") {
      for (const at of [...new Set(emu.scheduler.list().map((s) => s.at as number))].sort((a, b) => a - b)) {
        t = at;
        for (const d of emu.scheduler.fire(t)) {
          const { grantId } = JSON.parse(d.input as string) as { grantId: string };
          if (await expireGrantWith(ctx, { grantId })) closedAt.set(grantId, t);
        }
      }
    } else {
      for (t = Math.ceil(START / POLL_MS) * POLL_MS; closedAt.size < GRANTS; t += POLL_MS) {
        for (const r of (await sweepWith(ctx, { repairBaselines: false, scope: {} })).restored) closedAt.set(r.grantId, t);
      }
    }
    const late = grants.map((g) => ((closedAt.get(g.id) ?? NaN) - epochMs(g.endTimeUtc)) / 1000);
    if (late.some((s) => !Number.isFinite(s) || s < 0)) throw new Error(`a grant closed early or never: ${late.join(", ")}`);
    const mean = late.reduce((a, b) => a + b, 0) / late.length;
    return {
      calls: emu.calls.count({ since }),
      writes: emu.calls.count({ since, write: true }),
      units: GRANTS,
      modelledSeconds: Math.max(...late),
      note: `lateness after each grant's end: mean ${mean.toFixed(1)} s, max ${Math.max(...late).toFixed(1)} s (calls include the requests)`,
    };
  } finally {
    await ctx.close();
    scheduler.destroy();
    await driver.destroy();
    await ledger.close();
    await emu.close();
  }
}

export const scenarios: Scenario[] = [
  { api: "EC2+Scheduler", name: `expiry lateness: exact-time schedules, ${GRANTS} grants`, run: () => lateness("exact") },
  { api: "EC2+Scheduler", name: `expiry lateness: sweep every 5 min, ${GRANTS} grants`, run: () => lateness("poll") },
];
