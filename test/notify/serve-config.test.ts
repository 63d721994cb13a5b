// `jit serve --config broker.yaml` as a real process: its sinks deliver what waits in the ledger's
// outbox (to a receiver on 127.0.0.1), /readyz shows them, and a mistake in the file stops it with
// the key path before it listens.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { openLedger } from "../../provider/src/ledger";
import { newNotification } from "../../provider/src/model";
import { sampleGrant } from "../../provider/src/model/testing/fixtures";
import { verifySignature } from "../../provider/src/notify";
import { jitProcess, shown, startJit } from "../cli/support";

const SECRET = "a-secret-from-the-environment-0123456789";

test("jit serve --config: sinks from the file deliver the outbox, /readyz lists them; a bad key is exit 2 naming it", async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), "jit-serve-config-"));
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  let delivered!: () => void;
  const arrived = new Promise<void>((resolve) => (delivered = resolve));
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
      delivered();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const ledgerPath = path.join(dir, "ledger.db");
  const ledger = await openLedger(ledgerPath);
  const event = await ledger.enqueueNotification(newNotification("pending-approval", sampleGrant()));
  await ledger.close();

  const config = path.join(dir, "broker.yaml");
  writeFileSync(
    config,
    [
      "listen: 127.0.0.1:0",
      "devIdentity: ana@example.com",
      "consoleUrl: https://jit.example.com",
      "notifications:",
      "  intervalSeconds: 0.2",
      "  sinks:",
      `    - { kind: webhook, name: siem, url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/jit", secret: { env: SIEM_SECRET } }`,
    ].join("\n"),
  );
  const serve = startJit({ SIEM_SECRET: SECRET }, "serve", "--config", config, "--ledger", ledgerPath);
  t.after(async () => {
    if (serve.exitCode === null) {
      const exited = new Promise((resolve) => serve.once("exit", resolve));
      serve.kill("SIGTERM");
      await exited;
    }
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    serve.stderr.on("data", (c: Buffer) => {
      stderr += c.toString("utf8");
      const m = /broker listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    serve.once("exit", (code) => reject(new Error(`jit serve exited ${code}: ${stderr}`)));
  });
  await arrived;
  assert.equal(got.length, 1);
  const body = JSON.parse(got[0].body) as { id: string; kind: string; link: string };
  assert.deepEqual([body.id, body.kind, body.link], [event.event.id, "pending-approval", `https://jit.example.com/requests/${event.event.grant.id}`]);
  assert.ok(verifySignature(SECRET, { timestamp: got[0].headers["x-jit-timestamp"] as string, signature: got[0].headers["x-jit-signature"] as string }, got[0].body, Math.floor(Date.now() / 1000)));
  const ready = (await (await fetch(`${url}/readyz`)).json()) as { status: string; notifications: { name: string; ok: boolean }[] };
  assert.equal(ready.status, "ready");
  assert.deepEqual(ready.notifications.map((s) => [s.name, s.ok]), [["siem", true]]);

  const broken = path.join(dir, "broken.yaml");
  writeFileSync(broken, "devIdentity: ana@example.com\nnotifications:\n  sinks:\n    - { kind: slack, name: ops, url: 'http://hooks.example.com/x' }\n");
  const refused = await jitProcess({}, "serve", "--config", broken, "--ledger", ledgerPath);
  assert.equal(refused.code, 2, shown(refused));
  assert.match(refused.stderr, /notifications\.sinks\[0\]\.url: .*must be https/, shown(refused));
});
