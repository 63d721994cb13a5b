import { test } from "node:test";
import assert from "node:assert/strict";
import * as https from "node:https";
import { CallLog, FaultInjector, ResponseError, selfSignedCertificate, startEmulatorServer } from "./index";

function get(endpoint: string, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${endpoint}${path}`, { ca }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

test("the shared emulator shell serves over TLS, applies scripted and seeded faults, and logs every call", async () => {
  const tls = await selfSignedCertificate();
  const calls = new CallLog();
  const faults = new FaultInjector();
  let applied = 0;
  const server = await startEmulatorServer({
    tls,
    calls,
    faults,
    route: (req) => {
      if (req.path === "/missing") throw new ResponseError({ status: 404, body: "nope" });
      return { operation: `Op${req.path}`, write: req.method !== "GET", serve: () => ({ status: 200, body: `ok ${++applied}` }) };
    },
    renderFault: (f) => ({ status: f.status, body: f.code }),
    renderInternalError: () => ({ status: 500, body: "internal" }),
  });
  try {
    assert.deepEqual(await get(server.endpoint, "/a", tls.cert), { status: 200, body: "ok 1" });
    faults.inject({ path: "/a" }, { kind: "error", status: 429, code: "RetryableError" }, 2);
    assert.equal((await get(server.endpoint, "/a", tls.cert)).status, 429);
    assert.equal((await get(server.endpoint, "/b", tls.cert)).status, 200, "a fault for /a leaves /b alone");
    assert.equal((await get(server.endpoint, "/a", tls.cert)).body, "RetryableError");
    assert.equal((await get(server.endpoint, "/a", tls.cert)).status, 200, "the fault is used up after two");
    assert.equal((await get(server.endpoint, "/missing", tls.cert)).status, 404);
    faults.inject({ path: "/a" }, { kind: "drop" });
    await assert.rejects(get(server.endpoint, "/a", tls.cert));
    calls.expect({ operation: "Op/a" }, 5);
    calls.expect({ faulted: true }, 3);
    assert.equal(applied, 3, "faulted requests are not applied");

    // The same seed gives the same sequence of faults.
    const outcomes = async (seed: number) => {
      faults.clear();
      faults.random({ seed, probability: 0.5, actions: [{ kind: "error", status: 503, code: "ServerBusy" }] });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await get(server.endpoint, "/r", tls.cert)).status);
      return out;
    };
    const first = await outcomes(42);
    assert.deepEqual(await outcomes(42), first);
    assert.ok(first.includes(503) && first.includes(200), `a mix of outcomes: ${first}`);
    assert.throws(() => calls.expect({ operation: "Op/a" }, 1), /expected 1 call\(s\) matching \{operation="Op\/a"\}, got 5/);
  } finally {
    await server.close();
  }
});
