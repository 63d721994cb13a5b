import { requestAccess, revokeAccess, sweep } from "../provider/src/access";
import { AzureDriver, createAzureDriver } from "../provider/src/azure";
import { ruleChange } from "../provider/src/azure/record";
import { AzureEmulator, TypicalVm, startAzureEmulator } from "../provider/src/emulator/azure";
import { Ledger, openLedger } from "../provider/src/ledger";
import type { BaselineResult } from "../provider/src/driver";
import { Grant, newGrantId, parseGrant, parsePolicy, utc } from "../provider/src/model";
import { MAX_ADDRESSES_AND_PORTS, NsgRule, addressesAndPorts, allowRuleDescription, allowRuleName } from "../provider/src/plan";
import type { Measured, Scenario } from "./harness";

/**
 * ARM calls per policy apply, grant and restore on the Azure driver, against the local ARM
 * endpoint with the real SDK clients, and the time they would take in Azure: the endpoint models
 * ARM's latency on a virtual clock (a write's operation takes 10 s, announced by `Retry-After: 10`),
 * and the driver waits on that clock, so `modelled s` is the critical path as Azure would make it.
 * The calls count every poll, as Azure bills and throttles them.
 */
interface Bench {
  emu: AzureEmulator;
  driver: AzureDriver;
  ledger: Ledger;
}

let shared: Promise<Bench> | undefined;
function bench(): Promise<Bench> {
  shared ??= (async () => {
    const emu = await startAzureEmulator();
    emu.latency.enable();
    const driver = createAzureDriver({
      endpoint: emu.endpoint,
      ca: emu.clientOptions.tlsOptions.ca,
      credential: emu.credential,
      clock: { now: () => emu.latency.now(), sleep: (ms) => emu.latency.sleep(ms) },
      policies: [emu.latency.clientPolicy() as never],
    });
    // Loaded here, so that the first row's time is not the SDKs' loading time.
    await Promise.all([import("@azure/arm-network"), import("@azure/arm-compute"), import("@azure/arm-authorization")]);
    return { emu, driver, ledger: await openLedger(":memory:") };
  })();
  return shared;
}

async function measure(work: (b: Bench) => Promise<unknown>, units: number, note: string | ((b: Bench, mark: number) => string)): Promise<Measured> {
  const b = await bench();
  const mark = b.emu.calls.mark();
  const from = b.emu.latency.now();
  await work(b);
  return {
    calls: b.emu.calls.count({ since: mark }),
    writes: b.emu.calls.count({ since: mark, write: true }),
    units,
    modelledSeconds: (b.emu.latency.now() - from) / 1000,
    note: typeof note === "string" ? note : note(b, mark),
  };
}

/**
 * A fleet: `count` VMs spread over `subnets` subnets, each subnet with its own NSG (named
 * `<name>-vnet-s<n>-nsg`) and address range `prefix(n)`; with a NIC NSG each when `nicNsg`.
 */
function seedFleet(emu: AzureEmulator, name: string, count: number, subnets: number, nicNsg: boolean, prefix = (s: number) => `10.0.${s}.0/24`): TypicalVm[] {
  return Array.from({ length: count }, (_, i) => {
    const s = i % subnets;
    return emu.seed.typicalVm({ resourceGroup: name, name: `vm${String(i).padStart(3, "0")}`, subnet: `s${s}`, subnetPrefix: prefix(s), nicNsg, publicIp: false });
  });
}

function fleet(emu: AzureEmulator, name: string, count: number, subnets: number, nicNsg: boolean, prefix?: (s: number) => string): string[] {
  return seedFleet(emu, name, count, subnets, nicNsg, prefix).map((vm) => vm.vmId);
}

const SSH_RDP = [
  { number: 22, protocol: "TCP" },
  { number: 3389, protocol: "TCP" },
] as const;

/** Places a policy over `vmIds` and records it in the ledger, as `jit policy apply` does. */
async function applyPolicy(b: Bench, name: string, vmIds: readonly string[]): Promise<BaselineResult> {
  const policy = parsePolicy({ name, virtualMachines: vmIds.map((id) => ({ id, ports: SSH_RDP })) });
  const result = await b.driver.applyBaseline(policy, undefined, {});
  await b.ledger.putPolicy({ policy, baseline: result.record as never });
  return result;
}

/** How many deny rules the applies placed per NSG, e.g. "1 deny rule in each of 4 NSGs". */
function rulesPerNsg(results: readonly BaselineResult[]): string {
  const counts = new Map<string, number>();
  for (const rule of results.flatMap((r) => r.rules)) counts.set(rule.container, (counts.get(rule.container) ?? 0) + 1);
  const per = [...new Set(counts.values())].sort((a, b) => a - b).join(" or ");
  return `${per} deny rule${per === "1" ? "" : "s"} in each of ${counts.size} NSG${counts.size === 1 ? "" : "s"}`;
}

/** An apply measured, with the deny rules it left per NSG in the note. */
function measureApply(apply: (b: Bench) => Promise<BaselineResult[]>, units: number, note: string): Promise<Measured> {
  let results: BaselineResult[] = [];
  return measure(async (b) => (results = await apply(b)), units, () => `${note}; ${rulesPerNsg(results)}`);
}

/** A request opens at most 100 VMs: a policy over more is asked for in requests of 100, side by side. */
const PER_REQUEST = 100;

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

const grants = new Map<string, Grant[]>();

function scenariosFor(name: string, label: string, count: number, subnets: number, nicNsg: boolean): Scenario[] {
  return [
    {
      api: "ARM",
      name: `policy apply, ${label}`,
      run: async () => {
        const b = await bench();
        const vmIds = fleet(b.emu, name, count, subnets, nicNsg);
        return measureApply(async (b) => [await applyPolicy(b, name, vmIds)], count, "per NSG: one write of its deny rules");
      },
    },
    {
      api: "ARM",
      name: `grant, ${label}`,
      run: () =>
        measure(
          async (b) => {
            const { policy } = (await b.ledger.getPolicy(name))!;
            const requests = chunks(policy.virtualMachines, PER_REQUEST).map((vms) => ({
              policy: name,
              virtualMachines: vms.map((vm) => ({ id: vm.id, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.7" }] })),
            }));
            grants.set(name, await Promise.all(requests.map((r) => requestAccess(r, { ledger: b.ledger, drivers: { azure: b.driver } }))));
          },
          count,
          count > PER_REQUEST ? `${Math.ceil(count / PER_REQUEST)} requests of ${PER_REQUEST} VMs side by side; per NSG one write` : "per NSG one write and its poll, side by side",
        ),
    },
    {
      api: "ARM",
      name: `restore, ${label}`,
      run: () =>
        measure((b) => Promise.all(grants.get(name)!.map((g) => revokeAccess(g.id, { ledger: b.ledger, drivers: { azure: b.driver } }))), count, "per NSG one write, verified against the grant's record"),
    },
  ];
}

/**
 * Two policies of 1,000 VMs (the most a policy holds) in one subnet behind one NSG: one shared deny
 * rule each. The calls and modelled time are the two applies, side by side; seeding the VMs is not
 * counted, but its time is in `ms`.
 */
const CROWD = 2000;
const CROWD_NSG = { resourceGroup: "crowd", name: "crowd-vnet-s0-nsg" };
const crowdRow: Scenario = {
  api: "ARM",
  name: `policy apply, ${CROWD.toLocaleString("en")} VMs behind one NSG (two policies)`,
  run: async () => {
    const b = await bench();
    const vmIds = fleet(b.emu, CROWD_NSG.resourceGroup, CROWD, 1, false, () => "10.0.0.0/20");
    const measured = await measureApply((b) => Promise.all(chunks(vmIds, CROWD / 2).map((ids, i) => applyPolicy(b, `crowd${i}`, ids))), CROWD, "one write of the NSG per policy");
    const listed = b.emu.state.nsgRules(CROWD_NSG.resourceGroup, CROWD_NSG.name).reduce((sum, r) => sum + addressesAndPorts(r as NsgRule), 0);
    return { ...measured, note: `${measured.note}; ${listed} of Azure's ${MAX_ADDRESSES_AND_PORTS} addresses and ports` };
  },
};

/** Lost races (412, 409, 429) the endpoint answered since `mark`, per grant. */
function retriesPer(b: Bench, mark: number, grantsMade: number): string {
  const lost = b.emu.calls.list({ since: mark, write: true }).filter((c) => c.status === 412 || c.status === 409 || c.status === 429).length;
  return `mean retries per grant ${(lost / grantsMade).toFixed(2)}; all ${grantsMade} landed`;
}

const CONCURRENT = 32;

const concurrent: Scenario = {
  api: "ARM",
  name: `${CONCURRENT} concurrent grants, 1 VM (subnet NSG + NIC NSG)`,
  run: () =>
    measure(
      async (b) => {
        const vmId = (await b.ledger.getPolicy("one"))!.policy.virtualMachines[0].id;
        const landed = await Promise.all(
          Array.from({ length: CONCURRENT }, (_, i) =>
            requestAccess({ policy: "one", virtualMachines: [{ id: vmId, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: `198.51.100.${i + 1}` }] }] }, { ledger: b.ledger, drivers: { azure: b.driver } }),
          ),
        );
        if (landed.some((g) => g.state !== "active")) throw new Error("a concurrent grant did not land");
        await Promise.all(landed.map((g) => revokeAccess(g.id, { ledger: b.ledger, drivers: { azure: b.driver } })));
      },
      CONCURRENT,
      (b, mark) => `then all revoked side by side; ${retriesPer(b, mark, CONCURRENT)}`,
    ),
};

/**
 * A sweep pass that finds many grants due at once: 100 subnets of 10 VMs each (the policy applied
 * for real), every VM with 10 grants of its own (10,000 grants, 100 allow rules in each of the
 * 100 NSGs), all past their end. The grants are seeded straight into the ledger and the NSGs,
 * unmeasured, since making 10,000 through requests would only measure the requests again; the row
 * is the sweep itself, its orphan check included.
 */
const SWEEP_NSGS = 100;
const SWEEP_VMS_PER_NSG = 10;
const SWEEP_GRANTS_PER_VM = 10;
const SWEEP_GRANTS = SWEEP_NSGS * SWEEP_VMS_PER_NSG * SWEEP_GRANTS_PER_VM;

/** A grant of port 22 on `vm` from a requester of its own, active until `end`, with its allow rule in the subnet's NSG. */
function dueGrant(b: Bench, vm: TypicalVm, policy: string, nth: number, end: Date): Promise<Grant> {
  const id = newGrantId();
  const source = `198.51.${100 + Math.floor(nth / 250)}.${(nth % 250) + 1}`;
  const rule = {
    name: allowRuleName(id, vm.vmName, 22, "TCP"),
    priority: 100 + nth,
    direction: "Inbound" as const,
    access: "Allow" as const,
    protocol: "Tcp" as const,
    description: allowRuleDescription(id, policy, vm.vmName, end),
    sourceAddressPrefix: source,
    sourcePortRange: "*",
    destinationAddressPrefix: vm.privateIpAddress,
    destinationPortRange: "22",
  } satisfies NsgRule;
  b.emu.seed.rule(vm.resourceGroup, vm.subnetNsgId!.split("/").pop()!, rule);
  const endTimeUtc = utc(end.getTime());
  return b.ledger.createGrant(
    parseGrant({
      id,
      policy,
      cloud: "azure",
      requester: "bench@example.com",
      virtualMachines: [{ id: vm.vmId, ports: [{ number: 22, protocol: "TCP", sourceAddressPrefix: `${source}/32`, endTimeUtc }] }],
      createdAt: utc(end.getTime() - 3600_000),
      endTimeUtc,
      state: "active",
      version: 1,
      changes: [ruleChange(vm.subnetNsgId!, rule, "applied")],
    }),
  );
}

const sweepRow: Scenario = {
  api: "ARM",
  name: `sweep, ${SWEEP_GRANTS.toLocaleString("en")} due grants over ${SWEEP_NSGS} NSGs`,
  run: async () => {
    const b = await bench();
    const vms = seedFleet(b.emu, "due", SWEEP_NSGS * SWEEP_VMS_PER_NSG, SWEEP_NSGS, false);
    await applyPolicy(b, "due", vms.map((vm) => vm.vmId));
    const end = new Date(Date.now() + 3600_000);
    const perNsg = new Map<string, number>();
    const made = await Promise.all(
      vms.flatMap((vm) =>
        Array.from({ length: SWEEP_GRANTS_PER_VM }, () => {
          const nth = perNsg.get(vm.subnetNsgId!) ?? 0;
          perNsg.set(vm.subnetNsgId!, nth + 1);
          return dueGrant(b, vm, "due", nth, end);
        }),
      ),
    );
    const later = new Date(end.getTime() + 3600_000);
    // The row's ms include the seeding; the sweep's own wall time goes in the note.
    let sweptMs = 0;
    return measure(
      async () => {
        const start = performance.now();
        const report = await sweep({ ledger: b.ledger, drivers: { azure: b.driver }, now: () => later, repairBaselines: false });
        sweptMs = performance.now() - start;
        if (report.failed.length > 0 || report.restored.length !== made.length) throw new Error(`the sweep did not end every grant: ${JSON.stringify(report.failed.slice(0, 3))}`);
      },
      SWEEP_GRANTS,
      () => `${SWEEP_NSGS * SWEEP_VMS_PER_NSG} VMs with ${SWEEP_GRANTS_PER_VM} grants each, ended in one pass; per NSG one write for its ${SWEEP_GRANTS / SWEEP_NSGS} rules; the sweep itself ${Math.round(sweptMs)} ms`,
    );
  },
};

const all = [
  ...scenariosFor("one", "1 VM (subnet NSG + NIC NSG)", 1, 1, true),
  concurrent,
  ...scenariosFor("fleet", "200 VMs behind 4 NSGs", 200, 4, false),
  crowdRow,
  sweepRow,
];
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
