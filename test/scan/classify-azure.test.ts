import { test } from "node:test";
import assert from "node:assert/strict";
import { Policy, parsePolicy } from "../../provider/src/model";
import { Nsg, NsgRule, allowRuleDescription, allowRuleName, denyRuleDescription, denyRuleName, sharedDenyRuleDescription, sharedDenyRuleName } from "../../provider/src/plan";
import { AzureVmInventory, classify } from "../../provider/src/scan";

const SUB = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const vmId = (name: string, rg = "app") => `${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
const nsgId = (name: string) => `${SUB}/resourceGroups/app/providers/Microsoft.Network/networkSecurityGroups/${name}`;
const nicId = (name: string) => `${SUB}/resourceGroups/app/providers/Microsoft.Network/networkInterfaces/${name}`;

function rule(name: string, priority: number, fields: Partial<NsgRule> = {}): NsgRule {
  return { name, priority, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22", ...fields };
}
const nsg = (name: string, rules: NsgRule[] = []): Nsg => ({ id: nsgId(name), securityRules: rules });

function vm(name: string, nics: Array<{ subnet?: Nsg; nic?: Nsg; addresses?: string[] }>, extra: Partial<AzureVmInventory> = {}): AzureVmInventory {
  return { id: vmId(name), location: "westeurope", nics: nics.map((n, i) => ({ id: nicId(`${name}-nic${i}`), addresses: n.addresses ?? [`10.0.0.${4 + i}`], ...n })), ...extra };
}

function policy(name: string, vmName: string, ports: number[]): Policy {
  return parsePolicy({ name, virtualMachines: [{ id: vmId(vmName), ports: ports.map((number) => ({ number, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" })) }] });
}

/** The policy's deny rule shared by the VMs at `addresses`, as the baseline planner names and describes it. */
function jitDeny(policyName: string, priority: number, ports: string[], addresses = ["10.0.0.4"]): NsgRule {
  const group = `${ports.join(".")}-1000`;
  return rule(sharedDenyRuleName(policyName, group, "TCP"), priority, {
    access: "Deny",
    description: sharedDenyRuleDescription(policyName, group),
    destinationAddressPrefix: undefined,
    destinationAddressPrefixes: addresses,
    destinationPortRange: undefined,
    destinationPortRanges: ports,
  });
}

/** The policy's deny rule for one VM, as an earlier version named and described it. */
function legacyDeny(policyName: string, vmName: string, priority: number, ports: string[], address = "10.0.0.4"): NsgRule {
  return rule(denyRuleName(policyName, vmName, "TCP"), priority, {
    access: "Deny",
    description: denyRuleDescription(policyName, vmName),
    destinationAddressPrefix: address,
    destinationPortRange: undefined,
    destinationPortRanges: ports,
  });
}

const one = (v: AzureVmInventory, policies: Policy[] = [], options = {}) => {
  const [result] = classify({ azure: [v] }, policies, options);
  return result;
};

test("no NSG anywhere and no firewall: not applicable; a classic firewall makes the VM applicable", () => {
  const bare = one(vm("bare", [{}]));
  assert.equal(bare.verdict, "NotApplicable");
  assert.match(bare.reason, /no NSG on its network interfaces or their subnets, and no classic Azure Firewall/);
  assert.equal(one(vm("nonic", [])).reason, "it has no network interface: nothing to put JIT rules in");

  const fw = `${SUB}/resourceGroups/app/providers/Microsoft.Network/azureFirewalls/fw1`;
  const behind = one(vm("behind", [{}], { firewallId: fw }));
  assert.equal(behind.verdict, "Unhealthy");
  assert.match(behind.reason, /only Azure Firewall fw1, whose rules the scan does not evaluate/);
  const covered = one(vm("behind", [{}], { firewallId: fw }), [policy("web", "behind", [22])]);
  assert.equal(covered.verdict, "Healthy");
  assert.match(covered.reason, /covered by JIT policy "web" through Azure Firewall fw1/);
});

test("an NSG allowing 22 from Internet: unhealthy, naming the NSG, rule and priority", () => {
  const r = one(vm("web1", [{ nic: nsg("web1-nsg", [rule("allow-ssh", 300, { sourceAddressPrefix: "Internet" })]) }]));
  assert.equal(r.verdict, "Unhealthy");
  assert.deepEqual(r.exposures.map((e) => [e.port, e.target, e.source]), [[22, "10.0.0.4", "Internet"]]);
  assert.deepEqual(r.exposures[0].exposedBy, [{ container: nsgId("web1-nsg"), name: "allow-ssh", priority: 300, level: "nic", source: "Internet" }]);
  assert.equal(r.exposures[0].reason, 'port 22 on 10.0.0.4 is open to Internet through rule "allow-ssh" (priority 300) in nic NSG web1-nsg');
  assert.match(r.reason, /^management port 22 open to broad sources without JIT: port 22 on 10\.0\.0\.4/);
  assert.equal(r.details.length, 3, "the other three ports say what closes them");
  assert.match(r.details.find((d) => d.startsWith("port 3389")) ?? "", /closed by rule "DenyAllInBound" \(priority 65500\) in nic NSG web1-nsg/);
});

test("subnet and NIC must both let the source in; both rules are named when they do", () => {
  const subnetOpen = nsg("subnet-nsg", [rule("any-ssh", 100)]);
  const closedNic = one(vm("a", [{ subnet: subnetOpen, nic: nsg("a-nsg") }]));
  assert.equal(closedNic.verdict, "Healthy");
  assert.match(closedNic.details[0], /port 22 on 10\.0\.0\.4: closed by rule "DenyAllInBound" \(priority 65500\) in nic NSG a-nsg/);

  const both = one(vm("b", [{ subnet: subnetOpen, nic: nsg("b-nsg", [rule("internet-ssh", 200, { sourceAddressPrefix: "Internet" })]) }]));
  assert.equal(both.verdict, "Unhealthy");
  assert.equal(both.exposures[0].source, "Internet", "* does not get through the NIC's rule; Internet does");
  assert.deepEqual(both.exposures[0].exposedBy.map((e) => [e.level, e.name]), [["subnet", "any-ssh"], ["nic", "internet-ssh"]]);
});

test("RDP from 10.0.0.0/8 only is healthy, and says how narrow it is", () => {
  const r = one(vm("db", [{ nic: nsg("db-nsg", [rule("rdp-internal", 200, { sourceAddressPrefix: "10.0.0.0/8", destinationPortRange: "3389" })]) }]));
  assert.equal(r.verdict, "Healthy");
  assert.equal(r.reason, "no management port is open to a broad source");
  assert.ok(r.details.includes('port 3389 on 10.0.0.4: open only to 10.0.0.0/8 (rule "rdp-internal" (priority 200) in nic NSG db-nsg)'), r.details.join("\n"));
});

test("a VM a policy covers, with its deny rule in place, is healthy", () => {
  const r = one(vm("web1", [{ nic: nsg("web1-nsg", [jitDeny("web", 1000, ["22", "3389"], ["10.0.0.4", "10.0.0.9"])]) }]), [policy("web", "web1", [22, 3389])]);
  assert.equal(r.verdict, "Healthy");
  assert.equal(r.reason, 'covered by JIT policy "web" (22, 3389); no management port is open to a broad source');
  assert.deepEqual(r.policies, [{ name: "web", ports: [22, 3389] }]);
  assert.match(r.details[0], /closed by rule "jit-deny-web-22.3389-1000-tcp-[0-9a-f]{8}" \(priority 1000\)/);
  const earlier = one(vm("web1", [{ nic: nsg("web1-nsg", [legacyDeny("web", "web1", 1000, ["22", "3389"])]) }]), [policy("web", "web1", [22, 3389])]);
  assert.match(earlier.details[0], /closed by rule "jit-deny-web-web1-tcp-[0-9a-f]{8}" \(priority 1000\)/, "a deny rule of an earlier version, one per VM, is still recognised");
});

test("a policy whose deny rule a user allow rule shadows: unhealthy, and the shadowing is said", () => {
  const deny = jitDeny("web", 1000, ["22"], ["10.0.0.4", "10.0.0.5"]);
  const r = one(vm("web1", [{ nic: nsg("web1-nsg", [rule("legacy-ssh", 150), deny]) }]), [policy("web", "web1", [22])]);
  assert.equal(r.verdict, "Unhealthy");
  const [e] = r.exposures;
  assert.equal(e.policy, "web");
  assert.deepEqual(e.shadowedDeny, { container: nsgId("web1-nsg"), name: deny.name, priority: 1000, level: "nic", source: "*" });
  assert.equal(
    e.reason,
    `port 22 on 10.0.0.4 is open to * through rule "legacy-ssh" (priority 150) in nic NSG web1-nsg; JIT policy "web" selects it, but its deny rule "${deny.name}" (priority 1000) is shadowed by user rule "legacy-ssh" (priority 150)`,
  );

  const missing = one(vm("web1", [{ nic: nsg("web1-nsg", [rule("legacy-ssh", 150)]) }]), [policy("web", "web1", [22])]);
  assert.match(missing.exposures[0].reason, /JIT policy "web" selects it, but its deny rule is missing from nic NSG web1-nsg/);
});

test("a narrower deny ahead of a broad allow leaves the rest exposed, and is named", () => {
  const r = one(vm("p", [{ nic: nsg("p-nsg", [rule("block-partner", 100, { access: "Deny", sourceAddressPrefix: "198.51.100.0/24" }), rule("internet-ssh", 200, { sourceAddressPrefix: "Internet" })]) }]));
  assert.equal(r.verdict, "Unhealthy");
  const [e] = r.exposures;
  assert.deepEqual(e.partlyBlockedBy?.map((b) => b.name), ["block-partner"]);
  assert.match(e.reason, /open to Internet except where rule "block-partner" \(priority 100\) in nic NSG p-nsg applies through rule "internet-ssh"/);
});

test("what counts as broad: size, public space, service tags, application security groups", () => {
  const from = (source: string, fields: Partial<NsgRule> = {}) => vm("s", [{ nic: nsg("s-nsg", [rule("in", 200, { sourceAddressPrefix: source, ...fields })]) }]);
  assert.equal(one(from("52.0.0.0/8")).verdict, "Unhealthy", "a /8 of public space");
  assert.equal(one(from("52.1.0.0/16")).verdict, "Unhealthy", "a /16 is the default limit");
  assert.equal(one(from("52.1.2.0/24")).verdict, "Healthy", "an office's /24");
  assert.equal(one(from("52.1.0.0/16"), [], { broadPrefix: { v4: 8 } }).verdict, "Healthy", "the limit is configurable");
  assert.equal(one(from("172.16.0.0/12")).verdict, "Healthy", "private space is never broad");
  assert.equal(one(from("0.0.0.0/0")).verdict, "Unhealthy");
  assert.equal(one(from("2001:db8::/32", { destinationAddressPrefix: "*" })).verdict, "Unhealthy", "IPv6 up to /32");
  assert.equal(one(from("AzureCloud")).verdict, "Unhealthy", "a service tag standing for public ranges");
  assert.equal(one(from("VirtualNetwork")).verdict, "Healthy");
  assert.equal(one(from("", { sourceAddressPrefix: undefined, sourceApplicationSecurityGroups: [{ id: `${SUB}/resourceGroups/app/providers/Microsoft.Network/applicationSecurityGroups/admins` }] })).verdict, "Healthy");
  assert.throws(() => one(from("*"), [], { broadPrefix: { v4: 33 } }), /IPv4 broad-source prefix length must be a whole number from 0 to 32/);
});

test("live grants are JIT access, not exposure; other ports and a second NIC without an NSG are checked", () => {
  const expires = new Date("2030-01-01T00:00:00Z");
  const grant = rule(allowRuleName("AAAAAAAAAAAA", "g", 22, "TCP"), 100, { description: allowRuleDescription("AAAAAAAAAAAA", "web", "g", expires), destinationAddressPrefix: "10.0.0.4" });
  assert.equal(one(vm("g", [{ nic: nsg("g-nsg", [grant]) }])).verdict, "Healthy");

  const custom = one(vm("c", [{ nic: nsg("c-nsg", [rule("ssh-alt", 200, { destinationPortRange: "2222" })]) }]), [], { ports: [2222] });
  assert.deepEqual(custom.exposures.map((e) => e.port), [2222]);
  assert.throws(() => one(vm("c", []), [], { ports: [0] }), /management ports must be whole numbers from 1 to 65535/);

  const mixed = one(vm("m", [{ nic: nsg("m-nsg") }, { addresses: ["10.1.0.4"] }]), [], { ports: [22] });
  assert.equal(mixed.verdict, "Unhealthy");
  assert.equal(mixed.exposures[0].reason, "port 22 on 10.1.0.4 is open to * through no NSG at all (neither network interface m-nic1 nor its subnet has one)");
});

test("results come worst first, then by cloud, group and name", () => {
  const results = classify(
    { azure: [vm("z", [{}]), vm("b", [{ nic: nsg("b", [rule("x", 100)]) }]), vm("a", [{ nic: nsg("a") }]), vm("c", [{ nic: nsg("c", [rule("x", 100)]) }])] },
    [],
  );
  assert.deepEqual(results.map((r) => `${r.verdict}:${r.name}`), ["Unhealthy:b", "Unhealthy:c", "Healthy:a", "NotApplicable:z"]);
});
