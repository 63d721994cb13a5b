// Layer D: @pulumi/pulumi's own dynamic-provider host, started once for this file and driven over gRPC.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  DynamicProviderHost,
  HostCallError,
  HostedProvider,
  PROVIDER_KEY,
  UNKNOWN,
  assertNoSecretsIn,
  startDynamicProviderHost,
  wrapSecret,
} from "./index";
import { sampleRuleProvider } from "./fixtures/sample-rule";
import { capturedClientConfigProvider, capturedClientProvider } from "./fixtures/captured-client";

const TOKEN = "tok-config-51d2e0";
const rule = { port: 22, source: "203.0.113.0/24" };

let host: DynamicProviderHost;
let sample: HostedProvider;

before(async () => {
  host = await startDynamicProviderHost({ project: "sample" });
  assert.deepEqual(
    await host.configure({ "sample:region": "eu-west-3", "sample:apiToken": wrapSecret(TOKEN), "other:region": "x" }),
    { acceptSecrets: false },
    "the host refuses secrets, so the engine sends it plaintext",
  );
  sample = await host.bind(sampleRuleProvider);
});

after(() => host?.close());

test("configure() reaches the provider's req.config, secrets unwrapped, keys relative to the project", async () => {
  const created = await sample.create(rule);
  assert.equal(created.properties.region, "eu-west-3");
  assert.equal(created.properties.authenticated, true, "the secret token arrived in plaintext");
  assertNoSecretsIn(created.properties, [TOKEN]);
});

test("the host runs the whole life of a resource and echoes __provider into its outputs", async () => {
  const checked = await sample.check({}, rule);
  assert.deepEqual(checked, { inputs: { ...rule, [PROVIDER_KEY]: sample.text }, failures: [] });

  const created = await sample.create(checked.inputs);
  assert.match(created.id, /^rule-/);
  assert.equal(created.properties[PROVIDER_KEY], sample.text);
  assert.equal(created.properties.ruleName, "allow-22-203-0-113-0-24");

  assert.deepEqual(await sample.diff(created.id, created.properties, rule), {
    changes: "none",
    replaces: [],
    stables: [],
    deleteBeforeReplace: false,
  });
  const portChange = await sample.diff(created.id, created.properties, { ...rule, port: 3389 });
  assert.deepEqual(portChange, { changes: "some", replaces: ["port"], stables: [], deleteBeforeReplace: true });

  const refreshed = await sample.read(created.id, created.properties);
  assert.deepEqual(refreshed, { id: created.id, properties: created.properties });

  const updated = await sample.update(created.id, created.properties, { ...rule, note: "jump host" });
  assert.deepEqual(updated.properties, { ...created.properties, note: "jump host" });

  await sample.delete(created.id, updated.properties);
});

test("check reports failures, and tolerates the preview sentinel", async () => {
  const bad = await sample.check({}, { port: 0, source: "anywhere" });
  assert.deepEqual(
    bad.failures.map((f) => f.property),
    ["port", "source"],
  );
  const preview = await sample.check({}, { port: UNKNOWN, source: UNKNOWN });
  assert.deepEqual(preview.failures, []);
});

test("provider errors come back with their message, and init failures with their details", async () => {
  await assert.rejects(sample.delete("vm-1", { [PROVIDER_KEY]: sample.text }), (err: HostCallError) => {
    assert.equal(err.name, "HostCallError");
    assert.equal(err.message, "Delete: no such rule: vm-1");
    return true;
  });
  await assert.rejects(sample.create({ ...rule, failAfterCreate: true }), (err: HostCallError) => {
    assert.equal(err.details, "the rule was created but is not effective yet");
    assert.match(err.initFailure?.id ?? "", /^rule-/);
    assert.deepEqual(err.initFailure?.reasons, ["propagation pending"]);
    assert.equal(err.initFailure?.properties.ruleName, "allow-22-203-0-113-0-24");
    return true;
  });
  assert.match(host.stderr(), /no such rule: vm-1/, "the host logs provider errors to stderr");
});

test("import cannot work: the engine sends no properties, so there is no provider to run", async () => {
  await assert.rejects(sample.read("rule-1", {}), /Read: code must be a string, not undefined/);
});

test("a provider that captured an SDK client fails before or inside the host", async () => {
  await assert.rejects(host.bind(capturedClientProvider), /variable 'client' which indirectly referenced/);
  const configOnly = await host.bind(capturedClientConfigProvider);
  await assert.rejects(configOnly.create({}), (err: HostCallError) => {
    assert.match(err.message, /^Create: .*incompatible receiver/);
    return true;
  });
});
