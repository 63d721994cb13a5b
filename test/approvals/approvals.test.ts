// Approvals end to end on both clouds: a broker on 127.0.0.1 that verifies each person's real signed
// identity (Entra ID tokens from the local ARM endpoint's authority, signed STS requests on the
// local AWS endpoint), a policy that needs 2 of 3 approvers, and the NSG / security group read
// between every step, with the emulators' call logs counting cloud writes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isJitError } from "../../provider/src/model";
import { ApprovalWorld, WORLDS, ask } from "./support";

const MINUTE = 60_000;

async function refused(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => isJitError(e) && e.code === code && message.test(e.message));
}

async function withWorld(t: { after(fn: () => Promise<void>): void }, make: () => Promise<ApprovalWorld>): Promise<ApprovalWorld> {
  const w = await make();
  t.after(() => w.close());
  return w;
}

for (const [cloud, make] of WORLDS) {
  test(`${cloud}: 2 of 3 approvals open the port only after the second distinct approver; the requester's own approval is refused and a repeated approval counts once`, async (t) => {
    const w = await withWorld(t, make);
    const source = "203.0.113.7";
    const before = w.writes();
    const held = await w.as("ana").initiate("web", ask(w.vmId, source));
    assert.equal(held.state, "awaiting-approval");
    assert.equal(held.approval?.required, 2);
    assert.equal(held.approval?.expiresAt, new Date(w.clock.t + 60 * MINUTE).toISOString());
    assert.ok(!w.open(source), "nothing opens while the request waits");
    assert.equal(w.writes(), before, "a held request writes nothing to the cloud");
    assert.deepEqual((await w.as("di").approvals()).map((g) => g.id), [held.id], "an approver sees it in their inbox");
    assert.deepEqual(await w.as("ana").approvals(), [], "the requester cannot decide their own request");
    assert.deepEqual(await w.as("zed").approvals(), [], "nor can someone who is not an approver");

    await refused(w.as("ana").decide(held.id, "approve"), "Unauthorized", /may not approve it/);
    await refused(w.as("zed").decide(held.id, "approve"), "Unauthorized", /not among the approvers of policy "web"/);

    w.clock.t += 10 * MINUTE;
    const one = await w.as("bo").decide(held.id, "approve");
    assert.equal(one.state, "awaiting-approval");
    assert.ok(!w.open(source), "one approval of two: still closed");
    const again = await w.as("bo").decide(held.id, "approve");
    assert.equal(again.approval?.votes.length, 1, "the same approver twice is counted once");
    assert.ok(!w.open(source), "still closed after the repeated approval");
    assert.equal(w.writes(), before);
    assert.deepEqual((await w.as("bo").approvals()).map((g) => g.id), [], "bo has voted; it leaves bo's inbox");

    w.clock.t += 5 * MINUTE;
    const approvedAt = w.clock.t;
    const active = await w.as("cy").decide(held.id, "approve");
    assert.equal(active.state, "active");
    assert.ok(w.open(source), "open after the second distinct approval");
    assert.ok(w.writes() > before);
    assert.equal(active.endTimeUtc, new Date(approvedAt + 60 * MINUTE).toISOString(), "the hour starts at the last approval");
    assert.deepEqual(active.approval?.votes.map((v) => [v.approver, v.decision]), [[w.idOf("bo"), "approve"], [w.idOf("cy"), "approve"]]);
    await refused(w.as("di").decide(held.id, "approve"), "Conflict", /is active, not awaiting approval/);

    const audit = (await w.ledger.listAudit({ grant: held.id })).reverse().map((e) => `${e.action}:${e.outcome}`);
    assert.deepEqual(audit, [
      "grant.request:success",
      "grant.hold:success",
      "grant.approve:refused",
      "grant.approve:refused",
      "grant.approve:success",
      "grant.approve:success",
      "grant.apply:success",
      "grant.approve:refused",
    ]);
    assert.deepEqual((await w.ledger.listOutbox()).map((e) => e.event.kind), ["requested", "pending-approval", "approved", "granted"]);

    // The window is the policy's: the reconciler closes it an hour after the approval, not after the request.
    w.clock.t = approvedAt + 60 * MINUTE - 1;
    assert.deepEqual((await w.sweep()).restored, []);
    assert.ok(w.open(source));
    w.clock.t = approvedAt + 60 * MINUTE;
    assert.deepEqual((await w.sweep()).restored, [{ grantId: held.id, state: "expired" }]);
    assert.ok(!w.open(source));
  });

  test(`${cloud}: one deny ends the request with zero cloud writes; a timeout expires it, through the reconciler or at the next vote`, async (t) => {
    const w = await withWorld(t, make);
    const before = w.writes();
    const denied = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.8"));
    await w.as("bo").decide(denied.id, "approve");
    const ended = await w.as("di").decide(denied.id, "deny", "no change window today");
    assert.equal(ended.state, "denied");
    assert.equal(ended.reason, "Denied");
    assert.equal(ended.approval?.votes[1].reason, "no change window today");
    await refused(w.as("cy").decide(denied.id, "approve"), "Conflict", /is denied \(Denied\), not awaiting approval/);
    assert.ok(!w.open("203.0.113.8"));

    const late = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.9"));
    const lateVote = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.10"));
    w.clock.t += 60 * MINUTE - 1;
    assert.deepEqual((await w.sweep()).restored, [], "not a millisecond early");
    w.clock.t += 1;
    const report = await w.sweep();
    assert.deepEqual(report.restored.map((r) => r.grantId).sort(), [late.id, lateVote.id].sort());
    const expired = await w.as("ana").grants({ state: "all" });
    for (const g of expired.filter((g) => g.id !== denied.id)) {
      assert.equal(g.state, "expired");
      assert.equal(g.reason, "ApprovalExpired");
    }
    await refused(w.as("bo").decide(late.id, "approve"), "Conflict", /is expired \(ApprovalExpired\)/);

    // Without a reconciler run, the first vote after the timeout finds it expired and records that.
    const unswept = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.11"));
    w.clock.t += 61 * MINUTE;
    await refused(w.as("bo").decide(unswept.id, "approve"), "RequestNotAllowed", /has expired; ask again/);
    assert.equal((await w.ledger.getGrant(unswept.id))?.reason, "ApprovalExpired");
    assert.equal(w.writes(), before, "deny and expiry never touched the cloud");
    assert.ok(!w.open("203.0.113.9") && !w.open("203.0.113.11"));
  });

  test(`${cloud}: auto-approve opens a low-risk request at once; break-glass skips approval only for an emergency principal with a justification, within its shorter maximum`, async (t) => {
    const w = await withWorld(t, make);
    const auto = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.200", "PT30M"));
    assert.equal(auto.state, "active");
    assert.equal(auto.autoApproved, 0);
    assert.ok(w.open("203.0.113.200"));
    const tooLong = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.201", "PT31M"));
    assert.equal(tooLong.state, "awaiting-approval", "longer than the rule allows: held");
    assert.ok(!w.open("203.0.113.201"));

    await refused(w.as("ana").initiate("web", ask(w.vmId, "203.0.113.30", "PT15M", { breakGlass: true })), "Unauthorized", /not among the emergency principals/);
    await refused(w.as("eve").initiate("web", { ...ask(w.vmId, "203.0.113.30", "PT15M", { breakGlass: true }), justification: "" }), "RequestNotAllowed", /needs a justification/);
    await refused(w.as("eve").initiate("web", ask(w.vmId, "203.0.113.30", "PT45M", { breakGlass: true, justification: "INC-1 db down" })), "RequestNotAllowed", /at most PT30M/);
    assert.ok(!w.open("203.0.113.30"));
    const glass = await w.as("eve").initiate("web", ask(w.vmId, "203.0.113.30", "PT30M", { breakGlass: true, justification: "INC-1 db down" }));
    assert.equal(glass.state, "active");
    assert.equal(glass.breakGlass, true);
    assert.ok(w.open("203.0.113.30"));
    const marked = await w.ledger.listAudit({ grant: glass.id, action: "grant.break-glass" });
    assert.equal(marked.length, 1);
    assert.equal(marked[0].justification, "INC-1 db down");
    const events = (await w.ledger.listOutbox()).filter((e) => e.event.grant.id === glass.id);
    assert.deepEqual(events.map((e) => e.event.kind), ["requested", "break-glass", "granted"]);
    assert.equal(events[1].event.grant.breakGlass, true);
  });

  test(`${cloud}: two approvals at the same moment are both counted (compare-and-swap), and the grant opens exactly once`, async (t) => {
    const w = await withWorld(t, make);
    const held = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.40"));
    const votes = await Promise.all([w.as("bo").decide(held.id, "approve"), w.as("cy").decide(held.id, "approve")]);
    assert.ok(votes.some((g) => g.state === "active"), "one of the two votes was the last one needed");
    const stored = await w.ledger.getGrant(held.id);
    assert.equal(stored?.state, "active");
    assert.deepEqual(stored?.approval?.votes.map((v) => v.approver).sort(), [w.idOf("bo"), w.idOf("cy")].sort());
    assert.equal((await w.ledger.listAudit({ grant: held.id, action: "grant.apply" })).length, 1);
    assert.ok(w.open("203.0.113.40"));
  });

  test(`${cloud}: the requester may withdraw a held request (revoke): it ends with nothing written, and no vote counts after`, async (t) => {
    const w = await withWorld(t, make);
    const before = w.writes();
    const held = await w.as("ana").initiate("web", ask(w.vmId, "203.0.113.60"));
    await w.as("bo").decide(held.id, "approve");
    const withdrawn = await w.as("ana").revoke(held.id);
    assert.equal(withdrawn.state, "revoked");
    assert.equal(withdrawn.reason, "UserRequested");
    await refused(w.as("cy").decide(held.id, "approve"), "Conflict", /is revoked/);
    assert.equal(w.writes(), before, "nothing was ever written to the cloud");
    assert.ok(!w.open("203.0.113.60"));
  });
}
