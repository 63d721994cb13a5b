import type { Policy } from "../model/policy";
import { parseVmId } from "../model/vm";
import { DEFAULT_SECURITY_RULES, Flow, MAX_PRIORITY, Nsg, NsgPath, NsgRule, PathDecision, Reach, RuleRef, adminRuleName, adminRulesAt, describeAdminFinding, describeUnfiltered, inboundEvaluator, openToInternet, parseJitRule, policyDenyRuleFor, sessionsCutNote, whoCanReach } from "../plan";
import { isBroadSource } from "./broad";
import { Settings, coveringPolicies, policyFor, verdictOf } from "./common";
import type { AzureNicInventory, AzureVmInventory, ExposingRule, Exposure, ScanResult } from "./types";

/**
 * One Azure VM, Defender-style. No NSG on any NIC or subnet and no classic firewall: Not
 * applicable. Otherwise each management port (over TCP) on each private address of each NIC is
 * checked with the planner's own evaluator, on the path as the baseline and the user's rules make
 * it (the allow rules of live grants are left out: access through JIT is not exposure). A broad
 * source that gets through both NSGs makes the VM Unhealthy, whether or not a policy selects the
 * port, and the reason names the rules that let it in and, when a policy's deny rule comes after
 * them, that deny. A NIC with no NSG at all on a VM that has NSGs elsewhere is open to what
 * reaches it: the Internet through a Basic public IP, only the virtual network behind a Standard one
 * (closed to inbound traffic by default), and it says which.
 */

type Level = "subnet" | "nic";
const LEVELS: readonly Level[] = ["subnet", "nic"];
const TCP = "Tcp";

const nsgName = (id: string) => id.split("/").pop() ?? id;

/** The NSG without the allow rules of grants: what the network is when no JIT access is open. */
function withoutGrants(nsg: Nsg | undefined): Nsg | undefined {
  return nsg && { ...nsg, securityRules: nsg.securityRules.filter((r) => parseJitRule(r)?.kind !== "allow") };
}

/** The rule's sources as written (the plural field when it has entries, as Azure reads it). */
function sourcesOf(rule: NsgRule): string {
  const prefixes = rule.sourceAddressPrefixes && rule.sourceAddressPrefixes.length > 0 ? rule.sourceAddressPrefixes : [rule.sourceAddressPrefix ?? "*"];
  return [...prefixes, ...(rule.sourceApplicationSecurityGroups ?? []).map((g) => g.id ?? "application security group")].join(", ");
}

function exposing(path: NsgPath, level: Level, ref: RuleRef): ExposingRule {
  const nsg = path[level] as Nsg;
  const defaults = nsg.defaultSecurityRules && nsg.defaultSecurityRules.length > 0 ? nsg.defaultSecurityRules : DEFAULT_SECURITY_RULES;
  const rule = [...nsg.securityRules, ...defaults].find((r) => r.name === ref.name && r.direction === "Inbound");
  return { container: ref.nsgId, name: ref.name, priority: ref.priority, level, source: rule ? sourcesOf(rule) : "*" };
}

const describeRule = (r: ExposingRule) => `rule "${r.name}" (priority ${r.priority}) in ${r.level} NSG ${nsgName(r.container)}`;

/** What a policy selecting an exposed port failed to do, in the NSGs whose rules let the source in. */
function policyNote(path: NsgPath, exposedBy: ExposingRule[], policy: string, address: string, port: number): Pick<Exposure, "shadowedDeny"> & { note: string } {
  for (const allow of exposedBy) {
    const nsg = path[allow.level as Level];
    const deny = nsg && policyDenyRuleFor(nsg, policy, address, port);
    if (nsg && deny && deny.priority > (allow.priority ?? 0)) {
      const shadowedDeny: ExposingRule = { container: nsg.id, name: deny.name, priority: deny.priority, level: allow.level, source: "*" };
      return { shadowedDeny, note: `JIT policy "${policy}" selects it, but its deny rule "${deny.name}" (priority ${deny.priority}) is shadowed by user rule "${allow.name}" (priority ${allow.priority})` };
    }
    if (nsg && !deny) return { note: `JIT policy "${policy}" selects it, but its deny rule is missing from ${allow.level} NSG ${nsgName(nsg.id)} (\`pulumi up\` or \`jit sweep\` puts it back)` };
  }
  return { note: `JIT policy "${policy}" selects it, but its deny rules do not close it` };
}

interface Target {
  nic: AzureNicInventory;
  path: NsgPath;
  levels: Level[];
  address: string;
  evaluate: (flow: Flow) => PathDecision;
  reaches: (level: Level, port: number) => Reach[];
  /** Is a rule's source, as written, broad here? */
  broad: (source: string) => boolean;
}

const VIRTUAL_NETWORK_TAG = new Set(["virtualnetwork", "virtual_network"]);

/**
 * Every private address of every NIC, with its path; a NIC without any NSG is a target too (nothing
 * filters it). Where the NIC's network was read, `VirtualNetwork` is its address space and its
 * peerings' and is as broad as they are (a network addressed from public space is); otherwise it
 * is taken as private.
 */
function targetsOf(vm: AzureVmInventory, settings: Settings): Target[] {
  return vm.nics.flatMap((nic) => {
    const path: NsgPath = { subnet: withoutGrants(nic.subnet), nic: withoutGrants(nic.nic) };
    const levels = LEVELS.filter((l) => path[l] !== undefined);
    const options = nic.virtualNetwork ? { virtualNetwork: nic.virtualNetwork } : {};
    const evaluate = inboundEvaluator(path, options);
    const broad = (source: string) =>
      nic.virtualNetwork && VIRTUAL_NETWORK_TAG.has(source.trim().toLowerCase()) ? nic.virtualNetwork.some((p) => isBroadSource(p, settings.threshold)) : isBroadSource(source, settings.threshold);
    return nic.addresses.map((address) => ({
      nic,
      path,
      levels,
      address,
      evaluate,
      reaches: (level: Level, port: number) => whoCanReach(path[level] as Nsg, { destination: address, port, protocol: TCP }, options),
      broad,
    }));
  });
}

/**
 * The first broad source that gets through to `port` on the target. A broad allow at every level
 * whose source a narrower deny ahead of it only partly carves out still exposes the rest: that is
 * reported as partial, naming the denies.
 */
function exposureAt(t: Target, port: number): Omit<Exposure, "reason" | "policy" | "shadowedDeny"> | undefined {
  if (t.levels.length === 0) {
    // Nothing filters it: the Internet gets in through a Basic public IP (or one not read), the network always.
    if (t.nic.publicIps === undefined) return { port, target: t.address, source: "*", exposedBy: [] };
    if (openToInternet(t.nic.publicIps).length) return { port, target: t.address, source: "Internet", exposedBy: [] };
    return t.broad("VirtualNetwork") ? { port, target: t.address, source: "VirtualNetwork", exposedBy: [] } : undefined;
  }
  const broad = new Map(t.levels.map((level) => [level, t.reaches(level, port).filter((r) => r.sources.some(t.broad))]));
  const candidates = [...new Set([...broad.values()].flatMap((reaches) => reaches.flatMap((r) => r.sources.filter(t.broad))))];
  for (const source of candidates) {
    const d = t.evaluate({ source, destination: t.address, port, protocol: TCP });
    if (!d.allowed) continue;
    const exposedBy = t.levels.flatMap((level) => (d[level].rule ? [exposing(t.path, level, d[level].rule as RuleRef)] : []));
    return { port, target: t.address, source, exposedBy };
  }
  if (candidates.length === 0 || t.levels.some((level) => (broad.get(level) ?? []).length === 0)) return undefined;
  const firsts = t.levels.map((level) => [level, (broad.get(level) as Reach[])[0]] as const);
  return {
    port,
    target: t.address,
    source: candidates[0],
    exposedBy: firsts.map(([level, r]) => exposing(t.path, level, r.rule)),
    partlyBlockedBy: firsts.flatMap(([level, r]) => r.partlyBlockedBy.map((ref) => exposing(t.path, level, ref))),
  };
}

function exposureReason(t: Target, e: Omit<Exposure, "reason">, note: string | undefined): string {
  const carved = e.partlyBlockedBy?.length ? ` except where ${e.partlyBlockedBy.map(describeRule).join(" and ")} applies` : "";
  const pips = e.source === "Internet" ? ` on public IP ${openToInternet(t.nic.publicIps ?? []).join(", ")}` : "";
  const through = e.exposedBy.length ? e.exposedBy.map(describeRule).join(" and ") : `no NSG at all (neither network interface ${nsgName(t.nic.id)} nor its subnet has one)${pips}`;
  return `port ${e.port} on ${e.target} is open to ${e.source}${carved} through ${through}${note ? `; ${note}` : ""}`;
}

/**
 * For a port that is not exposed: the narrow sources the user's rules let in, or the rule that
 * closes it. The default rules (VirtualNetwork, AzureLoadBalancer) are on every NSG and go unsaid.
 */
function closedDetail(t: Target, port: number): string {
  if (t.levels.length === 0) return `port ${port} on ${t.address}: no NSG on its path; ${describeUnfiltered(t.nic.publicIps ?? [])}`;
  const reaches = t.levels.map((level) => t.reaches(level, port).filter((r) => r.rule.priority <= MAX_PRIORITY).map((r) => exposing(t.path, level, r.rule)));
  if (reaches.every((list) => list.length > 0)) {
    const rules = reaches.flat();
    return `port ${port} on ${t.address}: open only to ${[...new Set(rules.map((r) => r.source))].join(", ")} (${rules.map(describeRule).join(", ")})`;
  }
  const d = t.evaluate({ source: "*", destination: t.address, port, protocol: TCP });
  const level = t.levels.find((l) => !d[l].allowed && d[l].rule);
  const closer = level && d[level].rule;
  return `port ${port} on ${t.address}: ${closer ? `closed by ${describeRule(exposing(t.path, level, closer))}` : "not open to a broad source"}`;
}

export function classifyAzureVm(vm: AzureVmInventory, policies: readonly Policy[], settings: Settings): ScanResult {
  const ref = parseVmId(vm.id);
  const name = ref.cloud === "azure" ? ref.name : vm.id;
  const base = {
    cloud: "azure" as const,
    vmId: vm.id,
    name,
    group: ref.cloud === "azure" ? ref.resourceGroup : "",
    ...(vm.location ? { location: vm.location } : {}),
    policies: coveringPolicies(vm.id, policies),
  };
  if (!vm.nics.some((n) => n.subnet || n.nic)) {
    if (vm.firewallId === undefined) {
      const why = vm.nics.length === 0 ? "it has no network interface" : "no NSG on its network interfaces or their subnets, and no classic Azure Firewall in its network";
      const known = vm.nics.length > 0 && vm.nics.every((n) => n.publicIps !== undefined);
      const open = known ? `; ${describeUnfiltered(vm.nics.flatMap((n) => n.publicIps ?? []))}` : "";
      return { ...base, verdict: "NotApplicable", reason: `${why}: nothing to put JIT rules in${open}`, exposures: [], details: [] };
    }
    return firewallOnly(base, vm.firewallId);
  }
  const exposures: Exposure[] = [];
  const details: string[] = [];
  const notes = new Set<string>();
  for (const t of targetsOf(vm, settings)) {
    for (const port of settings.ports) {
      const admin = adminRulesAt(t.nic.adminRules ?? [], { destination: t.address, port, protocol: TCP }, t.nic.virtualNetwork ? { virtualNetwork: t.nic.virtualNetwork } : {});
      for (const f of admin.filter((a) => a.effect === "closes")) notes.add(describeAdminFinding(f, `port ${port}`));
      const bypass = admin.find((a) => a.effect === "opens");
      if (bypass) {
        const source = bypass.rule.sources.find(t.broad);
        const reason = `${describeAdminFinding(bypass, `port ${port} on ${t.address}`)}`;
        if (source === undefined) {
          details.push(reason);
        } else {
          const policy = policyFor(port, base.policies);
          const exposedBy: ExposingRule[] = [{ container: bypass.rule.id, name: adminRuleName(bypass.rule), priority: bypass.rule.priority, source: bypass.rule.sources.join(", ") }];
          exposures.push({ port, target: t.address, source, exposedBy, ...(policy ? { policy } : {}), reason: policy ? `${reason}; JIT policy "${policy}" selects it, but cannot close it` : reason });
          continue;
        }
      }
      const found = exposureAt(t, port);
      if (!found) {
        details.push(closedDetail(t, port));
        continue;
      }
      const policy = policyFor(port, base.policies);
      const { note, ...shadow } = policy ? policyNote(t.path, found.exposedBy, policy, t.address, port) : { note: undefined };
      exposures.push({ ...found, ...(policy ? { policy } : {}), ...shadow, reason: exposureReason(t, found, note) });
    }
  }
  const cut = sessionsCutNote(vm.nics.flatMap((n) => [n.subnet, n.nic]));
  if (cut) notes.add(cut);
  return { ...base, ...verdictOf(exposures, base.policies), exposures, details, ...(notes.size ? { notes: [...notes] } : {}) };
}

/**
 * A VM whose only filter is a classic Azure Firewall: JIT can use it (DNAT rules), but the scan
 * does not evaluate firewall rules, so a VM no policy covers is flagged for a look rather than
 * declared healthy.
 */
function firewallOnly(base: Omit<ScanResult, "verdict" | "reason" | "exposures" | "details">, firewallId: string): ScanResult {
  const firewall = nsgName(firewallId);
  if (base.policies.length > 0) {
    return { ...base, verdict: "Healthy", reason: `covered by JIT policy "${base.policies[0].name}" through Azure Firewall ${firewall} (no NSG on its path)`, exposures: [], details: [] };
  }
  return {
    ...base,
    verdict: "Unhealthy",
    reason: `no NSG on its path, only Azure Firewall ${firewall}, whose rules the scan does not evaluate: its management ports are as open as the firewall makes them`,
    exposures: [],
    details: [],
  };
}
