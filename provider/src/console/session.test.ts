import { test } from "node:test";
import assert from "node:assert/strict";
import { SessionStore } from "./session";

const caller = (id: string) => ({ caller: { principal: { id }, mode: "brokered" as const }, method: "dev" as const });

test("sessions end after their idle time, their absolute time, or their proof's expiry, whichever is first", () => {
  const clock = { t: 0 };
  const store = new SessionStore({ maxSessions: 10, idleMs: 1000, absoluteMs: 5000 }, () => clock.t);
  const a = store.create(caller("a"));
  const b = store.create({ ...caller("b"), expiresAt: 2500 });
  for (const t of [900, 1800, 2400]) {
    clock.t = t;
    assert.equal(store.get(a.id)?.caller?.principal.id, "a", `a at ${t}`);
    assert.ok(store.get(b.id), `b at ${t}`);
  }
  clock.t = 2500;
  assert.equal(store.get(b.id), undefined, "b's proof expired");
  for (const t of [3300, 4200, 4999]) {
    clock.t = t;
    assert.ok(store.get(a.id), `a at ${t}`);
  }
  clock.t = 5000;
  assert.equal(store.get(a.id), undefined, "absolute end");
  const c = store.create(caller("c"));
  clock.t += 1000;
  assert.equal(store.get(c.id), undefined, "idle end");
  assert.equal(store.get("made-up"), undefined);
  assert.equal(store.get(undefined), undefined);
});

test("the store is bounded: past its size the least recently used session goes, and ids and tokens are unguessable", () => {
  const store = new SessionStore({ maxSessions: 3, idleMs: 60_000, absoluteMs: 60_000 }, () => 0);
  const [a, b, c] = [store.create(caller("a")), store.create(caller("b")), store.create(caller("c"))];
  store.get(a.id); // a is now the most recent
  const d = store.create(caller("d"));
  assert.equal(store.size, 3);
  assert.equal(store.get(b.id), undefined, "b was the least recently used");
  for (const s of [a, c, d]) assert.ok(store.get(s.id));
  for (const s of [a, c, d]) {
    assert.match(s.id, /^[A-Za-z0-9_-]{43}$/);
    assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(s.id, s.csrf);
  }
  // A flood of sign-ins under way has its own bound and evicts no session.
  for (let i = 0; i < 100; i++) store.startSignIn();
  for (const s of [a, c, d]) assert.ok(store.get(s.id), "sessions survive a flood of sign-ins");
});

test("a pending sign-in is taken once, and not after ten minutes", () => {
  const clock = { t: 0 };
  const store = new SessionStore({ maxSessions: 10, idleMs: 1000, absoluteMs: 5000 }, () => clock.t);
  const p = store.startSignIn();
  assert.equal(store.peekSignIn(p.id)?.state, p.state);
  assert.equal(store.takeSignIn(p.id)?.verifier, p.verifier);
  assert.equal(store.takeSignIn(p.id), undefined, "once");
  const q = store.startSignIn();
  clock.t = 10 * 60_000;
  assert.equal(store.peekSignIn(q.id), undefined);
  assert.equal(store.takeSignIn(q.id), undefined);
});
