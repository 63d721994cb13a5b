import type { AccessOptions } from "../access/context";
import { withContext } from "../access/context";
import type { AwsConnection } from "../aws/connection";
import type { AzureConnection } from "../azure/connection";
import type { Policy } from "../model/policy";
import { classifyAwsRegion } from "./aws";
import { classifyAzureVm } from "./azure";
import type { AzureScope } from "./azure-inventory";
import { settings } from "./common";
import type { AwsRegionInventory, AzureVmInventory, ClassifyOptions, ScanResult, Verdict } from "./types";

/**
 * Which VMs need JIT, as Defender's "Management ports of virtual machines should be protected with
 * just-in-time network access control" recommendation sorts them, with the reason for each:
 *
 * 1. Not applicable: nothing to put JIT rules in (Azure: no NSG on any NIC or subnet and no
 *    classic Azure Firewall; AWS: no security group on any interface).
 * 2. Unhealthy: a management port is open to a broad source (see `isBroadSource`) through the
 *    user's rules, evaluated with the planners' own evaluators on the network as it is without live
 *    grants. This holds even for a VM a JIT policy selects, when a user rule shadows the policy's
 *    deny rule or re-opens the port: the reason says so. (Defender calls every VM in a policy
 *    Healthy, which its users find misleading.)
 * 3. Healthy: covered by a JIT policy registered in the ledger, or no management port is open to a
 *    broad source; `details` says per port what closes it or how narrow it is.
 */
export interface ScanOptions extends ClassifyOptions, Pick<AccessOptions, "ledger" | "progress"> {
  azure?: AzureScope & { connection?: AzureConnection };
  aws?: { region?: string; connection?: AwsConnection };
  /** The policies VMs are covered by (default: those registered in the ledger). */
  policies?: Policy[];
}

export interface ScanReport {
  scannedAt: string;
  results: ScanResult[];
  counts: Record<Verdict, number>;
}

export interface Inventory {
  azure?: AzureVmInventory[];
  aws?: AwsRegionInventory[];
}

const ORDER: Record<Verdict, number> = { Unhealthy: 0, Healthy: 1, NotApplicable: 2 };

/** Classifies an inventory: pure, for inventories read elsewhere (or built by hand). */
export function classify(inventory: Inventory, policies: readonly Policy[], options: ClassifyOptions = {}): ScanResult[] {
  const s = settings(options);
  const results = [...(inventory.azure ?? []).map((vm) => classifyAzureVm(vm, policies, s)), ...(inventory.aws ?? []).flatMap((region) => classifyAwsRegion(region, policies, s))];
  return results.sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict] || a.cloud.localeCompare(b.cloud) || a.group.localeCompare(b.group) || a.name.localeCompare(b.name));
}

function countVerdicts(results: readonly ScanResult[]): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { Unhealthy: 0, Healthy: 0, NotApplicable: 0 };
  for (const r of results) counts[r.verdict] += 1;
  return counts;
}

/** Reads the subscription (or resource group) and/or the region given, and classifies every VM in them. Changes nothing. */
export async function scan(options: ScanOptions): Promise<ScanReport> {
  settings(options); // bad ports or thresholds fail before anything is read
  const policies = options.policies ?? (await withContext(options, async (ctx) => (await ctx.ledger.listPolicies()).map((r) => r.policy)));
  const inventory: Inventory = {};
  if (options.azure) {
    const { connection, ...scope } = options.azure;
    options.progress?.(`reading the VMs of ${scope.resourceGroup ? `resource group ${scope.resourceGroup}` : `subscription ${scope.subscriptionId}`}`);
    inventory.azure = await (await import("./azure-inventory")).readAzureInventory(scope, connection);
  }
  if (options.aws) {
    options.progress?.(`reading the instances of ${options.aws.region ?? "the default region"}`);
    inventory.aws = [await (await import("./aws-inventory")).readAwsInventory(options.aws.region, options.aws.connection)];
  }
  const results = classify(inventory, policies, options);
  return { scannedAt: new Date().toISOString(), results, counts: countVerdicts(results) };
}

export { isBroadSource } from "./broad";
export type { BroadThreshold } from "./broad";
export { proposePolicies, pulumiProgram, defenderPolicies } from "./emit";
export type { ProposedPolicy } from "./emit";
export type { AwsRegionInventory, AzureVmInventory, ClassifyOptions, ExposingRule, Exposure, ScanResult, Verdict } from "./types";
export type { AzureScope } from "./azure-inventory";
