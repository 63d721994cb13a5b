import { test } from "node:test";
import assert from "node:assert/strict";
import { AdminRule, adminRulesAt, describeAdminFinding } from "./admin-rules";

const rule = (name: string, access: AdminRule["access"], priority: number, extra: Partial<AdminRule> = {}): AdminRule => ({
  id: `/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/networkManagers/avnm/securityAdminConfigurations/c/ruleCollections/r/rules/${name}`,
  access,
  priority,
  direction: "Inbound",
  protocol: "Tcp",
  sources: ["*"],
  destinations: ["*"],
  sourcePortRanges: ["0-65535"],
  destinationPortRanges: ["22"],
  ...extra,
});

const ssh = { destination: "10.0.0.4", port: 22, protocol: "Tcp" as const };

test("AlwaysAllow opens and Deny closes a port ahead of the NSGs; Allow (handed on to the NSGs), outbound rules and other ports are not findings", () => {
  const rules = [
    rule("deny-ssh", "Deny", 20, { sources: ["198.51.100.0/24"] }),
    rule("always-ssh", "AlwaysAllow", 10, { sources: ["Internet"] }),
    rule("allow-ssh", "Allow", 5),
    rule("out", "AlwaysAllow", 1, { direction: "Outbound" }),
    rule("rdp", "AlwaysAllow", 2, { destinationPortRanges: ["3389"] }),
    rule("udp", "AlwaysAllow", 3, { protocol: "Udp" }),
    rule("any", "Deny", 30, { protocol: "Any", destinationPortRanges: ["0-1024"] }),
  ];
  const found = adminRulesAt(rules, ssh);
  assert.deepEqual(found.map((f) => [f.rule.id.split("/").pop(), f.effect]), [["always-ssh", "opens"], ["deny-ssh", "closes"], ["any", "closes"]]);
  assert.match(describeAdminFinding(found[0], "port 22/TCP"), /^port 22\/TCP is open to Internet through network manager admin rule always-ssh \(AlwaysAllow, priority 10\), which Azure applies before any NSG/);
  assert.match(describeAdminFinding(found[1], "port 22/TCP"), /closed to 198\.51\.100\.0\/24 .* grants from there cannot open it/);
});

test("destinations are matched against the VM's address: a rule for another network is not a finding, a network group (unknown members) is", () => {
  const other = rule("other-subnet", "AlwaysAllow", 10, { destinations: ["10.9.0.0/16"] });
  const group = rule("group", "AlwaysAllow", 11, { destinations: ["/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/networkManagers/avnm/networkGroups/web"] });
  const tag = rule("vnet", "AlwaysAllow", 12, { destinations: ["VirtualNetwork"] });
  assert.deepEqual(adminRulesAt([other, group, tag], ssh, { virtualNetwork: ["10.0.0.0/16"] }).map((f) => f.rule.priority), [11, 12]);
  assert.deepEqual(adminRulesAt([tag], { ...ssh, destination: "10.1.0.4" }, { virtualNetwork: ["10.0.0.0/16"] }), []);
});
