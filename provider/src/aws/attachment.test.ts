import { test } from "node:test";
import assert from "node:assert/strict";
import { AwsEmulator, startAwsEmulator } from "../emulator/aws";
import { attachGroup, retireGroup } from "./attachment";
import { AwsClients } from "./clients";
import { makeContext } from "./context";

async function withEc2(body: (emu: AwsEmulator, ctx: ReturnType<typeof makeContext>) => Promise<void>) {
  const emu = await startAwsEmulator({ randomSeed: 5 });
  const connection = { ...emu.clientConfig, maxAttempts: 1, backoffMs: 1 };
  const clients = new AwsClients(connection);
  try {
    await body(emu, makeContext(clients, connection));
  } finally {
    await clients.destroy();
    await emu.close();
  }
}

/** Runs `act` right after the endpoint answers the `n`-th call named `operation` from now. */
function after(emu: AwsEmulator, operation: string, n: number, act: () => void) {
  const record = emu.calls.record.bind(emu.calls);
  let seen = 0;
  emu.calls.record = (entry) => {
    const rec = record(entry);
    if (entry.operation === operation && ++seen === n) act();
    return rec;
  };
}

test("a group put on an interface stays there even if another writer replaces the list right after", () =>
  withEc2(async (emu, ctx) => {
    const [a, b, g] = ["a", "b", "g"].map((name) => emu.seed.securityGroup({ name }).id);
    const vm = emu.seed.instance({ groupIds: [a] });
    const [eni] = emu.state.interfacesOf(vm);
    // Another writer read [a] before our write and writes [a, b] after it: our entry is lost.
    after(emu, "ModifyNetworkInterfaceAttribute", 1, () => (eni.groupIds = [a, b]));
    const mark = emu.calls.mark();
    await attachGroup(ctx, await ctx.clients.ec2(emu.region), [eni.id], g);
    assert.deepEqual(eni.groupIds, [a, b, g], "theirs kept, ours back");
    assert.deepEqual(
      emu.calls.list({ since: mark }).map((c) => c.operation),
      // Read, write, verify; then, after a jittered wait, read again right before writing again, and verify.
      ["DescribeNetworkInterfaces", "ModifyNetworkInterfaceAttribute", "DescribeNetworkInterfaces", "DescribeNetworkInterfaces", "ModifyNetworkInterfaceAttribute", "DescribeNetworkInterfaces"],
    );
  }));

test("a group is retired once EC2 stops saying it is in use, and kept if a rule shows up in it meanwhile", () =>
  withEc2(async (emu, ctx) => {
    const own = emu.seed.securityGroup({ name: "own" }).id;
    const g = emu.seed.securityGroup({ name: "grant" }).id;
    const vm = emu.seed.instance({ groupIds: [own, g] });
    const ec2 = await ctx.clients.ec2(emu.region);
    emu.faults.inject({ operation: "DeleteSecurityGroup" }, { kind: "error", status: 400, code: "DependencyViolation", message: `resource ${g} has a dependent object` }, 2);
    assert.equal(await retireGroup(ctx, ec2, g), "deleted");
    assert.equal(emu.state.groups.has(g), false);
    assert.deepEqual(emu.state.interfacesOf(vm)[0].groupIds, [own]);
    assert.equal(await retireGroup(ctx, ec2, g), "gone", "a second retire finds nothing to do");

    const h = emu.seed.securityGroup({ name: "grant2" }).id;
    const [eni] = emu.state.interfacesOf(vm);
    eni.groupIds = [own, h];
    // A grant elsewhere chose the group and put its rule in just as we took the group off.
    after(emu, "ModifyNetworkInterfaceAttribute", 1, () => emu.seed.rules(h, [{ port: 22, source: "203.0.113.7/32" }]));
    assert.equal(await retireGroup(ctx, ec2, h), "in-use");
    assert.deepEqual(eni.groupIds, [own, h], "back where it was");

    const only = emu.seed.securityGroup({ name: "only" }).id;
    emu.seed.instance({ groupIds: [only] });
    assert.equal(await retireGroup(ctx, ec2, only), "stuck", "an interface must keep one group");
  }));
