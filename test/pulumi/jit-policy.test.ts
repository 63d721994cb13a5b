import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { aws, azure } from "../../provider/src";
import { POLICY_RESOURCE_TYPE, RESOURCE_MODULE } from "../../provider/src/pulumi/policy-resource";
import { policyProviderShim } from "../../provider/src/pulumi/shim";
import {
  DynamicProviderHost,
  assertNoSecretsIn,
  outputOf,
  reloadProvider,
  runCrudScript,
  runMockProgram,
  serializeProvider,
  startDynamicProviderHost,
} from "../support/pulumi";
import { PACKAGE_ROOT, consumerProject } from "../support/pulumi/consumer";
import { CloudUnderTest, awsUnderTest, azureUnderTest, withEnv } from "./clouds";

/**
 * Each JitPolicy resource along the paths the Pulumi engine takes: its provider serialised and
 * reloaded (B), the resource class in a program under mocks that run that provider (C), and the
 * SDK's own dynamic-provider host over gRPC (D) — always against the local cloud endpoint, from a
 * consumer project whose node_modules holds pulumi-jit, as a user's does.
 */
const CLOUDS: { name: string; start: () => Promise<CloudUnderTest>; resource: typeof aws.JitPolicy | typeof azure.JitPolicy }[] = [
  { name: "azure", start: azureUnderTest, resource: azure.JitPolicy },
  { name: "aws", start: awsUnderTest, resource: aws.JitPolicy },
];

/** The host loads pulumi-jit's TypeScript sources as the tests do (the loader named by path: its cwd is the consumer's). */
const HOST_NODE_ARGS = ["--conditions=pulumi-jit-source", "--import", pathToFileURL(path.join(PACKAGE_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href];

const consumer = consumerProject();
const repoCwd = process.cwd();
after(() => consumer.remove());

/** Runs `body` as the engine would: from the consumer project, with only the environment to go on. */
function asEngine<T>(under: CloudUnderTest, body: () => Promise<T>): Promise<T> {
  return withEnv(under.env, async () => {
    process.chdir(consumer.dir);
    try {
      return await body();
    } finally {
      process.chdir(repoCwd);
    }
  });
}

for (const c of CLOUDS) {
  describe(`${c.name}.JitPolicy`, () => {
    let under: CloudUnderTest;
    before(async () => {
      under = await c.start();
    });
    after(() => under.close());

    test("B: the provider serialises to a small shim with no secret, and its reloaded copy runs the whole lifecycle", async () => {
      const serialized = await serializeProvider(policyProviderShim(under.cloud));
      assert.equal(serialized.containsSecrets, false);
      assert.ok(serialized.text.length < 4000, `the shim is ${serialized.text.length} characters: it must not carry the implementation`);
      assert.match(serialized.text, /pulumi-jit\/pulumi-runtime/);
      const original = under.snapshot();
      await asEngine(under, async () => {
        const reloaded = reloadProvider(serialized.text);
        const trace = await runCrudScript(reloaded, { create: under.inputs, update: under.updated, unknownDuringPreview: ["virtualMachines"] });
        assert.equal(trace.id, "web");
        assertNoSecretsIn(trace, under.secrets);
      });
      assert.deepEqual(under.snapshot(), original, "after delete the cloud is as it was");
    });

    test("C: a program's JitPolicy registers with the engine's type token, closes the port, and previews with unknown ids", async () => {
      const token = `pulumi-nodejs:dynamic/${RESOURCE_MODULE[under.cloud]}:${POLICY_RESOURCE_TYPE}`;
      await asEngine(under, async () => {
        // In preview a VM created in the same program has no id yet.
        const vmsWithUnknownIds = (under.inputs.virtualMachines as { ports: unknown }[]).map((vm) => ({ ...vm, id: pulumi.unknown }));
        const preview = await runMockProgram(() => new c.resource("web", { ...(under.inputs as Record<string, unknown>), virtualMachines: vmsWithUnknownIds } as never), { preview: true });
        assert.equal(preview.resources[0].type, token);
        assert.equal(under.reachable(under.outsider, 22), true, "a preview changes nothing");
        const run = await runMockProgram(() => new c.resource("web", under.inputs as never));
        assert.equal(run.resources[0].type, token);
        const vms = await outputOf(run.result.vms);
        assert.deepEqual(vms.map((v) => v.status), ["protected"]);
        assert.equal(await outputOf(run.result.policyName), "web");
        assert.equal(under.reachable(under.outsider, 22), false, "the baseline closed port 22");
        assertNoSecretsIn(run.resources, under.secrets, "resources");
        // Tidy up through the provider, as `pulumi destroy` would.
        await reloadProvider((await serializeProvider(policyProviderShim(under.cloud))).text).delete!("web", run.resources[0].state as never);
      });
      assert.equal(under.reachable(under.outsider, 22), true);
    });

    describe("D: through the dynamic-provider host over gRPC", () => {
      let host: DynamicProviderHost;
      before(async () => {
        host = await startDynamicProviderHost({ cwd: consumer.dir, env: under.env, nodeArgs: HOST_NODE_ARGS, project: "jit" });
        await host.configure({});
      });
      after(() => host?.close());

      test("check, create, diff, read, update and delete reach the cloud and back, and no credential reaches state", async () => {
        const original = under.snapshot();
        const provider = await host.bind(policyProviderShim(under.cloud));
        const bad = await provider.check({}, { ...under.inputs, virtualMachines: [{ id: "vm-1", ports: [] }] });
        assert.ok(bad.failures.length > 0, "check reports bad inputs as failures");
        const created = await provider.create((await provider.check({}, under.inputs)).inputs);
        assert.equal(created.id, "web");
        assert.equal(under.reachable(under.outsider, 22), false);
        assert.equal((await provider.diff(created.id, created.properties, under.inputs)).changes, "none");
        const diff = await provider.diff(created.id, created.properties, under.updated);
        assert.equal(diff.changes, "some");
        assert.deepEqual(diff.replaces, []);
        const read = await provider.read(created.id, created.properties);
        assert.equal(read.id, "web");
        const updated = await provider.update(created.id, created.properties, under.updated);
        assert.equal(under.reachable(under.outsider, 3389), false, "the update closed the added port");
        for (const state of [created.properties, read.properties, updated.properties]) assertNoSecretsIn(state, under.secrets);
        await provider.delete(created.id, updated.properties);
        assert.deepEqual(under.snapshot(), original);
      });
    });
  });
}
