import { sweep } from "../../provider/src/access";
import { createAwsDriver } from "../../provider/src/aws";
import { AwsStsVerifier, RunningBroker, outbound, startBroker } from "../../provider/src/broker";
import { BrokerClient } from "../../provider/src/broker/client";
import { startAwsEmulator } from "../../provider/src/emulator/aws";
import type { Ledger } from "../../provider/src/ledger";
import { openLedger } from "../../provider/src/ledger";
import { Cloud, parsePolicy } from "../../provider/src/model";
import { awsPolicyDocument, azureActions } from "../../provider/src/roles";
import { reachable } from "../aws/support";
import { azureWorld, reaches } from "../azure/support";
import { azureBroker } from "../broker/support";

/** Who takes part: a requester, three approvers, an emergency principal, and someone with no role in the policy. */
export const PEOPLE = ["ana", "bo", "cy", "di", "eve", "zed"] as const;
export type Person = (typeof PEOPLE)[number];
export const APPROVERS: Person[] = ["bo", "cy", "di"];

/** The policy's sources; auto-approval covers the upper half for at most 30 minutes. */
export const ALLOWED = "203.0.113.0/24";
export const AUTO_RANGE = "203.0.113.128/25";
export const START = Date.parse("2030-01-01T00:00:00Z");

/** One cloud, behind a broker on 127.0.0.1 that verifies real signed identities, with a policy needing 2 of 3 approvals. */
export interface ApprovalWorld {
  cloud: Cloud;
  vmId: string;
  broker: RunningBroker;
  ledger: Ledger;
  clock: { t: number };
  /** The broker as one of the people (their own signed identity). */
  as(who: Person): BrokerClient;
  /** The environment that makes the `jit` CLI ask the broker as a person. */
  cliEnv(who: Person): Promise<Record<string, string>>;
  /** The principal id the broker will see for a person. */
  idOf(who: Person): string;
  /** Whether `source` can reach port 22 now, read from the NSGs / security groups. */
  open(source: string): boolean;
  /** Cloud writes so far (every principal). */
  writes(): number;
  /** The reconciler, at the virtual clock, with the broker's identity. */
  sweep(): ReturnType<typeof sweep>;
  close(): Promise<void>;
}

function policyInput(vmId: string, idOf: (who: Person) => string, cloud: Cloud) {
  return parsePolicy({
    name: "web",
    virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: ALLOWED, maxRequestAccessDuration: "PT3H" }] }],
    // AWS has no request permission the broker can check: the requesters list is the gate there.
    ...(cloud === "aws" ? { requesters: ["ana", "eve"].map((p) => idOf(p as Person)) } : {}),
    approvers: APPROVERS.map(idOf),
    approvalsRequired: 2,
    approvalTimeout: "PT1H",
    autoApprove: [{ sourceWithin: [AUTO_RANGE], maxDuration: "PT30M" }],
    breakGlass: { principals: [idOf("eve")], maxRequestAccessDuration: "PT30M" },
  });
}

export async function azureApprovalWorld(): Promise<ApprovalWorld> {
  const w = await azureWorld({ emulator: { lroPolls: 0 } });
  const vm = w.emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
  w.emu.seed.principal("jit-broker", { actions: azureActions("broker") });
  for (const p of PEOPLE) w.emu.seed.principal(p, { actions: azureActions("request") });
  const idOf = (who: Person) => w.emu.claimsFor(who).oid;
  const policy = policyInput(vm.vmId, idOf, "azure");
  const baseline = await w.driver.applyBaseline(policy, undefined, {});
  await w.ledger.putPolicy({ policy, baseline: baseline.record as never });
  const broker = await azureBroker(w.emu, w.ledger, "jit-broker", { now: () => new Date(w.clock.t) });
  const brokerDriver = w.driverAs("jit-broker");
  return {
    cloud: "azure",
    vmId: vm.vmId,
    broker,
    ledger: w.ledger,
    clock: w.clock,
    as: (who) => new BrokerClient({ url: broker.url, azureCredential: w.emu.credentialFor(who) as never }),
    cliEnv: async (who) => ({ JIT_BROKER_URL: broker.url, JIT_AZURE_TOKEN: (await w.emu.credentialFor(who).getToken("https://management.azure.com/.default")).token }),
    idOf,
    open: (source) => reaches(w.emu, vm, source, 22),
    writes: () => w.emu.calls.count({ write: true }),
    sweep: () => sweep({ ledger: w.ledger, drivers: { azure: brokerDriver }, now: () => new Date(w.clock.t), repairBaselines: false, scope: {} }),
    async close() {
      await broker.close();
      await w.close();
    },
  };
}

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const BROKER_ID = "jit.example.test";

export async function awsApprovalWorld(): Promise<ApprovalWorld> {
  const emu = await startAwsEmulator({ region: REGION, accountId: ACCOUNT, randomSeed: 7, principals: [{ name: "admin", policies: [{ name: "all", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] }] });
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const instance = emu.seed.instance({ groupIds: [web.id] });
  const arn = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instance.id}`;
  emu.seed.principal({ name: "jit-broker", type: "role", policies: [{ name: "broker", document: JSON.stringify(awsPolicyDocument({ kind: "broker", instanceArns: [arn], region: REGION, accountId: ACCOUNT })) }] });
  const request = JSON.stringify(awsPolicyDocument({ kind: "request" }));
  for (const p of PEOPLE) emu.seed.principal({ name: p, policies: [{ name: "request", document: request }] });
  const idOf = (who: Person) => `arn:aws:iam::${ACCOUNT}:user/${who}`;
  const ledger = await openLedger(":memory:");
  const clock = { t: START };
  const admin = createAwsDriver({ ...emu.clientConfig, maxAttempts: 1, backoffMs: 2 });
  const policy = policyInput(arn, idOf, "aws");
  const baseline = await admin.applyBaseline(policy, undefined, {});
  await ledger.putPolicy({ policy, baseline: baseline.record as never });
  const brokerDriver = createAwsDriver({ ...emu.clientConfig, credentials: emu.credentialsFor("jit-broker"), maxAttempts: 1, backoffMs: 2 });
  const broker = await startBroker(
    {
      access: { ledger, drivers: { aws: brokerDriver }, now: () => new Date(clock.t) },
      // Signatures are fresh by the real clock (they are made now); the grants live on the virtual one.
      auth: { aws: new AwsStsVerifier({ brokerId: BROKER_ID, stsEndpoints: [emu.endpoint], region: REGION, fetch: outbound() }) },
      log: () => undefined,
    },
    { host: "127.0.0.1", port: 0 },
  );
  return {
    cloud: "aws",
    vmId: arn,
    broker,
    ledger,
    clock,
    as: (who) => new BrokerClient({ url: broker.url, awsCredentials: emu.credentialsFor(who) }),
    cliEnv: async (who) => ({ JIT_BROKER_URL: broker.url, ...emu.env(who) }),
    idOf,
    open: (source) => reachable(emu, instance.id, source, 22),
    writes: () => emu.calls.count({ write: true }),
    sweep: () => sweep({ ledger, drivers: { aws: brokerDriver }, now: () => new Date(clock.t), repairBaselines: false, scope: {} }),
    async close() {
      await broker.close();
      await admin.destroy();
      await brokerDriver.destroy();
      await ledger.close();
      await emu.close();
    },
  };
}

export const WORLDS: [Cloud, () => Promise<ApprovalWorld>][] = [
  ["azure", azureApprovalWorld],
  ["aws", awsApprovalWorld],
];

/** A request for port 22 from `source` for `duration`. */
export function ask(vmId: string, source: string, duration = "PT1H", extra: { justification?: string; breakGlass?: boolean } = {}) {
  return { virtualMachines: [{ id: vmId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: source }] }], justification: "INC-42", ...extra };
}
