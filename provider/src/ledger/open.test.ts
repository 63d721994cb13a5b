import { test } from "node:test";
import assert from "node:assert/strict";
import { assertJitError, assertRejectsJitError } from "../model/testing/assert";
import { describeLedger, parseLedgerLocation, storableLedgerProblem } from "./open";
import { storeCall } from "./retry";

test("a ledger location is a path or a URL; each URL form names its store, and secrets never show in its description", () => {
  assert.deepEqual(parseLedgerLocation("/srv/jit/ledger.db"), { kind: "sqlite", path: "/srv/jit/ledger.db" });
  assert.deepEqual(parseLedgerLocation("sqlite:///srv/jit/ledger.db"), { kind: "sqlite", path: "/srv/jit/ledger.db" });
  assert.deepEqual(parseLedgerLocation(":memory:"), { kind: "sqlite", path: ":memory:" });
  const env = { AZURE_STORAGE_CONNECTION_STRING: "AccountName=a;AccountKey=c2VjcmV0;TableEndpoint=http://127.0.0.1:1/a;" };
  const described = (url: string) => {
    const parsed = parseLedgerLocation(url, env);
    assert.equal(parsed.kind, "store");
    return parsed.kind === "store" ? parsed.description : "";
  };
  assert.equal(described("azuretable://jitledger"), "azuretable://jitledger");
  assert.equal(described("https://acct.table.core.windows.net/jitledger"), "https://acct.table.core.windows.net/jitledger");
  assert.equal(described("dynamodb://jit-ledger?region=eu-west-1"), "dynamodb://jit-ledger?region=eu-west-1");
  assert.equal(described("postgres://jit:hunter2@db.internal:5432/ops?schema=jit&sslpassword=x"), "postgres://jit:***@db.internal:5432/ops?schema=jit&sslpassword=***");
  assert.equal(describeLedger("postgresql://jit:hunter2@db/ops"), "postgresql://jit:***@db/ops");
});

test("a location that names no store, or a store wrongly, is refused as bad input before anything is contacted", () => {
  assertJitError(() => parseLedgerLocation("ftp://host/x"), "InvalidInput", "ledger", /unknown kind of ledger "ftp:"/);
  assertJitError(() => parseLedgerLocation("azuretable://jitledger", {}), "InvalidInput", "ledger", /set AZURE_STORAGE_CONNECTION_STRING/);
  assertJitError(() => parseLedgerLocation("azuretable://x", { AZURE_STORAGE_CONNECTION_STRING: "-" }), "InvalidInput", "ledger", /"x" is not a table name/);
  assertJitError(() => parseLedgerLocation("https://example.com/ledger"), "InvalidInput", "ledger", /must be an Azure Table endpoint/);
  assertJitError(() => parseLedgerLocation("postgres://jit:pw@db/ops?schema=Robert'); DROP"), "InvalidInput", "ledger", /is not a schema name/);
});

test("a store call retries throttling with growing backoff, then fails as Unavailable without the store's secrets", async () => {
  const waits: number[] = [];
  let calls = 0;
  const throttled = Object.assign(new Error("slow down; AccountKey=c2VjcmV0 was used"), { statusCode: 503 });
  const failure = await assertRejectsJitError(
    () =>
      storeCall(
        "azuretable://jitledger",
        (err) => ((err as { statusCode?: number }).statusCode === 503 ? "throttled" : "fatal"),
        async () => {
          calls++;
          throw throttled;
        },
        { attempts: 4, baseMs: 10, sleep: async (ms) => void waits.push(ms) },
      ),
    "Unavailable",
    "ledger",
    /azuretable:\/\/jitledger: the store kept throttling requests after 4 attempts \(slow down; \[redacted\] was used\)/,
  );
  assert.equal(calls, 4);
  assert.equal(waits.length, 3);
  waits.forEach((ms, i) => assert.ok(ms >= 0 && ms <= 10 * 2 ** i, `backoff ${i}: ${ms}`));
  assert.ok(!failure.message.includes("c2VjcmV0"));

  let tries = 0;
  const value = await storeCall("x", () => "throttled", async () => (++tries < 3 ? Promise.reject(new Error("busy")) : "done"), { sleep: async () => undefined });
  assert.equal(value, "done");
  const refused = await assertRejectsJitError(() => storeCall("x", () => "fatal", () => Promise.reject(new Error("denied"))), "Unavailable", "ledger", /the store refused the request \(denied\)/);
  assert.doesNotMatch(refused.message, /attempts/);
});

test("a ledger location kept in a stack's state carries no credential, and the refusal repeats none", () => {
  for (const ok of ["/srv/jit/ledger.db", "sqlite:///srv/jit/ledger.db", "azuretable://jitledger", "dynamodb://jit-ledger?region=eu-west-1", "postgres://db.internal:5432/jit?schema=team", "https://acct.table.core.windows.net/jitledger"]) {
    assert.equal(storableLedgerProblem(ok), undefined, ok);
  }
  for (const bad of ["postgres://jit:hunter2@db.internal:5432/jit", "postgres://jit@db.internal/jit", "https://acct.table.core.windows.net/jitledger?sig=hunter2"]) {
    const problem = storableLedgerProblem(bad);
    assert.match(problem ?? "", /carries a credential/, bad);
    assert.ok(!problem?.includes("hunter2"), problem);
  }
  assert.match(storableLedgerProblem("ftp://host/x") ?? "", /unknown kind of ledger/);
});
