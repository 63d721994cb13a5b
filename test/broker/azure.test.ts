// Through the broker, a requester holding only Defender's request role gets access on the local
// Azure endpoint (which verifies tokens and authorises every call as ARM does): the broker writes
// with its own identity, which holds the broker role, and nothing less works.
import { test } from "node:test";
import assert from "node:assert/strict";
import { NetworkManagementClient } from "@azure/arm-network";
import { requestAccess, sweep, sweepWith } from "../../provider/src/access";
import { BrokerClient } from "../../provider/src/broker/client";
import { startAzureEmulator } from "../../provider/src/emulator/azure";
import { openLedger } from "../../provider/src/ledger";
import { azureActions } from "../../provider/src/roles";
import { mapLimit } from "../../provider/src/util/parallel";
import { AzureWorld, azureWorld, deployPolicy, reaches } from "../azure/support";
import { POLICY_PORT, azureBroker } from "./support";

const SOURCE = "203.0.113.7";

async function world(): Promise<{ w: AzureWorld; vm: ReturnType<AzureWorld["emu"]["seed"]["typicalVm"]> }> {
  const w = await azureWorld({ emulator: { lroPolls: 0 } });
  const vm = w.emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
  w.emu.seed.principal("jit-broker", { actions: azureActions("broker") });
  w.emu.seed.principal("ana", { actions: azureActions("request") });
  w.emu.seed.principal("bob", { actions: ["Microsoft.Compute/virtualMachines/read"] });
  await deployPolicy(w, { name: "web", virtualMachines: [{ id: vm.vmId, ports: [POLICY_PORT] }] });
  return { w, vm };
}

const ask = (vmId: string, duration = "PT1H") => ({ policy: "web", virtualMachines: [{ id: vmId, ports: [{ number: 22, duration, allowedSourceAddressPrefix: SOURCE }] }], justification: "INC-7" });

test("Azure: the request role alone gets access through the broker (grant, expiry, revoke), while the same token cannot write a rule itself", async (t) => {
  const { w, vm } = await world();
  const logs: string[] = [];
  const broker = await azureBroker(w.emu, w.ledger, "jit-broker", { now: () => new Date(w.clock.t), logs });
  t.after(async () => {
    await broker.close();
    await w.close();
  });
  const ana = { url: broker.url, azureCredential: w.emu.credentialFor("ana") as never };
  const before = w.emu.calls.mark();
  const grant = await requestAccess(ask(vm.vmId), { broker: ana });
  assert.equal(grant.state, "active");
  assert.equal(grant.requester, w.emu.claimsFor("ana").oid);
  assert.ok(reaches(w.emu, vm, SOURCE, 22), "the port is open for the source");
  const writers = new Set(w.emu.calls.list({ since: before, write: true }).map((c) => c.principal));
  assert.deepEqual([...writers], ["jit-broker"], "every write was the broker's");

  // The same requester, writing directly, is refused by ARM.
  const network = new NetworkManagementClient(w.emu.credentialFor("ana") as never, w.emu.subscriptionId, { ...w.emu.clientOptions, retryOptions: { maxRetries: 0 } });
  const nsgName = vm.nicNsgId?.split("/").pop() ?? (vm.subnetNsgId as string).split("/").pop();
  await assert.rejects(
    network.securityRules.beginCreateOrUpdateAndWait("app", nsgName as string, "open-ssh", {
      protocol: "Tcp", access: "Allow", direction: "Inbound", priority: 100, sourceAddressPrefix: "*", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "22",
    }, { updateIntervalInMs: 0 }),
    (e: { statusCode?: number; code?: string }) => e.statusCode === 403 && e.code === "AuthorizationFailed",
  );

  // Expiry: the reconciler closes it at the end.
  w.clock.t += 3_600_000;
  const report = await sweep({ ...w.options, repairBaselines: false });
  assert.deepEqual(report.restored, [{ grantId: grant.id, state: "expired" }]);
  assert.ok(!reaches(w.emu, vm, SOURCE, 22), "closed again at expiry");

  // Revoke through the broker.
  const second = await requestAccess(ask(vm.vmId, "PT30M"), { broker: ana });
  assert.ok(reaches(w.emu, vm, SOURCE, 22));
  const revoked = await new BrokerClient(ana).revoke(second.id);
  assert.equal(revoked.state, "revoked");
  assert.ok(!reaches(w.emu, vm, SOURCE, 22), "closed by the revoke");

  // The token never shows: not in the broker's log, the ledger, or any answer.
  const token = (await w.emu.credentialFor("ana").getToken("x")).token;
  const stored = JSON.stringify([await w.ledger.listGrants(), await w.ledger.listAudit()]);
  const answers = JSON.stringify([grant, revoked, await new BrokerClient(ana).grants({ state: "all" })]);
  const signature = token.split(".")[2];
  for (const [where, text] of [["log", logs.join("\n")], ["ledger", stored], ["answers", answers]]) assert.ok(!text.includes(signature), `the token is in the ${where}`);
});

test("Azure: a principal without the initiate action is refused with 403, and forged or unfit tokens with 401, all with zero writes", async (t) => {
  const { w, vm } = await world();
  const broker = await azureBroker(w.emu, w.ledger, "jit-broker");
  t.after(async () => {
    await broker.close();
    await w.close();
  });
  const mark = w.emu.calls.mark();
  await assert.rejects(requestAccess(ask(vm.vmId), { broker: { url: broker.url, azureCredential: w.emu.credentialFor("bob") as never } }), (e: { code?: string; message: string }) =>
    e.code === "Unauthorized" && /lacks Microsoft\.Security\/locations\/jitNetworkAccessPolicies\/initiate\/action/.test(e.message),
  );
  assert.equal(w.emu.calls.count({ since: mark, write: true }), 0, "no cloud write for a refused request");

  const id = w.emu.identity;
  const now = Math.floor(Date.now() / 1000);
  const forged: [string, string][] = [
    ["expired", id.token("ana", { exp: now - 600, nbf: now - 4200, iat: now - 4200 })],
    ["wrong audience", id.token("ana", { aud: "https://graph.microsoft.com/" })],
    ["wrong issuer", id.token("ana", { iss: "https://sts.windows.net/ffffffff-ffff-ffff-ffff-ffffffffffff/" })],
    ["wrong tenant", id.token("ana", { tid: "ffffffff-ffff-ffff-ffff-ffffffffffff" })],
    ["alg none", id.token("ana", { alg: "none" })],
    ["HS256", id.token("ana", { alg: "HS256" })],
    ["another key", id.token("ana", { signWith: "foreign" })],
    ["tampered", id.token("ana", { tamper: true })],
  ];
  await fetch(`${broker.url}/v1/grants`, { headers: { authorization: `Bearer ${id.token("ana")}` } }); // keys fetched once
  const armMark = w.emu.calls.mark();
  for (const [name, token] of forged) {
    const res = await fetch(`${broker.url}/v1/policies/web/initiate`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(ask(vm.vmId)) });
    assert.equal(res.status, 401, name);
  }
  const arm = w.emu.calls.list({ since: armMark }).filter((c) => !/openid|discovery|keys/i.test(c.path));
  assert.deepEqual(arm.map((c) => `${c.method} ${c.path}`), [], "no ARM call for any of them");
});

/** A request, a longer one that supersedes it, and a revoke, all through a broker whose identity holds `actions`. */
/** `group` names the resource group: runs side by side use their own, as NSG writes to one NSG id take turns in a process. */
async function brokerRun(actions: readonly string[], behindFirewall: boolean, group = "app"): Promise<{ ok: boolean; why: string }> {
  // An operation whose poll a missing permission refused ends on its own, as in Azure, but here at
  // once rather than after Azure's ~10 s: the runs are about permissions, not time.
  const emu = await startAzureEmulator({ lroPolls: 0, lroMaxMs: 20 });
  const ledger = await openLedger(":memory:");
  try {
    const vm = emu.seed.typicalVm({ resourceGroup: group, name: "web1" });
    if (behindFirewall) {
      const subnet = emu.seed.subnet(group, `${group}-vnet`, "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
      emu.seed.publicIp(group, "fw-ip");
      emu.seed.firewall(group, "fw", { subnet, publicIp: "fw-ip" });
    }
    emu.seed.principal("jit-broker", { actions: [...actions] });
    emu.seed.principal("ana", { actions: azureActions("request") });
    await ledger.putPolicy({ policy: { name: "web", virtualMachines: [{ id: vm.vmId, ports: [POLICY_PORT] }] }, baseline: {} });
    const broker = await azureBroker(emu, ledger, "jit-broker");
    try {
      const ana = { url: broker.url, azureCredential: emu.credentialFor("ana") as never };
      const first = await requestAccess(ask(vm.vmId, "PT1H"), { broker: ana });
      const second = await requestAccess(ask(vm.vmId, "PT2H"), { broker: ana });
      const older = await ledger.getGrant(first.id);
      if (older?.state !== "revoked") return { ok: false, why: `the superseded grant is ${older?.state}: ${older?.error ?? ""}` };
      const revoked = await new BrokerClient(ana).revoke(second.id);
      if (revoked.state !== "revoked") return { ok: false, why: `revoked grant is ${revoked.state}` };
      // The broker role also runs the sweep where the broker is serverless: its baseline repair too.
      const swept = await sweepWith(broker.broker.ctx, { scope: {} });
      const trouble = [...swept.failed.map((f) => f.error), ...swept.baselines.flatMap((b) => (b.error ? [b.error] : []))];
      return trouble.length ? { ok: false, why: `sweep: ${trouble.join("; ")}` } : { ok: true, why: "" };
    } catch (err) {
      return { ok: false, why: (err as Error).message };
    } finally {
      await broker.close();
    }
  } finally {
    await ledger.close();
    await emu.close();
  }
}

test("Azure: the broker role is enough for the broker, directly and through a classic firewall, and each of its actions is needed", async () => {
  const role = azureActions("broker");
  for (const behindFirewall of [false, true]) {
    const full = await brokerRun(role, behindFirewall);
    assert.ok(full.ok, `with the whole role${behindFirewall ? ", through a firewall" : ""}: ${full.why}`);
  }
  // Each run has its own endpoint, ledger and broker, and spends most of its time waiting: side by side.
  const works = await mapLimit(role, ABLATIONS_AT_ONCE, async (action) => {
    const without = role.filter((a) => a !== action);
    const group = `app-${role.indexOf(action)}`;
    return (await brokerRun(without, false, group)).ok && (await brokerRun(without, true, group)).ok;
  });
  role.forEach((action, i) => assert.equal(works[i], false, `the broker still works without ${action}`));
});

const ABLATIONS_AT_ONCE = 8;
