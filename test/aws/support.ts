import { AwsConnection, AwsDriver, createAwsDriver } from "../../provider/src/aws";
import { AwsEmulator, AwsEmulatorOptions, Ec2SecurityGroup, startAwsEmulator } from "../../provider/src/emulator/aws";
import { fingerprint, groupsOf, sdkGroup } from "../../provider/src/emulator/aws/planner-view";
import { GRANT_GROUP_ROLE, TAG_ROLE, sgAllows } from "../../provider/src/plan";

export { fingerprint, groupsOf, sdkGroup };

/**
 * Shared set-up for the end-to-end AWS tests: the local EC2 endpoint, drivers on it with the real
 * SDK clients, and readings of the endpoint's state (which make no API calls, so they do not
 * disturb call counts).
 */

export const ADMIN_ONLY: AwsEmulatorOptions = {};

/** A principal that may read EC2 and nothing else. */
export const VIEWER = {
  name: "viewer",
  policies: [{ name: "ReadOnly", document: { Version: "2012-10-17" as const, Statement: [{ Effect: "Allow" as const, Action: ["ec2:Describe*", "sts:GetCallerIdentity"], Resource: "*" }] } }],
};

export async function withAws<T>(options: AwsEmulatorOptions, body: (emu: AwsEmulator) => Promise<T>): Promise<T> {
  const emu = await startAwsEmulator({ randomSeed: 7, ...options });
  try {
    return await body(emu);
  } finally {
    await emu.close();
  }
}

/** A driver on the endpoint: one attempt per call (faults show at once) and short backoffs. */
export function driverFor(emu: AwsEmulator, extra: AwsConnection & { principal?: string } = {}): AwsDriver {
  const { principal, ...connection } = extra;
  return createAwsDriver({
    ...emu.clientConfig,
    ...(principal ? { credentials: emu.credentialsFor(principal) } : {}),
    maxAttempts: 1,
    backoffMs: 2,
    ...connection,
  });
}

/** Would a new TCP (or UDP) connection from `address` to `port` of the instance get in? */
export function reachable(emu: AwsEmulator, instanceId: string, address: string, port: number, protocol = "tcp"): boolean {
  return sgAllows(groupsOf(emu, instanceId), { source: { address }, protocol, port });
}

/** Every grant group of the account, and every rule in them. */
export function grantGroups(emu: AwsEmulator): Ec2SecurityGroup[] {
  return [...emu.state.groups.values()].filter((g) => g.tags.get(TAG_ROLE) === GRANT_GROUP_ROLE);
}

/**
 * Makes the process "die" right after the endpoint has answered `n` more calls: from then on every
 * request's connection is dropped, so that neither the work nor its undo can go on. `onDeath` runs
 * at that moment, before the answer to call `n` reaches the caller. Returns a function that brings
 * the endpoint back.
 */
export function dieAfter(emu: AwsEmulator, n: number, onDeath: () => void = () => undefined): () => void {
  const record = emu.calls.record.bind(emu.calls);
  let left = n;
  emu.calls.record = (entry) => {
    const rec = record(entry);
    if (--left === 0) {
      emu.faults.inject({}, { kind: "drop" }, Infinity);
      onDeath();
    }
    return rec;
  };
  return () => {
    emu.calls.record = record;
    emu.faults.clear();
  };
}

/** Runs `act` right after the endpoint has served the `n`-th call named `operation` from now (before its answer is sent), as another writer would. */
export function afterCall(emu: AwsEmulator, operation: string, n: number, act: () => void): void {
  const record = emu.calls.record.bind(emu.calls);
  let seen = 0;
  emu.calls.record = (entry) => {
    const rec = record(entry);
    if (entry.operation === operation && ++seen === n) act();
    return rec;
  };
}

/** Groups of ours that grants put rules in: JIT groups (made by the baseline) and grant groups. */
export function jitGroups(emu: AwsEmulator): Ec2SecurityGroup[] {
  return grantGroups(emu).filter((g) => /^jit-i-[0-9a-f]+$/.test(g.name));
}
