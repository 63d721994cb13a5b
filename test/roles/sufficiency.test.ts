// The configure and read roles are enough for their jobs, on endpoints that authorise each call as
// the clouds do (Azure RBAC with linked join actions; IAM with resource ARNs and conditions):
// configure lays, inspects and removes a baseline and sweeps; read scans and inspects. (That the
// request role is exactly enough is least-privilege.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createAwsDriver } from "../../provider/src/aws";
import { createAzureDriver } from "../../provider/src/azure";
import { startAwsEmulator } from "../../provider/src/emulator/aws";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { parsePolicy } from "../../provider/src/model";
import { awsPolicyDocument, azureRoleDefinition } from "../../provider/src/roles";
import { scan } from "../../provider/src/scan";
import { FIREWALL_JOINS } from "./joins";

const ssh = (vmId: string) => parsePolicy({ name: "web", virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });

test("Azure: configure lays, inspects and removes a baseline (NSGs and a classic firewall) and sweeps; read scans and inspects", async () => {
  const emu = await startAzureEmulator({ lroPolls: 0 });
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
    emu.seed.publicIp("app", "fw-ip");
    emu.seed.firewall("app", "fw", { subnet: emu.seed.subnet("app", "app-vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" }), publicIp: "fw-ip" });
    emu.seed.rule("app", "web1-nsg", { name: "ssh", priority: 300, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "Internet", destinationPortRange: "22" });
    const scope = `/subscriptions/${emu.subscriptionId}`;
    const driverAs = (principal: string) =>
      createAzureDriver({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor(principal) as never, pollIntervalMs: 0, retryOptions: { maxRetries: 0 } });
    const roles = { configure: azureRoleDefinition({ kind: "configure", scope }).Actions, read: azureRoleDefinition({ kind: "read", scope }).Actions };
    emu.seed.principal("deployer", { actions: roles.configure });
    emu.seed.principal("auditor", { actions: roles.read });
    const configure = driverAs("deployer");
    const policy = ssh(vm.vmId);

    // A firewall write references its subnet and public IP, so it needs their join actions too.
    const lacking = FIREWALL_JOINS.filter((a) => !roles.configure.includes(a));
    if (lacking.length > 0) {
      await assert.rejects(configure.applyBaseline(policy, undefined, {}), (e: Error) => /LinkedAuthorizationFailed|join\/action/.test(`${e.message} ${String((e as { cause?: unknown }).cause)}`));
      emu.seed.principal("deployer", { actions: lacking });
    }
    const applied = await configure.applyBaseline(policy, undefined, {});
    assert.equal(applied.rules.length, 3, "a deny rule in the subnet's NSG, the NIC's and the firewall");
    await configure.inspectBaseline(policy, applied.record);
    await configure.sweepOrphans({ azureSubscriptions: [emu.subscriptionId] }, new Date(), async () => () => "unknown");

    const report = await scan({ policies: [policy], azure: { subscriptionId: emu.subscriptionId, connection: { endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credentialFor("auditor") as never } } });
    assert.equal(report.results[0].verdict, "Healthy", "the subnet's NSG keeps the Internet out");
    await driverAs("auditor").inspectBaseline(policy, applied.record);
    await configure.removeBaseline(policy, applied.record);
    assert.deepEqual(
      emu.calls.list().filter((c) => c.status === 403 && c.principal === "auditor"),
      [],
      "the read role is refused nothing",
    );
  } finally {
    await emu.close();
  }
});

test("AWS: configure lays, inspects and removes a baseline and sweeps; read scans and inspects", async () => {
  const emu = await startAwsEmulator({ randomSeed: 5 });
  try {
    const web = emu.seed.securityGroup({ name: "web", ingress: [{ fromPort: 0, toPort: 65535, source: "0.0.0.0/0" }] });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const arn = `arn:aws:ec2:${emu.region}:123456789012:instance/${vm.id}`;
    emu.seed.principal({ name: "deployer", policies: [{ name: "configure", document: awsPolicyDocument({ kind: "configure", instanceArns: [arn] }) }] });
    emu.seed.principal({ name: "auditor", policies: [{ name: "read", document: awsPolicyDocument({ kind: "read", instanceArns: [arn] }) }] });
    const deployer = createAwsDriver({ ...emu.clientConfig, credentials: emu.credentialsFor("deployer"), maxAttempts: 1, backoffMs: 1 });
    const auditor = createAwsDriver({ ...emu.clientConfig, credentials: emu.credentialsFor("auditor"), maxAttempts: 1, backoffMs: 1 });
    const policy = ssh(vm.id);
    try {
      const applied = await deployer.applyBaseline(policy, undefined, {});
      assert.deepEqual(applied.rules.map((r) => r.action), ["split"], "the wide rule is split around port 22");
      await deployer.inspectBaseline(policy, applied.record);
      await deployer.sweepOrphans({ awsRegions: [emu.region] }, new Date(), async () => () => "unknown");

      const report = await scan({ policies: [policy], aws: { region: emu.region, connection: { ...emu.clientConfig, credentials: emu.credentialsFor("auditor"), maxAttempts: 1 } } });
      assert.deepEqual(report.results[0].exposures.map((e) => e.port), [3389, 5985, 5986], "the split leaves the other ports open");
      await auditor.inspectBaseline(policy, applied.record);
      await deployer.removeBaseline(policy, applied.record);
    } finally {
      await deployer.destroy();
      await auditor.destroy();
    }
    assert.deepEqual(emu.calls.list().filter((c) => c.status === 403), [], "IAM refused nothing");
    assert.ok(emu.calls.list().some((c) => c.principal === "deployer" && c.operation === "AuthorizeSecurityGroupIngress"), "split rules are put back (tagged when made)");
  } finally {
    await emu.close();
  }
});
