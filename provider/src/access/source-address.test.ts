import { test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { detectPublicAddress } from "./source-address";

async function echo(answer: string | number): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((_req, res) => {
    if (typeof answer === "number") {
      res.statusCode = answer;
      res.end();
    } else res.end(`${answer}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

test("the caller's address is used only when every echo service agrees on one public address", async (t) => {
  const a = await echo("198.51.100.23");
  const b = await echo("198.51.100.23");
  const c = await echo("203.0.113.9");
  const d = await echo(500);
  const e = await echo("10.0.0.4");
  t.after(() => [a, b, c, d, e].forEach((s) => s.close()));

  assert.equal(await detectPublicAddress({ services: [a.url, b.url] }), "198.51.100.23");
  await assert.rejects(detectPublicAddress({ services: [a.url, c.url] }), /the address services disagree .*Name the source address explicitly/);
  await assert.rejects(detectPublicAddress({ services: [a.url, d.url] }), /not every address service answered .*failed \(HTTP 500\)/);
  await assert.rejects(detectPublicAddress({ services: [e.url] }), /"10\.0\.0\.4" is not a public IP address/);
});
