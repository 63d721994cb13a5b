import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAwsEmulator } from "../../provider/src/emulator/aws";
import type { Cloud } from "../../provider/src/model";
import type { FaultInjector } from "../../provider/src/emulator/common/faults";
import { fingerprint, reachable } from "../aws/support";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { nsgIdsOf, reaches, snapshot } from "../azure/support";
import { setEnv } from "../support/env";

/**
 * One cloud as the JitPolicy engine-path tests need it: a local endpoint with a VM whose port 22 is
 * open to the world, the environment that points pulumi-jit at it (providers see nothing else),
 * the resource's inputs, and readings of the cloud that make no API calls.
 */
export interface CloudUnderTest {
  cloud: Cloud;
  /** Environment for the provider: endpoint, credentials, ledger. */
  env: Record<string, string>;
  /** Strings that must never appear in state (credentials, tokens). */
  secrets: string[];
  inputs: Record<string, unknown>;
  /** The same policy with one more port, for updates. */
  updated: Record<string, unknown>;
  /** A source the VM's port 22 is open to before the policy (and closed to once it applies). */
  outsider: string;
  /** Whether a new connection from `address` to `port` of the VM gets in. */
  reachable(address: string, port: number): boolean;
  /** The VM's network rules, to compare before and after. */
  snapshot(): unknown;
  /** How many calls that change something the endpoint has answered so far. */
  writes(): number;
  /** The endpoint's fault injection: make its next calls fail. */
  faults: FaultInjector;
  close(): Promise<void>;
}

export async function awsUnderTest(): Promise<CloudUnderTest> {
  const emu = await startAwsEmulator({ randomSeed: 11 });
  const dir = mkdtempSync(join(tmpdir(), "jit-pulumi-aws-"));
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }, { port: 3389, source: "0.0.0.0/0" }, { port: 80, source: "0.0.0.0/0" }] });
  const vm = emu.seed.instance({ groupIds: [web.id] });
  const port = (number: number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" });
  return {
    cloud: "aws",
    env: { ...(emu.env() as unknown as Record<string, string>), JIT_LEDGER: join(dir, "ledger.db") },
    secrets: [emu.credentials.secretAccessKey],
    outsider: "198.51.100.1",
    inputs: { policyName: "web", virtualMachines: [{ id: vm.id, ports: [port(22)] }] },
    updated: { policyName: "web", virtualMachines: [{ id: vm.id, ports: [port(22), port(3389)] }] },
    reachable: (address, p) => reachable(emu, vm.id, address, p),
    snapshot: () => fingerprint(emu, web.id),
    writes: () => emu.calls.count({ write: true }),
    faults: emu.faults,
    close: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function azureUnderTest(): Promise<CloudUnderTest> {
  const emu = await startAzureEmulator({ lroPolls: 0 });
  const dir = mkdtempSync(join(tmpdir(), "jit-pulumi-azure-"));
  const vm = emu.seed.typicalVm();
  const env = emu.env();
  const port = (number: number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT1H" });
  return {
    cloud: "azure",
    env: { ...env, JIT_LEDGER: join(dir, "ledger.db") },
    secrets: [env.JIT_AZURE_TOKEN],
    // Azure's default rules let the virtual network in and keep the Internet out.
    outsider: "10.0.0.99",
    inputs: { policyName: "web", virtualMachines: [{ id: vm.vmId, ports: [port(22)] }] },
    updated: { policyName: "web", virtualMachines: [{ id: vm.vmId, ports: [port(22), port(3389)] }] },
    reachable: (address, p) => reaches(emu, vm, address, p),
    snapshot: () => snapshot(emu, nsgIdsOf(vm)),
    writes: () => emu.calls.count({ write: true }),
    faults: emu.faults,
    close: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sets `env` in this process for the duration of `body` (in-process layers read it directly). */
export async function withEnv<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const restore = setEnv(env);
  try {
    return await body();
  } finally {
    restore();
  }
}
