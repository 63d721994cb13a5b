// Layer B: the provider as the engine gets it, serialised by the SDK and rebuilt from text.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as os from "node:os";
import { assertNoSecretsIn, findSecretsIn, reloadProvider, runCrudScript, serializeProvider } from "./index";
import { SampleRuleOutputs, sampleRuleProvider } from "./fixtures/sample-rule";
import { capturedClientConfigProvider, capturedClientProvider } from "./fixtures/captured-client";
import { CAPTURED_TOKEN, capturedSecretProvider } from "./fixtures/captured-secret";

const rule = { port: 22, source: "203.0.113.0/24" };

test("the sample provider serialises without secrets and, reloaded, passes the engine's CRUD script", async () => {
  const serialized = await serializeProvider(sampleRuleProvider);
  assert.equal(serialized.containsSecrets, false);
  assertNoSecretsIn({ __provider: serialized.text }, []);
  assert.match(serialized.text, /require\("@aws-sdk\/client-sts"\)/, "the SDK is required inside the method, by name");

  const reloaded = reloadProvider(serialized.text);
  assert.notEqual(reloaded, sampleRuleProvider);

  const inPlace = await runCrudScript(reloaded, { create: rule, update: { ...rule, note: "jump host" } });
  const created = inPlace.created as unknown as SampleRuleOutputs;
  assert.equal(created.ruleName, "allow-22-203-0-113-0-24");
  assert.equal(created.region, "us-east-1", "the lazily loaded STS client resolved its region after reload");
  assert.equal(inPlace.final.replaced, false);
  assert.equal(inPlace.final.outputs.note, "jump host");

  const replaced = await runCrudScript(reloaded, { create: rule, update: { ...rule, port: 3389 } });
  assert.equal(replaced.final.replaced, true);
  assert.notEqual(replaced.final.id, replaced.id);
  assert.deepEqual(replaced.updateDiff, { changes: true, replaces: ["port"], deleteBeforeReplace: true });
});

test("the reloaded provider resolves its modules from the working directory, as the host does", async () => {
  const { text } = await serializeProvider(sampleRuleProvider);
  const projectRoot = process.cwd();
  process.chdir(os.tmpdir());
  let elsewhere;
  try {
    elsewhere = reloadProvider(text);
  } finally {
    process.chdir(projectRoot);
  }
  // So a consumer whose project root cannot resolve the SDK (a strict pnpm layout, say) fails here.
  await assert.rejects(elsewhere.create(rule), /Cannot find module '@aws-sdk\/client-sts'/);
});

test("a provider that sends through a captured SDK client cannot be serialised", async () => {
  await assert.rejects(serializeProvider(capturedClientProvider), (err: Error) => {
    assert.match(err.message, /variable 'client' which indirectly referenced/);
    assert.match(err.message, /native code function/);
    return true;
  });
});

test("a provider that reads a captured SDK client's configuration serialises, but its reloaded copy breaks", async () => {
  const serialized = await serializeProvider(capturedClientConfigProvider);
  const reloaded = reloadProvider(serialized.text);
  await assert.rejects(reloaded.create({}), /incompatible receiver/);
});

test("a provider that captured a secret Output is a secret, and carries the plaintext", async () => {
  const serialized = await serializeProvider(capturedSecretProvider);
  assert.equal(serialized.containsSecrets, true);
  assert.deepEqual(findSecretsIn({ __provider: serialized.text }, [CAPTURED_TOKEN]), [
    { path: "state.__provider", what: 'the secret "tok…" (19 characters)' },
  ]);
  const created = await reloadProvider(serialized.text).create({});
  assert.equal(created.outs.tokenLength, CAPTURED_TOKEN.length);
});
