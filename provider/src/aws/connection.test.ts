import { test } from "node:test";
import assert from "node:assert/strict";
import { sdkConfig } from "./clients";
import { configuredRegion } from "./connection";

test("the region as the AWS CLI picks it: given, then AWS_REGION, then AWS_DEFAULT_REGION; else the profile's (left to the SDK)", () => {
  const env = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-central-1" };
  assert.equal(configuredRegion({ region: "us-west-2" }, env), "us-west-2");
  assert.equal(configuredRegion({}, env), "eu-west-1");
  assert.equal(configuredRegion({}, { AWS_DEFAULT_REGION: "eu-central-1" }), "eu-central-1");
  assert.equal(configuredRegion({}, { AWS_REGION: "", AWS_DEFAULT_REGION: "eu-central-1" }), "eu-central-1", "an empty variable is unset");
  assert.equal(configuredRegion({}, {}), undefined);
});

test("SDK clients retry adaptively, five times, unless told otherwise", () => {
  assert.deepEqual(sdkConfig({}, "eu-west-1"), { region: "eu-west-1", maxAttempts: 5, retryMode: "adaptive" });
  assert.deepEqual(sdkConfig({ maxAttempts: 1, retryMode: "standard", endpoint: "http://127.0.0.1:1" }, undefined), { endpoint: "http://127.0.0.1:1", maxAttempts: 1, retryMode: "standard" });
});
