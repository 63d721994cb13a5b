import { requestAccess, revokeAccess } from "../provider/src/access";
import { createAwsDriver } from "../provider/src/aws";
import { AwsEmulator, startAwsEmulator } from "../provider/src/emulator/aws";
import { openLedger } from "../provider/src/ledger";
import { Policy, PolicyInput, parsePolicy } from "../provider/src/model";
import type { Measured, Scenario } from "./harness";

/**
 * EC2 calls (and of them writes) that grants, restores and policy applies cost, against the local
 * EC2 endpoint with the real SDK. STS and IAM calls (who is asking, may they) are left out: one
 * of each per request, whatever EC2 needs.
 */

const EC2_ONLY = /^(?!GetCallerIdentity$|SimulatePrincipalPolicy$)/;

async function measure(emu: AwsEmulator, work: () => Promise<unknown>, units: number, note?: string): Promise<Measured> {
  const since = emu.calls.mark();
  await work();
  return { calls: emu.calls.count({ since, operation: EC2_ONLY }), writes: emu.calls.count({ since, operation: EC2_ONLY, write: true }), units, ...(note ? { note } : {}) };
}

/** `instances` instances, each wearing two of `groups` groups that open 22 to the world and everything to 10/8. */
async function estate(instances: number, groups: number) {
  const emu = await startAwsEmulator({ randomSeed: 11 });
  const ids = Array.from({ length: groups }, (_, i) =>
    emu.seed.securityGroup({ name: `g${i}`, ingress: [{ fromPort: 0, toPort: 65535, source: "10.0.0.0/8" }, { port: 22, source: "0.0.0.0/0" }] }).id,
  );
  const vms = Array.from({ length: instances }, (_, i) => emu.seed.instance({ groupIds: groups > 1 ? [ids[i % groups], ids[(i + 1) % groups]] : ids }).id);
  const input: PolicyInput = { name: "web", virtualMachines: vms.map((id) => ({ id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] })) };
  const driver = createAwsDriver(emu.clientConfig);
  const ledger = await openLedger(":memory:");
  const close = async () => {
    await driver.destroy();
    await ledger.close();
    await emu.close();
  };
  return { emu, vms, input, policy: parsePolicy(input), driver, ledger, close };
}

type Estate = Awaited<ReturnType<typeof estate>>;

function ask(e: Estate, source: string, vm = e.vms[0]) {
  return requestAccess(
    { policy: "web", virtualMachines: [{ id: vm, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }] },
    { ledger: e.ledger, drivers: { aws: e.driver } },
  );
}

async function withEstate(instances: number, groups: number, run: (e: Estate, policy: Policy) => Promise<Measured>): Promise<Measured> {
  const e = await estate(instances, groups);
  try {
    const { record } = await e.driver.applyBaseline(e.policy, undefined, {});
    await e.ledger.putPolicy({ policy: e.input, baseline: record as never });
    return await run(e, e.policy);
  } finally {
    await e.close();
  }
}

/** EC2 answers a call in about 100 ms: the modelled time of work whose calls follow one another. */
const EC2_CALL_S = 0.1;

function sequential(m: Measured): Measured {
  return { ...m, note: [m.note, `modelled ${(m.calls * EC2_CALL_S).toFixed(1)} s`].filter(Boolean).join("; ") };
}

async function withoutBaseline(run: (e: Estate) => Promise<Measured>): Promise<Measured> {
  const e = await estate(1, 1);
  try {
    await e.ledger.putPolicy({ policy: e.input, baseline: {} as never });
    return await run(e);
  } finally {
    await e.close();
  }
}

export const scenarios: Scenario[] = [
  {
    api: "EC2",
    name: "grant, baseline in place (one authorize into the JIT group)",
    run: () => withEstate(1, 1, async (e) => sequential(await measure(e.emu, () => ask(e, "203.0.113.7"), 1, "floor 2"))),
  },
  {
    api: "EC2",
    name: "20 concurrent grants on one instance",
    run: () =>
      withEstate(1, 1, (e) => measure(e.emu, () => Promise.all(Array.from({ length: 20 }, (_, i) => ask(e, `203.0.113.${i + 1}`))), 20, "target <= 2.5 calls per grant; no group made or attached")),
  },
  {
    api: "EC2",
    name: "restore (one revoke by rule ids)",
    run: () =>
      withEstate(1, 1, async (e) => {
        const grant = await ask(e, "203.0.113.7");
        return sequential(await measure(e.emu, () => revokeAccess(grant.id, { ledger: e.ledger, drivers: { aws: e.driver } }), 1));
      }),
  },
  {
    api: "EC2",
    name: "grant with no baseline applied (new grant group, attached)",
    run: () => withoutBaseline(async (e) => sequential(await measure(e.emu, () => ask(e, "203.0.113.7"), 1))),
  },
  {
    api: "EC2",
    name: "restore with no baseline applied (grant group detached and deleted)",
    run: () =>
      withoutBaseline(async (e) => {
        const grant = await ask(e, "203.0.113.7");
        return sequential(await measure(e.emu, () => revokeAccess(grant.id, { ledger: e.ledger, drivers: { aws: e.driver } }), 1));
      }),
  },
  {
    api: "EC2",
    name: "policy apply, 1 instance, 1 group",
    run: async () => {
      const e = await estate(1, 1);
      try {
        return await measure(e.emu, () => e.driver.applyBaseline(e.policy, undefined, {}), 1, "units: instances; with its JIT group");
      } finally {
        await e.close();
      }
    },
  },
  {
    api: "EC2",
    name: "policy apply, 50 instances sharing 4 groups",
    run: async () => {
      const e = await estate(50, 4);
      try {
        return await measure(e.emu, () => e.driver.applyBaseline(e.policy, undefined, {}), 50, "units: instances; a JIT group made and attached per instance");
      } finally {
        await e.close();
      }
    },
  },
  {
    api: "EC2",
    name: "policy re-apply (refresh/repair), 50 instances, no drift",
    run: () => withEstate(50, 4, async (e, policy) => measure(e.emu, async () => e.driver.applyBaseline(policy, (await e.ledger.getPolicy("web"))?.baseline as never, {}), 50, "units: instances")),
  },
  {
    api: "EC2",
    name: "policy delete, 50 instances sharing 4 groups",
    run: () => withEstate(50, 4, async (e, policy) => measure(e.emu, async () => e.driver.removeBaseline(policy, (await e.ledger.getPolicy("web"))?.baseline as never), 50, "units: instances; JIT groups retired")),
  },
];
