import type { AzureEmulator, AzureSeedRule } from "../../provider/src/emulator";
import { nsgIdsOf, nsgOf, pathOf, rulesOf, snapshot } from "../../provider/src/emulator/azure/planner-view";
import type { Grant } from "../../provider/src/model";
import { DEFAULT_SECURITY_RULES, NsgDecision, NsgRule, inboundEvaluator, parseJitRule, whoCanReach } from "../../provider/src/plan";
import type { PolicyResourceOutputs } from "../../provider/src/pulumi/runtime";
import { REQUESTER, STRANGER, Scene, hhmm, table } from "./scene";

const PORT = 22;
const BASTIONS = "10.0.1.0/24";

const userRule = (name: string, priority: number, source: string, port: number): AzureSeedRule => ({
  name,
  priority,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  sourceAddressPrefix: source,
  destinationPortRange: String(port),
});

const nameOf = (id: string): string => id.split("/").pop() ?? id;
const fields = (one: string | undefined, many: readonly string[] | undefined): string => (many?.length ? many.join(",") : (one ?? ""));

/** Who wrote a rule: Azure, pulumi-jit (and for what), or the user. */
function owner(rule: NsgRule): string {
  if (DEFAULT_SECURITY_RULES.includes(rule)) return "Azure default";
  const ours = parseJitRule(rule);
  if (ours?.kind === "deny") return "pulumi-jit baseline";
  if (ours?.kind === "allow") return `pulumi-jit grant, until ${hhmm(ours.expiresAt)}`;
  return "you";
}

/**
 * A Linux VM as a portal deployment makes it (a subnet NSG and a NIC NSG), whose owners let
 * the web in on port 80 and a bastion subnet in on SSH, in both NSGs, since traffic must pass both.
 */
export function azureScene(emu: AzureEmulator): Scene {
  const vm = emu.seed.typicalVm({ resourceGroup: "demo", name: "web1" });
  const nsgIds = nsgIdsOf(vm);
  const [subnetNsg, nicNsg] = nsgIds.map(nameOf);
  emu.seed.rule("demo", subnetNsg, userRule("allow-http", 200, "Internet", 80));
  emu.seed.rule("demo", subnetNsg, userRule("allow-ssh-bastion", 1100, BASTIONS, PORT));
  emu.seed.rule("demo", nicNsg, userRule("allow-http", 300, "Internet", 80));
  emu.seed.rule("demo", nicNsg, userRule("allow-ssh-bastion", 310, BASTIONS, PORT));
  const level = { [vm.subnetNsgId!]: "Subnet NSG", [vm.nicNsgId!]: "NIC NSG" };

  return {
    cloud: "azure",
    name: "Azure",
    title: `${vm.vmName}, a Linux VM at ${vm.privateIpAddress} behind a subnet NSG and a NIC NSG`,
    callsCounted: "ARM calls, polls of long-running operations included",
    calls: emu.calls,
    vmId: vm.vmId,
    port: PORT,
    policy: {
      policyName: "web",
      resourceGroupName: vm.resourceGroup,
      virtualMachines: [{ id: vm.vmId, ports: [{ number: PORT, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
    },
    intro: [
      `Inbound traffic meets the subnet's NSG (${subnetNsg}) first, then the NIC's (${nicNsg}); both must allow it. ` +
        "In each, the matching rule with the lowest priority number decides. " +
        `SSH is open to the bastion subnet (${BASTIONS}) and, through Azure's default rule AllowVnetInBound, to the whole virtual network.`,
    ],
    flows: [
      { who: "Internet", source: STRANGER, port: PORT },
      { who: "requester", source: REQUESTER, port: PORT },
      { who: "bastion", source: "10.0.1.5", port: PORT },
      { who: "VNet", source: "10.0.2.5", port: PORT },
      { who: "Internet", source: STRANGER, port: 80 },
    ].map((f) => ({ ...f, who: `${f.who} ${f.source}` })),

    tables: () =>
      nsgIds
        .map((id) => {
          const rules = [...rulesOf(emu, id), ...DEFAULT_SECURITY_RULES].filter((r) => r.direction === "Inbound").sort((a, b) => a.priority - b.priority);
          const columns = table(rules, [
            { header: "priority", value: (r) => r.priority },
            { header: "name", value: (r) => r.name },
            { header: "access", value: (r) => r.access },
            { header: "source", value: (r) => fields(r.sourceAddressPrefix, r.sourceAddressPrefixes) },
            { header: "port", value: (r) => fields(r.destinationPortRange, r.destinationPortRanges) },
            { header: "owner", value: owner },
          ]);
          return `  ${level[id]} ${nameOf(id)}, inbound rules:\n${columns}`;
        })
        .join("\n\n"),

    evaluator: () => {
      const decide = inboundEvaluator(pathOf(emu, vm));
      const rule = (d: NsgDecision) => (d.rule ? `${d.rule.name} (${d.rule.priority})` : "no NSG");
      return (flow) => {
        const d = decide({ source: flow.source, destination: vm.privateIpAddress, port: flow.port, protocol: "Tcp" });
        if (!d.subnet.allowed) return { allowed: false, by: `${rule(d.subnet)} in the subnet NSG` };
        if (!d.nic.allowed) return { allowed: false, by: `${rule(d.nic)} in the NIC NSG` };
        return { allowed: true, by: d.subnet.rule?.name === d.nic.rule?.name ? `${d.subnet.rule?.name} in both NSGs` : `${rule(d.subnet)}, then ${rule(d.nic)}` };
      };
    },

    explainBaseline: (outs: PolicyResourceOutputs) => [
      ...outs.rules.map((placed) => {
        // The user rules for the port that still let someone in ahead of our deny rule: they keep precedence.
        const ahead = whoCanReach(nsgOf(emu, placed.container), { destination: vm.privateIpAddress, port: PORT, protocol: "Tcp" })
          .filter((r) => r.rule.priority < (placed.priority ?? 0))
          .map((r) => `${r.rule.name} (${r.rule.priority})`);
        const after = ahead.length ? `, after ${ahead.join(", ")}, which ${ahead.length > 1 ? "keep" : "keeps"} precedence` : "";
        return `${level[placed.container]}: the deny rule went to priority ${placed.priority}${after}.`;
      }),
      "Deny rules go after every rule already there for the VM and port, and never below 1000, so 100-999 stay free for grants. " +
        "No rule of yours was renumbered, edited or deleted.",
      ...outs.vms.map((v) => `The provider reports ${nameOf(v.vmId)} as ${v.status}${v.detail ? `: ${v.detail}` : ""}.`),
      ...(outs.vms.some((v) => v.status === "exposed") ? ["That is the bastion's own rule at work: a policy never overrides yours. Everyone else is now refused."] : []),
    ],

    explainGrant: (grant: Grant) => [
      `It put an allow rule from ${REQUESTER} to ${vm.privateIpAddress}:${PORT} in each NSG that would otherwise block it (${grant.changes.length} rules), ` +
        "at the lowest free priority, ahead of the deny rule, with the grant and its expiry in the rule's description.",
    ],

    explainDelete: "The provider ended the policy's live grants (none was left), then deleted its deny rules.",
    snapshot: () => snapshot(emu, nsgIds),
    snapshotCovers: "Every rule of both NSGs is identical to the first reading.",
  };
}
