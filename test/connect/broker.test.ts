// `jit ssh`, `jit connect` and `jit extend` through the broker on the local Azure endpoint: the
// requester holds only the request role; the broker opens, checks, extends and closes the rule.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RunningBroker } from "../../provider/src/broker";
import type { Grant } from "../../provider/src/model";
import { azureActions } from "../../provider/src/roles";
import { AzureWorld, azureWorld, deployPolicy, reaches } from "../azure/support";
import { POLICY_PORT, azureBroker } from "../broker/support";
import { jit, shown } from "../cli/support";
import { ME, standIns } from "./support";

describe("jit ssh --broker", () => {
  let w: AzureWorld;
  let broker: RunningBroker;
  let vm: ReturnType<AzureWorld["emu"]["seed"]["typicalVm"]>;
  let env: Record<string, string>;
  const clients = standIns(["ssh"]);
  before(async () => {
    w = await azureWorld({ emulator: { lroPolls: 0 } });
    vm = w.emu.seed.typicalVm({ resourceGroup: "app", name: "web1" });
    w.emu.seed.principal("jit-broker", { actions: azureActions("broker") });
    w.emu.seed.principal("ana", { actions: azureActions("request") });
    await deployPolicy(w, { name: "web", virtualMachines: [{ id: vm.vmId, ports: [POLICY_PORT] }] });
    broker = await azureBroker(w.emu, w.ledger, "jit-broker");
    env = { ...clients.env, JIT_AZURE_TOKEN: (await w.emu.credentialFor("ana").getToken("x")).token, JIT_BROKER_URL: broker.url };
  });
  after(async () => {
    clients.close();
    await broker.close();
    await w.close();
  });

  it("the broker opens port 22 for the caller and answers once the rule is in effect; ssh runs to the public address; a second connect reuses the grant; extend and --revoke-on-exit go through the broker", async () => {
    const mark = w.emu.calls.mark();
    const connect = await jit(env, "--json", "connect", "web1", "--port", "22", "--source", ME);
    assert.equal(connect.code, 0, shown(connect));
    const endpoint = JSON.parse(connect.stdout) as { host: string; endpointPort: number; reused: boolean; grant: string };
    assert.deepEqual([endpoint.host, endpoint.endpointPort, endpoint.reused], [vm.publicIpAddress, 22, false]);
    assert.ok(reaches(w.emu, vm, ME, 22));
    assert.deepEqual([...new Set(w.emu.calls.list({ since: mark, write: true }).map((c) => c.principal))], ["jit-broker"], "every write was the broker's");

    const extend = await jit(env, "--json", "extend", endpoint.grant, "--duration", "PT30M");
    assert.equal(extend.code, 0, shown(extend));
    assert.equal((JSON.parse(extend.stdout) as Grant).id, endpoint.grant);

    const ssh = await jit(env, "ssh", "web1", "--source", ME, "--user", "ana", "--revoke-on-exit");
    assert.equal(ssh.code, 0, shown(ssh));
    assert.match(ssh.stderr, new RegExp(`using grant ${endpoint.grant}`));
    assert.deepEqual(clients.calls().at(-1), { name: "ssh", args: ["-p", "22", `ana@${vm.publicIpAddress}`] });
    assert.match(ssh.stderr, /was open before this session, so it stays open/, "a reused grant is not ended by --revoke-on-exit");
    assert.ok(reaches(w.emu, vm, ME, 22));

    const revoke = await jit(env, "revoke", endpoint.grant);
    assert.equal(revoke.code, 0, shown(revoke));
    const fresh = await jit(env, "ssh", "web1", "--source", ME, "--revoke-on-exit");
    assert.equal(fresh.code, 0, shown(fresh));
    assert.match(fresh.stderr, /grant \w+ ended: port 22 is closed again/);
    assert.equal(reaches(w.emu, vm, ME, 22), false);
  });
});
