// The console's browser-facing defences, over real HTTP to a broker on 127.0.0.1: the CSP and
// other headers, cookie attributes, CSRF (missing, forged, another session's), cross-origin
// POSTs, and escaping of text users supply. Each refused POST is checked to have changed nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { OPENAPI } from "../../provider/src/broker/openapi";
import { FormClient, devConsole, VM } from "./support";

/** fetch will not send another Host; a plain request will, as a rebound DNS name would make a browser do. */
function rawGet(base: string, path: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, { headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
  });
}

const REQUEST = (csrf: string, extra: Record<string, string> = {}) => ({ csrf, policy: "web", vm: VM, port: "22", minutes: "30", source: "203.0.113.7", justification: "INC-1", ...extra });

test("pages carry a strict CSP and the session cookie is HttpOnly, SameSite=Strict, and new at sign-in", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const browser = new FormClient(c.broker.url);
  const signin = await browser.get("/console/");
  assert.equal(signin.status, 200);
  assert.match(signin.headers.get("content-type") ?? "", /^text\/html/);
  const csp = signin.headers.get("content-security-policy") ?? "";
  for (const part of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]) assert.ok(csp.includes(part), `CSP has ${part}: ${csp}`);
  assert.ok(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"));
  assert.equal(signin.headers.get("x-frame-options"), "DENY");
  assert.equal(signin.headers.get("referrer-policy"), "same-origin", "no referrer to other sites (no-referrer would make browsers send Origin: null)");
  assert.equal(signin.headers.get("x-content-type-options"), "nosniff");
  assert.doesNotMatch(signin.text, /<script>|<style>| style="| on[a-z]+="/i, "no inline script, style or handlers");
  assert.match(signin.text, /<script src="\/console\/static\/console.js" defer><\/script>/);

  const before = [...browser.cookies.keys()];
  assert.deepEqual(before, ["jit-signin"], "signed out, only the pending sign-in's cookie");
  const res = await browser.post("/console/auth/dev", { csrf: browser.csrf() });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/console/");
  const cookie = res.headers.getSetCookie().find((l) => l.startsWith("jit-session="));
  assert.ok(cookie, "a session cookie is set");
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  assert.match(cookie, /; Path=\//);
  assert.doesNotMatch(cookie, /Secure/, "plain http on loopback cannot carry Secure cookies");
  const home = await browser.get("/console/");
  assert.match(home.text, /Signed in as <strong>dev@example.com<\/strong>/);
  assert.match(home.text, /web1/);

  const js = await browser.get("/console/static/console.js");
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
});

test("behind an https public URL the cookies are Secure with the __Host- prefix, and HSTS is on", async (t) => {
  const c = await devConsole({ console: { publicUrl: "https://jit.example.com" } });
  t.after(() => c.close());
  const browser = new FormClient(c.broker.url);
  const page = await browser.get("/console/");
  assert.equal(page.headers.get("strict-transport-security"), "max-age=31536000");
  const signin = page.headers.getSetCookie()[0];
  assert.match(signin, /^__Host-jit-signin=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
  const res = await browser.post("/console/auth/dev", { csrf: browser.csrf() }, { origin: "https://jit.example.com" });
  assert.equal(res.status, 303);
  assert.match(res.headers.getSetCookie().find((l) => l.startsWith("__Host-jit-session=")) ?? "", /HttpOnly; SameSite=Strict; Secure$/);
  // The console's origin is the public one: a POST from the broker's own address is another origin.
  const other = await browser.post("/console/signout", { csrf: "x" }, { origin: browser.origin });
  assert.equal(other.status, 403);
});

test("a POST without the CSRF token, with a forged one, or with another session's is refused, and nothing changes", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  await ana.signInDev();
  await ana.get(`/console/request?policy=web&vm=${encodeURIComponent(VM)}`);
  const token = ana.csrf();
  const mallory = new FormClient(c.broker.url);
  await mallory.signInDev();
  await mallory.get("/console/");
  const othersToken = mallory.csrf();
  assert.notEqual(token, othersToken);

  for (const [what, csrf] of [["missing", ""], ["forged", "A".repeat(token.length)], ["another session's", othersToken], ["shorter", token.slice(1)]] as const) {
    const res = await ana.post("/console/request", REQUEST(csrf));
    assert.equal(res.status, 403, `${what} token`);
    assert.match(res.text, /security token is missing or is not this session&#39;s/);
  }
  const noField = await ana.post("/console/request", { policy: "web", vm: VM, port: "22", minutes: "30", source: "203.0.113.7" });
  assert.equal(noField.status, 403);
  assert.deepEqual(await c.ledger.listGrants(), [], "no grant was made");
  assert.equal(c.driver.writes, 0, "no cloud write");

  // With the right token the same request goes through.
  const ok = await ana.post("/console/request", REQUEST(token));
  assert.equal(ok.status, 303);
  assert.match(ok.headers.get("location") ?? "", /^\/console\/grants\?done=active&grant=/);
  assert.equal((await c.ledger.listGrants()).length, 1);
});

test("a POST from another origin, or with no origin at all, is refused even with the session cookie and token", async (t) => {
  const logs: string[] = [];
  const c = await devConsole({ log: (line) => logs.push(line) });
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  await ana.signInDev();
  await ana.get("/console/");
  const token = ana.csrf();
  const cases: [string, Record<string, string>][] = [
    ["another site's Origin", { origin: "https://evil.example" }],
    ["another port on the same host", { origin: ana.origin.replace(/:\d+$/, ":1") }],
    ["null Origin (a sandboxed frame)", { origin: "null" }],
    ["no Origin, cross-site fetch metadata", { "sec-fetch-site": "cross-site" }],
    ["no Origin, same-site (a sibling subdomain)", { "sec-fetch-site": "same-site" }],
    ["no Origin and no fetch metadata", {}],
  ];
  for (const [what, headers] of cases) {
    const res = await ana.post("/console/request", REQUEST(token), headers);
    assert.equal(res.status, 403, what);
    assert.match(res.text, /not sent from the console&#39;s own pages/, what);
  }
  // Without Origin, same-origin fetch metadata is enough (as browsers send on same-origin navigations).
  assert.equal((await c.ledger.listGrants()).length, 0);
  const ok = await ana.post("/console/request", REQUEST(token), { "sec-fetch-site": "same-origin" });
  assert.equal(ok.status, 303);

  // One log line per console request, as for the API, and never the session's secrets in it.
  const refused = logs.map((l) => JSON.parse(l)).filter((l) => l.route === "/console/*" && l.status === 403);
  assert.equal(refused.length, cases.length);
  assert.ok(refused.every((l) => l.outcome === "Refused" && l.caller === "dev@example.com"));
  for (const secret of [...ana.cookies.values(), token]) assert.ok(!logs.join("\n").includes(secret), "no cookie or token in the log");

  // A cookie sent with a Host that is not the broker's loopback name (DNS rebinding) gets nothing.
  const rebound = await rawGet(c.broker.url, "/console/grants", { host: "attacker.example", cookie: [...ana.cookies].map(([k, v]) => `${k}=${v}`).join("; ") });
  assert.equal(rebound.status, 421);
  assert.doesNotMatch(rebound.text, /Signed in as/);
});

test("script in any field a user supplies is shown as text: justification, source, names, audit search", async (t) => {
  const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`;
  const c = await devConsole({ auth: { devIdentity: `eve<script>alert(3)</script>` }, readers: [`eve<script>alert(3)</script>`] });
  t.after(() => c.close());
  const eve = new FormClient(c.broker.url);
  await eve.signInDev();
  await eve.get("/console/");
  const token = eve.csrf();
  // Refused input is echoed back into the form, escaped.
  const bad = await eve.post("/console/request", REQUEST(token, { source: evil, justification: evil }));
  assert.equal(bad.status, 422);
  // Accepted input shows on the grants page and in the audit log, escaped.
  const ok = await eve.post("/console/request", REQUEST(token, { justification: evil }));
  assert.equal(ok.status, 303);
  const pages = [bad.text, (await eve.get("/console/grants")).text, (await eve.get(`/console/audit?q=${encodeURIComponent(evil)}`)).text, (await eve.get("/console/")).text];
  for (const text of pages) {
    assert.doesNotMatch(text, /<script>alert|<img src=x/, "no markup from user input");
    assert.ok(!/onerror=alert\(2\)>/.test(text.replace(/&gt;/g, "")), "no live attribute");
  }
  assert.ok(pages[0].includes("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;"), "the refused form keeps the text, escaped");
  assert.ok(pages[1].includes("&lt;script&gt;alert(1)&lt;/script&gt;"), "the grant's justification is shown escaped");
  assert.ok(pages[2].includes('value="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;"'), "the search box keeps the query, escaped");
  assert.ok(pages[3].includes("eve&lt;script&gt;alert(3)&lt;/script&gt;"), "the signed-in name is escaped");
});

test("bad input is a clear error on the form, with what was typed kept, and nothing changes", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  await ana.signInDev();
  await ana.get("/console/");
  const token = ana.csrf();
  const outside = await ana.post("/console/request", REQUEST(token, { source: "198.51.100.9", justification: "kept text" }));
  assert.equal(outside.status, 422);
  assert.match(outside.text, /role="alert"/);
  assert.match(outside.text, /198\.51\.100\.9/);
  assert.match(outside.text, />kept text<\/textarea>/);
  const tooLong = await ana.post("/console/request", REQUEST(token, { minutes: "600" }));
  assert.equal(tooLong.status, 422, tooLong.text.slice(0, 2000));
  const noPort = await ana.post("/console/request", { ...REQUEST(token), port: [] });
  assert.equal(noPort.status, 400);
  assert.match(noPort.text, /choose at least one port/);
  const twice = await ana.post("/console/request", { ...REQUEST(token), minutes: ["5", "10"] });
  assert.equal(twice.status, 400);
  assert.match(twice.text, /minutes is given twice/);
  const notJson = await ana.post("/console/request", REQUEST(token), { origin: ana.origin, "content-type": "application/json" });
  assert.equal(notJson.status, 415);
  assert.deepEqual(await c.ledger.listGrants(), []);
  assert.equal(c.driver.writes, 0);
});

test("signing out ends the session on the server: the old cookie and token no longer work", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  await ana.signInDev();
  await ana.get("/console/");
  const token = ana.csrf();
  const cookies = new Map(ana.cookies);
  const out = await ana.post("/console/signout", { csrf: token });
  assert.equal(out.status, 303);
  const replay = new FormClient(c.broker.url);
  for (const [k, v] of cookies) replay.cookies.set(k, v);
  const res = await replay.post("/console/request", REQUEST(token));
  assert.equal(res.status, 403);
  assert.match(res.text, /security token is missing|session has ended/);
  assert.deepEqual(await c.ledger.listGrants(), []);
});

test("extend is offered exactly when the broker has the extend route, and moves the grant's end when it does", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  await ana.signInDev();
  await ana.get("/console/");
  assert.equal((await ana.post("/console/request", REQUEST(ana.csrf()))).status, 303);
  const page = await ana.get("/console/grants");
  const [grant] = await c.ledger.listGrants();
  const offered = page.text.includes(`action="/console/grants/${grant.id}/extend"`);
  assert.equal(offered, Object.hasOwn(OPENAPI.paths, "/v1/grants/{grant}/extend"), "the form follows the broker's OpenAPI document");
  if (!offered) {
    const refused = await ana.post(`/console/grants/${grant.id}/extend`, { csrf: ana.csrf(), minutes: "30" });
    assert.equal(refused.status, 404);
    assert.match(refused.text, /cannot extend/);
    return;
  }
  const extended = await ana.post(`/console/grants/${grant.id}/extend`, { csrf: ana.csrf(), minutes: "30" });
  assert.equal(extended.status, 303, extended.text.slice(0, 800));
  const after = await c.ledger.getGrant(grant.id);
  assert.equal(Date.parse(after?.endTimeUtc ?? "") - Date.parse(grant.endTimeUtc), 30 * 60_000);
});

test("signed out, a console link leads through sign-in back to that page, and the landing page cannot be another site", async (t) => {
  const c = await devConsole();
  t.after(() => c.close());
  const ana = new FormClient(c.broker.url);
  const deep = await ana.get("/console/audit?q=INC-1");
  assert.equal(deep.status, 303);
  assert.equal(deep.headers.get("location"), "/console/?next=%2Fconsole%2Faudit%3Fq%3DINC-1");
  await ana.get(deep.headers.get("location") as string);
  const signedIn = await ana.post("/console/auth/dev", { csrf: ana.csrf() });
  assert.equal(signedIn.headers.get("location"), "/console/audit?q=INC-1");

  for (const next of ["https://evil.example/", "//evil.example/console/", "/console//evil.example", "/console/auth/dev", "/elsewhere", "/console/\\evil"]) {
    const other = new FormClient(c.broker.url);
    await other.get(`/console/?next=${encodeURIComponent(next)}`);
    const res = await other.post("/console/auth/dev", { csrf: other.csrf() });
    assert.equal(res.headers.get("location"), "/console/", `ignored: ${next}`);
  }
});
