// `jit ssh`, `jit rdp` and `jit connect` against the local Azure and AWS endpoints, with stand-in
// `ssh` and `xdg-open` programs on PATH that record how they were run.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Grant } from "../../provider/src/model";
import { jit, shown } from "../cli/support";
import { ConnectWorld, ME, awsConnectWorld, azureConnectWorld, standIns } from "./support";

const clients = standIns();
after(() => clients.close());

async function live(world: ConnectWorld): Promise<Grant[]> {
  const list = await jit(world.env, "--json", "list");
  assert.equal(list.code, 0, shown(list));
  return (JSON.parse(list.stdout) as Grant[]).filter((g) => g.state === "active");
}

for (const [cloud, start] of [
  ["Azure", () => azureConnectWorld()],
  ["AWS", () => awsConnectWorld()],
] as const) {
  describe(`jit ssh on ${cloud}`, () => {
    let world: ConnectWorld;
    let env: Record<string, string>;
    before(async () => {
      world = await start();
      env = { ...world.env, ...clients.env };
    });
    after(() => world.close());

    it("opens port 22 for the caller, says when the rule is in effect, runs ssh to the VM's public address with --user, --identity and the arguments after --, and reuses the live grant", async () => {
      assert.equal(world.reachable(ME, 22), false, "the policy closed port 22");
      const before = clients.calls().length;
      const run = await jit(env, "ssh", world.name, "--source", ME, "--user", "ops", "--identity", "/keys/id_ed25519", "--", "-L", "8080:localhost:80", "uptime");
      assert.equal(run.code, 0, shown(run));
      assert.match(run.stderr, /port 22 of \S+ admits 203\.0\.113\.7: connect to [\d.]+:22/);
      assert.deepEqual(clients.calls().slice(before), [{ name: "ssh", args: ["-i", "/keys/id_ed25519", "-p", "22", `ops@${world.host}`, "-L", "8080:localhost:80", "uptime"] }]);
      assert.equal(world.reachable(ME, 22), true, "the grant stays open after ssh without --revoke-on-exit");
      const [grant] = await live(world);

      const again = await jit(env, "ssh", world.vmId, "--source", ME);
      assert.equal(again.code, 0, shown(again));
      assert.match(again.stderr, new RegExp(`using grant ${grant.id}`));
      assert.deepEqual((await live(world)).map((g) => g.id), [grant.id], "no second grant");
      assert.deepEqual(clients.calls().at(-1), { name: "ssh", args: ["-p", "22", world.host] });

      const revoke = await jit(env, "revoke", grant.id);
      assert.equal(revoke.code, 0, shown(revoke));
    });

    it("--revoke-on-exit ends the grant it opened once ssh exits, and passes on ssh's exit status", async () => {
      const run = await jit({ ...env, FAKE_EXIT: "255" }, "ssh", world.name, "--source", ME, "--revoke-on-exit", "--duration", "PT30M");
      assert.equal(run.code, 255, shown(run));
      assert.equal(clients.calls().at(-1)?.name, "ssh");
      assert.match(run.stderr, /grant \w+ ended: port 22 is closed again/);
      assert.equal(world.reachable(ME, 22), false);
      assert.deepEqual(await live(world), []);
    });

    it("jit connect --json prints the endpoint, and jit rdp writes an .rdp file for it and opens it", async () => {
      const connect = await jit(env, "--json", "connect", world.name, "--port", "3389", "--source", ME);
      assert.equal(connect.code, 0, shown(connect));
      const endpoint = JSON.parse(connect.stdout) as { host: string; endpointPort: number; port: number; reused: boolean; grant: string };
      assert.deepEqual([endpoint.host, endpoint.endpointPort, endpoint.port, endpoint.reused], [world.host, 3389, 3389, false]);
      assert.equal(world.reachable(ME, 3389), true);

      const file = join(clients.dir, "web1.rdp");
      const rdp = await jit(env, "rdp", world.name, "--source", ME, "--user", "ops", "--out", file);
      assert.equal(rdp.code, 0, shown(rdp));
      assert.equal(readFileSync(file, "utf8"), `full address:s:${world.host}:3389\r\nprompt for credentials:i:1\r\nadministrative session:i:0\r\nscreen mode id:i:2\r\nusername:s:ops\r\n`);
      assert.match(rdp.stderr, new RegExp(`using grant ${endpoint.grant}`), "the grant jit connect opened is reused");
      assert.deepEqual(clients.calls().at(-1), { name: "xdg-open", args: [file] });
      const revoke = await jit(env, "revoke", endpoint.grant);
      assert.equal(revoke.code, 0, shown(revoke));
    });

    it("refuses a port the policy does not cover, and a VM no policy covers, changing nothing", async () => {
      const port = await jit(env, "connect", world.name, "--port", "80", "--source", ME);
      assert.equal(port.code, 4, shown(port));
      assert.match(port.stderr, new RegExp(`no policy covers port 80 of VM "${world.name}"`));
      const vm = await jit(env, "--json", "ssh", "nosuchvm", "--source", ME);
      assert.equal(vm.code, 4, shown(vm));
      assert.equal((JSON.parse(vm.stdout) as { error: { field: string } }).error.field, "vm");
      const noSsh = await jit({ ...world.env, PATH: join(clients.dir, "empty") }, "ssh", world.name, "--source", ME);
      assert.equal(noSsh.code, 4, shown(noSsh));
      assert.match(noSsh.stderr, /there is no ssh on PATH; install it, or use `jit connect`/);
      assert.deepEqual(await live(world), [], "checked before any access is opened");
    });
  });
}

describe("jit ssh to a VM behind an Azure Firewall", () => {
  let world: Awaited<ReturnType<typeof azureConnectWorld>>;
  before(async () => (world = await azureConnectWorld({ firewall: true })));
  after(() => world.close());

  it("connects to the firewall's public address and the port its DNAT rule maps to the VM's SSH", async () => {
    const env = { ...world.env, ...clients.env };
    const run = await jit(env, "ssh", world.name, "--source", ME, "--user", "ops");
    assert.equal(run.code, 0, shown(run));
    const [grant] = await live(world);
    const nat = grant.changes.find((c) => c.kind === "azure-firewall-nat-rule");
    assert.ok(nat && nat.kind === "azure-firewall-nat-rule", "the grant mapped a port on the firewall");
    assert.notEqual(nat.mappedPort, 22);
    assert.deepEqual(clients.calls().at(-1), { name: "ssh", args: ["-p", String(nat.mappedPort), `ops@${world.firewall!.address}`] });
    assert.match(run.stderr, new RegExp(`connect to ${world.firewall!.address.replaceAll(".", "\\.")}:${nat.mappedPort} \\(through Azure Firewall fw1`));
    assert.equal(world.reachable(ME, nat.mappedPort), true);
    assert.equal(world.reachable("203.0.113.9", nat.mappedPort), false);
  });
});
