import { AwsClients } from "../aws/clients";
import type { AwsConnection } from "../aws/connection";
import type { AwsRegionInventory } from "./types";

/**
 * Every instance of a region that has a network interface, with the groups its interfaces wear
 * and their rules, in three reads through the AWS driver's EC2 calls (each paged to the end):
 * the attached interfaces (which name their instance and groups), the groups, and the rules (for
 * rule ids). An instance without an attached interface (terminated) has nothing to scan.
 */
export async function readAwsInventory(region: string | undefined, connection: AwsConnection = {}): Promise<AwsRegionInventory> {
  const clients = new AwsClients(connection);
  try {
    const ec2 = await clients.ec2(region ?? (await clients.defaultRegion()));
    const interfaces = (await ec2.interfaces("attachment.status", ["attached"])).filter((i) => i.instanceId);
    const byInstance = new Map<string, AwsRegionInventory["instances"][number]>();
    for (const i of interfaces) {
      const id = i.instanceId as string;
      const instance = byInstance.get(id) ?? { id, interfaces: [] };
      instance.interfaces.push({ id: i.networkInterfaceId, groupIds: i.groupIds });
      byInstance.set(id, instance);
    }
    const groupIds = [...new Set(interfaces.flatMap((i) => i.groupIds))];
    const [groups, rules] = groupIds.length ? await Promise.all([ec2.groups("group-id", groupIds), ec2.rules(groupIds)]) : [[], []];
    return { region: ec2.region, instances: [...byInstance.values()].sort((a, b) => a.id.localeCompare(b.id)), groups, rules };
  } finally {
    await clients.destroy();
  }
}
