import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDriver } from "../../provider/src/clouds";
import type { AwsEmulator } from "../../provider/src/emulator/aws";
import { JitError, parsePolicy } from "../../provider/src/model";
import * as runtime from "../../provider/src/pulumi/runtime";
import { setEnv } from "../support/env";
import { fingerprint, reachable, withAws } from "./support";

/**
 * The Pulumi provider and the CLI get their AWS connection from the environment only. These tests
 * set it as a user would and let the front door make the driver (`createDriver("aws")`).
 */

const KEYS = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED", "JIT_LEDGER"];

async function withEnv<T>(emu: AwsEmulator, vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "jit-env-"));
  const base = {
    AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey,
    // No shared files and no instance metadata: only what the test sets counts.
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    JIT_LEDGER: join(dir, "ledger.db"),
  };
  const cleared = Object.fromEntries(KEYS.map((k) => [k, undefined]));
  const restore = setEnv(Object.fromEntries(Object.entries({ ...cleared, ...base, ...vars }).map(([k, v]) => [k, v?.replace("$DIR", dir)])));
  try {
    return await body();
  } finally {
    restore();
    rmSync(dir, { recursive: true, force: true });
  }
}

function seedWeb(emu: AwsEmulator) {
  const web = emu.seed.securityGroup({ name: "web", ingress: [{ port: 22, source: "0.0.0.0/0" }, { port: 80, source: "0.0.0.0/0" }] });
  return { web, vm: emu.seed.instance({ groupIds: [web.id] }) };
}

const policyOf = (id: string) => parsePolicy({ name: "web", virtualMachines: [{ id, ports: [{ number: 22, protocol: "TCP", allowedSourceAddressPrefix: "203.0.113.0/24" }] }] });

test("AWS_ENDPOINT_URL, the access keys and AWS_DEFAULT_REGION are enough", () =>
  withAws({}, async (emu) => {
    const { vm } = seedWeb(emu);
    await withEnv(emu, { AWS_ENDPOINT_URL: emu.endpoint, AWS_DEFAULT_REGION: emu.region }, async () => {
      const driver = await createDriver("aws");
      const me = await driver.whoAmI();
      assert.deepEqual(me, { id: "arn:aws:iam::123456789012:user/admin", name: "admin" });
      assert.deepEqual(await driver.missingPermissions(me, [vm.id], ["ec2:DescribeInstances"]), new Map([[vm.id, []]]));
      await driver.applyBaseline(policyOf(vm.id), undefined, {});
      assert.equal(reachable(emu, vm.id, "8.8.8.8", 22), false);
    });
  }));

test("AWS_ENDPOINT_URL_EC2 sends EC2 alone to its endpoint; AWS_REGION wins over AWS_DEFAULT_REGION", () =>
  withAws({}, async (emu) => {
    const { vm } = seedWeb(emu);
    const vars = { AWS_ENDPOINT_URL_EC2: emu.endpoint, AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_REGION: emu.region, AWS_DEFAULT_REGION: "eu-west-1" };
    await withEnv(emu, vars, async () => {
      const driver = await createDriver("aws");
      const applied = await driver.applyBaseline(policyOf(vm.id), undefined, {});
      assert.deepEqual(applied.vms.map((v) => v.status), ["protected"]);
      await assert.rejects(driver.whoAmI(), (e: unknown) => e instanceof JitError && e.code === "CloudError" && /GetCallerIdentity failed/.test(e.message), "STS went to AWS_ENDPOINT_URL");
    });
  }));

test("the profile's region is used when no variable names one, and no region at all is a clear error", () =>
  withAws({}, async (emu) => {
    const { vm } = seedWeb(emu);
    await withEnv(emu, { AWS_ENDPOINT_URL: emu.endpoint, AWS_PROFILE: "jit" }, async () => {
      // A named profile takes its keys from the shared files, as the AWS CLI does.
      writeFileSync(process.env.AWS_CONFIG_FILE ?? "", `[profile jit]\nregion = ${emu.region}\n`);
      writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE ?? "", `[jit]\naws_access_key_id = ${emu.credentials.accessKeyId}\naws_secret_access_key = ${emu.credentials.secretAccessKey}\n`);
      const driver = await createDriver("aws");
      assert.equal((await driver.inspectBaseline(policyOf(vm.id), {})).vms[0].status, "exposed");
    });
    await withEnv(emu, { AWS_ENDPOINT_URL: emu.endpoint, AWS_DEFAULT_REGION: "eu-west-1" }, async () => {
      const driver = await createDriver("aws");
      await assert.rejects(driver.inspectBaseline(policyOf(vm.id), {}), /Credential should be scoped to a valid region, not 'eu-west-1'/, "AWS_DEFAULT_REGION was used");
    });
    await withEnv(emu, { AWS_ENDPOINT_URL: emu.endpoint }, async () => {
      const driver = await createDriver("aws");
      await assert.rejects(driver.inspectBaseline(policyOf(vm.id), {}), (e: unknown) => e instanceof JitError && e.code === "InvalidInput" && /no AWS region is configured/.test(e.message));
      const arn = `arn:aws:ec2:${emu.region}:123456789012:instance/${vm.id}`;
      assert.equal((await driver.inspectBaseline(policyOf(arn), {})).vms[0].status, "exposed", "an instance ARN carries its region");
    });
  }));

test("aws.JitPolicy's provider creates, refreshes, updates and deletes its baseline with the environment's connection", () =>
  withAws({}, async (emu) => {
    const { web, vm } = seedWeb(emu);
    const original = fingerprint(emu, web.id);
    await withEnv(emu, { AWS_ENDPOINT_URL: emu.endpoint, AWS_REGION: emu.region }, async () => {
      const port = { number: 22, protocol: "TCP" as const, allowedSourceAddressPrefix: "203.0.113.0/24" };
      const inputs = { policyName: "web", virtualMachines: [{ id: vm.id, ports: [port] }] };
      const { id, outs } = await runtime.create("aws", inputs);
      assert.equal(id, "web");
      assert.deepEqual(outs.vms, [{ vmId: vm.id, status: "protected" }]);
      assert.equal(reachable(emu, vm.id, "8.8.8.8", 22), false);
      const read = await runtime.read("aws", id, outs);
      assert.deepEqual(read.props.drift, []);
      const { outs: updated } = await runtime.update("aws", outs, { ...inputs, virtualMachines: [{ id: vm.id, ports: [port, { ...port, number: 80 }] }] });
      assert.equal(reachable(emu, vm.id, "8.8.8.8", 80), false);
      await runtime.remove("aws", updated);
      assert.deepEqual(fingerprint(emu, web.id), original);
    });
  }));
