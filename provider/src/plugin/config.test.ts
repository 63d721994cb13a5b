import { test } from "node:test";
import assert from "node:assert/strict";
import { UNKNOWN } from "../pulumi/inputs";
import { applyConfig, checkConfig, requireValidConfig } from "./config";

const isUnknown = (v: unknown) => v === UNKNOWN;

test("settings become the environment variables the rest of pulumi-jit reads", () => {
  const { config, failures } = checkConfig({ ledger: "/var/lib/jit/ledger.db", awsEndpoint: "http://127.0.0.1:4566", azureEndpoint: UNKNOWN, version: "1.0.0" }, isUnknown);
  assert.deepEqual(failures, []);
  const env: NodeJS.ProcessEnv = { AWS_REGION: "eu-west-1" };
  applyConfig(config, env);
  assert.deepEqual(env, { AWS_REGION: "eu-west-1", JIT_LEDGER: "/var/lib/jit/ledger.db", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" });
});

test("credentials, passwords in URLs, unknown names and bad values are refused by name", () => {
  const { failures } = checkConfig({ clientSecret: "s", brokerUrl: "https://u:p@broker.example.com", colour: "red", awsRegion: 7, ledger: "x".repeat(3000) }, isUnknown);
  assert.deepEqual(failures.map((f) => f.property), ["clientSecret", "brokerUrl", "colour", "awsRegion", "ledger"]);
  assert.throws(() => requireValidConfig(failures), (err: Error & { field?: string }) => err.field === "pulumi-jit:clientSecret" && /and 4 more/.test(err.message));
});
