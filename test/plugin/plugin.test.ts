// The plugin as the engine meets it, without a cloud: its schema and version, its configuration,
// Check on what a YAML program supplies, Construct of the role components (children registered
// with a fake resource monitor), and the read-only functions over a ledger.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { openLedger } from "../../provider/src/ledger";
import { AZURE_VM, SUBSCRIPTION, azurePolicy, sampleGrant } from "../../provider/src/model/testing/fixtures";
import { HostCallError, UNKNOWN, isSecretWrapper, wrapSecret } from "../support/pulumi";
import { FakeEngine, Plugin, ROOT, startFakeEngine, startPlugin, urnOf } from "./support";
import { loadYamlExample } from "./yaml";

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

describe("the pulumi-jit plugin", () => {
  let dir: string;
  let engine: FakeEngine;
  let plugin: Plugin;
  let grantId: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "jit-plugin-"));
    const ledger = await openLedger(path.join(dir, "ledger.db"));
    await ledger.putPolicy({ policy: azurePolicy(), baseline: {} });
    grantId = (await ledger.createGrant(sampleGrant({ now: Date.now() }))).id;
    await ledger.close();
    engine = await startFakeEngine();
    plugin = await startPlugin({ engine: engine.address });
    await plugin.configure({ ledger: path.join(dir, "ledger.db") });
  });
  after(async () => {
    await plugin?.close();
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves schema.json as it is, and the package's version", async () => {
    assert.equal(await plugin.schema(), readFileSync(path.join(ROOT, "schema.json"), "utf8"));
    assert.equal(await plugin.pluginInfo(), PACKAGE.version);
  });

  it("checks its configuration, refusing credentials and passwords by name", async () => {
    const good = await plugin.checkConfig({ ledger: path.join(dir, "ledger.db"), awsRegion: "eu-west-1", azureEndpoint: UNKNOWN, version: "0.1.0" });
    assert.deepEqual(good.failures, []);
    const bad = await plugin.checkConfig({
      ledger: "postgres://jit:hunter2@db.example.com/jit",
      awsSecretAccessKey: wrapSecret("x"),
      region: "eu-west-1",
      azureEndpoint: "",
    });
    const reasons = Object.fromEntries(bad.failures.map((f) => [f.property, f.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ["awsSecretAccessKey", "azureEndpoint", "ledger", "region"]);
    assert.match(reasons.ledger, /must not carry a user name or password/);
    assert.match(reasons.awsSecretAccessKey, /takes no credentials as configuration/);
    assert.match(reasons.region, /is not a pulumi-jit setting; the settings are ledger, brokerUrl, azureEndpoint/);
    assert.match(reasons.azureEndpoint, /must be a non-empty string/);
    await assert.rejects(plugin.configure({ awsSecretAccessKey: "x" }), (err: HostCallError) => err.code === 3 && /pulumi-jit:awsSecretAccessKey: pulumi-jit takes no credentials/.test(err.details));
    // Older engines send `pulumi-jit:config:<key>` variables instead of `args`.
    await assert.rejects(plugin.configure({ awsSecretAccessKey: "x" }, "variables"), /pulumi-jit:awsSecretAccessKey/);
    assert.deepEqual(await plugin.configure({ ledger: path.join(dir, "ledger.db") }, "variables"), { acceptSecrets: true, acceptResources: true });
    assert.deepEqual(await plugin.configure({ ledger: path.join(dir, "ledger.db") }), { acceptSecrets: true, acceptResources: true });
    assert.deepEqual(await plugin.diffConfig({ ledger: "a", version: "0.1.0" }, { ledger: "a", version: "0.2.0" }), { changes: "none", diffs: [] });
    assert.deepEqual(await plugin.diffConfig({ ledger: "a" }, { ledger: "b", awsRegion: "eu-west-1" }), { changes: "some", diffs: ["ledger", "awsRegion"] });
  });

  it("accepts the YAML example's policy, and refuses a broken copy naming the field", async () => {
    const values: Record<string, string> = { vmId: AZURE_VM, resourceGroupName: "rg1", sourcePrefix: "203.0.113.0/24", opsGroupId: "00000000-0000-0000-0000-0000000000aa" };
    const resolve = (v: unknown): unknown =>
      typeof v === "string" ? v.replace(/\$\{(\w+)\}/g, (_m, k: string) => values[k]) : Array.isArray(v) ? v.map(resolve) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)])) : v;
    const yamlPolicy = loadYamlExample().resources.policy;
    const urn = urnOf(yamlPolicy.type, "policy");
    const props = resolve(yamlPolicy.properties) as Record<string, unknown>;
    assert.deepEqual((await plugin.check(urn, props)).failures, []);

    const port = (p: Record<string, unknown>) => ((p.virtualMachines as Record<string, unknown>[])[0].ports as Record<string, unknown>[])[0];
    const cases: [string, (p: Record<string, unknown>) => void, string, RegExp][] = [
      ["a protocol the schema lacks", (p) => (port(p).protocol = "ICMP"), "virtualMachines[0].ports[0].protocol", /must be one of "TCP", "UDP", "\*", not "ICMP"/],
      ["a misspelt property", (p) => (port(p).maxDuration = "PT1H"), "virtualMachines[0].ports[0].maxDuration", /is not a property of pulumi-jit:index:PortRule/],
      ["a port number as text", (p) => (port(p).number = "22"), "virtualMachines[0].ports[0].number", /must be a whole number, not "22"/],
      ["a duration the policy model refuses", (p) => (port(p).maxRequestAccessDuration = "P2D"), "virtualMachines[0].ports[0].maxRequestAccessDuration", /./],
      [
        "an EC2 instance in an Azure policy",
        (p) => {
          (p.virtualMachines as Record<string, unknown>[])[0].id = "i-0123456789abcdef0";
          delete p.requesters;
        },
        "virtualMachines[0].id",
        /is not an Azure VM resource id; this is the azure JitPolicy/,
      ],
    ];
    for (const [what, breakIt, field, reason] of cases) {
      const broken = structuredClone(props);
      breakIt(broken);
      const { failures } = await plugin.check(urn, broken);
      const named = failures.find((f) => f.property === field);
      assert.ok(named, `${what}: ${JSON.stringify(failures)}`);
      assert.match(named.reason, reason, what);
    }
  });

  it("constructs the Azure role component, whose children register with the engine", async () => {
    const scope = `/subscriptions/${SUBSCRIPTION}/resourceGroups/app`;
    const result = await plugin.construct(engine, "pulumi-jit:azure:JitRole", "requesters", { kind: "request", scope, principalId: "00000000-0000-0000-0000-0000000000aa", principalType: "Group" });
    const component = urnOf("pulumi-jit:azure:JitRole", "requesters");
    assert.equal(result.urn, component);
    const mine = engine.registrations.filter((r) => r.name.startsWith("requesters"));
    assert.deepEqual(
      mine.map((r) => [r.type, r.name, r.custom, r.parent]),
      [
        ["pulumi-jit:azure:JitRole", "requesters", false, ""],
        ["azure-native:authorization:RoleDefinition", "requesters", true, component],
        ["azure-native:authorization:RoleAssignment", "requesters-assignment", true, component],
      ],
    );
    const definition = mine[1].object as { roleName: string; assignableScopes: string[]; permissions: { actions: string[] }[] };
    assert.deepEqual(definition.assignableScopes, [scope]);
    assert.ok(definition.permissions[0].actions.includes("Microsoft.Compute/virtualMachines/read"), JSON.stringify(definition.permissions));
    assert.equal((mine[2].object as { principalId: string }).principalId, "00000000-0000-0000-0000-0000000000aa");
    assert.equal(result.state.roleDefinitionId, "requesters-id");
    assert.deepEqual(result.state.actions, definition.permissions[0].actions);
  });

  it("constructs the AWS role policy component with its attachment", async () => {
    const arn = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0";
    const result = await plugin.construct(engine, "pulumi-jit:aws:JitRolePolicy", "ops-direct", { kind: "direct", instanceArns: [arn], role: "ops" });
    const component = urnOf("pulumi-jit:aws:JitRolePolicy", "ops-direct");
    const mine = engine.registrations.filter((r) => r.name.startsWith("ops-direct"));
    assert.deepEqual(
      mine.map((r) => [r.type, r.custom, r.parent]),
      [
        ["pulumi-jit:aws:JitRolePolicy", false, ""],
        ["aws:iam/policy:Policy", true, component],
        ["aws:iam/rolePolicyAttachment:RolePolicyAttachment", true, component],
      ],
    );
    const document = JSON.parse((mine[1].object as { policy: string }).policy) as { Statement: { Action: string | string[]; Resource: string | string[] }[] };
    assert.ok(document.Statement.some((s) => ([] as string[]).concat(s.Resource).includes(arn)), "scoped to the instance");
    assert.deepEqual(result.state.document, document);
    assert.equal((mine[2].object as { role: string }).role, "ops");
  });

  it("refuses to construct what it does not know", async () => {
    await assert.rejects(plugin.construct(engine, "pulumi-jit:azure:JitPolicy", "x", {}), /unknown component type pulumi-jit:azure:JitPolicy/);
  });

  it("serves read-only functions over the ledger, checking arguments against the schema", async () => {
    const policy = await plugin.invoke("pulumi-jit:index:getPolicy", { name: "web" });
    assert.deepEqual(policy.failures, []);
    assert.equal(policy.outputs.cloud, "azure");
    assert.deepEqual(policy.outputs.policy, JSON.parse(JSON.stringify(azurePolicy())));
    assert.deepEqual((await plugin.invoke("pulumi-jit:index:getPolicy", { name: "nope" })).failures.map((f) => f.property), ["name"]);
    const sealed = await plugin.invoke("pulumi-jit:index:getPolicy", { name: wrapSecret("web") });
    assert.ok(isSecretWrapper(sealed.outputs.policy) && isSecretWrapper(sealed.outputs.name), "asked about a secret, the answer is secret");

    const grants = await plugin.invoke("pulumi-jit:index:listGrants", { policy: "web", states: ["pending"] });
    assert.deepEqual((grants.outputs.grants as { id: string }[]).map((g) => g.id), [grantId]);
    assert.deepEqual((await plugin.invoke("pulumi-jit:index:listGrants", { policy: "web", states: ["active"] })).outputs.grants, []);
    assert.deepEqual((await plugin.invoke("pulumi-jit:index:listGrants", { limit: 5000 })).failures.map((f) => f.property), ["limit"]);
    assert.deepEqual((await plugin.invoke("pulumi-jit:index:listGrants", { state: "active" })).failures.map((f) => f.property), ["state"]);

    const request = (number: number) => ({ policy: "web", virtualMachines: [{ id: AZURE_VM, ports: [{ number, duration: "PT1H", allowedSourceAddressPrefix: "203.0.113.9" }] }] });
    const allowed = await plugin.invoke("pulumi-jit:index:checkRequest", request(22));
    assert.equal(allowed.outputs.allowed, true);
    assert.deepEqual((allowed.outputs.virtualMachines as { ports: { sourceAddressPrefix: string }[] }[])[0].ports[0].sourceAddressPrefix, "203.0.113.9");
    const refused = await plugin.invoke("pulumi-jit:index:checkRequest", request(23));
    assert.equal(refused.outputs.allowed, false);
    assert.equal(refused.outputs.field, "virtualMachines[0].ports[0].number");
    assert.match(String(refused.outputs.reason), /port 23 .* is not in policy "web"/);

    // Opening access is never a function: functions run during preview.
    await assert.rejects(plugin.invoke("pulumi-jit:index:requestAccess", request(22)), /unknown function pulumi-jit:index:requestAccess/);
    const ledger = await openLedger(path.join(dir, "ledger.db"));
    assert.equal((await ledger.listGrants({})).length, 1, "no grant was made");
    await ledger.close();
  });
});
