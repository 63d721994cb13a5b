import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { AwsEmulator, startAwsEmulator } from "../../provider/src/emulator/aws";
import { AzureEmulator, TypicalVm, startAzureEmulator } from "../../provider/src/emulator/azure";
import * as runtime from "../../provider/src/pulumi/runtime";
import type { PolicyResourceInputs } from "../../provider/src/pulumi/inputs";
import { reachable as awsReachable } from "../aws/support";
import { reaches, reachesThrough } from "../azure/support";
import { withEnv } from "../pulumi/clouds";

export const OFFICE = "203.0.113.0/24";
export const ME = "203.0.113.7";

/** A cloud with one VM that has a public address, a deployed policy for ports 22 and 3389, and the environment `jit` runs with. */
export interface ConnectWorld {
  env: Record<string, string>;
  vmId: string;
  /** What a person types for the VM: its name (Azure), its instance id (AWS). */
  name: string;
  /** What a client connects to without a grant's firewall mapping. */
  host: string;
  /** Whether a new connection from `address` to the VM's `port` gets in now (through the firewall's `port`, if there is one). */
  reachable(address: string, port: number): boolean;
  /** The emulators, for call hooks. */
  azure?: AzureEmulator;
  aws?: AwsEmulator;
  vm?: TypicalVm;
  close(): Promise<void>;
}

const port = (number: number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: OFFICE, maxRequestAccessDuration: "PT3H" });

/**
 * Stand-in client programs (`ssh`, `xdg-open`) in a directory put first on PATH: each appends its
 * arguments, one per line after a `--- <name>` line, to a log, and exits with `$FAKE_EXIT` (0).
 */
export function standIns(names: string[] = ["ssh", "xdg-open"]): { dir: string; env: Record<string, string>; calls(): { name: string; args: string[] }[]; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), "jit-clients-"));
  const log = join(dir, "calls.log");
  for (const name of names) {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n{ echo "--- ${name}"; for a in "$@"; do echo "$a"; done; } >> "${log}"\nexit "\${FAKE_EXIT:-0}"\n`);
    chmodSync(file, 0o755);
  }
  return {
    dir,
    env: { PATH: `${dir}${delimiter}${process.env.PATH ?? ""}` },
    calls: () => {
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .split(/^--- /m)
        .filter(Boolean)
        .map((block) => {
          const [name, ...args] = block.replace(/\n$/, "").split("\n");
          return { name, args };
        });
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function deploy(env: Record<string, string>, cloud: "azure" | "aws", inputs: Record<string, unknown>): Promise<void> {
  await withEnv(env, () => runtime.create(cloud, inputs as unknown as PolicyResourceInputs));
}

export async function azureConnectWorld(options: { firewall?: boolean } = {}): Promise<ConnectWorld & { firewall?: { id: string; address: string } }> {
  const emu = await startAzureEmulator({ lroPolls: 0 });
  const dir = mkdtempSync(join(tmpdir(), "jit-connect-azure-"));
  const env = { ...emu.env(), JIT_LEDGER: join(dir, "ledger.db") };
  const vm = emu.seed.typicalVm({ name: "web1", publicIp: !options.firewall });
  let firewall: { id: string; address: string } | undefined;
  if (options.firewall) {
    const subnet = emu.seed.subnet("rg", "rg-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
    const publicIp = emu.seed.publicIp("rg", "fw1-ip");
    const address = (emu.state.resource(publicIp) as { properties: { ipAddress: string } }).properties.ipAddress;
    firewall = { id: emu.seed.firewall("rg", "fw1", { subnet, publicIp: "fw1-ip" }), address };
  }
  await deploy(env, "azure", { policyName: "web", virtualMachines: [{ id: vm.vmId, ports: [port(22), port(3389)], ...(firewall ? { publicIpAddress: firewall.address } : {}) }] });
  return {
    env,
    vmId: vm.vmId,
    name: "web1",
    host: firewall?.address ?? vm.publicIpAddress ?? "",
    reachable: (address, p) => (firewall ? reachesThrough(emu, firewall, vm, address, p) : reaches(emu, vm, address, p)),
    azure: emu,
    vm,
    ...(firewall ? { firewall } : {}),
    close: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function awsConnectWorld(): Promise<ConnectWorld> {
  const emu = await startAwsEmulator({ randomSeed: 11 });
  const dir = mkdtempSync(join(tmpdir(), "jit-connect-aws-"));
  const env = { ...(emu.env() as unknown as Record<string, string>), JIT_LEDGER: join(dir, "ledger.db") };
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }, { port: 3389, source: "0.0.0.0/0" }] });
  const instance = emu.seed.instance({ groupIds: [web.id], publicIp: "198.51.100.10" });
  await deploy(env, "aws", { policyName: "web", virtualMachines: [{ id: instance.id, ports: [port(22), port(3389)] }] });
  return {
    env,
    vmId: instance.id,
    name: instance.id,
    host: "198.51.100.10",
    reachable: (address, p) => awsReachable(emu, instance.id, address, p),
    aws: emu,
    close: async () => {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
