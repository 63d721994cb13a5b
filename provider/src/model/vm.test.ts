import { test } from "node:test";
import assert from "node:assert/strict";
import { parseVmId, vmKey, vmName } from "./vm";
import { assertJitError } from "./testing/assert";

const SUB = "20ff7fc3-e762-44dd-bd96-b71116dcdc23";

test("VM ids parse to the cloud and the parts that name the VM", () => {
  assert.deepEqual(parseVmId(`/subscriptions/${SUB}/resourceGroups/myRg1/providers/Microsoft.Compute/virtualMachines/vm1`), {
    cloud: "azure",
    subscriptionId: SUB,
    resourceGroup: "myRg1",
    name: "vm1",
  });
  assert.deepEqual(parseVmId(`/subscriptions/${SUB}/resourcegroups/rg.(x)_1/providers/microsoft.compute/VIRTUALMACHINES/web-01`), {
    cloud: "azure",
    subscriptionId: SUB,
    resourceGroup: "rg.(x)_1",
    name: "web-01",
  });
  assert.deepEqual(parseVmId("i-0123abcd"), { cloud: "aws", instanceId: "i-0123abcd" });
  assert.deepEqual(parseVmId("i-0123456789abcdef0"), { cloud: "aws", instanceId: "i-0123456789abcdef0" });
  assert.deepEqual(parseVmId("arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"), {
    cloud: "aws",
    instanceId: "i-0123456789abcdef0",
    region: "eu-west-1",
    account: "123456789012",
  });
  assert.equal(parseVmId("arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0123abcd").cloud, "aws");
});

test("one key per VM, whatever the spelling; names are the last segment or the instance id", () => {
  const a = parseVmId(`/subscriptions/${SUB}/resourceGroups/myRg1/providers/Microsoft.Compute/virtualMachines/VM1`);
  const b = parseVmId(`/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/MYRG1/providers/microsoft.compute/virtualmachines/vm1`);
  assert.equal(vmKey(a), vmKey(b));
  assert.equal(vmKey(parseVmId("i-0123abcd")), vmKey(parseVmId("arn:aws:ec2:us-east-1:123456789012:instance/i-0123abcd")));
  assert.notEqual(vmKey(parseVmId("i-0123abcd")), vmKey(parseVmId("i-0123abce")));
  assert.equal(vmName(a), "VM1");
  assert.equal(vmName(parseVmId("arn:aws:ec2:us-east-1:123456789012:instance/i-0123abcd")), "i-0123abcd");
});

test("bad VM ids are refused saying which part is wrong", () => {
  const azure = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;
  const cases: [string, RegExp][] = [
    [azure("not-a-guid", "rg", "vm"), /"not-a-guid" in ".*" is not a subscription id \(a GUID\)/],
    [azure(SUB, "rg.", "vm"), /"rg\." in ".*" is not a resource group name/],
    [azure(SUB, "r g", "vm"), /"r g" in ".*" is not a resource group name/],
    [azure(SUB, "rg", "-vm"), /"-vm" in ".*" is not a VM name: 1-64 letters/],
    [azure(SUB, "rg", "vm."), /"vm\." in ".*" is not a VM name/],
    [azure(SUB, "rg", "v".repeat(65)), /is not a VM name/],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss`, /is not a VM id: expected an Azure VM resource id/],
    [azure(SUB, "rg", "vm") + "/", /is not a VM id/],
    ["i-0123", /"i-0123" is not an EC2 instance id: "i-" and 8 or 17 lowercase hexadecimal digits/],
    ["i-0123ABCD", /is not an EC2 instance id/],
    ["arn:aws:ec2:us-east-1:123456789012:instance/i-xyz", /"i-xyz" is not an EC2 instance id/],
    ["arn:aws:ec2:us-east-1:123456789012:volume/vol-0123abcd", /is not a VM id/],
    ["vm1", /"vm1" is not a VM id/],
    ["", /"" is not a VM id/],
  ];
  for (const [id, message] of cases) assertJitError(() => parseVmId(id, "virtualMachines[0].id"), "InvalidInput", "virtualMachines[0].id", message);
});
