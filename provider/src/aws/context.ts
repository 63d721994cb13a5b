import { JitError, parseVmId } from "../model";
import type { Tag } from "../plan";
import { MAX_GROUPS_PER_INTERFACE, MAX_RULES_PER_GROUP } from "../plan";
import type { AwsClients } from "./clients";
import type { AwsConnection } from "./connection";
import { KeyedLocks } from "../util/keyed-locks";
import { Backoff, makeBackoff } from "./retry";

/** What the driver's parts share: clients, in-process locks, the account's quotas, retry pacing. */
export interface AwsContext {
  clients: AwsClients;
  locks: KeyedLocks;
  limits: { groupsPerInterface: number; rulesPerGroup: number };
  backoff: Backoff;
}

export function makeContext(clients: AwsClients, connection: AwsConnection): AwsContext {
  return {
    clients,
    locks: new KeyedLocks(),
    limits: {
      groupsPerInterface: connection.limits?.groupsPerInterface ?? MAX_GROUPS_PER_INTERFACE,
      rulesPerGroup: connection.limits?.rulesPerGroup ?? MAX_RULES_PER_GROUP,
    },
    backoff: makeBackoff(connection.backoffMs ?? 500),
  };
}

/** An instance of a policy or grant: where it is. */
export interface InstanceTarget {
  vmId: string;
  instanceId: string;
  region: string;
}

/** An instance ARN carries its region; a bare instance id is in the default region. */
export async function targetOf(ctx: AwsContext, vmId: string): Promise<InstanceTarget> {
  const ref = parseVmId(vmId);
  if (ref.cloud !== "aws") throw new JitError("InvalidInput", `"${vmId}" is not an EC2 instance id or ARN`, { field: "id" });
  return { vmId, instanceId: ref.instanceId, region: ref.region ?? (await ctx.clients.defaultRegion()) };
}

export function byRegion<T extends { region: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(item.region, [...(out.get(item.region) ?? []), item]);
  return out;
}

/** The lock that serialises grant-group work on one instance in this process. */
export function instanceLock(t: { region: string; instanceId: string }): string {
  return `${t.region}/${t.instanceId}`;
}

export function tagValue(tags: readonly Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
