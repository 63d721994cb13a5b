import type { AccessOptions } from "../../provider/src/access";
import { AzureConnection, createAzureDriver } from "../../provider/src/azure";
import { AzureEmulator, AzureEmulatorOptions, startAzureEmulator } from "../../provider/src/emulator/azure";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { Policy, PolicyInput, parsePolicy } from "../../provider/src/model";
import { nsgIdsOf, nsgOf, pathOf, rulesOf, snapshot } from "../../provider/src/emulator/azure/planner-view";
import { evaluateInbound, parseJitRule } from "../../provider/src/plan";

export { nsgIdsOf, nsgOf, pathOf, rulesOf, snapshot };

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

/** Can `source` reach `port`/TCP on the VM's private address, as Azure would decide? */
export function reaches(emu: AzureEmulator, vm: { subnetNsgId?: string; nicNsgId?: string; privateIpAddress: string }, source: string, port: number): boolean {
  return evaluateInbound(pathOf(emu, vm), { source, destination: vm.privateIpAddress, port, protocol: "Tcp" }).allowed;
}

/** Our allow rules anywhere in these NSGs. */
export function allowRules(emu: AzureEmulator, nsgIds: readonly string[]): string[] {
  return nsgIds.flatMap((id) => rulesOf(emu, id).filter((r) => parseJitRule(r)?.kind === "allow").map((r) => `${id.split("/").pop()}/${r.name}`));
}

