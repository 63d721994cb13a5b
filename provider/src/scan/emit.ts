import { DEFAULT_MAX_REQUEST_ACCESS_DURATION, MAX_POLICY_AND_VM_NAME, Policy, parsePolicy } from "../model/policy";
import { DefenderPolicyJson, toDefenderPolicy } from "../model/defender";
import { parseVmId } from "../model/vm";
import type { Cloud } from "../model/vm";
import type { ScanResult } from "./types";

/**
 * What to do about the Unhealthy VMs: one JIT policy per resource group (Azure, as Defender keeps
 * one per group and location) or region (AWS), selecting each VM's exposed ports over TCP with any
 * source allowed to be requested (Defender's default; a grant still opens only for the requester's
 * own address) for at most three hours. Ports a policy already selects are left out: there, the
 * fix is the rule that shadows or re-opens them, named in the scan's reason.
 */
export interface ProposedPolicy {
  cloud: Cloud;
  /** Resource group or region. */
  group: string;
  location?: string;
  policy: Policy;
}

/** Ports that need a policy, per VM, grouped by cloud and resource group / region. */
export function proposePolicies(results: readonly ScanResult[]): ProposedPolicy[] {
  const groups = new Map<string, { cloud: Cloud; group: string; location?: string; vms: Array<{ id: string; name: string; ports: number[] }> }>();
  for (const r of results) {
    const ports = [...new Set(r.exposures.filter((e) => e.policy === undefined).map((e) => e.port))].sort((a, b) => a - b);
    if (r.verdict !== "Unhealthy" || ports.length === 0) continue;
    const key = `${r.cloud}|${r.group.toLowerCase()}`;
    const entry = groups.get(key) ?? { cloud: r.cloud, group: r.group, ...(r.location ? { location: r.location } : {}), vms: [] };
    entry.vms.push({ id: r.vmId, name: r.name, ports });
    groups.set(key, entry);
  }
  return [...groups.values()].map(({ vms, ...where }) => {
    const longest = Math.max(...vms.map((vm) => vmNameLength(vm.id)));
    return {
      ...where,
      policy: parsePolicy({
        name: policyName(where.group, MAX_POLICY_AND_VM_NAME - longest),
        virtualMachines: vms.map((vm) => ({
          id: vm.id,
          ports: vm.ports.map((number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: DEFAULT_MAX_REQUEST_ACCESS_DURATION })),
        })),
      }),
    };
  });
}

function vmNameLength(id: string): number {
  const ref = parseVmId(id);
  return (ref.cloud === "azure" ? ref.name : ref.instanceId).length;
}

/** `jit-<group>`, cleaned to a policy name and cut to fit beside the longest VM name. */
function policyName(group: string, room: number): string {
  const name = `jit-${group.toLowerCase().replace(/[^a-z0-9._-]+/g, "-")}`.slice(0, Math.max(room, 3));
  return name.replace(/[-._]+$/, "") || "jit";
}

/** A Pulumi TypeScript program declaring the proposed policies with `azure.JitPolicy` / `aws.JitPolicy`. */
export function pulumiProgram(proposed: readonly ProposedPolicy[]): string {
  if (proposed.length === 0) return "// Nothing to add: no VM has a management port open to a broad source outside a JIT policy.\n";
  const namespaces = [...new Set(proposed.map((p) => p.cloud))].sort();
  const blocks = proposed.map(({ cloud, group, policy }) => {
    const args = {
      policyName: policy.name,
      ...(cloud === "azure" ? { resourceGroupName: group } : {}),
      virtualMachines: policy.virtualMachines.map((vm) => ({ id: vm.id, ports: vm.ports })),
    };
    const body = JSON.stringify(args, null, 2).replace(/^(\s*)"([A-Za-z_$][\w$]*)":/gm, "$1$2:");
    const where = cloud === "azure" ? `Resource group ${group}` : `Region ${group} (instances are named by id: deploy with this region configured)`;
    return `// ${where}. Narrow allowedSourceAddressPrefix to where requests come from.\nnew ${cloud}.JitPolicy(${JSON.stringify(policy.name)}, ${body});\n`;
  });
  return [`import { ${namespaces.join(", ")} } from "pulumi-jit";\n`, ...blocks].join("\n");
}

/** The proposed policies as Defender `jitNetworkAccessPolicies` resources (Azure: full resources when the location is known). */
export function defenderPolicies(proposed: readonly ProposedPolicy[]): DefenderPolicyJson[] {
  return proposed.map(({ cloud, group, location, policy }) => {
    const ref = parseVmId(policy.virtualMachines[0].id);
    if (cloud === "azure" && ref.cloud === "azure" && location) {
      return toDefenderPolicy(policy, { subscriptionId: ref.subscriptionId, resourceGroup: group, location, kind: "Basic" });
    }
    return toDefenderPolicy(policy, { kind: "Basic" });
  });
}
