// The JitPolicy resources through the spawned plugin, against the local Azure and EC2 endpoints,
// called as the engine calls a native provider: Configure with the provider's settings (credentials
// stay in the environment), Check, Diff, Create, Read, Update, Delete, with secrets and unknowns
// as the engine sends them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CONFIG_KEYS } from "../../provider/src/plugin/config";
import { checkResourceInputs, packageSchema } from "../../provider/src/plugin/schema";
import { openLedger } from "../../provider/src/ledger";
import { isSecretWrapper, wrapSecret, UNKNOWN, HostCallError, assertNoSecretsIn, PropertyMap } from "../support/pulumi";
import { CloudUnderTest, awsUnderTest, azureUnderTest } from "../pulumi/clouds";
import { Plugin, startPlugin, urnOf } from "./support";

/** The provider's settings from a test environment: what the config covers goes to Configure, the rest (credentials) stays environment. */
function splitEnv(env: Record<string, string>): { config: Record<string, string>; env: Record<string, string> } {
  const config: Record<string, string> = {};
  const rest = { ...env };
  for (const [key, { env: name }] of Object.entries(CONFIG_KEYS)) {
    if (rest[name] !== undefined) {
      config[key] = rest[name];
      delete rest[name];
    }
  }
  return { config, env: rest };
}

const REQUESTER = { azure: "ops@contoso.com", aws: "arn:aws:iam::123456789012:role/Ops" };
const plainOf = (v: unknown) => (isSecretWrapper(v) ? v.value : v);

for (const start of [azureUnderTest, awsUnderTest]) {
  describe(`${start.name.replace("UnderTest", "")} JitPolicy through the plugin`, () => {
    let u: CloudUnderTest;
    let plugin: Plugin;
    let urn: string;

    before(async () => {
      u = await start();
      const { config, env } = splitEnv(u.env);
      assert.ok(config.ledger, "the ledger comes from the provider's configuration");
      plugin = await startPlugin({ env });
      assert.deepEqual(await plugin.configure(config), { acceptSecrets: true, acceptResources: true });
      urn = urnOf(`pulumi-jit:${u.cloud}:JitPolicy`, "web");
    });
    after(async () => {
      await plugin?.close();
      await u?.close();
    });

    it("previews with unknown inputs without touching the cloud", async () => {
      const writes = u.writes();
      const unknownVm = { virtualMachines: [{ id: UNKNOWN, ports: (u.inputs.virtualMachines as PropertyMap[])[0].ports }] };
      const checked = await plugin.check(urn, unknownVm);
      assert.deepEqual(checked.failures, []);
      assert.equal(checked.inputs.policyName, "web", "named after the resource, as the TypeScript class does");
      const olds = { ...u.inputs, cloud: u.cloud, rules: [], vms: [], drift: [], warnings: [], baseline: {} };
      const d = await plugin.diff(urn, "web", olds, { ...u.inputs, ...unknownVm });
      assert.equal(d.changes, "some");
      assert.deepEqual(d.replaces, []);
      assert.deepEqual(d.detailed, { "virtualMachines[0].id": "UPDATE" });
      const renamed = await plugin.diff(urn, "web", olds, { ...u.inputs, policyName: UNKNOWN });
      assert.deepEqual(renamed.replaces, ["policyName"]);
      assert.deepEqual(renamed.detailed, { policyName: "UPDATE_REPLACE" });
      assert.equal(u.writes(), writes, "no cloud write during preview");
    });

    it("creates, refreshes, imports, diffs, updates and deletes the baseline", async () => {
      const before = u.snapshot();
      assert.equal(u.reachable(u.outsider, 22), true);
      const checked = await plugin.check(urn, u.inputs);
      assert.deepEqual(checked.failures, []);

      const created = await plugin.create(urn, checked.inputs);
      assert.equal(created.id, "web");
      assert.equal(created.properties.cloud, u.cloud);
      assert.ok((created.properties.rules as unknown[]).length > 0);
      assert.deepEqual((created.properties.vms as { status: string }[]).map((v) => v.status), ["protected"]);
      assert.equal(u.reachable(u.outsider, 22), false, "port 22 is closed once the policy applies");
      assertNoSecretsIn(created.properties, u.secrets);
      // The outputs are the schema's: every one declared, and every declared one present unless it is an input not given.
      const declared = packageSchema().doc.resources![`pulumi-jit:${u.cloud}:JitPolicy`].properties!;
      assert.deepEqual(Object.keys(created.properties).filter((k) => !(k in declared)), []);
      assert.deepEqual(Object.keys(declared).filter((k) => !(k in created.properties) && !(k in packageSchema().doc.resources![`pulumi-jit:${u.cloud}:JitPolicy`].inputProperties!)), []);

      const refreshed = await plugin.read(urn, created.id, created.properties);
      assert.equal(refreshed.id, "web");
      assert.deepEqual(refreshed.properties.rules, created.properties.rules);
      assert.deepEqual(refreshed.inputs, u.inputs);

      // `pulumi import pulumi-jit:<cloud>:JitPolicy web web`: the id alone.
      const imported = await plugin.read(urn, "web");
      assert.equal(imported.id, "web");
      assert.deepEqual(imported.properties.rules, created.properties.rules);
      assert.deepEqual(imported.properties.baseline, created.properties.baseline);
      assert.deepEqual(imported.inputs.policyName, "web");
      assert.deepEqual(checkResourceInputs(packageSchema().doc, `pulumi-jit:${u.cloud}:JitPolicy`, imported.inputs), [], "the inputs import hands back are valid inputs");
      assert.deepEqual((imported.inputs.virtualMachines as { id: string }[]).map((v) => v.id), (u.inputs.virtualMachines as { id: string }[]).map((v) => v.id));
      assert.deepEqual(await plugin.read(urn, "no-such-policy"), { id: "", properties: {}, inputs: {} }, "an id the ledger does not hold imports nothing");
      const otherCloud = urnOf(`pulumi-jit:${u.cloud === "aws" ? "azure" : "aws"}:JitPolicy`, "web");
      await assert.rejects(plugin.read(otherCloud, "web"), /policy "web" is on .*; import it as pulumi-jit:.*:JitPolicy/);

      assert.equal((await plugin.diff(urn, "web", created.properties, u.inputs)).changes, "none");
      const d = await plugin.diff(urn, "web", created.properties, u.updated);
      assert.equal(d.changes, "some");
      assert.deepEqual(d.replaces, []);
      assert.deepEqual(d.diffs, ["virtualMachines"]);
      assert.deepEqual(d.detailed, { "virtualMachines[0].ports[1]": "ADD" });

      const updated = await plugin.update(urn, "web", created.properties, u.updated);
      assert.equal(u.reachable(u.outsider, 3389), false, "the added port is closed too");
      assert.equal(((updated.virtualMachines as { ports: unknown[] }[])[0].ports).length, 2);

      const replaced = await plugin.diff(urn, "web", updated, { ...u.updated, policyName: "web2" });
      assert.deepEqual(replaced.replaces, ["policyName"]);
      assert.deepEqual(replaced.detailed, { policyName: "UPDATE_REPLACE" });

      await plugin.delete(urn, "web", updated);
      assert.deepEqual(u.snapshot(), before, "delete leaves the network as it was");
      assert.equal(u.reachable(u.outsider, 22), true);
    });

    it("keeps secret inputs secret in the outputs, and what is derived from them", async () => {
      const secretUrn = urnOf(`pulumi-jit:${u.cloud}:JitPolicy`, "sealed");
      const vms = u.inputs.virtualMachines as PropertyMap[];
      const inputs = { policyName: "sealed", virtualMachines: [{ ...vms[0], id: wrapSecret(vms[0].id) }], requesters: wrapSecret([REQUESTER[u.cloud]]) };
      const checked = await plugin.check(secretUrn, inputs);
      assert.deepEqual(checked.failures, []);
      assert.ok(isSecretWrapper((checked.inputs.virtualMachines as PropertyMap[])[0].id), "Check hands the secret back still wrapped");
      const created = await plugin.create(secretUrn, checked.inputs);
      for (const key of ["requesters", "virtualMachines", "rules", "vms", "baseline"]) {
        assert.ok(isSecretWrapper(created.properties[key]), `${key} is secret`);
      }
      assert.equal(isSecretWrapper(created.properties.policyName), false, "a plain input stays plain");
      assert.deepEqual(plainOf(created.properties.requesters), [REQUESTER[u.cloud]]);
      const refreshed = await plugin.read(secretUrn, created.id, created.properties);
      assert.ok(isSecretWrapper(refreshed.properties.requesters) && isSecretWrapper(refreshed.properties.vms), "refresh keeps them secret");
      await plugin.delete(secretUrn, created.id, created.properties);
    });
  });
}

describe("a Create that fails half-way", () => {
  let u: CloudUnderTest;
  let plugin: Plugin;

  before(async () => {
    u = await awsUnderTest();
    // The ledger refuses audit records: the baseline is laid and the policy recorded, then the
    // audit write fails, as a full disk or a lost connection would make it.
    const ledger = await openLedger(u.env.JIT_LEDGER);
    await ledger.close();
    const db = new DatabaseSync(u.env.JIT_LEDGER);
    db.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    db.close();
    plugin = await startPlugin({ env: u.env });
    await plugin.configure({});
  });
  after(async () => {
    await plugin?.close();
    await u?.close();
  });

  it("returns the partial-state error with the id and state, so that the engine records it and can delete it", async () => {
    const before = u.snapshot();
    const urn = urnOf("pulumi-jit:aws:JitPolicy", "web");
    const err = await plugin.create(urn, u.inputs).then(
      () => assert.fail("Create succeeded"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HostCallError, String(err));
    assert.match(err.details, /database or disk is full/);
    assert.ok(err.initFailure, "the error carries ErrorResourceInitFailed");
    assert.equal(err.initFailure.id, "web");
    assert.deepEqual(err.initFailure.properties.virtualMachines, u.inputs.virtualMachines);
    assert.ok(err.initFailure.properties.baseline, "the state holds what the baseline changed");
    assert.match(err.initFailure.reasons.join("\n"), /the baseline of policy "web" is in place/);
    assert.equal(u.reachable(u.outsider, 22), false, "what exists is the baseline");

    // Delete the ledger's refusal away, then destroy from the recorded state.
    const db = new DatabaseSync(u.env.JIT_LEDGER);
    db.exec("DROP TRIGGER refuse_audit");
    db.close();
    await plugin.delete(urn, "web", err.initFailure.properties);
    assert.deepEqual(u.snapshot(), before);
  });

  it("is a plain failure when this Create made nothing, even if the ledger holds the name", async () => {
    const created = await plugin.create(urnOf("pulumi-jit:aws:JitPolicy", "web"), u.inputs);
    const writes = u.writes();
    // A second resource claiming the same policy name: refused before anything changes.
    const err = await plugin.create(urnOf("pulumi-jit:aws:JitPolicy", "web-again"), u.inputs).then(
      () => assert.fail("Create succeeded"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HostCallError);
    assert.match(err.details, /already registered in the ledger/);
    assert.equal(err.initFailure, undefined, "nothing of this resource exists");
    assert.equal(u.writes(), writes);
    await plugin.delete(urnOf("pulumi-jit:aws:JitPolicy", "web"), "web", created.properties);
  });
});
