import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAwsEmulator, startAzureEmulator } from "../provider/src/emulator";
import { awsScene } from "./demo/aws";
import { azureScene } from "./demo/azure";
import { Clock, StageCalls, heading, out, playScene, table } from "./demo/scene";

/**
 * `npm run demo`: the whole flow of pulumi-jit on local Azure and AWS endpoints, no account needed.
 * On each cloud a JitPolicy is applied through the provider functions Pulumi runs, access is
 * requested and expires, the policy is deleted, and the network is compared with how it started.
 * Rule tables and verdicts are read from the endpoints' state, so they cost no API call and do not
 * disturb the call counts.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "pulumi-jit-demo-"));
  // Long-running operations finish at their first poll, so the SDK never waits its 2 s between polls.
  const azure = await startAzureEmulator({ lroPolls: 0 });
  const aws = await startAwsEmulator();
  try {
    // The provider and the front door find their cloud, credentials and ledger in the environment,
    // as they would under `pulumi up` or the `jit` CLI. Whatever the shell had for real clouds goes,
    // so that nothing here can reach one.
    for (const key of Object.keys(process.env)) if (/^(AWS_|AZURE_|JIT_)/.test(key)) delete process.env[key];
    Object.assign(process.env, azure.env(), aws.env(), { JIT_LEDGER: join(dir, "ledger.db") });

    out(
      "pulumi-jit demo: just-in-time SSH to an Azure VM and an EC2 instance, on local endpoints that the real",
      "Azure and AWS SDKs talk to. No account and no network needed.",
      "Each step shows the VM's rules and, for a few sample connections, the verdict of pulumi-jit's own",
      "evaluator (the one its planners use) with the rule that decided it. Reading them costs no API call;",
      "the calls each step made are counted.",
    );
    // The demo's clock starts now, as the provider's does; an hour passes when the story needs it.
    let t = Math.floor(Date.now() / 1000) * 1000;
    const clock: Clock = { now: () => new Date(t), advanceTo: (to) => (t = to.getTime()) };

    const scenes = [azureScene(azure), awsScene(aws)];
    const counts: { cloud: string; stages: StageCalls[] }[] = [];
    for (const scene of scenes) counts.push({ cloud: scene.name, stages: await playScene(scene, clock) });

    heading("API calls per step (what is billed and throttled in a real cloud)", "=");
    out(
      table(
        counts.flatMap(({ cloud, stages }) => stages.map((s) => ({ cloud, ...s }))),
        [
          { header: "cloud", value: (r) => r.cloud },
          { header: "step", value: (r) => r.stage },
          { header: "calls", value: (r) => r.calls },
          { header: "writes", value: (r) => r.writes },
        ],
      ),
      ...scenes.map((s) => `  ${s.name}: ${s.callsCounted}.`),
      "",
      `Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
    );
  } finally {
    await Promise.all([azure.close(), aws.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
