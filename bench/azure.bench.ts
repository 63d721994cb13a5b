import { requestAccess, revokeAccess } from "../provider/src/access";
import { AzureDriver, createAzureDriver } from "../provider/src/azure";
import { AzureEmulator, startAzureEmulator } from "../provider/src/emulator/azure";
import { Ledger, openLedger } from "../provider/src/ledger";
import { Grant, parsePolicy } from "../provider/src/model";
import type { Measured, Scenario } from "./harness";

/**
 * ARM calls per policy apply, grant and restore on the Azure driver, against the local ARM
 * endpoint with the real SDK clients. Every write is a long-running operation that the endpoint
 * reports in progress once, so each costs the write, two polls and the SDK's final read: the figures
 * count those polls, as Azure would bill and throttle them.
 */
interface Bench {
  emu: AzureEmulator;
  driver: AzureDriver;
  ledger: Ledger;
}

let shared: Promise<Bench> | undefined;
function bench(): Promise<Bench> {
  shared ??= (async () => {
    const emu = await startAzureEmulator({ lroPolls: 1 });
    const driver = createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential, pollIntervalMs: 0 });
    // Loaded here, so that the first row's time is not the SDKs' loading time.
    await Promise.all([import("@azure/arm-network"), import("@azure/arm-compute"), import("@azure/arm-authorization")]);
    return { emu, driver, ledger: await openLedger(":memory:") };
  })();
  return shared;
}

async function measure(work: (b: Bench) => Promise<unknown>, units: number, note: string): Promise<Measured> {
  const b = await bench();
  const mark = b.emu.calls.mark();
  await work(b);
  return { calls: b.emu.calls.count({ since: mark }), writes: b.emu.calls.count({ since: mark, write: true }), units, note };
}

/** A fleet: `count` VMs spread over `subnets` subnets, each subnet with its own NSG; with a NIC NSG each when `nicNsg`. */
function fleet(emu: AzureEmulator, name: string, count: number, subnets: number, nicNsg: boolean): string[] {
  return Array.from({ length: count }, (_, i) => {
    const s = i % subnets;
    return emu.seed.typicalVm({ resourceGroup: name, name: `vm${String(i).padStart(3, "0")}`, subnet: `s${s}`, subnetPrefix: `10.0.${s}.0/24`, nicNsg, publicIp: false }).vmId;
  });
}

const grants = new Map<string, Grant>();

function scenariosFor(name: string, label: string, count: number, subnets: number, nicNsg: boolean): Scenario[] {
  return [
    {
      api: "ARM",
      name: `policy apply, ${label}`,
      run: async () => {
        const b = await bench();
        const vmIds = fleet(b.emu, name, count, subnets, nicNsg);
        const policy = parsePolicy({ name, virtualMachines: vmIds.map((id) => ({ id, ports: [{ number: 22, protocol: "TCP" }, { number: 3389, protocol: "TCP" }] })) });
        return measure(async () => {
          const result = await b.driver.applyBaseline(policy, undefined, {});
          await b.ledger.putPolicy({ policy, baseline: result.record as never });
        }, count, "per VM: one deny rule per NSG on its path");
      },
    },
    {
      api: "ARM",
      name: `grant, ${label}`,
      run: () =>
        measure(async (b) => {
          const { policy } = (await b.ledger.getPolicy(name))!;
          const request = { policy: name, virtualMachines: policy.virtualMachines.map((vm) => ({ id: vm.id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] })) };
          grants.set(name, await requestAccess(request, { ledger: b.ledger, drivers: { azure: b.driver } }));
        }, count, "one request for every VM; permissions checked per VM"),
    },
    {
      api: "ARM",
      name: `restore, ${label}`,
      run: () => measure((b) => revokeAccess(grants.get(name)!.id, { ledger: b.ledger, drivers: { azure: b.driver } }), count, "verified deletes, one per allow rule"),
    },
  ];
}

const all = [...scenariosFor("one", "1 VM (subnet NSG + NIC NSG)", 1, 1, true), ...scenariosFor("fleet", "200 VMs behind 4 NSGs", 200, 4, false)];
const last = all[all.length - 1];

export const scenarios: Scenario[] = [
  {
    api: "ARM",
    name: "setup: start the local endpoint, load the SDKs",
    run: async () => {
      await bench();
      return { calls: 0, writes: 0, note: "so that the rows below time only their own work" };
    },
  },
  ...all.slice(0, -1),
  {
    ...last,
    run: async () => {
      try {
        return await last.run();
      } finally {
        const b = await bench();
        await b.ledger.close();
        await b.emu.close();
      }
    },
  },
];
