import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AwsStsVerifier } from "./auth";
import { startHarness } from "./testing/harness";

const SEED = 20261202;
const OTHER_VM = "/subscriptions/6f1c1a0e-3c3b-4c1e-9b7a-2f0e5d1c4b3a/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/db1";
const printable = fc.string({ unit: fc.constantFrom(..." !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZabcxyz[\\]^_`{|}~"), maxLength: 300 });

/** Bodies shaped like a request, wrong in some way that no policy admits (the VM is never the policy's). */
const nearRequest = fc.record(
  {
    virtualMachines: fc.oneof(
      fc.array(
        fc.record(
          {
            id: fc.oneof(printable, fc.constant(OTHER_VM), fc.constant(`${OTHER_VM}/${"x".repeat(2000)}`), fc.integer()),
            ports: fc.oneof(
              fc.array(
                fc.record(
                  {
                    number: fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.double(), printable, fc.constant(null)),
                    duration: fc.oneof(printable, fc.constant("PT1H"), fc.constant("P".repeat(100_000))),
                    endTimeUtc: fc.oneof(printable, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
                    allowedSourceAddressPrefix: fc.oneof(printable, fc.ipV4(), fc.ipV6(), fc.constant("*")),
                    protocol: fc.oneof(printable, fc.constantFrom("TCP", "UDP", "*")),
                  },
                  { requiredKeys: [] },
                ),
                { maxLength: 4 },
              ),
              fc.jsonValue(),
            ),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 4 },
      ),
      fc.jsonValue(),
    ),
    justification: fc.oneof(printable, fc.string({ maxLength: 1200 }), fc.jsonValue()),
    requester: printable,
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

test("2,000+ fuzzed bodies and credentials (fixed seed) get 4xx with a reason: never 5xx, never a cloud call or a write", async (t) => {
  const forwardedTo: string[] = [];
  const h = await startHarness({ limits: { perMinute: 1_000_000, burst: 1_000_000 } });
  t.after(() => h.close());
  const aws = new AwsStsVerifier({
    brokerId: "broker-1",
    stsEndpoints: ["https://sts.eu-west-1.amazonaws.com/"],
    fetch: async (url) => {
      forwardedTo.push(url);
      return { status: 500, headers: {}, body: "" };
    },
  });
  (h.broker.broker as unknown as { options: { auth: { aws?: AwsStsVerifier } } }).options.auth.aws = aws;
  const token = h.authority.token();
  let count = 0;
  const expect4xx = async (res: Awaited<ReturnType<typeof h.call>>, what: string) => {
    count++;
    assert.ok(res.status >= 400 && res.status < 500, `${what} → ${res.status} ${res.text}`);
    assert.ok(typeof res.body?.error?.code === "string" && res.body.error.message.length > 0, `${what}: no reason given (${res.text})`);
  };

  await fc.assert(
    fc.asyncProperty(nearRequest, async (body) => expect4xx(await h.call("POST", "/v1/policies/web/initiate", { token, body }), JSON.stringify(body).slice(0, 200))),
    { seed: SEED, numRuns: 900 },
  );
  await fc.assert(
    fc.asyncProperty(fc.jsonValue(), async (body) => expect4xx(await h.call("POST", "/v1/policies/web/initiate", { token, body }), JSON.stringify(body).slice(0, 200))),
    { seed: SEED, numRuns: 400 },
  );
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 500 }), fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-8"), async (raw, type) =>
      expect4xx(await h.call("POST", "/v1/policies/web/initiate", { token, raw: raw || " ", headers: { "content-type": type } }), raw.slice(0, 200)),
    ),
    { seed: SEED, numRuns: 300 },
  );
  const credential = fc.oneof(
    printable,
    printable.map((s) => `Bearer ${s}`),
    fc.jsonValue().map((v) => `Bearer ${Buffer.from(JSON.stringify(v)).toString("base64url")}.${Buffer.from(JSON.stringify(v)).toString("base64url")}.sig`),
    fc.jsonValue().map((v) => `JIT-AWS-STS ${Buffer.from(JSON.stringify(v)).toString("base64url")}`),
    fc
      .record({ method: fc.constantFrom("POST", "GET"), url: fc.constantFrom("https://sts.eu-west-1.amazonaws.com/", "https://evil.example/", "http://169.254.169.254/"), headers: fc.dictionary(printable, printable), body: printable })
      .map((r) => `JIT-AWS-STS ${Buffer.from(JSON.stringify(r)).toString("base64url")}`),
  );
  await fc.assert(
    fc.asyncProperty(credential, fc.constantFrom("/v1/policies", "/v1/grants", "/v1/audit"), async (authorization, path) =>
      expect4xx(await h.call("GET", path, { headers: { authorization } }), authorization.slice(0, 200)),
    ),
    { seed: SEED, numRuns: 500 },
  );

  assert.ok(count >= 2000, `${count} requests`);
  assert.equal(h.driver.writes, 0, "no cloud write");
  assert.deepEqual(forwardedTo, [], "no fuzzed credential was forwarded to STS");
  assert.deepEqual(await h.ledger.listGrants(), [], "no grant recorded");
  assert.ok(!h.logs.some((l) => JSON.parse(l).level === "error"), "no failure logged");
});
