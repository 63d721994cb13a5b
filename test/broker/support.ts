import { applyPolicy } from "../../provider/src/access";
import { createAwsDriver } from "../../provider/src/aws";
import { createAzureDriver } from "../../provider/src/azure";
import { AwsStsVerifier, AzureTokenVerifier, BrokerLimits, RunningBroker, outbound, startBroker } from "../../provider/src/broker";
import { AwsEmulator, startAwsEmulator } from "../../provider/src/emulator/aws";
import type { AzureEmulator } from "../../provider/src/emulator/azure";
import { Ledger, openLedger } from "../../provider/src/ledger";
import { parsePolicy } from "../../provider/src/model";
import { IamPolicyDocument, awsPolicyDocument } from "../../provider/src/roles";

/** A broker on 127.0.0.1 that trusts the Azure emulator's issuer and writes as `principal` (which holds the broker role). */
export async function azureBroker(emu: AzureEmulator, ledger: Ledger, principal: string, options: { now?: () => Date; logs?: string[]; admins?: string[] } = {}): Promise<RunningBroker> {
  const driver = createAzureDriver({
    endpoint: emu.endpoint,
    ca: emu.clientOptions.tlsOptions.ca,
    credential: emu.credentialFor(principal) as never,
    pollIntervalMs: 0,
    backoffMs: 5,
    conflictRetries: 0,
    retryOptions: { maxRetries: 0 },
  });
  const verifier = new AzureTokenVerifier({
    tenants: [emu.identity.tenantId],
    authorityHost: emu.identity.authorityHost,
    audiences: [emu.identity.audience],
    fetch: outbound({ ca: emu.clientOptions.tlsOptions.ca }),
  });
  return startBroker(
    {
      access: { ledger, drivers: { azure: driver }, ...(options.now ? { now: options.now } : {}) },
      auth: { azure: verifier },
      admins: options.admins ?? [],
      log: (line) => options.logs?.push(line),
    },
    { host: "127.0.0.1", port: 0 },
  );
}

export const POLICY_PORT = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" };

export const AWS_REGION = "eu-west-1";
export const AWS_ACCOUNT = "123456789012";
export const AWS_BROKER_ID = "jit.example.test";

export interface AwsBrokerWorld {
  emu: AwsEmulator;
  instanceId: string;
  instanceArn: string;
  groupId: string;
  ledger: Ledger;
  broker: RunningBroker;
  verifier: AwsStsVerifier;
  /** Moves the verifier's clock (ms), to make a signed request stale. */
  verifierClock: { offset: number };
  logs: string[];
  close(): Promise<void>;
}

/**
 * On the AWS emulator (which verifies signatures and evaluates IAM): an instance whose group opens
 * 22 to all, a policy `web` on it applied by an admin (requesters: Identity Center Ops roles), the
 * `requesters` seeded as principals, and a broker on 127.0.0.1 that verifies signed STS requests
 * for `AWS_BROKER_ID` and writes as `jit-broker` with `brokerPolicy` (default the broker role).
 */
export async function awsBrokerWorld(options: {
  randomSeed: number;
  requesters: Parameters<AwsEmulator["seed"]["principal"]>[0][];
  brokerPolicy?: (instanceArn: string) => IamPolicyDocument;
  limits?: Partial<BrokerLimits>;
}): Promise<AwsBrokerWorld> {
  const emu = await startAwsEmulator({ region: AWS_REGION, accountId: AWS_ACCOUNT, randomSeed: options.randomSeed, principals: [{ name: "admin", policies: [{ name: "all", document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }] }] });
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const vm = emu.seed.instance({ groupIds: [web.id] });
  const arn = `arn:aws:ec2:${AWS_REGION}:${AWS_ACCOUNT}:instance/${vm.id}`;
  const brokerPolicy = options.brokerPolicy?.(arn) ?? awsPolicyDocument({ kind: "broker", instanceArns: [arn], region: AWS_REGION, accountId: AWS_ACCOUNT });
  emu.seed.principal({ name: "jit-broker", type: "role", policies: [{ name: "broker", document: JSON.stringify(brokerPolicy) }] });
  for (const requester of options.requesters) emu.seed.principal(requester);
  const ledger = await openLedger(":memory:");
  const admin = createAwsDriver({ ...emu.clientConfig, maxAttempts: 1, backoffMs: 2 });
  await applyPolicy(
    {
      policy: parsePolicy({
        name: "web",
        virtualMachines: [{ id: arn, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
        requesters: [`arn:aws:iam::${AWS_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_Ops_*`],
      }),
      mode: "create",
    },
    { ledger, drivers: { aws: admin } },
  );
  const brokerDriver = createAwsDriver({ ...emu.clientConfig, credentials: emu.credentialsFor("jit-broker"), maxAttempts: 1, backoffMs: 2 });
  const verifierClock = { offset: 0 };
  const verifier = new AwsStsVerifier({ brokerId: AWS_BROKER_ID, stsEndpoints: [emu.endpoint], region: AWS_REGION, fetch: outbound(), now: () => Date.now() + verifierClock.offset });
  const logs: string[] = [];
  const broker = await startBroker(
    { access: { ledger, drivers: { aws: brokerDriver } }, auth: { aws: verifier }, log: (l) => logs.push(l), ...(options.limits ? { limits: options.limits } : {}) },
    { host: "127.0.0.1", port: 0 },
  );
  return {
    emu,
    instanceId: vm.id,
    instanceArn: arn,
    groupId: web.id,
    ledger,
    broker,
    verifier,
    verifierClock,
    logs,
    async close() {
      await broker.close();
      await admin.destroy();
      await brokerDriver.destroy();
      await ledger.close();
      await emu.close();
    },
  };
}
