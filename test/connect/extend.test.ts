// `jit extend` on the local Azure and AWS endpoints: the allow rule is read from the emulator's
// state after every call the extension makes, and must be there each time; its stamped expiry moves.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { openLedger } from "../../provider/src/ledger";
import { firewallMapping, type Grant } from "../../provider/src/model";
import { TAG_EXPIRES_AT, TAG_GRANT, parseJitRule } from "../../provider/src/plan";
import { firewallOf, rulesOf } from "../azure/support";
import { jit, shown } from "../cli/support";
import { ConnectWorld, ME, awsConnectWorld, azureConnectWorld } from "./support";

/** The expiry stamped on the grant's allow rules right now, one entry per rule. */
type Stamps = () => string[];

function azureStamps(world: ConnectWorld, grantId: string): Stamps {
  const emu = world.azure!;
  const nsgIds = [world.vm!.subnetNsgId, world.vm!.nicNsgId].filter((id): id is string => id !== undefined);
  return () =>
    nsgIds.flatMap((id) =>
      rulesOf(emu, id).flatMap((r) => {
        const info = parseJitRule(r);
        return info?.kind === "allow" && info.grantId === grantId ? [info.expiresAt.toISOString()] : [];
      }),
    );
}

/** The NSG rules' stamps and the firewall's DNAT rules' stamps. */
function firewallStamps(world: ConnectWorld, grantId: string): Stamps {
  const nsgs = azureStamps(world, grantId);
  const firewallId = (world as { firewall?: { id: string } }).firewall!.id;
  return () => [
    ...nsgs(),
    ...firewallOf(world.azure!, firewallId).natRuleCollections.flatMap((c) =>
      c.rules.flatMap((r) => {
        const info = parseJitRule(r);
        return info?.kind === "allow" && info.grantId === grantId ? [info.expiresAt.toISOString()] : [];
      }),
    ),
  ];
}

function awsStamps(world: ConnectWorld, grantId: string): Stamps {
  const emu = world.aws!;
  return () => [...emu.state.groups.values()].flatMap((g) => g.rules.filter((r) => r.tags.get(TAG_GRANT) === grantId).map((r) => new Date(r.tags.get(TAG_EXPIRES_AT) ?? "").toISOString()));
}

/** Calls `check` after every call the emulator answers until the returned function is called; returns how many it checked. */
function afterEveryCall(world: ConnectWorld, check: () => void): () => number {
  const calls = (world.azure ?? world.aws)!.calls;
  const record = calls.record.bind(calls);
  let checked = 0;
  calls.record = (entry) => {
    const rec = record(entry);
    checked += 1;
    check();
    return rec;
  };
  return () => {
    calls.record = record;
    return checked;
  };
}

for (const [cloud, start, stampsOf] of [
  ["Azure", () => azureConnectWorld(), azureStamps],
  ["AWS", () => awsConnectWorld(), awsStamps],
  ["Azure, behind an Azure Firewall", () => azureConnectWorld({ firewall: true }), firewallStamps],
] as const) {
  describe(`jit extend on ${cloud}`, () => {
    let world: ConnectWorld;
    before(async () => (world = await start()));
    after(() => world.close());

    it("moves the grant's end and its rules' stamped expiry, the rule present after every cloud call; refuses past the policy's maximum from the start", async () => {
      const request = await jit(world.env, "--json", "request", "--policy", "web", "--vm", world.vmId, "--port", "22", "--source", ME, "--duration", "PT1H");
      assert.equal(request.code, 0, shown(request));
      const grant = JSON.parse(request.stdout) as Grant;
      // Behind a firewall the caller connects to the port mapped there.
      const entry = firewallMapping(grant, world.vmId, 22)?.mappedPort ?? 22;
      const stamps = stampsOf(world, grant.id);
      const before = stamps();
      assert.ok(before.length > 0, "the grant has allow rules");
      assert.ok(before.every((s) => Date.parse(s) === Math.ceil(Date.parse(grant.endTimeUtc) / 1000) * 1000), `${before} stamped with ${grant.endTimeUtc}`);

      // Collected rather than thrown: the check runs inside the endpoint's request handling.
      const gaps: string[] = [];
      const stop = afterEveryCall(world, () => {
        const now = stamps();
        if (now.length !== before.length || !world.reachable(ME, entry)) gaps.push(`after call: ${now.length} of ${before.length} rules, reachable ${world.reachable(ME, entry)}`);
      });
      let extend;
      try {
        extend = await jit(world.env, "--json", "extend", grant.id, "--duration", "PT1H");
      } finally {
        assert.ok(stop() > 0, "the extension made cloud calls, each checked");
      }
      assert.equal(extend.code, 0, shown(extend));
      assert.deepEqual(gaps, [], "every allow rule of the grant is present, and admits the caller, after each call");
      const extended = JSON.parse(extend.stdout) as Grant;
      const hourLater = new Date(Date.parse(grant.endTimeUtc) + 3_600_000).toISOString();
      assert.equal(extended.endTimeUtc, hourLater);
      assert.equal(extended.virtualMachines[0].ports[0].endTimeUtc, hourLater);
      assert.deepEqual(stamps(), before.map((s) => new Date(Date.parse(s) + 3_600_000).toISOString()), "the stamped expiry moved by the hour");

      // The policy allows PT3H from the start: 2h used, one more hour fits, two do not.
      const tooLong = await jit(world.env, "--json", "extend", grant.id, "--duration", "PT2H");
      assert.equal(tooLong.code, 3, shown(tooLong));
      const error = (JSON.parse(tooLong.stdout) as { error: { code: string; field: string; message: string } }).error;
      assert.deepEqual([error.code, error.field], ["RequestNotAllowed", "duration"]);
      assert.match(error.message, /at most PT3H from the grant's start/);
      assert.deepEqual(stamps(), before.map((s) => new Date(Date.parse(s) + 3_600_000).toISOString()), "a refusal changes nothing");

      const ledger = await openLedger(world.env.JIT_LEDGER);
      try {
        const events = await ledger.listAudit({ grant: grant.id, action: "grant.extend" });
        assert.deepEqual(events.map((e) => e.outcome).sort(), ["refused", "success"]);
        assert.match(events.find((e) => e.outcome === "success")?.message ?? "", /^extended by PT1H, until /);
        const extended = (await ledger.listOutbox()).filter((e) => e.event.kind === "extended" && e.event.grant.id === grant.id);
        assert.equal(extended.length, 1, "one extended notification, queued for the sinks");
      } finally {
        await ledger.close();
      }

      const revoke = await jit(world.env, "revoke", grant.id);
      assert.equal(revoke.code, 0, shown(revoke));
      assert.deepEqual(stamps(), []);
      const ended = await jit(world.env, "extend", grant.id, "--duration", "PT5M");
      assert.equal(ended.code, 2, shown(ended));
      assert.match(ended.stderr, /is revoked; only an active grant can be extended/);
    });
  });
}
