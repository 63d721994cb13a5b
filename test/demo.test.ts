import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "..");

/** `npm run demo`, as a newcomer runs it: a child process that must tell the whole story and exit 0. */
test("the demo runs the whole flow on both clouds and leaves each network exactly as it found it", async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--conditions=pulumi-jit-source", "--import", "tsx", "scripts/demo.ts"], {
    cwd: ROOT,
    timeout: 60_000,
  });
  // Prose is wrapped to the page: compare it with the line breaks taken out.
  const prose = stdout.replace(/\s+/g, " ");
  for (const sentence of [
    "✓ Azure: back exactly as it was.",
    "✓ AWS: back exactly as it was.",
    // The baseline keeps the user's rule for the port ahead of the deny rule.
    "Subnet NSG: the deny rule went to priority 1101, after allow-ssh-bastion (1100), which keeps precedence.",
    "A request from 198.51.100.9 is refused before anything changes (RequestNotAllowed):",
    "The request from 203.0.113.7 is granted",
    "API calls per step",
  ]) {
    assert.ok(prose.includes(sentence), `the output says "${sentence}":\n${stdout}`);
  }
  // The requester's verdicts, stage by stage (before, baseline, grant, expiry, delete), as the evaluators give them:
  // on Azure SSH was closed to it before the policy; on AWS it was open to the world.
  const verdicts = [...stdout.matchAll(/^ {2}requester 203\.0\.113\.7 → :22 +(allowed|denied) /gm)].map((m) => m[1]);
  assert.deepEqual(verdicts, ["denied", "denied", "allowed", "denied", "denied", "allowed", "denied", "allowed", "denied", "allowed"]);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
});
