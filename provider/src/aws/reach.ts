import type { Reach, ReachQuery } from "../driver";
import { JitError } from "../model";
import { sgEvaluator } from "../plan";
import { AwsContext, targetOf } from "./context";

/**
 * How the caller reaches an instance's port: its public address, and whether any ingress rule of
 * the groups its primary interface wears (where the public address is) admits the caller. Reads
 * only: one DescribeInstances, one DescribeSecurityGroups.
 */
export async function reach(ctx: AwsContext, query: ReachQuery): Promise<Reach> {
  const target = await targetOf(ctx, query.vmId);
  const ec2 = await ctx.clients.ec2(target.region);
  const [instance] = await ec2.instances([target.instanceId]);
  if (!instance) throw new JitError("NotFound", `instance ${target.instanceId} was not found in ${target.region}`);
  const primary = instance.interfaces[0];
  if (!primary) return { port: query.port, allowed: false, detail: `instance ${target.instanceId} is ${instance.state} and has no network interface` };
  const groups = primary.groupIds.length ? await ec2.groups("group-id", primary.groupIds) : [];
  const protocols = query.protocol === "*" ? ["tcp", "udp"] : [query.protocol.toLowerCase()];
  const allowed = protocols.some((protocol) => sgEvaluator(groups)({ source: { address: query.source }, protocol, port: query.port }).length > 0);
  const host = instance.publicIp;
  if (host === undefined) return { port: query.port, allowed, detail: `instance ${target.instanceId} has no public IPv4 address; connect from its VPC` };
  return {
    host,
    port: query.port,
    allowed,
    detail: allowed ? `public IP ${host} of instance ${target.instanceId}` : `no ingress rule of ${primary.groupIds.join(", ")} admits ${query.source} on port ${query.port} yet`,
  };
}
