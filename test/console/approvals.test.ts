// The approvals inbox over HTTP, with the Azure emulator's identities: the requester cannot approve
// their own request from the console (the API's refusal is shown), and a deny from the inbox ends
// the request with no cloud write.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FormClient, authorizeAs, azureConsole } from "./support";

async function signedIn(c: Awaited<ReturnType<typeof azureConsole>>, who: string): Promise<FormClient> {
  const client = new FormClient(c.broker.url);
  const back = await authorizeAs(client, c.w.emu, who);
  const done = await client.get(back.slice(c.broker.url.length));
  assert.equal(done.status, 200, `${who} signs in`);
  await client.get("/console/");
  return client;
}

test("approvals inbox: self-approval refused with the reason, a deny ends the request with zero cloud writes", async (t) => {
  const c = await azureConsole({ approvers: ["ana", "bob", "cleo"], approvalsRequired: 2 });
  t.after(() => c.close());
  const ana = await signedIn(c, "ana");
  const made = await ana.post("/console/request", { csrf: ana.csrf(), policy: "web", vm: c.vm.vmId, port: "22", minutes: "30", source: "203.0.113.7", justification: "INC-5" });
  assert.equal(made.status, 303);
  assert.match(made.headers.get("location") ?? "", /done=pending/);
  const [held] = await c.w.ledger.listGrants();
  assert.equal(held.state, "awaiting-approval");
  const writes = c.w.emu.calls.list({ write: true }).length;

  // Ana is an approver of the policy, but not of her own request: her inbox is empty, and a forged POST is refused.
  const inbox = await ana.get("/console/approvals");
  assert.match(inbox.text, /Nothing waits for your approval/);
  const self = await ana.post(`/console/approvals/${held.id}/approve`, { csrf: ana.csrf() });
  assert.ok(self.status >= 400 && self.status < 500, `self-approval answered ${self.status}`);
  assert.match(self.text, /role="alert"/);
  assert.equal((await c.w.ledger.getGrant(held.id))?.approval?.votes.length, 0, "no vote counted");

  // Bob sees it, with its progress, and denies it.
  const bob = await signedIn(c, "bob");
  const bobs = await bob.get("/console/approvals");
  assert.match(bobs.text, new RegExp(`id="approval-${held.id}"`));
  assert.match(bobs.text, /0 of 2 approvals/);
  const denied = await bob.post(`/console/approvals/${held.id}/deny`, { csrf: bob.csrf() });
  assert.equal(denied.status, 303);
  assert.equal((await c.w.ledger.getGrant(held.id))?.state, "denied");
  assert.equal(c.w.emu.calls.list({ write: true }).length, writes, "zero cloud writes");
  const after = await ana.get("/console/grants?state=all");
  assert.match(after.text, /denied/);
  assert.doesNotMatch(after.text, /\/console\/grants\/[^"]+\/revoke/, "nothing left to revoke");
  assert.doesNotMatch(after.text, /\/extend"/, "no extend where the broker has no extend route");
});

test("a notification's link (<console>/requests/<id>) opens the request: to decide for an approver, as a grant for its requester, and for nobody else", async (t) => {
  const c = await azureConsole({ approvers: ["bob"], approvalsRequired: 1 });
  t.after(() => c.close());
  const ana = await signedIn(c, "ana");
  await ana.post("/console/request", { csrf: ana.csrf(), policy: "web", vm: c.vm.vmId, port: "22", minutes: "30", source: "203.0.113.7", justification: "INC-6" });
  const [held] = await c.w.ledger.listGrants();
  // Bob follows the link signed out: sign-in first, then the request.
  const bob = new FormClient(c.broker.url);
  const link = await bob.get(`/console/requests/${held.id}`);
  assert.equal(link.status, 303);
  const signin = await bob.get(link.headers.get("location") as string);
  const azureStart = /href="(\/console\/auth\/azure\?next=[^"]+)"/.exec(signin.text)?.[1] ?? "";
  assert.ok(azureStart, "the Microsoft sign-in keeps where to land");
  const back = await authorizeAs(bob, c.w.emu, "bob", azureStart.replace(/&amp;/g, "&"));
  const landed = await bob.get(back.slice(c.broker.url.length));
  assert.match(landed.text, new RegExp(`content="0;url=/console/requests/${held.id}"`));
  const forBob = await bob.get(`/console/requests/${held.id}`);
  assert.equal(forBob.status, 200);
  assert.match(forBob.text, new RegExp(`action="/console/approvals/${held.id}/approve"`));
  const forAna = await ana.get(`/console/requests/${held.id}`);
  assert.match(forAna.text, new RegExp(`id="grant-${held.id}"`));
  assert.match(forAna.text, /waiting for approval/);
  assert.doesNotMatch(forAna.text, /\/approve"/);
  const cleo = await signedIn(c, "cleo");
  const forCleo = await cleo.get(`/console/requests/${held.id}`);
  assert.equal(forCleo.status, 404);
  assert.doesNotMatch(forCleo.text, /INC-6/);

  // The requester withdraws it from her grants page: nothing was, or is, written to the cloud.
  const writes = c.w.emu.calls.list({ write: true }).length;
  const page = await ana.get("/console/grants");
  assert.match(page.text, /Withdraw<span class="skip"> /);
  const withdrawn = await ana.post(`/console/grants/${held.id}/revoke`, { csrf: ana.csrf() });
  assert.equal(withdrawn.status, 303, withdrawn.text.slice(0, 600));
  assert.notEqual((await c.w.ledger.getGrant(held.id))?.state, "awaiting-approval");
  assert.equal(c.w.emu.calls.list({ write: true }).length, writes, "zero cloud writes");
  assert.match((await bob.get("/console/approvals")).text, /Nothing waits for your approval/);
});
