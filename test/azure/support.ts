import type { AccessOptions } from "../../provider/src/access";
import { AzureConnection, createAzureDriver } from "../../provider/src/azure";
import { AzureEmulator, AzureEmulatorOptions, startAzureEmulator } from "../../provider/src/emulator/azure";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { Policy, PolicyInput, parsePolicy } from "../../provider/src/model";
import { Nsg, NsgPath, NsgRule, evaluateInbound, parseJitRule } from "../../provider/src/plan";

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

export async function azureWorld(options: { emulator?: Partial<AzureEmulatorOptions>; connection?: AzureConnection; start?: string } = {}): Promise<AzureWorld> {
  const emu = await startAzureEmulator(options.emulator);
  const driverAs = (principal: string, connection: AzureConnection = {}) =>
    createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor(principal), ...FAST, ...options.connection, ...connection });
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

/** An NSG's own rules as the emulator holds them, in the planners' shape. */
export function rulesOf(emu: AzureEmulator, nsgId: string): NsgRule[] {
  const parts = nsgId.split("/");
  return emu.state.nsgRules(parts[4], parts[8]) as unknown as NsgRule[];
}

export function nsgOf(emu: AzureEmulator, nsgId: string): Nsg {
  return { id: nsgId, securityRules: rulesOf(emu, nsgId) };
}

/** The inbound path of a VM's NIC as the emulator holds it: its subnet's NSG, then its own. */
export function pathOf(emu: AzureEmulator, vm: { subnetNsgId?: string; nicNsgId?: string }): NsgPath {
  return { ...(vm.subnetNsgId ? { subnet: nsgOf(emu, vm.subnetNsgId) } : {}), ...(vm.nicNsgId ? { nic: nsgOf(emu, vm.nicNsgId) } : {}) };
}

/** Can `source` reach `port`/TCP on the VM's private address, as Azure would decide? */
export function reaches(emu: AzureEmulator, vm: { subnetNsgId?: string; nicNsgId?: string; privateIpAddress: string }, source: string, port: number): boolean {
  return evaluateInbound(pathOf(emu, vm), { source, destination: vm.privateIpAddress, port, protocol: "Tcp" }).allowed;
}

/** Every rule of every NSG, sorted, for comparing whole networks before and after. */
export function snapshot(emu: AzureEmulator, nsgIds: readonly string[]): Record<string, NsgRule[]> {
  return Object.fromEntries(nsgIds.map((id) => [id, [...rulesOf(emu, id)].sort((a, b) => a.name.localeCompare(b.name))]));
}

/** Our allow rules anywhere in these NSGs. */
export function allowRules(emu: AzureEmulator, nsgIds: readonly string[]): string[] {
  return nsgIds.flatMap((id) => rulesOf(emu, id).filter((r) => parseJitRule(r)?.kind === "allow").map((r) => `${id.split("/").pop()}/${r.name}`));
}

/** The NSG ids of a typical VM, subnet first. */
export function nsgIdsOf(vm: { subnetNsgId?: string; nicNsgId?: string }): string[] {
  return [vm.subnetNsgId, vm.nicNsgId].filter((id): id is string => id !== undefined);
}
