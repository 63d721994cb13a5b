// Every exported component and resource refuses a wrong argument once, with the product's error
// naming the field, before anything registers and with nothing (no apply) failing after it; and the
// AWS JitPolicy takes its region from the stack's configuration when the environment names none.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { aws, azure } from "../../provider/src";
import { JitError } from "../../provider/src/model";
import { setEnv } from "../support/env";
import { RegisteredResource, runMockProgram } from "../support/pulumi";
import { consumerProject } from "../support/pulumi/consumer";
import { CloudUnderTest, awsUnderTest } from "./clouds";

const SUB = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a";
const AZURE_VM = `${SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web1`;
const PORTS = [{ number: 22, protocol: "TCP" as const, maxRequestAccessDuration: "PT1H" }];

/** Errors that escaped the program (an `apply` that threw after the refusal), collected while `body` runs. */
async function escaping<T>(body: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; escaped: unknown[] }> {
  const escaped: unknown[] = [];
  const onEscape = (err: unknown) => escaped.push(err);
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
  try {
    const [result] = await Promise.allSettled([body()]);
    // Give anything still queued (a rejected apply) the chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { result, escaped };
  } finally {
    process.off("unhandledRejection", onEscape);
    process.off("uncaughtException", onEscape);
  }
}

const REFUSALS: { what: string; program: () => unknown; field: string; message: RegExp }[] = [
  { what: "azure.JitPolicy without virtualMachines", program: () => new azure.JitPolicy("web", {} as never), field: "virtualMachines", message: /azure\.JitPolicy needs `virtualMachines`/ },
  { what: "aws.JitPolicy without virtualMachines", program: () => new aws.JitPolicy("web", {} as never), field: "virtualMachines", message: /aws\.JitPolicy needs `virtualMachines`/ },
  { what: "aws.JitPolicy without arguments", program: () => new aws.JitPolicy("web", undefined as never), field: "virtualMachines", message: /aws\.JitPolicy needs `virtualMachines`/ },
  {
    what: "aws.JitPolicy given an Azure VM",
    program: () => new aws.JitPolicy("web", { virtualMachines: [{ id: AZURE_VM, ports: PORTS }] }),
    field: "virtualMachines[0].id",
    message: /is not an EC2 instance id or ARN; this is the aws JitPolicy/,
  },
  { what: "azure.JitRole without scope", program: () => new azure.JitRole("r", { kind: "request" } as never), field: "scope", message: /azure\.JitRole needs `scope`/ },
  { what: "azure.JitRole without kind", program: () => new azure.JitRole("r", { scope: SUB } as never), field: "kind", message: /azure\.JitRole needs `kind`/ },
  { what: "azure.JitRole with a scope that is none", program: () => new azure.JitRole("r", { kind: "read", scope: "everything" }), field: "scope", message: /"everything" is not an assignable scope/ },
  { what: "aws.JitRolePolicy without kind", program: () => new aws.JitRolePolicy("p", {} as never), field: "kind", message: /aws\.JitRolePolicy needs `kind`/ },
  {
    what: "aws.JitRolePolicy with both instanceArns and tag",
    program: () => new aws.JitRolePolicy("p", { kind: "request", instanceArns: ["arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"], tag: { key: "jit", value: "on" } }),
    field: "",
    message: /instanceArns|tag/,
  },
];

for (const r of REFUSALS) {
  test(`${r.what}: refused once, naming the field, before anything registers`, async () => {
    let resources: RegisteredResource[] | undefined;
    const { result, escaped } = await escaping(async () => {
      const run = await runMockProgram(r.program, { runProviders: false });
      resources = run.resources;
    });
    assert.equal(result.status, "rejected", `registered: ${JSON.stringify(resources?.map((x) => x.type))}`);
    const err = (result as PromiseRejectedResult).reason as JitError;
    assert.ok(err instanceof JitError, String(err));
    assert.equal(err.code, "InvalidInput");
    if (r.field) assert.equal(err.field, r.field);
    assert.match(err.message, r.message);
    assert.deepEqual(escaped, [], "nothing fails after the refusal");
  });
}

let under: CloudUnderTest;
// A serialised JitPolicy provider finds pulumi-jit in the program's node_modules, as in a user's project.
const consumer = consumerProject();
const repoCwd = process.cwd();
before(async () => {
  under = await awsUnderTest();
});
after(async () => {
  await under?.close();
  consumer.remove();
});

/** Runs `body` with the emulator's environment minus any region, as on a machine where only `pulumi config set aws:region` was done. */
async function withoutRegionEnv<T>(extra: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const restoreEnv = setEnv({ ...under.env, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined, ...extra });
  process.chdir(consumer.dir);
  try {
    return await body();
  } finally {
    process.chdir(repoCwd);
    restoreEnv();
  }
}

test("aws.JitPolicy takes the region from the stack's aws:region when the environment names none; the environment's wins", async () => {
  const region = under.env.AWS_REGION;
  const inputs = under.inputs as { policyName: string; virtualMachines: aws.AwsJitInstanceArgs[] };

  // The instance is given by bare id: without any region the SDK cannot even address EC2.
  const none = await withoutRegionEnv({}, () => runMockProgram(() => new aws.JitPolicy("web", inputs)).then(() => "created", (err: unknown) => String(err)));
  assert.match(none, /region/i, "no region anywhere: refused");

  const fromStack = await withoutRegionEnv({}, () => runMockProgram(() => new aws.JitPolicy("web", inputs), { config: { "aws:region": region } }));
  const [policy] = fromStack.resources;
  assert.equal(policy.inputs.region, region, "the stack's region is a plain input");
  assert.equal(policy.state.cloud, "aws");
  assert.equal(under.reachable("203.0.113.7", 22), false, "the policy was applied in the stack's region");
  assert.deepEqual(Object.keys(policy.inputs).filter((k) => /secret|key|token|credential/i.test(k)), [], "no credential among the inputs");

  // The environment names the emulator's region and the stack another: the environment's is used, or EC2 would refuse the calls.
  const envWins = await withoutRegionEnv({ AWS_REGION: region }, () =>
    runMockProgram(() => new aws.JitPolicy("web2", { ...inputs, policyName: "web2" }), { config: { "aws:region": "eu-north-1" } }),
  );
  assert.equal(envWins.resources[0].inputs.region, "eu-north-1");
  assert.equal(envWins.resources[0].state.cloud, "aws");
});
