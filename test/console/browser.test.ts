// The console in a real headless Chromium (Debian's package, driven by playwright-core), against a
// broker whose console signs in with the Azure emulator's Entra ID and writes to its ARM: sign in,
// request, see it wait for approval, approve it as another user in a second browser profile, see
// the countdown run, revoke, find it all in the audit search. Each page is checked with
// axe-core (no serious or critical violation), must not trip its own CSP, and is saved as a
// screenshot under test-artifacts/console/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, saveScreenshot, seriousAxeViolations } from "../support/browser";
import { reaches } from "../azure/support";
import { AzureConsole, azureConsole } from "./support";

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A browser profile of its own (cookies and all); the emulator's certificate is its own CA's. */
async function person(c: AzureConsole): Promise<{ context: BrowserContext; page: Page; cspErrors: string[] }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: c.broker.url, viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  return { context, page, cspErrors };
}

async function signIn(page: Page, account: string): Promise<void> {
  await page.goto("/console/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByLabel("Account").fill(account);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Request access" }).waitFor();
}

async function check(page: Page, name: string): Promise<void> {
  assert.deepEqual(await seriousAxeViolations(page), [], `axe on ${name}`);
  await saveScreenshot(page, "console", name);
}

test("sign in, request, approve as another user, watch the countdown, revoke, and find it in the audit search, in Chromium", async (t) => {
  const c = await azureConsole({ approvers: ["bob", "cleo"], approvalsRequired: 1 });
  t.after(() => c.close());
  const { context, page, cspErrors } = await person(c);
  t.after(() => context.close());
  await context.clock.install({ time: Date.now() });

  await page.goto("/console/");
  assert.equal(await page.title(), "Sign in · pulumi-jit");
  // The first Tab lands on the skip link: the pages are keyboard-usable from the top.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate("document.activeElement?.textContent"), "Skip to content");
  await check(page, "signin");

  await signIn(page, "ana");
  await assert.doesNotReject(page.getByText("Signed in as").waitFor());
  await check(page, "vms");

  await page.getByRole("link", { name: "Request access to web1" }).click();
  const source = page.getByLabel("Your address");
  assert.equal(await source.inputValue(), "127.0.0.1", "the caller's address as the broker sees it, pre-filled");
  await page.getByLabel("Justification").fill("INC-42 <script>document.title='owned'</script>");
  await page.getByRole("button", { name: "Request access" }).click();
  // A loopback address is outside the policy: a clear error, on the form, with the input kept.
  await page.getByRole("alert").waitFor();
  assert.match((await page.getByRole("alert").textContent()) ?? "", /127\.0\.0\.1/);
  assert.equal(await page.getByLabel("Justification").inputValue(), "INC-42 <script>document.title='owned'</script>");
  await check(page, "request-error");

  // By keyboard: fix the address, then Enter on the button.
  await source.fill("203.0.113.7");
  await page.getByRole("button", { name: "Request access" }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "My access" }).waitFor();
  assert.match((await page.getByRole("status").textContent()) ?? "", /waits for approval/);
  assert.match((await page.locator("tbody tr").first().textContent()) ?? "", /waiting for approval.*0 of 1 approvals/);
  assert.notEqual(await page.title(), "owned", "the justification is text, not script");
  assert.ok(!reaches(c.w.emu, c.vm, "203.0.113.7", 22), "nothing opens before the approval");
  await check(page, "pending");

  // The requester has nothing to approve, not even their own request.
  await page.getByRole("link", { name: "Approvals" }).click();
  await page.getByText("Nothing waits for your approval.").waitFor();

  // Bob, in a browser profile of his own, approves.
  const bob = await person(c);
  t.after(() => bob.context.close());
  await signIn(bob.page, "bob");
  await bob.page.getByRole("link", { name: "Approvals" }).click();
  const row = bob.page.locator("tbody tr");
  assert.equal(await row.count(), 1);
  assert.match((await row.textContent()) ?? "", /INC-42 <script>/);
  await check(bob.page, "approvals");
  await bob.page.getByRole("button", { name: /^Approve/ }).click();
  assert.match((await bob.page.getByRole("status").textContent()) ?? "", /You approved/);
  assert.ok(reaches(c.w.emu, c.vm, "203.0.113.7", 22), "the port opens at the approval");
  assert.deepEqual(bob.cspErrors, []);

  await page.getByRole("link", { name: "My access" }).click();
  const timer = page.getByRole("timer");
  const first = (await timer.textContent()) ?? "";
  assert.match(first, /^(?:59|60|1:00):\d\d left$/, `countdown: ${first}`);
  await page.clock.runFor(61_000);
  const later = (await timer.textContent()) ?? "";
  assert.match(later, /^5[89]:\d\d left$/, `a minute later: ${later}`);
  await check(page, "grants");

  await page.getByRole("button", { name: /^Revoke/ }).click();
  await page.getByRole("status").waitFor();
  assert.match((await page.getByRole("status").textContent()) ?? "", /revoked/);
  assert.ok(!reaches(c.w.emu, c.vm, "203.0.113.7", 22), "closed by the revoke");
  const [grant] = await c.w.ledger.listGrants({ state: ["revoked"] });
  assert.ok(grant, "the grant is revoked in the ledger");
  assert.deepEqual(grant.approval?.votes.map((v) => v.decision), ["approve"]);

  await page.getByRole("link", { name: "Audit log" }).click();
  await page.getByLabel("Search").fill(`${grant.id} approve`);
  await page.getByLabel("Search").press("Enter");
  await page.getByText(/\d+ events?, newest first/).waitFor({ timeout: 5000 });
  assert.match((await page.locator("tbody").textContent()) ?? "", new RegExp(`${c.w.emu.claimsFor("bob").oid}grant\\.approve`), "bob's approval is in the log");
  await page.getByLabel("Search").fill(`${grant.id} revoke`);
  await page.getByLabel("Search").press("Enter");
  await page.getByText(/\d+ events?, newest first/).waitFor({ timeout: 5000 });
  const rows = page.locator("tbody tr");
  assert.equal(await rows.count(), 1, "one revoke of that grant");
  assert.match((await rows.first().textContent()) ?? "", /revoke/);
  await page.getByLabel("Search").fill("INC-42");
  await page.getByLabel("Search").press("Enter");
  await page.getByText(/\d+ events?, newest first/).waitFor({ timeout: 5000 });
  assert.match((await page.locator("tbody").textContent()) ?? "", new RegExp(grant.id), "found by its justification");
  await check(page, "audit");

  assert.deepEqual(cspErrors, [], "no page trips its own CSP");
});
