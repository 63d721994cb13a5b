// The request role is exactly what `requestAccess` needs with the caller's own credentials: given
// to a principal on the local Azure and AWS endpoints, which authorise each call as the clouds do
// (Azure RBAC with linked join actions; IAM with resource ARNs and conditions), a request and a
// newer one that supersedes it succeed; with any one action taken away, they do not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { requestAccess } from "../../provider/src/access";
import { createAwsDriver } from "../../provider/src/aws";
import { createAzureDriver } from "../../provider/src/azure";
import { startAwsEmulator } from "../../provider/src/emulator/aws";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { openLedger } from "../../provider/src/ledger";
import type { CloudDriver } from "../../provider/src/access";
import type { Ledger } from "../../provider/src/ledger";
import { IamPolicyDocument, awsPolicyDocument, azureRoleDefinition } from "../../provider/src/roles";
import { armAction } from "../../provider/src/emulator/azure/rbac";
import { mapLimit } from "../../provider/src/util/parallel";
import { FIREWALL_JOINS } from "./joins";

interface Outcome {
  ok: boolean;
  /** What went wrong, for the assertion message. */
  why: string;
  used: Set<string>;
}

/**
 * Two requests for the same port and source, the second for longer: the second supersedes the
 * first, which `requestAccess` ends (its rules removed) with the requester's credentials too.
 */
async function requestTwice(ledger: Ledger, vmId: string, driver: CloudDriver, cloud: "azure" | "aws"): Promise<Omit<Outcome, "used">> {
  await ledger.putPolicy({
    policy: { name: "web", virtualMachines: [{ id: vmId, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24", maxRequestAccessDuration: "PT3H" }] }] },
    baseline: {},
  });
  const ask = (duration: string) =>
    requestAccess({ policy: "web", virtualMachines: [{ id: vmId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: "203.0.113.7" }] }] }, { ledger, drivers: { [cloud]: driver } });
  try {
    const first = await ask("PT1H");
    const second = await ask("PT2H");
    const older = await ledger.getGrant(first.id);
    if (second.state !== "active") return { ok: false, why: `the newer grant is ${second.state}` };
    if (older?.state !== "revoked") return { ok: false, why: `the superseded grant is ${older?.state}: ${older?.error ?? ""}` };
    return { ok: true, why: "" };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
}

/** `behindFirewall`: the VM's network also holds a classic Azure Firewall, so grants go through its DNAT rules. */
/** `group` names the resource group: runs side by side use their own, as NSG writes to one NSG id take turns in a process. */
async function azureRun(actions: readonly string[], behindFirewall = false, group = "app"): Promise<Outcome> {
  // An operation whose poll a missing permission refused ends on its own, as in Azure, but here at
  // once rather than after Azure's ~10 s: the runs are about permissions, not time.
  const emu = await startAzureEmulator({ lroPolls: 0, lroMaxMs: 20 });
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: group, name: "web1" });
    if (behindFirewall) {
      const subnet = emu.seed.subnet(group, `${group}-vnet`, "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
      emu.seed.publicIp(group, "fw-ip");
      emu.seed.firewall(group, "fw", { subnet, publicIp: "fw-ip" });
    }
    emu.seed.principal("ana", { actions: [...actions] });
    const driver = createAzureDriver({
      endpoint: emu.endpoint,
      ca: emu.clientOptions.tlsOptions.ca,
      credential: emu.credentialFor("ana") as never,
      pollIntervalMs: 0,
      retryOptions: { maxRetries: 0 },
      conflictRetries: 0,
    });
    const ledger = await openLedger(":memory:");
    try {
      const outcome = await requestTwice(ledger, vm.vmId, driver, "azure");
      const used = new Set(emu.calls.list().flatMap((c) => (c.principal === "ana" ? (armAction(c.method, c.path) ?? []) : [])));
      return { ...outcome, used };
    } finally {
      await ledger.close();
    }
  } finally {
    await emu.close();
  }
}

function withoutAction(doc: IamPolicyDocument, action: string): IamPolicyDocument {
  return { ...doc, Statement: doc.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter((s) => s.Action.length > 0) };
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";

async function awsRun(policy: (instanceArn: string) => IamPolicyDocument): Promise<Outcome> {
  const emu = await startAwsEmulator({ region: REGION, accountId: ACCOUNT, randomSeed: 3 });
  try {
    const web = emu.seed.securityGroup({ name: "web" });
    const vm = emu.seed.instance({ groupIds: [web.id] });
    const doc = policy(`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${vm.id}`);
    emu.seed.principal({ name: "ana", policies: [{ name: "jit-request", document: JSON.stringify(doc) }] });
    const driver = createAwsDriver({ ...emu.clientConfig, credentials: emu.credentialsFor("ana"), maxAttempts: 1, backoffMs: 1 });
    const ledger = await openLedger(":memory:");
    try {
      const outcome = await requestTwice(ledger, vm.id, driver, "aws");
      const used = new Set(emu.calls.list().flatMap((c) => (c.principal === "ana" ? awsActionsOf(c.operation) : [])));
      return { ...outcome, used };
    } finally {
      await ledger.close();
      await driver.destroy();
    }
  } finally {
    await emu.close();
  }
}

/** The IAM actions an AWS call is authorised as: GetCallerIdentity needs none; a create that tags also needs ec2:CreateTags. */
function awsActionsOf(operation: string): string[] {
  if (operation === "GetCallerIdentity") return [];
  if (operation === "SimulatePrincipalPolicy" || operation === "GetRole") return [`iam:${operation}`];
  return operation === "CreateSecurityGroup" || operation === "AuthorizeSecurityGroupIngress" ? [`ec2:${operation}`, "ec2:CreateTags"] : [`ec2:${operation}`];
}

test("Azure: the direct role is enough for requestAccess without a broker, directly; through a classic firewall with the firewall's join actions; each action is needed", async () => {
  const role = azureRoleDefinition({ kind: "direct", scope: "/subscriptions/00000000-0000-0000-0000-000000000000" }).Actions;
  const direct = await azureRun(role);
  assert.ok(direct.ok, `with the whole role: ${direct.why}`);
  assert.deepEqual([...direct.used].filter((a) => !role.includes(a)), [], "every call made is one the role allows");

  // A firewall write references its subnet and public IP: ARM checks their join actions as well.
  const lacking = FIREWALL_JOINS.filter((a) => !role.includes(a));
  if (lacking.length > 0) {
    const refused = await azureRun(role, true);
    assert.equal(refused.ok, false);
    assert.match(refused.why, /LinkedAuthorizationFailed/);
    for (const join of lacking) assert.ok(refused.why.includes(join), `the refusal names ${join}`);
  }
  const actions = [...role, ...lacking];
  const throughFirewall = await azureRun(actions, true);
  assert.ok(throughFirewall.ok, `through a firewall: ${throughFirewall.why}`);
  assert.deepEqual([...throughFirewall.used].filter((a) => !actions.includes(a)), []);

  // Each action is needed on one of the two ways in: the NSG writes directly, the firewall's where one stands in front.
  // Each run has its own endpoint and ledger, and spends most of its time waiting: side by side.
  const works = await mapLimit(actions, ABLATIONS_AT_ONCE, async (action) => {
    const without = actions.filter((a) => a !== action);
    const group = `app-${actions.indexOf(action)}`;
    return (await azureRun(without, false, group)).ok && (await azureRun(without, true, group)).ok;
  });
  actions.forEach((action, i) => assert.equal(works[i], false, `requestAccess still works without ${action}`));
});

const ABLATIONS_AT_ONCE = 8;

test("AWS: the direct policy is enough for requestAccess without a broker, and each of its actions is needed", async () => {
  const make = (instanceArn: string) => awsPolicyDocument({ kind: "direct", instanceArns: [instanceArn], region: REGION, accountId: ACCOUNT });
  const full = await awsRun(make);
  assert.ok(full.ok, `with the whole policy: ${full.why}`);
  const actions = [...new Set(make(`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-00000000`).Statement.flatMap((s) => s.Action))];
  assert.deepEqual([...full.used].filter((a) => !actions.includes(a)), [], "every call made is one the policy allows");
  for (const action of actions) {
    const without = await awsRun((arn) => withoutAction(make(arn), action));
    assert.equal(without.ok, false, `requestAccess still works without ${action}`);
  }
  // The instance scope holds: the same policy for another instance is refused by the simulation.
  const elsewhere = await awsRun(() => make(`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`));
  assert.equal(elsewhere.ok, false);
  assert.match(elsewhere.why, /lacks .*ec2:ModifyNetworkInterfaceAttribute on i-/);
});
