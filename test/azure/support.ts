import type { AccessOptions } from "../../provider/src/access";
import { AzureConnection, createAzureDriver } from "../../provider/src/azure";
import { AzureEmulator, AzureEmulatorOptions, startAzureEmulator } from "../../provider/src/emulator/azure";
import type { LatencyOptions } from "../../provider/src/emulator/azure/latency";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { Policy, PolicyInput, parsePolicy } from "../../provider/src/model";
import { NsgPlacement, firewallOf, firewallPrivateAddress, groupsOfNic, nsgIdsOf, nsgOf, pathOf, rulesOf, snapshot, virtualNetworkOfNic } from "../../provider/src/emulator/azure/planner-view";
import { evaluateFirewallInbound, evaluateInbound, parseJitRule } from "../../provider/src/plan";

export { firewallOf, nsgIdsOf, nsgOf, pathOf, rulesOf, snapshot };

/** What end-to-end tests of the Azure driver share: the local ARM endpoint, a driver on it, a ledger and a clock. */
export interface AzureWorld {
  emu: AzureEmulator;
  driver: ReturnType<typeof createAzureDriver>;
  ledger: Ledger;
  clock: { t: number };
  /** For `requestAccess`, `revokeAccess` and `sweep`: the ledger, the driver, the clock. */
  options: Required<Pick<AccessOptions, "ledger" | "drivers" | "now">>;
  /** Another driver on the same endpoint, signed in as `principal`. */
  driverAs(principal: string, connection?: AzureConnection): ReturnType<typeof createAzureDriver>;
  close(): Promise<void>;
}

/** Test pacing: no waits between polls, and short waits before retries. */
export const FAST: AzureConnection = { pollIntervalMs: 0, backoffMs: 5, retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } };

/**
 * `latency`: the emulator takes as long as ARM does (see emulator/azure/latency.ts) on its virtual
 * clock, and the drivers wait on that clock: `emu.latency.now()` is then the modelled time.
 */
export async function azureWorld(options: { emulator?: Partial<AzureEmulatorOptions>; connection?: AzureConnection; start?: string; latency?: Partial<LatencyOptions> } = {}): Promise<AzureWorld> {
  const emu = await startAzureEmulator(options.emulator);
  if (options.latency) emu.latency.enable(options.latency);
  const virtual: AzureConnection = options.latency
    ? { clock: { now: () => emu.latency.now(), sleep: (ms) => emu.latency.sleep(ms) }, policies: [emu.latency.clientPolicy() as never] }
    : {};
  const driverAs = (principal: string, connection: AzureConnection = {}) =>
    createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor(principal), ...FAST, ...virtual, ...options.connection, ...connection });
  const driver = driverAs(emu.options.principal);
  const ledger = await openLedger(":memory:");
  const clock = { t: Date.parse(options.start ?? "2030-01-01T00:00:00Z") };
  return {
    emu,
    driver,
    ledger,
    clock,
    options: { ledger, drivers: { azure: driver }, now: () => new Date(clock.t) },
    driverAs,
    close: async () => {
      await ledger.close();
      await emu.close();
    },
  };
}

/** Registers a policy in the ledger with the baseline its apply placed, as a JitPolicy resource does. */
export async function deployPolicy(world: AzureWorld, input: PolicyInput): Promise<Policy> {
  const policy = parsePolicy(input);
  const result = await world.driver.applyBaseline(policy, undefined, {});
  await world.ledger.putPolicy({ policy, baseline: result.record as never });
  return policy;
}

/**
 * Can `source` reach `port`/TCP on the VM's private address, as Azure would decide (knowing the
 * NIC's application security groups, and what `VirtualNetwork` stands for there)?
 */
export function reaches(emu: AzureEmulator, vm: { subnetNsgId?: string; nicNsgId?: string; nicId?: string; privateIpAddress: string }, source: string, port: number): boolean {
  const known = vm.nicId === undefined ? {} : { groups: groupsOfNic(emu, vm.nicId), virtualNetwork: virtualNetworkOfNic(emu, vm.nicId) };
  return evaluateInbound(pathOf(emu, vm), { source, destination: vm.privateIpAddress, port, protocol: "Tcp" }, known).allowed;
}

/** Our allow rules anywhere in these NSGs. */
export function allowRules(emu: AzureEmulator, nsgIds: readonly string[]): string[] {
  return nsgIds.flatMap((id) => rulesOf(emu, id).filter((r) => parseJitRule(r)?.kind === "allow").map((r) => `${id.split("/").pop()}/${r.name}`));
}

/**
 * Can `source` connect to `port` of the firewall's public address and get through to the VM, as
 * Azure would decide? The firewall's DNAT and network rules first, then the VM's NSGs, which see
 * the firewall's own address as the source.
 */
export function reachesThrough(emu: AzureEmulator, firewall: { id: string; address: string }, vm: NsgPlacement & { privateIpAddress: string }, source: string, port: number): boolean {
  const decision = evaluateFirewallInbound(firewallOf(emu, firewall.id), { source, destination: firewall.address, port, protocol: "Tcp" });
  if (!decision.allowed || decision.translated?.address !== vm.privateIpAddress) return false;
  return evaluateInbound(pathOf(emu, vm), { source: firewallPrivateAddress(emu, firewall.id), destination: vm.privateIpAddress, port: decision.translated.port, protocol: "Tcp" }).allowed;
}

/**
 * From the moment the emulator has answered `n` more calls, the process is dead: none of its calls
 * reach the cloud any more (connections drop) and none of the ledger writes made through the
 * returned ledger land. `revive` ends that, and lets the operations the dead process started finish
 * in the cloud, as they would whether or not anyone polls them.
 */
export function dieAfter(world: AzureWorld, n: number): { ledger: Ledger; revive(): void } {
  const { emu } = world;
  const from = emu.calls.mark();
  const record = emu.calls.record.bind(emu.calls);
  let dead = false;
  emu.calls.record = (entry) => {
    const rec = record(entry);
    if (!dead && rec.seq >= from + n) {
      dead = true;
      emu.faults.inject({}, { kind: "drop" }, Infinity);
    }
    return rec;
  };
  const ledger = new Proxy(world.ledger, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (dead) return Promise.reject(new Error("the process died"));
        return value.apply(target, args);
      };
    },
  });
  return {
    ledger,
    revive() {
      emu.calls.record = record;
      emu.faults.clear();
      emu.lro.settle();
    },
  };
}
