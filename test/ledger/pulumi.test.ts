// A policy that `pulumi up` registers (the JitPolicy provider's create) lands in the shared store
// JIT_LEDGER names, and a requester elsewhere (`jit` in a process of its own) finds it there.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { openLedger } from "../../provider/src/ledger";
import type { Grant } from "../../provider/src/model";
import { CloudUnderTest, azureUnderTest } from "../pulumi/clouds";
import { deployPolicy, jit, shown, vmOf } from "../cli/support";
import { StoreServer, startPostgres } from "../support/servers";

let under: CloudUnderTest;
let store: StoreServer;

before(async () => {
  [under, store] = await Promise.all([azureUnderTest(), startPostgres()]);
  under.env = { ...under.env, ...store.env, JIT_LEDGER: store.url };
  await (await openLedger(store.url, { init: true })).close();
});

after(async () => {
  await under?.close();
  await store?.stop();
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
