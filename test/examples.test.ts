// The example programs in examples/ are part of the documentation, so they must keep compiling and
// keep declaring what their READMEs say. The type-check (test/typecheck.test.ts, `npm run lint`) checks every example against this
// repository's own sources (tsconfig.check.json maps the `pulumi-jit` import to
// provider/src/index.ts); here, needing neither a cloud nor the Pulumi CLI, every example is checked
// to be in that type-check, and each program is run under `pulumi.runtime.setMocks`, `pulumi-jit` resolved to the sources,
//   asserting on what it registers: the resource types and names, the NSGs' rules kept out of line,
//   the JitPolicy's inputs wired from the VM's id and valid by the provider's own check, and no
//   secret anywhere. No provider code runs (the harness's `runProviders: false`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import Module from "node:module";
import path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { checkPolicyInputs, PolicyResourceInputs } from "../provider/src/pulumi/inputs";
import { POLICY_RESOURCE_TYPE, RESOURCE_MODULE } from "../provider/src/pulumi/policy-resource";
import type { Cloud } from "../provider/src/model";
import { PROVIDER_KEY, RegisteredResource, assertNoSecretsIn, isSecretWrapper, outputOf, runMockProgram } from "./support/pulumi";

const ROOT = path.resolve(__dirname, "..");
const EXAMPLES = path.join(ROOT, "examples");
const SOURCE_INDEX = path.join(ROOT, "provider", "src", "index.ts");
const TSCONFIG = "tsconfig.check.json";
const ROOT_PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
const INSTANCE_ID = "i-0123456789abcdef0";
const SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleExampleExampleExampleExampleExample admin@example";

test("every example is in tsconfig.check.json and has its project files", () => {
  // The TypeScript examples; those in other languages are checked against schema.json by test/plugin/examples.test.ts.
  const all = readdirSync(EXAMPLES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const examples = all.filter((e) => /^runtime: nodejs$/m.test(readFileSync(path.join(EXAMPLES, e, "Pulumi.yaml"), "utf8")));
  assert.deepEqual(examples.sort(), ["aws-broker", "aws-ec2", "azure-broker", "azure-vm"]);
  assert.deepEqual(all.filter((e) => !examples.includes(e)).sort(), ["python-aws-ec2", "yaml-azure-vm"]);
  const config = JSON.parse(readFileSync(path.join(ROOT, TSCONFIG), "utf8")) as { files: string[] };
  assert.deepEqual(
    config.files.slice().sort(),
    examples.map((e) => `examples/${e}/index.ts`).sort(),
    `${TSCONFIG} (npm run lint) type-checks every example`,
  );
  for (const example of examples) {
    const dir = path.join(EXAMPLES, example);
    for (const file of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "README.md"]) {
      assert.ok(existsSync(path.join(dir, file)), `examples/${example}/${file}`);
    }
    assert.match(readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"), /^runtime: nodejs$/m, `examples/${example}/Pulumi.yaml`);
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    assert.equal(pkg.dependencies["pulumi-jit"], "file:../..", `examples/${example} uses this checkout of pulumi-jit`);
    // The Pulumi packages are the versions this repository tests with.
    for (const [name, range] of Object.entries(pkg.dependencies)) {
      const tested = ROOT_PACKAGE.dependencies[name] ?? ROOT_PACKAGE.devDependencies[name];
      if (name.startsWith("@pulumi/")) assert.equal(range, `^${tested}`, `examples/${example}: ${name}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// The programs under mocks.

/**
 * Loads an example's index.ts with `pulumi-jit` resolved to this repository's sources and the
 * `@pulumi/*` packages to this repository's copies (the one `setMocks` configures), whatever is
 * installed in the example's own folder.
 */
function loadExample(name: string): Record<string, pulumi.Output<unknown>> {
  const dir = path.join(EXAMPLES, name) + path.sep;
  type Resolve = (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;
  const loader = Module as unknown as { _resolveFilename: Resolve };
  const original = loader._resolveFilename;
  loader._resolveFilename = function (this: unknown, request, parent, ...rest) {
    if (parent?.filename?.startsWith(dir)) {
      if (request === "pulumi-jit") return SOURCE_INDEX;
      if (request.startsWith("@pulumi/")) return require.resolve(request, { paths: [ROOT] });
    }
    return original.call(this, request, parent, ...rest);
  };
  try {
    return require(path.join(dir, "index.ts"));
  } finally {
    loader._resolveFilename = original;
  }
}

/** Ids shaped like the clouds' own, so that the policy's inputs pass the provider's check. */
function mockResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
  const state = { ...args.inputs, name: args.inputs.name ?? args.name };
  switch (args.type) {
    case "azure-native:compute:VirtualMachine":
      return {
        id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${args.inputs.resourceGroupName}/providers/Microsoft.Compute/virtualMachines/${args.name}`,
        state,
      };
    case "aws:ec2/instance:Instance":
      return { id: INSTANCE_ID, state: { ...state, publicIp: "198.51.100.7" } };
    case "aws:ec2/keyPair:KeyPair":
      return { id: `${args.name}-id`, state: { ...state, keyName: args.name } };
    case "azure-native:network:PublicIPAddress":
      return { id: `${args.name}-id`, state: { ...state, ipAddress: "198.51.100.8" } };
    default:
      return { id: args.custom ? `${args.name}-id` : undefined, state };
  }
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0123456789abcdef0", name: "al2023-ami-2023.0.0-x86_64" };
  throw new Error(`the example calls ${args.token}, which this test does not answer`);
}

function ofType(resources: RegisteredResource[], type: string): RegisteredResource[] {
  return resources.filter((r) => r.type === type);
}

function one(resources: RegisteredResource[], type: string): RegisteredResource {
  const found = ofType(resources, type);
  assert.equal(found.length, 1, `one ${type}`);
  return found[0];
}

function hasSecretWrapper(value: unknown): boolean {
  if (isSecretWrapper(value)) return true;
  if (value === null || typeof value !== "object") return false;
  return Object.values(value).some(hasSecretWrapper);
}

/** The checks every example's JitPolicy passes: wired from the VM, port 22, valid, and no secret. */
function assertPolicy(cloud: Cloud, resources: RegisteredResource[], vm: RegisteredResource): PolicyResourceInputs {
  const registered = one(resources, `pulumi-nodejs:dynamic/${RESOURCE_MODULE[cloud]}:${POLICY_RESOURCE_TYPE}`);
  assert.equal(registered.name, "ssh");
  const { [PROVIDER_KEY]: provider, ...inputs } = registered.inputs as unknown as PolicyResourceInputs & Record<string, unknown>;
  assert.equal(typeof provider, "string", "the provider is serialised as a plain (not secret) string");
  assert.equal(inputs.virtualMachines.length, 1);
  const [entry] = inputs.virtualMachines;
  assert.equal(entry.id, vm.id, "the policy's VM is the program's VM, by its id output");
  assert.deepEqual(
    entry.ports.map((p) => [p.number, p.protocol]),
    [[22, "TCP"]],
  );
  assert.deepEqual(checkPolicyInputs(cloud, inputs).failures, [], "the provider's own check accepts the inputs");
  assert.equal(hasSecretWrapper(registered.inputs), false, "no input of the policy is secret");
  assertNoSecretsIn(resources, [], "resources");
  return inputs;
}

test("azure-vm registers a VM behind two NSGs with out-of-line rules, and a JitPolicy on its port 22", async () => {
  const { result: outputs, resources } = await runMockProgram(() => loadExample("azure-vm"), {
    project: "jit-azure-vm",
    stack: "dev",
    config: { "jit-azure-vm:sshPublicKey": SSH_KEY, "jit-azure-vm:allowedSourcePrefixes": '["203.0.113.0/24"]' },
    runProviders: false,
    mocks: { newResource: mockResource, call: mockCall },
  });

  const count = (type: string) => ofType(resources, type).length;
  assert.equal(count("azure-native:resources:ResourceGroup"), 1);
  assert.equal(count("azure-native:network:VirtualNetwork"), 1);
  assert.equal(count("azure-native:network:Subnet"), 1);
  assert.equal(count("azure-native:network:NetworkSecurityGroup"), 2);
  assert.equal(count("azure-native:network:PublicIPAddress"), 1);
  assert.equal(count("azure-native:network:NetworkInterface"), 1);
  assert.ok(count("azure-native:network:SecurityRule") >= 1, "user rules are SecurityRule resources");

  // The rule the README teaches: no NSG lists its rules inline, so none can wipe the JIT rules.
  for (const nsg of ofType(resources, "azure-native:network:NetworkSecurityGroup")) {
    assert.equal(nsg.inputs.securityRules, undefined, `NSG "${nsg.name}" has no inline securityRules`);
  }
  assert.equal(one(resources, "azure-native:network:VirtualNetwork").inputs.subnets, undefined, "subnets are separate resources");
  // Both NSGs are on the VM's inbound path: the subnet's and the NIC's.
  const nsgIds = new Set(ofType(resources, "azure-native:network:NetworkSecurityGroup").map((n) => n.id));
  const subnet = one(resources, "azure-native:network:Subnet");
  const nic = one(resources, "azure-native:network:NetworkInterface");
  const subnetNsg = (subnet.inputs.networkSecurityGroup as { id: string }).id;
  const nicNsg = (nic.inputs.networkSecurityGroup as { id: string }).id;
  assert.ok(nsgIds.has(subnetNsg) && nsgIds.has(nicNsg) && subnetNsg !== nicNsg, "the subnet and the NIC each have their own NSG");
  for (const rule of ofType(resources, "azure-native:network:SecurityRule")) {
    assert.notEqual(rule.inputs.destinationPortRange, "22", `user rule "${rule.name}" does not open SSH`);
  }

  const vm = one(resources, "azure-native:compute:VirtualMachine");
  const policy = assertPolicy("azure", resources, vm);
  assert.equal(policy.policyName, "jit-azure-vm-dev");
  assert.deepEqual(policy.virtualMachines[0].ports[0].allowedSourceAddressPrefixes, ["203.0.113.0/24"], "config reaches the policy");
  assert.equal(policy.resourceGroupName, "jit-example");

  assert.equal(await outputOf(outputs.jitPolicyName), "jit-azure-vm-dev");
  assert.equal(
    await outputOf(outputs.jitRequest),
    'jit request --policy jit-azure-vm-dev --vm vm --port 22 --duration PT1H --justification "maintenance"',
  );
  assert.equal(await outputOf(outputs.sshCommand), "ssh azureuser@198.51.100.8");
});

test("aws-ec2 registers an instance whose security group opens 22 and 0-65535, and a JitPolicy on its port 22", async () => {
  const { result: outputs, resources } = await runMockProgram(() => loadExample("aws-ec2"), {
    project: "jit-aws-ec2",
    stack: "dev",
    config: { "jit-aws-ec2:sshPublicKey": SSH_KEY },
    runProviders: false,
    mocks: { newResource: mockResource, call: mockCall },
  });

  for (const type of ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/internetGateway:InternetGateway", "aws:ec2/keyPair:KeyPair"]) {
    one(resources, type);
  }
  const group = one(resources, "aws:ec2/securityGroup:SecurityGroup");
  const ingress = (group.inputs.ingress as { protocol: string; fromPort: number; toPort: number; cidrBlocks: string[] }[]).map((r) => [
    r.protocol,
    r.fromPort,
    r.toPort,
    r.cidrBlocks,
  ]);
  assert.deepEqual(ingress, [
    ["tcp", 22, 22, ["0.0.0.0/0"]],
    ["tcp", 0, 65535, ["10.0.0.0/8"]],
  ]);

  const instance = one(resources, "aws:ec2/instance:Instance");
  assert.deepEqual(instance.inputs.vpcSecurityGroupIds, [group.id]);
  assert.equal(instance.inputs.ami, "ami-0123456789abcdef0");
  const policy = assertPolicy("aws", resources, instance);
  assert.equal(policy.policyName, "jit-aws-ec2-dev");
  assert.equal(policy.virtualMachines[0].ports[0].allowedSourceAddressPrefixes, undefined, "unset, any source may be requested");

  assert.equal(
    await outputOf(outputs.jitRequest),
    `jit request --policy jit-aws-ec2-dev --vm ${INSTANCE_ID} --port 22 --duration PT1H --justification "maintenance"`,
  );
  assert.equal(await outputOf(outputs.sshCommand), "ssh ec2-user@198.51.100.7");
});
