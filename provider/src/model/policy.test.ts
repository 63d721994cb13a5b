import { test } from "node:test";
import assert from "node:assert/strict";
import { PolicyInput, allowedSourcePrefixes, findPolicyVm, parsePolicy, policyCloud } from "./policy";
import { JitError } from "./errors";
import { assertJitError } from "./testing/assert";
import { AWS_INSTANCE, AZURE_VM, SUBSCRIPTION, awsPolicy, azurePolicy, azurePolicyInput, azureVmId } from "./testing/fixtures";

test("a Defender-shaped policy parses; defaults fill in PT3H and, with no source field, any source", () => {
  const policy = parsePolicy({
    name: "web",
    virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, protocol: "TCP" }] }],
  });
  assert.deepEqual(policy.virtualMachines[0].ports[0], {
    number: 22,
    protocol: "TCP",
    allowedSourceAddressPrefix: "*",
    maxRequestAccessDuration: "PT3H",
  });
  assert.equal(policyCloud(policy), "azure");
  assert.equal(policyCloud(awsPolicy()), "aws");
  const full = azurePolicy();
  assert.deepEqual(allowedSourcePrefixes(full.virtualMachines[0].ports[0]), ["203.0.113.0/24", "2001:db8::/32"]);
  assert.deepEqual(allowedSourcePrefixes(full.virtualMachines[0].ports[1]), ["*"]);
  assert.equal(findPolicyVm(full, AZURE_VM.toUpperCase().replace(SUBSCRIPTION.toUpperCase(), SUBSCRIPTION))?.id, AZURE_VM);
  assert.equal(findPolicyVm(full, azureVmId("other")), undefined);
  assert.equal(findPolicyVm(awsPolicy(), `arn:aws:ec2:us-east-1:123456789012:instance/${AWS_INSTANCE}`)?.id, AWS_INSTANCE);
});

test("optional fields: Azure Firewall address, requesters and approvers of the policy's own cloud", () => {
  const input = azurePolicyInput();
  input.virtualMachines[0].publicIpAddress = "198.51.100.10";
  input.requesters = ["ana@contoso.com", "2b3c4d5e-0000-4000-8000-000000000001"];
  input.approvers = ["sec-team@contoso.com"];
  const policy = parsePolicy(input);
  assert.equal(policy.virtualMachines[0].publicIpAddress, "198.51.100.10");
  assert.deepEqual(policy.requesters, ["ana@contoso.com", "2b3c4d5e-0000-4000-8000-000000000001"]);
  assert.deepEqual(awsPolicy().requesters, ["arn:aws:iam::123456789012:role/Ops"]);
});

test("every policy refusal names its field and says why", () => {
  type Case = [string, (p: PolicyInput) => void, string, RegExp];
  const vm0 = (p: PolicyInput) => p.virtualMachines[0];
  const port0 = (p: PolicyInput) => p.virtualMachines[0].ports[0];
  const cases: Case[] = [
    ["bad name", (p) => (p.name = "-web"), "name", /must start with a letter or digit and contain only letters, digits/],
    ["name with space", (p) => (p.name = "my policy"), "name", /must start with a letter or digit/],
    ["no VMs", (p) => (p.virtualMachines = []), "virtualMachines", /must list at least one VM/],
    ["bad VM id", (p) => (vm0(p).id = "vm1"), "virtualMachines[0].id", /"vm1" is not a VM id/],
    ["no ports", (p) => (vm0(p).ports = []), "virtualMachines[0].ports", /must list at least one port/],
    ["port too big", (p) => (port0(p).number = 65536), "virtualMachines[0].ports[0].number", /must be a whole number from 0 to 65535/],
    ["port negative", (p) => (port0(p).number = -1), "virtualMachines[0].ports[0].number", /must be a whole number from 0 to 65535/],
    ["port fraction", (p) => (port0(p).number = 22.5), "virtualMachines[0].ports[0].number", /must be a whole number/],
    ["protocol", (p) => ((port0(p) as { protocol: string }).protocol = "ICMP"), "virtualMachines[0].ports[0].protocol", /Invalid option: expected one of "TCP"\|"UDP"\|"\*"/],
    ["both source fields", (p) => (port0(p).allowedSourceAddressPrefix = "*"), "virtualMachines[0].ports[0].allowedSourceAddressPrefixes", /give allowedSourceAddressPrefix or allowedSourceAddressPrefixes, not both/],
    ["empty prefix list", (p) => (port0(p).allowedSourceAddressPrefixes = []), "virtualMachines[0].ports[0].allowedSourceAddressPrefixes", /must list at least one prefix/],
    ["bad prefix", (p) => (port0(p).allowedSourceAddressPrefixes = ["Internet"]), "virtualMachines[0].ports[0].allowedSourceAddressPrefixes[0]", /"Internet" is not an IP address, a CIDR block or "\*"/],
    ["host bits", (p) => (port0(p).allowedSourceAddressPrefixes = ["203.0.113.7/24"]), "virtualMachines[0].ports[0].allowedSourceAddressPrefixes[0]", /has host bits set; the network is 203\.0\.113\.0\/24/],
    ["duration too short", (p) => (port0(p).maxRequestAccessDuration = "PT4M"), "virtualMachines[0].ports[0].maxRequestAccessDuration", /"PT4M" is outside the allowed range PT5M to P1D/],
    ["duration too long", (p) => (port0(p).maxRequestAccessDuration = "P1DT1S"), "virtualMachines[0].ports[0].maxRequestAccessDuration", /outside the allowed range/],
    ["duration syntax", (p) => (port0(p).maxRequestAccessDuration = "3 hours"), "virtualMachines[0].ports[0].maxRequestAccessDuration", /"3 hours" is not an ISO-8601 duration/],
    ["unknown field", (p) => Object.assign(port0(p), { allowedSourceAddressPrefixs: ["*"] }), "virtualMachines[0].ports[0]", /Unrecognized key: "allowedSourceAddressPrefixs"/],
    ["duplicate port", (p) => vm0(p).ports.push({ number: 22, protocol: "UDP" }), "virtualMachines[0].ports[2].number", /port 22 is already listed at ports\[0\]/],
    ["duplicate VM", (p) => p.virtualMachines.push({ id: AZURE_VM.toLowerCase(), ports: [{ number: 22, protocol: "TCP" }] }), "virtualMachines[1].id", /this VM is already listed at virtualMachines\[0\]/],
    ["mixed clouds", (p) => p.virtualMachines.push({ id: AWS_INSTANCE, ports: [{ number: 22, protocol: "TCP" }] }), "virtualMachines[1].id", /a policy covers one cloud; virtualMachines\[0\] is on azure, this VM is on aws/],
    ["long names", (p) => (vm0(p).id = azureVmId("v".repeat(54))), "virtualMachines[0].id", /policy name "web" plus VM name "v{54}" is 57 characters; at most 56 are allowed/],
    ["firewall address", (p) => (vm0(p).publicIpAddress = "fw.example.com"), "virtualMachines[0].publicIpAddress", /must be an IP address/],
    ["empty requesters", (p) => (p.requesters = []), "requesters", /must name at least one principal; leave it out to rely on cloud permissions alone/],
    ["AWS requester on Azure", (p) => (p.requesters = ["arn:aws:iam::123456789012:role/Ops"]), "requesters[0]", /"arn:aws:iam::123456789012:role\/Ops" is not an Azure object id \(a GUID\) or a user principal name/],
    ["bad approver", (p) => (p.approvers = ["ops team"]), "approvers[0]", /"ops team" is not an Azure object id/],
  ];
  for (const [name, mutate, field, message] of cases) {
    const input = azurePolicyInput();
    mutate(input);
    const err = assertJitError(() => parsePolicy(input), "InvalidInput", field, message);
    assert.match(err.message, /invalid policy: /, name);
  }
});

test("AWS-only refusals: firewall address, principals that are not ARNs", () => {
  const base = () => ({ name: "ops", virtualMachines: [{ id: AWS_INSTANCE, ports: [{ number: 22, protocol: "TCP" as const }] }] });
  assertJitError(
    () => parsePolicy({ ...base(), virtualMachines: [{ ...base().virtualMachines[0], publicIpAddress: "198.51.100.10" }] }),
    "InvalidInput",
    "virtualMachines[0].publicIpAddress",
    /is the address of an Azure Firewall; EC2 instances have none/,
  );
  assertJitError(() => parsePolicy({ ...base(), requesters: ["ana@contoso.com"] }), "InvalidInput", "requesters[0]", /is not an AWS IAM or STS ARN/);
});

test("one error lists every problem, so a policy is fixed in one round", () => {
  const input = azurePolicyInput();
  input.virtualMachines[0].ports[0].number = 70000;
  input.virtualMachines[0].ports[1].maxRequestAccessDuration = "PT1M";
  input.name = "";
  const err = assertJitError(() => parsePolicy(input), "InvalidInput", "name", /invalid policy: /);
  assert.match(err.message, /also virtualMachines\[0\]\.ports\[0\]\.number: must be a whole number.*virtualMachines\[0\]\.ports\[1\]\.maxRequestAccessDuration: "PT1M" is outside/);
});

test("every text field is bounded before its pattern or parser runs: a megabyte-long value gets the length error alone", () => {
  const huge = "1".repeat(1 << 20);
  const port = { number: 22, protocol: "TCP", maxRequestAccessDuration: "PT1H" };
  const vm = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1";
  const cases: [unknown, RegExp][] = [
    [{ name: huge, virtualMachines: [{ id: vm, ports: [port] }] }, /^name: invalid policy: must be at most 56 characters$/],
    [{ name: "web", virtualMachines: [{ id: huge, ports: [port] }] }, /^virtualMachines\[0\]\.id: invalid policy: must be at most 1024 characters$/],
    [{ name: "web", virtualMachines: [{ id: vm, ports: [{ ...port, allowedSourceAddressPrefix: huge }] }] }, /must be at most 64 characters$/],
    [{ name: "web", virtualMachines: [{ id: vm, ports: [{ ...port, maxRequestAccessDuration: huge }] }] }, /must be at most 64 characters$/],
    [{ name: "web", virtualMachines: [{ id: vm, ports: [port] }], requesters: [huge] }, /^requesters\[0\]: invalid policy: must be at most 512 characters$/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parsePolicy(input), (e: unknown) => e instanceof JitError && e.code === "InvalidInput" && message.test(e.message), String(message));
  }
});
