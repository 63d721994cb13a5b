import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_POLICY_AND_VM_NAME, fromDefenderPolicy } from "../../provider/src/model";
import { ScanResult, defenderPolicies, proposePolicies, pulumiProgram } from "../../provider/src/scan";

const SUB = "6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const vmId = (rg: string, name: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

function unhealthy(cloud: "azure" | "aws", group: string, vmIdText: string, name: string, ports: Array<[number, string?]>): ScanResult {
  return {
    cloud,
    vmId: vmIdText,
    name,
    group,
    ...(cloud === "azure" ? { location: "westeurope" } : {}),
    verdict: "Unhealthy",
    reason: "",
    exposures: ports.map(([port, policy]) => ({ port, target: "10.0.0.4", source: "*", exposedBy: [], ...(policy ? { policy } : {}), reason: "" })),
    policies: [],
    details: [],
  };
}

test("one policy per resource group or region, with the exposed ports not already in a policy", () => {
  const longName = "v".repeat(40);
  const proposed = proposePolicies([
    unhealthy("azure", "App(Prod)", vmId("App(Prod)", "web1"), "web1", [[3389], [22], [22]]),
    unhealthy("azure", "app(prod)", vmId("app(prod)", longName), longName, [[22]]),
    unhealthy("azure", "app", vmId("app", "legacy"), "legacy", [[22, "legacy"]]),
    unhealthy("aws", "eu-west-1", "i-0123456789abcdef0", "i-0123456789abcdef0", [[22]]),
    { ...unhealthy("azure", "fw", vmId("fw", "behind"), "behind", []), reason: "only Azure Firewall fw1" },
  ]);
  assert.deepEqual(
    proposed.map((p) => [p.cloud, p.group, p.policy.name, p.policy.virtualMachines.map((vm) => vm.ports.map((x) => x.number))]),
    [
      ["azure", "App(Prod)", "jit-app-prod", [[22, 3389], [22]]],
      ["aws", "eu-west-1", "jit-eu-west-1", [[22]]],
    ],
    "resource groups match case-insensitively; names are cleaned; a VM already in a policy, or without exposures, is left out",
  );
  for (const p of proposed) {
    for (const vm of p.policy.virtualMachines) assert.ok(p.policy.name.length + vm.id.split("/").pop()!.length <= MAX_POLICY_AND_VM_NAME);
    assert.deepEqual(p.policy.virtualMachines[0].ports[0], { number: 22, protocol: "TCP", allowedSourceAddressPrefix: "*", maxRequestAccessDuration: "PT3H" });
  }
  const tight = proposePolicies([unhealthy("azure", "a-very-long-resource-group-name", vmId("a-very-long-resource-group-name", "x".repeat(53)), "x".repeat(53), [[22]])]);
  assert.equal(tight[0].policy.name, "jit", "cut to fit beside a 53-character VM name");
});

test("the Pulumi program and the Defender documents", () => {
  const proposed = proposePolicies([unhealthy("azure", "app", vmId("app", "web1"), "web1", [[22]]), unhealthy("aws", "eu-west-1", "i-0123456789abcdef0", "i-0123456789abcdef0", [[3389]])]);
  const program = pulumiProgram(proposed);
  assert.match(program, /^import \{ aws, azure \} from "pulumi-jit";\n/);
  assert.match(program, /\/\/ Resource group app\. Narrow allowedSourceAddressPrefix to where requests come from\.\nnew azure\.JitPolicy\("jit-app", \{\n {2}policyName: "jit-app",\n {2}resourceGroupName: "app",\n {2}virtualMachines: \[/);
  assert.match(program, /new aws\.JitPolicy\("jit-eu-west-1", \{\n {2}policyName: "jit-eu-west-1",\n {2}virtualMachines: \[\n {4}\{\n {6}id: "i-0123456789abcdef0",/);
  assert.equal(pulumiProgram([]), "// Nothing to add: no VM has a management port open to a broad source outside a JIT policy.\n");

  const [azure, aws] = defenderPolicies(proposed);
  assert.equal(azure.id, `/subscriptions/${SUB}/resourceGroups/app/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/jit-app`);
  assert.equal(azure.type, "Microsoft.Security/locations/jitNetworkAccessPolicies");
  assert.deepEqual(fromDefenderPolicy(azure).policy, proposed[0].policy, "Defender's JSON reads back as the same policy");
  assert.equal(aws.id, undefined, "without a subscription, a PUT body");
  assert.deepEqual(fromDefenderPolicy(aws, { name: "jit-eu-west-1" }).policy, proposed[1].policy);
});
