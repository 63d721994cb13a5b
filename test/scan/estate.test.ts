// `scan` and `jit scan` against the local Azure and AWS endpoints: a mixed estate whose policies
// were laid by the drivers themselves, read through the real SDK clients.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { createAzureDriver } from "../../provider/src/azure";
import { AwsEmulator, startAwsEmulator } from "../../provider/src/emulator/aws";
import { AzureEmulator, startAzureEmulator } from "../../provider/src/emulator/azure";
import { openLedger } from "../../provider/src/ledger";
import { parsePolicy } from "../../provider/src/model";
import { ScanReport, ScanResult, scan } from "../../provider/src/scan";

const ROOT = path.resolve(__dirname, "..", "..");
let az: AzureEmulator;
let aws: AwsEmulator;
let dir: string;
let ledgerFile: string;
const ids: Record<string, string> = {};

const ssh = (name: string, priority: number, source: string, port = "22") => ({
  name,
  priority,
  direction: "Inbound" as const,
  access: "Allow" as const,
  protocol: "Tcp" as const,
  sourceAddressPrefix: source,
  destinationPortRange: port,
});

before(async () => {
  az = await startAzureEmulator({ lroPolls: 0 });
  aws = await startAwsEmulator({ randomSeed: 11 });
  dir = mkdtempSync(path.join(tmpdir(), "jit-scan-"));
  ledgerFile = path.join(dir, "ledger.db");

  // Azure: one subnet without an NSG; each VM's NIC has its own NSG, or none.
  const vm = (name: string, options: { nicNsg?: boolean; resourceGroup?: string } = {}) =>
    (ids[name] = az.seed.typicalVm({ resourceGroup: "app", name, subnetNsg: false, publicIp: false, ...options }).vmId);
  vm("bare", { nicNsg: false });
  vm("web1");
  az.seed.rule("app", "web1-nsg", ssh("allow-ssh-internet", 300, "Internet"));
  vm("db1");
  az.seed.rule("app", "db1-nsg", ssh("allow-rdp-internal", 200, "10.0.0.0/8", "3389"));
  vm("app1");
  vm("legacy1");
  az.seed.rule("app", "legacy1-nsg", ssh("legacy-ssh", 200, "*"));
  vm("elsewhere", { resourceGroup: "other" });

  // The policies, laid by the Azure driver as `JitPolicy` would, and registered in the ledger.
  const owner = createAzureDriver({ endpoint: az.endpoint, ca: az.clientOptions.tlsOptions.ca, credential: az.credential as never, pollIntervalMs: 0 });
  const ledger = await openLedger(ledgerFile);
  for (const [name, vmName] of [["app", "app1"], ["legacy", "legacy1"]]) {
    const policy = parsePolicy({ name, virtualMachines: [{ id: ids[vmName], ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });
    const applied = await owner.applyBaseline(policy, undefined, {});
    await ledger.putPolicy({ policy, baseline: applied.record as never });
  }
  await ledger.close();

  // AWS: SSH open to the world, and a group with private sources only.
  const open = aws.seed.securityGroup({ name: "open-ssh", ingress: [{ port: 22, source: "0.0.0.0/0" }] });
  const internal = aws.seed.securityGroup({ name: "internal", ingress: [{ port: 22, source: "10.0.0.0/16" }, { port: 3389, source: "172.31.0.0/16" }] });
  ids.open = aws.seed.instance({ groupIds: [open.id] }).id;
  ids.internal = aws.seed.instance({ groupIds: [internal.id] }).id;
  ids.openGroup = open.id;
});

after(async () => {
  await az?.close();
  await aws?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function byName(report: ScanReport): Map<string, ScanResult> {
  return new Map(report.results.map((r) => [r.name, r]));
}

test("scan: each VM's verdict, with the rule that decides it", async () => {
  const ledger = await openLedger(ledgerFile);
  const azMark = az.calls.mark();
  const awsMark = aws.calls.mark();
  let report: ScanReport;
  try {
    report = await scan({
      ledger,
      azure: { subscriptionId: az.subscriptionId, resourceGroup: "app", connection: { endpoint: az.endpoint, ca: az.clientOptions.tlsOptions.ca, credential: az.credential as never } },
      aws: { region: aws.region, connection: { ...aws.clientConfig, maxAttempts: 1 } },
    });
  } finally {
    await ledger.close();
  }
  const r = byName(report);
  assert.deepEqual(
    report.results.map((x) => [x.name, x.verdict]),
    [
      [ids.open, "Unhealthy"],
      ["legacy1", "Unhealthy"],
      ["web1", "Unhealthy"],
      [ids.internal, "Healthy"],
      ["app1", "Healthy"],
      ["db1", "Healthy"],
      ["bare", "NotApplicable"],
    ],
  );
  assert.deepEqual(report.counts, { Unhealthy: 3, Healthy: 3, NotApplicable: 1 });

  const web1 = r.get("web1") as ScanResult;
  assert.deepEqual(web1.exposures.map((e) => [e.port, e.source, e.exposedBy.map((b) => [b.name, b.priority, b.level])]), [[22, "Internet", [["allow-ssh-internet", 300, "nic"]]]]);
  assert.match(web1.reason, /port 22 on 10\.0\.0\.\d+ is open to Internet through rule "allow-ssh-internet" \(priority 300\) in nic NSG web1-nsg$/);

  const legacy = r.get("legacy1") as ScanResult;
  assert.equal(legacy.exposures[0].policy, "legacy");
  assert.match(legacy.exposures[0].shadowedDeny?.name ?? "", /^jit-deny-legacy-22-1000-tcp-/);
  assert.ok((legacy.exposures[0].shadowedDeny?.priority ?? 0) > 200);
  assert.match(legacy.reason, /open to \* through rule "legacy-ssh" \(priority 200\) in nic NSG legacy1-nsg; JIT policy "legacy" selects it, but its deny rule "jit-deny-legacy-22-1000-tcp-\w+" \(priority \d+\) is shadowed by user rule "legacy-ssh" \(priority 200\)/);

  assert.equal(r.get("app1")?.reason, 'covered by JIT policy "app" (22); no management port is open to a broad source');
  assert.match(r.get("app1")?.details[0] ?? "", /port 22 on 10\.0\.0\.\d+: closed by rule "jit-deny-app-[\d.]+-\d+-tcp-\w+"/);
  assert.equal(r.get("db1")?.reason, "no management port is open to a broad source");
  assert.ok(r.get("db1")?.details.some((d) => /port 3389 .*open only to 10\.0\.0\.0\/8 \(rule "allow-rdp-internal" \(priority 200\)/.test(d)));
  assert.match(r.get("bare")?.reason ?? "", /no NSG on its network interfaces or their subnets/);
  assert.ok(!r.has("elsewhere"), "another resource group is not scanned");

  const open = r.get(ids.open) as ScanResult;
  assert.deepEqual(open.exposures.map((e) => [e.port, e.source, e.exposedBy.map((b) => b.container)]), [[22, "0.0.0.0/0", [ids.openGroup]]]);
  assert.match(open.exposures[0].exposedBy[0].name ?? "", /^sgr-/, "the rule id is named");
  assert.match(r.get(ids.internal)?.details.join("\n") ?? "", /port 22 on eni-\w+: open only to 10\.0\.0\.0\/16/);

  assert.equal(az.calls.count({ since: azMark, write: true }) + aws.calls.count({ since: awsMark, write: true }), 0, "a scan changes nothing");
  assert.equal(az.calls.count({ since: azMark, operation: "NetworkSecurityGroups_Get" }), 4, "each NSG is read once");
  assert.deepEqual(aws.calls.byOperation({ since: awsMark }), { DescribeNetworkInterfaces: 1, DescribeSecurityGroups: 1, DescribeSecurityGroupRules: 1 });
});

/** `jit` as a user runs it, pointed at the endpoints by the environment alone. */
async function jit(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = {
    PATH: process.env.PATH ?? "",
    ...az.env(),
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_CONFIG_FILE: path.join(dir, "aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "provider/src/cli/main.ts", "--ledger", ledgerFile, ...args], { cwd: ROOT, env });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test("jit scan: a table grouped by verdict, and the same report as JSON", async () => {
  const where = ["scan", "--subscription", az.subscriptionId, "--resource-group", "app", "--region", aws.region];
  const table = await jit(where);
  assert.equal(table.code, 0, table.stderr);
  const lines = table.stdout.split("\n");
  const heading = (h: string) => lines.findIndex((l) => l.startsWith(h));
  assert.ok(heading("UNHEALTHY (3)") === 0 && heading("UNHEALTHY") < heading("HEALTHY (3)") && heading("HEALTHY") < heading("NOT APPLICABLE (1)"), table.stdout);
  assert.match(lines[1], /^VM\s+WHERE\s+PORT\s+SOURCE\s+REASON$/);
  assert.match(table.stdout, /^web1\s+azure\/app\s+22\s+Internet\s+port 22 on 10\.0\.0\.\d+ is open to Internet through rule "allow-ssh-internet"/m);
  assert.match(table.stdout, new RegExp(`^${ids.open}\\s+aws/${aws.region}\\s+22\\s+0\\.0\\.0\\.0/0\\s+port 22 on eni-`, "m"));
  assert.match(table.stdout, /^bare\s+azure\/app\s+no NSG on its network interfaces/m);
  assert.match(table.stdout, /3 unhealthy, 3 healthy, 1 not applicable\. Add --emit policy/);

  const json = await jit(["--json", ...where]);
  assert.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as ScanReport;
  assert.deepEqual(report.counts, { Unhealthy: 3, Healthy: 3, NotApplicable: 1 });
  assert.equal(byName(report).get("legacy1")?.exposures[0].policy, "legacy");
  assert.equal(json.stderr, "", "no progress on stderr with --json");
});

test("jit scan --emit: a Pulumi program or Defender JSON for the unhealthy VMs not already in a policy", async () => {
  const program = await jit(["scan", "--subscription", az.subscriptionId, "--resource-group", "app", "--region", aws.region, "--emit", "policy", "--quiet"]);
  assert.equal(program.code, 0, program.stderr);
  assert.match(program.stdout, /^import \{ aws, azure \} from "pulumi-jit";/);
  assert.match(program.stdout, /new azure\.JitPolicy\("jit-app", \{\n {2}policyName: "jit-app",\n {2}resourceGroupName: "app",/);
  assert.match(program.stdout, new RegExp(`id: "${ids.web1}"`));
  assert.doesNotMatch(program.stdout, /legacy1/, "a VM already in a policy needs its shadowing rule fixed, not another policy");
  assert.match(program.stdout, new RegExp(`new aws\\.JitPolicy\\("jit-${aws.region}", \\{[\\s\\S]*id: "${ids.open}"`));

  const defender = await jit(["scan", "--subscription", az.subscriptionId, "--resource-group", "app", "--emit", "defender"]);
  assert.equal(defender.code, 0, defender.stderr);
  const [doc] = JSON.parse(defender.stdout) as Array<{ id: string; name: string; kind: string; location: string; properties: { virtualMachines: Array<{ id: string; ports: Array<{ number: number }> }> } }>;
  assert.equal(doc.id, `/subscriptions/${az.subscriptionId}/resourceGroups/app/providers/Microsoft.Security/locations/westeurope/jitNetworkAccessPolicies/jit-app`);
  assert.equal(doc.kind, "Basic");
  assert.deepEqual(doc.properties.virtualMachines.map((v) => [v.id, v.ports.map((p) => p.number)]), [[ids.web1, [22]]]);

  const usage = await jit(["scan"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /name what to scan: --subscription \(Azure\) and\/or --region \(AWS\)/);
});
