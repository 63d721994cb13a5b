// A policy that `pulumi up` registers (the JitPolicy provider's create) lands in the shared store
// its `ledger` input or JIT_LEDGER names, and a requester elsewhere (`jit` in a process of its own)
// finds it there.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { openLedger } from "../../provider/src/ledger";
import type { Grant } from "../../provider/src/model";
import { policyProviderShim } from "../../provider/src/pulumi/shim";
import { CloudUnderTest, azureUnderTest } from "../pulumi/clouds";
import { deployPolicy, jit, shown, vmOf } from "../cli/support";
import { assertNoSecretsIn, startDynamicProviderHost } from "../support/pulumi";
import { PACKAGE_ROOT, consumerProject } from "../support/pulumi/consumer";
import { StoreServer, startPostgres } from "../support/servers";

let under: CloudUnderTest;
let store: StoreServer;
/** The SQLite ledger the environment names, which the `ledger` input overrides. */
let envLedger: string;

before(async () => {
  [under, store] = await Promise.all([azureUnderTest(), startPostgres()]);
  envLedger = under.env.JIT_LEDGER;
  under.env = { ...under.env, ...store.env, JIT_LEDGER: store.url };
  await (await openLedger(store.url, { init: true })).close();
});

after(async () => {
  await under?.close();
  await store?.stop();
});

test("a JitPolicy's ledger input: refused with a credential in it; otherwise the engine's create, read, update and delete use that store, whatever JIT_LEDGER says", async () => {
  // The credential goes to the environment, as PostgreSQL's own tools take it; the input names the server only.
  const url = new URL(store.url);
  const stackUrl = `${store.url}?schema=stack`;
  const ledgerInput = `postgres://${url.host}${url.pathname}?schema=stack`;
  await (await openLedger(stackUrl, { init: true })).close();
  const env = { ...under.env, JIT_LEDGER: envLedger, PGUSER: decodeURIComponent(url.username), PGPASSWORD: decodeURIComponent(url.password) };
  const consumer = consumerProject();
  const host = await startDynamicProviderHost({
    cwd: consumer.dir,
    env,
    nodeArgs: ["--conditions=pulumi-jit-source", "--import", pathToFileURL(path.join(PACKAGE_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href],
    project: "jit",
  });
  const original = under.snapshot();
  try {
    await host.configure({});
    const provider = await host.bind(policyProviderShim("azure"));
    const withPassword = await provider.check({}, { ...under.inputs, ledger: store.url });
    assert.deepEqual(withPassword.failures.map((f) => f.property), ["ledger"]);
    assert.match(withPassword.failures[0].reason, /credential/);
    assert.ok(!withPassword.failures[0].reason.includes(decodeURIComponent(url.password)), "the refusal does not repeat the password");

    const inputs = { ...under.inputs, ledger: ledgerInput };
    const checked = await provider.check({}, inputs);
    assert.deepEqual(checked.failures, []);
    const created = await provider.create(checked.inputs);
    assert.equal(created.properties.ledger, ledgerInput, "the state keeps the ledger, to read and delete from");
    const [stack, fromEnv] = [await openLedger(stackUrl), await openLedger(envLedger)];
    try {
      assert.deepEqual((await stack.listPolicies()).map((p) => p.policy.name), ["web"]);
      assert.deepEqual(await fromEnv.listPolicies(), [], "nothing lands in the environment's ledger");
      const read = await provider.read(created.id, created.properties);
      assert.equal(read.properties.ledger, ledgerInput);
      const updated = await provider.update(created.id, created.properties, { ...under.updated, ledger: ledgerInput });
      assert.equal(under.reachable(under.outsider, 3389), false, "the update closed the added port");
      assert.equal((await stack.getPolicy("web"))?.policy.virtualMachines[0].ports.length, 2);
      // Another ledger without the policy: moving it is `jit ledger migrate`'s work, not a silent re-registration.
      await assert.rejects(provider.update(created.id, updated.properties, { ...under.updated, ledger: envLedger }), /registered in .*stack.*jit ledger migrate/s);
      assert.deepEqual(await fromEnv.listPolicies(), []);
      for (const state of [created.properties, read.properties, updated.properties]) assertNoSecretsIn(state, [...under.secrets, decodeURIComponent(url.password)]);
      await provider.delete(created.id, updated.properties);
      assert.deepEqual(await stack.listPolicies(), [], "delete removed the policy from the input's ledger");
      assert.deepEqual(under.snapshot(), original, "and the cloud is as it was");
    } finally {
      await Promise.all([stack.close(), fromEnv.close()]);
    }
  } finally {
    await host.close();
    consumer.remove();
  }
});

test("pulumi up registers the policy in PostgreSQL; jit request on another process finds it and records the grant there", async () => {
  await deployPolicy(under);
  const ledger = await openLedger(store.url);
  try {
    assert.deepEqual((await ledger.listPolicies()).map((p) => p.policy.name), ["web"]);
    const request = await jit(under.env, "--json", "request", "--policy", "web", "--vm", vmOf(under), "--port", "22", "--source", "203.0.113.7", "--duration", "PT15M");
    assert.equal(request.code, 0, shown(request));
    const grant = JSON.parse(request.stdout) as Grant;
    assert.equal((await ledger.getGrant(grant.id))?.state, "active");
    const actions = (await ledger.listAudit()).map((e) => e.action).reverse();
    assert.deepEqual(actions, ["policy.create", "grant.request", "grant.apply"]);
  } finally {
    await ledger.close();
  }
});
