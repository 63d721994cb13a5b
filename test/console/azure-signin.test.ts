// Azure sign-in to the console: the authorization-code flow with PKCE against the Azure
// emulator's Entra ID (its /authorize and /token), the token checked by the broker's own
// verifier, and the caller's ARM permissions deciding what the console offers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FormClient, authorizeAs, azureConsole } from "./support";

test("Azure sign-in: code flow with PKCE, a session for the token's principal, and the VMs their ARM permissions allow", async (t) => {
  const c = await azureConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  const start = await ana.get("/console/auth/azure");
  const authorize = new URL(start.headers.get("location") ?? "");
  assert.equal(authorize.origin + authorize.pathname, `${c.w.emu.identity.authorityHost}/${c.w.emu.identity.tenantId}/oauth2/v2.0/authorize`);
  assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
  assert.match(authorize.searchParams.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.equal(authorize.searchParams.get("redirect_uri"), `${c.broker.url}/console/auth/callback`);
  assert.ok(!authorize.href.includes("code_verifier"), "the verifier never leaves the broker");

  const back = await authorizeAs(ana, c.w.emu, "ana");
  const callback = await ana.get(back.slice(c.broker.url.length));
  assert.equal(callback.status, 200, callback.text.slice(0, 500));
  assert.match(callback.text, /<meta http-equiv="refresh" content="0;url=\/console\/">/);
  const home = await ana.get("/console/");
  assert.match(home.text, /Signed in as <strong>ana@/);
  assert.match(home.text, /web1/);

  // The same code again (a replay from a log or a history) is refused.
  const replay = new FormClient(c.broker.url);
  await replay.get("/console/auth/azure");
  const replayed = await replay.get(`${new URL(back).pathname}?${new URL(back).searchParams.toString()}`);
  assert.equal(replayed.status, 400, "the state is not this browser's");
  assert.doesNotMatch(replayed.text, /Signed in as/);
});

test("Azure sign-in: a stolen code is useless in another browser (its PKCE verifier differs), and a callback without a sign-in is refused", async (t) => {
  const c = await azureConsole();
  t.after(() => c.close());
  const victim = new FormClient(c.broker.url);
  const victimBack = new URL(await authorizeAs(victim, c.w.emu, "ana"));
  // The attacker starts a sign-in of their own and feeds the victim's code into it, with their own state.
  const attacker = new FormClient(c.broker.url);
  const attackerBack = new URL(await authorizeAs(attacker, c.w.emu, "bob"));
  const forged = `/console/auth/callback?code=${encodeURIComponent(victimBack.searchParams.get("code") ?? "")}&state=${encodeURIComponent(attackerBack.searchParams.get("state") ?? "")}`;
  const res = await attacker.get(forged);
  assert.equal(res.status, 401);
  assert.match(res.text, /AADSTS501481|refused the sign-in/);
  assert.doesNotMatch(res.text, /Signed in as/);
  assert.ok(![...attacker.cookies.keys()].includes("jit-session"), "no session");

  const stranger = new FormClient(c.broker.url);
  const none = await stranger.get(`/console/auth/callback?code=x&state=y`);
  assert.equal(none.status, 400);
  assert.match(none.text, /not started here/);

  // The identity platform's own refusal is shown, not a blank page.
  const denied = new FormClient(c.broker.url);
  const start = await denied.get("/console/auth/azure");
  const state = new URL(start.headers.get("location") ?? "").searchParams.get("state") ?? "";
  const refused = await denied.get(`/console/auth/callback?error=access_denied&error_description=${encodeURIComponent("AADSTS65004: User declined to consent.\nTrace")}&state=${encodeURIComponent(state)}`);
  assert.equal(refused.status, 401);
  assert.match(refused.text, /access_denied: AADSTS65004: User declined to consent\./);
});
