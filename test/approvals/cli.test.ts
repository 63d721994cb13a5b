// `jit request`, `jit list pending`, `jit approve` and `jit deny` through a broker, as each person
// would run them: the CLI signs in with the person's own identity from the environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jit, shown } from "../cli/support";
import { WORLDS } from "./support";

for (const [cloud, make] of WORLDS) {
  test(`${cloud}: jit request is held, jit list pending shows it to approvers, jit approve opens it at the second approval, jit deny ends another`, async (t) => {
    const w = await make();
    t.after(() => w.close());
    const vm = w.vmId;
    const asked = await jit(await w.cliEnv("ana"), "--json", "request", "--policy", "web", "--vm", vm, "--port", "22", "--duration", "PT1H", "--source", "203.0.113.50", "--justification", "INC-7");
    assert.equal(asked.code, 0, shown(asked));
    const held = JSON.parse(asked.stdout) as { id: string; state: string };
    assert.equal(held.state, "awaiting-approval");
    const text = await jit(await w.cliEnv("ana"), "request", "--policy", "web", "--vm", vm, "--port", "22", "--duration", "PT1H", "--source", "203.0.113.51");
    assert.match(text.stdout, /has 0 of 2 approval\(s\); it waits for more until .* Nothing is open yet; an approver runs: jit approve [a-z2-7]{12}/, shown(text));
    const other = /jit approve ([a-z2-7]{12})/.exec(text.stdout)?.[1] as string;

    const pending = await jit(await w.cliEnv("bo"), "list", "pending");
    assert.equal(pending.code, 0, shown(pending));
    assert.match(pending.stdout, /^GRANT +POLICY +REQUESTER +ACCESS +JUSTIFICATION +APPROVALS +EXPIRES$/m);
    assert.match(pending.stdout, new RegExp(`^${held.id} +web +.*:22 from 203\\.0\\.113\\.50 +INC-7 +0/2 `, "m"));
    assert.equal((await jit(await w.cliEnv("ana"), "list", "pending")).stdout, "Nothing waits for your approval.\n");

    const self = await jit(await w.cliEnv("ana"), "approve", held.id);
    assert.equal(self.code, 3, `refused: ${shown(self)}`);
    assert.match(self.stderr, /may not approve it/);
    const first = await jit(await w.cliEnv("bo"), "approve", held.id);
    assert.equal(first.stdout, `Grant ${held.id} has 1 of 2 approval(s); it waits for more until ${new Date(w.clock.t + 3_600_000).toISOString()}.\n`, shown(first));
    assert.ok(!w.open("203.0.113.50"));
    const second = await jit(await w.cliEnv("cy"), "--json", "approve", held.id);
    assert.equal(JSON.parse(second.stdout).state, "active", shown(second));
    assert.ok(w.open("203.0.113.50"));

    const denied = await jit(await w.cliEnv("di"), "deny", other, "--reason", "use the bastion");
    assert.equal(denied.stdout, `Grant ${other} is denied; nothing was opened.\n`, shown(denied));
    assert.equal((await w.ledger.getGrant(other))?.approval?.votes[0].reason, "use the bastion");
    assert.ok(!w.open("203.0.113.51"));
  });
}
