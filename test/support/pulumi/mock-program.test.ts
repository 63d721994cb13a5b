// Layer C: a program that declares the sample resource, run under mocks that execute its serialised
// provider as the engine would. The programs run one after another; each starts from fresh mocks.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  PROVIDER_KEY,
  UNKNOWN,
  assertNoSecretsIn,
  isSecretWrapper,
  outputDetails,
  outputOf,
  runMockProgram,
} from "./index";
import { SampleRule } from "./fixtures/sample-rule";
import { CAPTURED_TOKEN, capturedSecretProvider } from "./fixtures/captured-secret";

const SOURCE = "203.0.113.0/24";

test("a deployment creates the resource through its reloaded, configured provider", async () => {
  const { result: rule, resources } = await runMockProgram(
    () => new SampleRule("ssh", { port: 22, source: pulumi.secret(SOURCE) }, { additionalSecretOutputs: ["ruleName"] }),
    { project: "sample", config: { "sample:region": "eu-west-3" } },
  );

  assert.match(await outputOf(rule.id), /^rule-/);
  assert.equal(await outputOf(rule.region), "eu-west-3", "configure() received the stack configuration");
  assert.deepEqual(await outputDetails(rule.ruleName), { known: true, secret: true, value: "allow-22-203-0-113-0-24" });
  assert.deepEqual(await outputDetails(rule.source), { known: true, secret: true, value: SOURCE });
  assert.deepEqual(await outputDetails(rule.port), { known: true, secret: false, value: 22 });

  assert.equal(resources.length, 1);
  const [registered] = resources;
  assert.equal(registered.type, "pulumi-nodejs:dynamic/sample:SampleRule");
  assert.equal(registered.name, "ssh");
  assert.ok(isSecretWrapper(registered.inputs.source), "the program sent the source as a secret");
  assert.equal(typeof registered.inputs[PROVIDER_KEY], "string");
  assert.equal(registered.state[PROVIDER_KEY], registered.inputs[PROVIDER_KEY], "outputs carry the provider text");
  assertNoSecretsIn(registered, [SOURCE, "allow-22-203-0-113-0-24"], "resource");
});

test("a preview checks against unknown inputs and leaves outputs unknown", async () => {
  const { result, resources } = await runMockProgram(
    () => {
      const first = new SampleRule("first", { port: 22, source: SOURCE });
      const second = new SampleRule("second", { port: 3389, source: first.ruleName.apply(() => "198.51.100.0/24") });
      return { first, second };
    },
    { preview: true },
  );
  assert.deepEqual(await outputDetails(result.first.ruleName), { known: false, secret: false, value: undefined });
  assert.equal((await outputDetails(result.first.id)).known, false);
  assert.equal(await outputOf(result.first.port), 22, "inputs stay known in preview");
  const second = resources.find((r) => r.name === "second");
  assert.equal(second?.inputs.source, UNKNOWN, "check() was called with the sentinel and accepted it");
});

test("a failing check fails the program, and the next program starts clean", async () => {
  await assert.rejects(
    runMockProgram(() => new SampleRule("bad", { port: 0, source: SOURCE })),
    /SampleRule "bad": check failed: port: port must be an integer from 1 to 65535, not 0/,
  );
  const { result, resources } = await runMockProgram(() => new SampleRule("good", { port: 80, source: SOURCE }));
  assert.equal(await outputOf(result.ruleName), "allow-80-203-0-113-0-24");
  assert.deepEqual(
    resources.map((r) => r.name),
    ["good"],
  );
});

test("a resource whose provider captured a secret carries its provider text as a secret", async () => {
  class Captured extends pulumi.dynamic.Resource {
    constructor(name: string) {
      super(capturedSecretProvider, name, {}, undefined, "sample", "Captured");
    }
  }
  const { resources } = await runMockProgram(() => new Captured("c"));
  const [registered] = resources;
  assert.ok(isSecretWrapper(registered.inputs[PROVIDER_KEY]));
  assert.ok(isSecretWrapper(registered.state[PROVIDER_KEY]), "the engine keeps the provider text secret in state");
  assert.equal(registered.state.tokenLength, CAPTURED_TOKEN.length);
  assertNoSecretsIn(registered, [CAPTURED_TOKEN], "resource");
});

test("with runProviders: false a dynamic resource registers as written and no provider code runs", async () => {
  // Port 0 fails the provider's check; nothing is checked or created here, so the program succeeds.
  const { result: rule, resources } = await runMockProgram(() => new SampleRule("unchecked", { port: 0, source: SOURCE }), {
    runProviders: false,
  });
  assert.equal(await outputOf(rule.id), "unchecked-id");
  assert.equal(await outputOf(rule.port), 0, "outputs are the inputs");
  assert.equal(await outputOf(rule.ruleName), undefined, "create() did not run");
  const [registered] = resources;
  assert.equal(registered.type, "pulumi-nodejs:dynamic/sample:SampleRule");
  assert.equal(typeof registered.inputs[PROVIDER_KEY], "string", "the provider was still serialised");
  assert.deepEqual(registered.state, registered.inputs);
});

test("mocks answer the registrations the harness does not run, and the program's function calls", async () => {
  const calls: string[] = [];
  const { result, resources } = await runMockProgram(
    async () => {
      const found = await pulumi.runtime.invoke("sample:index:lookup", { name: "web" });
      const rule = new SampleRule("answered", { port: 22, source: SOURCE });
      return { found, rule };
    },
    {
      runProviders: false,
      mocks: {
        newResource: (args) => ({ id: `${args.name}-custom`, state: { ...args.inputs, ruleName: "from-mock" } }),
        call: (args) => {
          calls.push(args.token);
          return { address: `${args.inputs.name}.example` };
        },
      },
    },
  );
  assert.deepEqual(calls, ["sample:index:lookup"]);
  assert.deepEqual(result.found, { address: "web.example" });
  assert.equal(await outputOf(result.rule.id), "answered-custom");
  assert.equal(await outputOf(result.rule.ruleName), "from-mock");
  assert.equal(resources[0].state.ruleName, "from-mock");
});
