import type { AwsEmulator } from "../../provider/src/emulator";
import { fingerprint, groupsOf } from "../../provider/src/emulator/aws/planner-view";
import type { ChangeOf, Grant } from "../../provider/src/model";
import { IpPermission, sgEvaluator } from "../../provider/src/plan";
import type { PolicyResourceOutputs } from "../../provider/src/pulumi/runtime";
import { REQUESTER, STRANGER, Scene, table } from "./scene";

const PORT = 22;

const protocolOf = (p: IpPermission): string => (p.IpProtocol === "-1" ? "all" : (p.IpProtocol ?? ""));
const portsOf = (p: IpPermission): string => (p.IpProtocol === "-1" ? "all" : p.FromPort === p.ToPort ? `${p.FromPort}` : `${p.FromPort}-${p.ToPort}`);
const sourceOf = (p: IpPermission): string =>
  p.IpRanges?.[0]?.CidrIp ?? p.Ipv6Ranges?.[0]?.CidrIpv6 ?? p.UserIdGroupPairs?.[0]?.GroupId ?? p.PrefixListIds?.[0]?.PrefixListId ?? "";
const descriptionOf = (p: IpPermission): string =>
  p.IpRanges?.[0]?.Description ?? p.Ipv6Ranges?.[0]?.Description ?? p.UserIdGroupPairs?.[0]?.Description ?? p.PrefixListIds?.[0]?.Description ?? "";

/**
 * An EC2 instance in the default VPC whose one security group opens SSH to the world and every
 * TCP port to the private 10.0.0.0/8, as many hand-made groups do.
 */
export function awsScene(emu: AwsEmulator): Scene {
  const web = emu.seed.securityGroup({
    name: "web",
    ingress: [
      { port: PORT, source: "0.0.0.0/0", description: "ssh from anywhere" },
      { fromPort: 0, toPort: 65535, source: "10.0.0.0/8", description: "internal" },
    ],
  });
  const vm = emu.seed.instance({ groupIds: [web.id], tags: { Name: "web1" } });
  const groupName = (id: string) => emu.state.group(id).name;
  const interfaces = () => emu.state.interfacesOf(emu.state.instance(vm.id));

  return {
    cloud: "aws",
    name: "AWS",
    title: `${vm.id} ("web1") in the default VPC, wearing security group "web"`,
    callsCounted: "EC2, STS and IAM calls",
    calls: emu.calls,
    vmId: vm.id,
    port: PORT,
    policy: {
      policyName: "web-ec2",
      virtualMachines: [{ id: vm.id, ports: [{ number: PORT, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }],
    },
    intro: [
      "Security groups only allow: a new connection gets in when any rule of any group on the interface admits it. " +
        `Group "web" opens SSH to the whole Internet, and every TCP port to 10.0.0.0/8.`,
    ],
    flows: [
      { who: "Internet", source: STRANGER, port: PORT },
      { who: "requester", source: REQUESTER, port: PORT },
      { who: "private", source: "10.1.2.3", port: PORT },
      { who: "private", source: "10.1.2.3", port: 80 },
    ].map((f) => ({ ...f, who: `${f.who} ${f.source}` })),

    tables: () => {
      const rules = groupsOf(emu, vm.id).flatMap((g) => (g.IpPermissions ?? []).map((p) => ({ group: g.GroupName ?? "", p })));
      return `  Ingress rules of the groups on the instance's interface:\n${table(rules, [
        { header: "group", value: (r) => r.group },
        { header: "protocol", value: (r) => protocolOf(r.p) },
        { header: "ports", value: (r) => portsOf(r.p) },
        { header: "source", value: (r) => sourceOf(r.p) },
        { header: "description", value: (r) => descriptionOf(r.p) },
      ])}`;
    },

    evaluator: () => {
      const admits = sgEvaluator(groupsOf(emu, vm.id));
      return (flow) => {
        const matches = admits({ source: { address: flow.source }, protocol: "tcp", port: flow.port });
        if (matches.length === 0) return { allowed: false, by: "no rule admits it" };
        return { allowed: true, by: matches.map((m) => `${groupName(m.groupId)}: ${protocolOf(m.permission)} ${portsOf(m.permission)} from ${sourceOf(m.permission)}`).join("; ") };
      };
    },

    explainBaseline: (outs: PolicyResourceOutputs) => [
      "Security groups cannot deny, so the baseline takes away the rules that open the port, and records them to put back when the policy goes:",
      ...outs.rules.map((r) =>
        r.action === "split"
          ? `  - split ${r.name} in "${groupName(r.container)}": it is back without port ${r.ports.join(", ")}, so every other port stays open`
          : `  - revoked ${r.name} in "${groupName(r.container)}"`,
      ),
      ...outs.vms.map((v) => `The provider reports ${v.vmId} as ${v.status}${v.detail ? `: ${v.detail}` : ""}.`),
    ],

    explainGrant: (grant: Grant) => {
      const group = grant.changes.find((c): c is ChangeOf<"aws-sg"> => c.kind === "aws-sg");
      return [
        `It created security group "${group?.groupName}" with one rule, from ${REQUESTER}/32 to port ${PORT}, tagged with the grant and its expiry, ` +
          "and attached it to the instance's interface.",
      ];
    },

    explainDelete: "The provider ended the policy's live grants (none was left), then put back the rules the baseline had revoked.",
    snapshot: () => ({
      worn: interfaces().map((n) => n.groupIds),
      groups: [...emu.state.groups.keys()].sort(),
      rules: Object.fromEntries(interfaces().flatMap((n) => n.groupIds).map((id) => [id, fingerprint(emu, id)])),
    }),
    snapshotCovers: "The instance wears the same groups, no group was left behind, and their ingress rules (protocols, ports, sources, descriptions, tags) match the first reading.",
  };
}
