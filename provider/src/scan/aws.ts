import type { Policy } from "../model/policy";
import { parseVmId } from "../model/vm";
import { IpPermission, SecurityGroup, SecurityGroupRule, permissionOfRule, sgEvaluator, sgOpenings, sgRuleKeys } from "../plan";
import { isBroadSource } from "./broad";
import { Settings, coveringPolicies, policyFor, verdictOf } from "./common";
import type { AwsInstanceInventory, AwsRegionInventory, ExposingRule, Exposure, ScanResult } from "./types";

/**
 * EC2 instances, Defender-style. An instance with no security group on any interface is Not
 * applicable. Otherwise, for each interface and management port, the rules that open the port are
 * those the baseline planner would have to revoke (`sgOpenings`); each broad CIDR among their
 * sources is checked with the planner's evaluator (`sgEvaluator`), which names every rule of the
 * interface's groups that lets it in. Every group counts, grant and JIT groups included: a tag says
 * nothing about who wrote a rule, and a grant's own rules are from the requester's address, not
 * broad. Group references and prefix lists name known peers and are not broad.
 */

function cidrsOf(permission: IpPermission): string[] {
  return [...(permission.IpRanges ?? []).map((r) => r.CidrIp ?? ""), ...(permission.Ipv6Ranges ?? []).map((r) => r.CidrIpv6 ?? "")].filter(Boolean);
}

function portsOf(permission: IpPermission): string {
  const protocol = permission.IpProtocol === "-1" ? "all" : (permission.IpProtocol ?? "all");
  if (permission.FromPort === undefined || permission.FromPort === -1) return protocol;
  return `${protocol} ${permission.FromPort === permission.ToPort ? permission.FromPort : `${permission.FromPort}-${permission.ToPort}`}`;
}

function sourceOf(permission: IpPermission): string {
  return [...cidrsOf(permission), ...(permission.UserIdGroupPairs ?? []).map((p) => p.GroupId ?? ""), ...(permission.PrefixListIds ?? []).map((p) => p.PrefixListId ?? "")].join(", ");
}

/** The rule id of a single-source permission, from the groups' flat rules when they were read. */
function ruleIdOf(rules: readonly SecurityGroupRule[], groupId: string, permission: IpPermission): string | undefined {
  const [key] = sgRuleKeys(permission);
  return rules.find((r) => r.GroupId === groupId && !r.IsEgress && sgRuleKeys(permissionOfRule(r)).includes(key))?.SecurityGroupRuleId;
}

function exposing(rules: readonly SecurityGroupRule[], groupId: string, permission: IpPermission): ExposingRule {
  const id = ruleIdOf(rules, groupId, permission);
  return { container: groupId, ...(id ? { name: id } : {}), source: sourceOf(permission), ports: portsOf(permission) };
}

const describeRule = (r: ExposingRule) => `${r.name ? `rule ${r.name}` : "a rule"} of ${r.container} (${r.ports} from ${r.source})`;

function classifyInstance(instance: AwsInstanceInventory, inventory: AwsRegionInventory, byId: Map<string, SecurityGroup>, policies: readonly Policy[], settings: Settings): ScanResult {
  const ref = parseVmId(instance.id);
  const base = {
    cloud: "aws" as const,
    vmId: instance.id,
    name: instance.name ?? (ref.cloud === "aws" ? ref.instanceId : instance.id),
    group: inventory.region,
    location: inventory.region,
    policies: coveringPolicies(instance.id, policies),
  };
  const interfaces = instance.interfaces.map((i) => ({ id: i.id, groups: i.groupIds.flatMap((g) => byId.get(g) ?? []) })).filter((i) => i.groups.length > 0);
  if (interfaces.length === 0) {
    const why = instance.interfaces.length === 0 ? "it has no network interface" : "no security group on its network interfaces";
    return { ...base, verdict: "NotApplicable", reason: `${why}: nothing to put JIT rules in`, exposures: [], details: [] };
  }
  const rules = inventory.rules ?? [];
  const exposures: Exposure[] = [];
  const details: string[] = [];
  for (const { id, groups } of interfaces) {
    const evaluate = sgEvaluator(groups);
    for (const port of settings.ports) {
      const openings = sgOpenings(groups, [{ number: port, protocol: "TCP" }]);
      const broad = [...new Set(openings.flatMap((o) => cidrsOf(o.permission)).filter((c) => isBroadSource(c, settings.threshold)))];
      const source = broad.find((c) => evaluate({ source: { address: c }, protocol: "tcp", port }).length > 0);
      if (source === undefined) {
        const open = openings.map((o) => exposing(rules, o.groupId, o.permission));
        details.push(`port ${port} on ${id}: ${open.length ? `open only to ${[...new Set(open.map((o) => o.source))].join(", ")} (${open.map(describeRule).join(", ")})` : `no rule of ${groups.map((g) => g.GroupId).join(", ")} opens it`}`);
        continue;
      }
      const exposedBy = evaluate({ source: { address: source }, protocol: "tcp", port }).map((m) => exposing(rules, m.groupId, m.permission));
      const policy = policyFor(port, base.policies);
      const note = policy ? `; JIT policy "${policy}" selects it, but this rule was left in place or put back (a group shared with instances outside the policy is left alone unless the policy allows it)` : "";
      exposures.push({ port, target: id, source, exposedBy, ...(policy ? { policy } : {}), reason: `port ${port} on ${id} is open to ${source} through ${exposedBy.map(describeRule).join(" and ")}${note}` });
    }
  }
  return { ...base, ...verdictOf(exposures, base.policies), exposures, details };
}

export function classifyAwsRegion(inventory: AwsRegionInventory, policies: readonly Policy[], settings: Settings): ScanResult[] {
  const byId = new Map(inventory.groups.map((g) => [g.GroupId ?? "", g]));
  return inventory.instances.map((instance) => classifyInstance(instance, inventory, byId, policies, settings));
}
