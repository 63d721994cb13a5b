import { connect, extendAccess } from "../provider/src/access";
import type { AccessOptions } from "../provider/src/access";
import { createAwsDriver } from "../provider/src/aws";
import { createAzureDriver } from "../provider/src/azure";
import { AwsEmulator, startAwsEmulator } from "../provider/src/emulator/aws";
import { AzureEmulator, startAzureEmulator } from "../provider/src/emulator/azure";
import { openLedger } from "../provider/src/ledger";
import { parsePolicy } from "../provider/src/model";
import type { Measured, Scenario } from "./harness";

/**
 * What `jit ssh` / `jit connect` cost in cloud calls from "I need in" to an endpoint that admits
 * the caller (request, then the reads that confirm the rule is in effect), and what `jit extend`
 * costs (the rules rewritten in place). Identity and permission calls are left out, as elsewhere.
 */

const ME = "203.0.113.7";
const PORT = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" };
const NOT_CLOUD_WORK = /^(?!GetCallerIdentity$|SimulatePrincipalPolicy$|Permissions_)/;

interface Place {
  calls: { mark(): number; count(filter: { since: number; operation?: RegExp; write?: boolean }): number };
  vmId: string;
  options: AccessOptions;
  close(): Promise<void>;
}

async function measure(place: Place, work: () => Promise<unknown>, note: string): Promise<Measured> {
  const since = place.calls.mark();
  await work();
  return { calls: place.calls.count({ since, operation: NOT_CLOUD_WORK }), writes: place.calls.count({ since, operation: NOT_CLOUD_WORK, write: true }), units: 1, note };
}

async function aws(): Promise<Place> {
  const emu: AwsEmulator = await startAwsEmulator({ randomSeed: 11 });
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const vmId = emu.seed.instance({ groupIds: [web.id], publicIp: "198.51.100.10" }).id;
  const driver = createAwsDriver(emu.clientConfig);
  const ledger = await openLedger(":memory:");
  const policy = parsePolicy({ name: "web", virtualMachines: [{ id: vmId, ports: [PORT] }] });
  const { record } = await driver.applyBaseline(policy, undefined, {});
  await ledger.putPolicy({ policy, baseline: record as never });
  return {
    calls: emu.calls,
    vmId,
    options: { ledger, drivers: { aws: driver } },
    close: async () => {
      await driver.destroy();
      await ledger.close();
      await emu.close();
    },
  };
}

async function azure(): Promise<Place> {
  const emu: AzureEmulator = await startAzureEmulator({ lroPolls: 0 });
  const vm = emu.seed.typicalVm({ name: "web1" });
  const driver = createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential, pollIntervalMs: 0 });
  const ledger = await openLedger(":memory:");
  const policy = parsePolicy({ name: "web", virtualMachines: [{ id: vm.vmId, ports: [PORT] }] });
  const { record } = await driver.applyBaseline(policy, undefined, {});
  await ledger.putPolicy({ policy, baseline: record as never });
  return {
    calls: emu.calls,
    vmId: vm.vmId,
    options: { ledger, drivers: { azure: driver } },
    close: async () => {
      await ledger.close();
      await emu.close();
    },
  };
}

const ask = (place: Place) => connect({ policy: "web", vmId: place.vmId, port: 22, duration: "PT1H" }, { ...place.options, sourceAddress: ME });

async function within(open: () => Promise<Place>, run: (place: Place) => Promise<Measured>): Promise<Measured> {
  const place = await open();
  try {
    return await run(place);
  } finally {
    await place.close();
  }
}

export const scenarios: Scenario[] = [
  { api: "EC2", name: "connect: grant, then confirm the rule admits the caller", run: () => within(aws, (p) => measure(p, () => ask(p), "the grant, then one instance and one groups read")) },
  {
    api: "EC2",
    name: "connect again: the live grant reused",
    run: () =>
      within(aws, async (p) => {
        await ask(p);
        return measure(p, () => ask(p), "no write: reads that confirm the rule only");
      }),
  },
  {
    api: "EC2",
    name: "extend (rules' expiry tags replaced)",
    run: () =>
      within(aws, async (p) => {
        const c = await ask(p);
        return measure(p, () => extendAccess(c.grant.id, "PT1H", p.options), "one CreateTags; the rule is never removed");
      }),
  },
  { api: "ARM", name: "connect: grant, then confirm the rule admits the caller", run: () => within(azure, (p) => measure(p, () => ask(p), "the grant, then VM, NIC, subnet, public IP and NSG reads")) },
  {
    api: "ARM",
    name: "extend (allow rules put again with a new stamp)",
    run: () =>
      within(azure, async (p) => {
        const c = await ask(p);
        return measure(p, () => extendAccess(c.grant.id, "PT1H", p.options), "one PUT per NSG on the path, in place");
      }),
  },
];
