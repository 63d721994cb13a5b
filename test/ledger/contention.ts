/**
 * Two brokers and two sweepers, each its own process, on one shared store: 200 grants with random
 * expiries, while processes are killed (SIGKILL) at random moments and restarted. Every grant must
 * end exactly once, no rule may be left open or removed twice, and the audit chain must verify.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { openLedger } from "../../provider/src/ledger";
import { isFinalState } from "../../provider/src/model/grant";
import { verifyAuditChain } from "../../provider/src/model/audit";
import { AZURE_VM, NOW } from "../../provider/src/model/testing/fixtures";
import { bundle } from "../support/bundle";
import { Backend, startStore } from "../support/servers";

const WORKER = resolve(__dirname, "contention-worker.ts");
const GRANTS_PER_BROKER = 100;
/** One real second is five minutes for the workers: grants of 5-60 minutes end within 1-12 s. */
const SPEED = 300;
const KILLS = 6;
/**
 * The brokers stop at 200 grants or after this long, whichever comes first, so that the suite's
 * time stays bounded on a slow machine (the count reached is printed); what they recorded must
 * then all end correctly.
 */
const BROKER_BUDGET_MS = 60_000;
/** A bound on the whole run, so that a hang fails the test with what was seen instead of blocking the suite. */
const DEADLINE_MS = 240_000;

interface CloudLog {
  open: Map<string, number>;
  opened: Map<string, number>;
  removed: Map<string, string[]>;
}

async function serveCloud(): Promise<{ url: string; log: CloudLog; close: () => void }> {
  const log: CloudLog = { open: new Map(), opened: new Map(), removed: new Map() };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const { rule, by } = JSON.parse(body) as { rule: string; by?: string };
      let removed = false;
      if (req.url === "/open") {
        log.open.set(rule, 1);
        log.opened.set(rule, (log.opened.get(rule) ?? 0) + 1);
      } else if (log.open.delete(rule)) {
        removed = true;
        log.removed.set(rule, [...(log.removed.get(rule) ?? []), by ?? "?"]);
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ removed }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, log, close: () => server.close() };
}

export function contention(backend: Backend): void {
  test(`${backend}: two brokers and two sweepers, killed and restarted at random, end every grant exactly once`, { timeout: DEADLINE_MS + 60_000 }, async (t) => {
    const server = await startStore(backend);
    Object.assign(process.env, server.env);
    const cloud = await serveCloud();
    const worker = bundle(WORKER);
    const procs = new Map<string, ChildProcess>();
    const exits = new Map<string, number | null>();
    const logs: string[] = [];
    try {
      const setup = await openLedger(server.url, { init: true });
      await setup.putPolicy({
        policy: { name: "web", virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "198.18.0.0/15", maxRequestAccessDuration: "PT3H" }] }] },
      });
      const env = { ...process.env, ...server.env, JIT_LEDGER: server.url, JIT_CLOCK: `${NOW},${Date.now()},${SPEED}` };
      const args: Record<string, string[]> = {
        "broker-a": ["broker", "broker-a", String(GRANTS_PER_BROKER), cloud.url, AZURE_VM, "0"],
        "broker-b": ["broker", "broker-b", String(GRANTS_PER_BROKER), cloud.url, AZURE_VM, "1"],
        "sweeper-a": ["sweeper", "sweeper-a", cloud.url],
        "sweeper-b": ["sweeper", "sweeper-b", cloud.url],
      };
      const start = (name: string) => {
        const child = spawn(process.execPath, [...worker.args, ...args[name]], { env: { ...env, ...worker.env }, stdio: ["ignore", "ignore", "pipe"] });
        child.stderr?.on("data", (c: Buffer) => logs.push(c.toString()));
        exits.delete(name);
        child.once("exit", (code) => exits.set(name, code));
        procs.set(name, child);
      };
      Object.keys(args).forEach(start);

      const began = Date.now();
      const brokersDone = () => ["broker-a", "broker-b"].every((b) => exits.get(b) === 0);
      let kills = 0;
      while (!brokersDone() && Date.now() - began < BROKER_BUDGET_MS) {
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
        const broken = [...exits].find(([, code]) => code !== 0 && code !== null);
        assert.equal(broken, undefined, `a worker failed:\n${logs.join("")}`);
        const running = [...procs].filter(([name]) => !exits.has(name));
        if (kills < KILLS && running.length > 0) {
          const [name, child] = running[Math.floor(Math.random() * running.length)];
          await new Promise<void>((r) => {
            child.once("exit", () => r());
            child.kill("SIGKILL");
          });
          kills++;
          start(name);
        }
      }
      for (const name of ["broker-a", "broker-b"]) if (!exits.has(name)) procs.get(name)?.kill("SIGKILL");
      // The sweepers finish what is left (a killed broker's grant once it looks abandoned): every grant reaches a final state.
      for (;;) {
        const live = (await setup.listGrants()).filter((g) => !isFinalState(g.state) || g.changes.some((c) => c.status !== "removed"));
        if (live.length === 0) break;
        assert.ok(Date.now() - began < DEADLINE_MS, `${live.length} grant(s) never ended: ${live.map((g) => `${g.id} ${g.state}`).join(", ")}\n${logs.join("")}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      for (const child of procs.values()) child.kill("SIGTERM");

      const grants = await setup.listGrants();
      t.diagnostic(`${backend}: ${grants.length} grants recorded, ${kills} processes killed, ${Math.round((Date.now() - began) / 1000)} s`);
      assert.ok(grants.length >= 10, `only ${grants.length} grants were recorded:\n${logs.join("")}`);
      assert.ok(grants.every((g) => isFinalState(g.state)));
      assert.equal(cloud.log.open.size, 0, `rules left open: ${[...cloud.log.open.keys()].join(", ")}`);
      for (const [rule, count] of cloud.log.opened) assert.equal(count, 1, `${rule} opened ${count} times`);
      for (const [rule, by] of cloud.log.removed) assert.equal(by.length, 1, `${rule} removed by ${by.join(", ")}`);
      const ends = new Map<string, number>();
      for (const e of await setup.listAudit({ action: ["grant.expire", "grant.revoke", "grant.fail"] })) {
        if (e.target.grant) ends.set(e.target.grant, (ends.get(e.target.grant) ?? 0) + 1);
      }
      for (const [grant, count] of ends) assert.equal(count, 1, `grant ${grant} ended ${count} times`);
      const chain = verifyAuditChain(await setup.readAuditLog());
      assert.deepEqual(chain.problems, []);
      assert.ok(kills > 0, "processes were killed while the brokers ran");
      await setup.close();
    } finally {
      for (const child of procs.values()) if (child.exitCode === null) child.kill("SIGKILL");
      cloud.close();
      worker.remove();
      await server.stop();
    }
  });
}
