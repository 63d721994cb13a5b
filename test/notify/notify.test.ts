// Notifications from the broker's outbox to real HTTP receivers on 127.0.0.1: Slack, Teams and
// generic (signed) webhooks. The notifier's clock is virtual, so "a sink down for a minute" is a
// minute of that clock; delivery rounds are run by the test instead of a timer.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { POLICY, READER, VM, startHarness } from "../../provider/src/broker/testing/harness";
import { verifySignature } from "../../provider/src/notify";

const SECRET = "s3cret-for-the-receiver-0123456789abcdef";
const CONSOLE = "https://jit.example.com";

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP receiver: records every POST, answers with `answer(path)`; `hold` keeps answers for a path until released. */
async function receiver(answer: (path: string) => number = () => 200) {
  const got: Received[] = [];
  const held = new Map<string, () => void>();
  const holding = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const reply = () => {
        const status = answer(path);
        if (status < 300) got.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(status).end();
      };
      if (holding.has(path)) held.set(path, reply);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    got,
    on: (path: string) => got.filter((r) => r.path === path),
    hold: (path: string) => holding.add(path),
    release(path: string) {
      holding.delete(path);
      held.get(path)?.();
      held.delete(path);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ask = (source: string) => ({ virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT1H", allowedSourceAddressPrefix: source }] }], justification: "INC-5 <b>disk</b>" });

test("each event reaches every sink once, in order: the generic webhook signed, Slack and Teams with a link to the request in the console", async (t) => {
  const r = await receiver();
  const clock = { t: Date.now() };
  const h = await startHarness({
    notify: {
      sinks: [
        { kind: "webhook", name: "siem", url: `${r.url}/hook`, secret: SECRET },
        { kind: "slack", name: "ops-slack", url: `${r.url}/slack` },
        { kind: "teams", name: "ops-teams", url: `${r.url}/teams`, events: ["pending-approval", "denied"] },
      ],
      consoleUrl: CONSOLE,
      intervalMs: 0,
      now: () => clock.t,
    },
  });
  t.after(async () => {
    await h.close();
    await r.close();
  });
  await h.ledger.putPolicy({ policy: { ...POLICY, name: "held", approvers: [READER] }, baseline: {} });
  const ana = h.authority.token();
  const reader = h.authority.token({ oid: READER, upn: "lead@example.com" });

  const held = (await h.call("POST", "/v1/policies/held/initiate", { token: ana, body: ask("203.0.113.7") })).body;
  assert.equal(held.state, "awaiting-approval");
  await h.broker.broker.notifier!.round();
  await h.call("POST", `/v1/grants/${held.id}/approve`, { token: reader });
  const other = (await h.call("POST", "/v1/policies/held/initiate", { token: ana, body: ask("203.0.113.8") })).body;
  await h.call("POST", `/v1/grants/${other.id}/deny`, { token: reader, body: { reason: "use the bastion" } });
  await h.call("POST", `/v1/grants/${held.id}/revoke`, { token: ana });
  await h.broker.broker.notifier!.round();
  await h.broker.broker.notifier!.round();

  const hook = r.on("/hook").map((x) => ({ ...x, event: JSON.parse(x.body) }));
  assert.deepEqual(
    hook.map((x) => `${x.event.kind}:${x.event.grant.id}`),
    [
      `requested:${held.id}`,
      `pending-approval:${held.id}`,
      `approved:${held.id}`,
      `granted:${held.id}`,
      `requested:${other.id}`,
      `pending-approval:${other.id}`,
      `denied:${other.id}`,
      `revoked:${held.id}`,
    ],
  );
  assert.equal(new Set(hook.map((x) => x.event.id)).size, hook.length, "each event once");
  for (const x of hook) {
    assert.ok(verifySignature(SECRET, { timestamp: x.headers["x-jit-timestamp"] as string, signature: x.headers["x-jit-signature"] as string }, x.body, Math.floor(clock.t / 1000)), "valid signature");
    assert.ok(!verifySignature("another-secret-0123456789abcdefghijkl", { timestamp: x.headers["x-jit-timestamp"] as string, signature: x.headers["x-jit-signature"] as string }, x.body, Math.floor(clock.t / 1000)));
    assert.ok(!verifySignature(SECRET, { timestamp: x.headers["x-jit-timestamp"] as string, signature: x.headers["x-jit-signature"] as string }, x.body.replace("INC-5", "INC-6"), Math.floor(clock.t / 1000)), "a changed body fails");
    assert.equal(x.headers["x-jit-event-id"], x.event.id);
    assert.equal(x.event.link, `${CONSOLE}/requests/${x.event.grant.id}`);
  }
  assert.equal(hook[6].event.detail, "use the bastion");
  assert.deepEqual(hook[3].event.grant.approval.approvedBy, ["lead@example.com"]);

  const slack = r.on("/slack").map((x) => JSON.parse(x.body) as { text: string });
  assert.equal(slack.length, 8);
  assert.match(slack[1].text, new RegExp(`^Approval needed: .* needs 1 approval\\(s\\) by .* <${CONSOLE}/requests/${held.id}\\|Approve or deny>$`));
  assert.match(slack[0].text, /INC-5 &lt;b&gt;disk&lt;\/b&gt;/, "what a person typed cannot become Slack markup");
  const teams = r.on("/teams").map((x) => JSON.parse(x.body));
  assert.equal(teams.length, 3, "only the events the sink asked for: two pending approvals and the deny");
  const card = teams[0].attachments[0];
  assert.equal(card.contentType, "application/vnd.microsoft.card.adaptive");
  assert.equal(card.content.body[0].text, "Approval needed");
  assert.deepEqual(card.content.actions, [{ type: "Action.OpenUrl", title: "Approve or deny", url: `${CONSOLE}/requests/${held.id}` }]);

  assert.deepEqual(await h.ledger.listOutbox(), [], "delivered everywhere: the outbox is empty");
  const ready = await h.call("GET", "/readyz");
  assert.deepEqual(ready.body.notifications.map((s: { name: string; ok: boolean; backlog: number; delivered: number }) => [s.name, s.ok, s.backlog, s.delivered]), [
    ["siem", true, 0, 8],
    ["ops-slack", true, 0, 8],
    ["ops-teams", true, 0, 3],
  ]);
});

test("a sink that answers 500 for a minute gets every event after it recovers, once and in order; other sinks and grants never wait for it", async (t) => {
  const clock = { t: Date.now() };
  const start = clock.t;
  const r = await receiver((path) => (path === "/flaky" && clock.t < start + 60_000 ? 500 : 200));
  const h = await startHarness({
    notify: {
      sinks: [
        { kind: "webhook", name: "flaky", url: `${r.url}/flaky`, secret: SECRET },
        { kind: "webhook", name: "steady", url: `${r.url}/steady`, secret: SECRET },
      ],
      intervalMs: 0,
      now: () => clock.t,
    },
  });
  t.after(async () => {
    await h.close();
    await r.close();
  });
  const notifier = h.broker.broker.notifier!;
  const token = h.authority.token();
  const first = await h.call("POST", "/v1/policies/web/initiate", { token, body: ask("203.0.113.10") });
  assert.equal(first.status, 201);
  await notifier.round();
  assert.equal(r.on("/flaky").length, 0);
  assert.equal(r.on("/steady").length, 2, "the steady sink is not held back by the failing one");
  const failing = (await h.call("GET", "/readyz")).body;
  assert.equal(failing.status, "ready", "a failing sink does not take the broker out of service");
  const flaky = failing.notifications.find((s: { name: string }) => s.name === "flaky");
  assert.equal(flaky.ok, false);
  assert.equal(flaky.lastError, "HTTP 500");
  assert.equal(flaky.backlog, 2);
  assert.ok(flaky.failingSince);

  // While a delivery round hangs on the sink, grants are made and revoked as usual.
  r.hold("/flaky");
  clock.t += 30_000;
  const round = notifier.round();
  const second = await h.call("POST", "/v1/policies/web/initiate", { token, body: ask("203.0.113.11") });
  assert.equal(second.status, 201);
  assert.equal(second.body.state, "active");
  assert.equal((await h.call("POST", `/v1/grants/${first.body.id}/revoke`, { token })).body.state, "revoked");
  r.release("/flaky");
  await round;

  // The minute passes (virtual clock), a round every 5 s: backoff keeps attempts few, then all arrive.
  for (let i = 0; i < 24; i++) {
    clock.t += 5_000;
    await notifier.round();
  }
  await notifier.round();
  const order = (path: string) => r.on(path).map((x) => JSON.parse(x.body) as { id: string; kind: string });
  assert.deepEqual(order("/flaky").map((e) => e.kind), ["requested", "granted", "requested", "granted", "revoked"]);
  assert.deepEqual(order("/flaky").map((e) => e.id), order("/steady").map((e) => e.id), "the same events, once each, in the same order");
  for (const x of r.on("/flaky")) assert.ok(verifySignature(SECRET, { timestamp: x.headers["x-jit-timestamp"] as string, signature: x.headers["x-jit-signature"] as string }, x.body, Math.floor(clock.t / 1000)));
  const recovered = (await h.call("GET", "/readyz")).body.notifications.find((s: { name: string }) => s.name === "flaky");
  assert.deepEqual([recovered.ok, recovered.backlog, recovered.delivered], [true, 0, 5]);
  assert.deepEqual(await h.ledger.listOutbox(), []);
});

test("a grant that ends within ten minutes is announced as expiring, once, whichever broker gets there first", async (t) => {
  const r = await receiver();
  const h = await startHarness({ notify: { sinks: [{ kind: "webhook", name: "siem", url: `${r.url}/hook`, secret: SECRET }], intervalMs: 0 } });
  t.after(async () => {
    await h.close();
    await r.close();
  });
  const token = h.authority.token();
  const long = await h.call("POST", "/v1/policies/web/initiate", { token, body: ask("203.0.113.20") });
  const short = await h.call("POST", "/v1/policies/web/initiate", { token, body: { virtualMachines: [{ id: VM, ports: [{ number: 22, duration: "PT8M", allowedSourceAddressPrefix: "203.0.113.21" }] }] } });
  assert.equal(await h.broker.broker.announceExpiring(), 1, "only the grant ending within ten minutes");
  assert.equal(await h.broker.broker.announceExpiring(), 0, "and only once");
  assert.equal((await h.ledger.getGrant(short.body.id))?.expiryAnnounced, true);
  assert.equal((await h.ledger.getGrant(long.body.id))?.expiryAnnounced, undefined);
  await h.broker.broker.notifier!.round();
  const expiring = r.on("/hook").map((x) => JSON.parse(x.body)).filter((e) => e.kind === "expiring");
  assert.deepEqual(expiring.map((e) => e.grant.id), [short.body.id]);
  assert.match(expiring[0].summary, /^Access expiring soon: /);
});
