// `jit request` and `jit revoke` on the local Azure endpoint, each run through `run(argv, streams)`
// pointed at the endpoint (its address, CA certificate and a token) and the ledger by the environment alone.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Grant } from "../../provider/src/model";
import { CloudUnderTest, azureUnderTest } from "../pulumi/clouds";
import { deployPolicy, jit, shown, vmOf } from "./support";

let under: CloudUnderTest;

before(async () => {
  under = await azureUnderTest();
  await deployPolicy(under);
});

after(() => under?.close());

test("jit request opens port 22 of an Azure VM for the source, and jit revoke puts the NSGs back as they were", async () => {
  const locked = under.snapshot();
  assert.equal(under.reachable("203.0.113.7", 22), false, "the policy closed port 22");

  const request = await jit(under.env, "--json", "request", "--policy", "web", "--vm", vmOf(under), "--port", "22", "--source", "203.0.113.7", "--duration", "PT15M");
  assert.equal(request.code, 0, shown(request));
  const grant = JSON.parse(request.stdout) as Grant;
  assert.deepEqual([grant.cloud, grant.state, grant.virtualMachines[0].ports[0].sourceAddressPrefix], ["azure", "active", "203.0.113.7"]);
  assert.ok(grant.changes.length > 0 && grant.changes.every((c) => c.kind === "azure-nsg-rule" && c.status === "applied"));
  assert.equal(under.reachable("203.0.113.7", 22), true);
  assert.equal(under.reachable("203.0.113.9", 22), false);

  const revoke = await jit(under.env, "revoke", grant.id);
  assert.equal(revoke.code, 0, shown(revoke));
  assert.equal(revoke.stdout, `Grant ${grant.id} revoked (UserRequested).\n`);
  assert.equal(under.reachable("203.0.113.7", 22), false);
  assert.deepEqual(under.snapshot(), locked, "the NSGs are as the policy left them");
});
