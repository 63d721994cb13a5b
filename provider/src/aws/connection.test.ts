import { test } from "node:test";
import assert from "node:assert/strict";
import { configuredRegion } from "./connection";

test("the region as the AWS CLI picks it: given, then AWS_REGION, then AWS_DEFAULT_REGION; else the profile's (left to the SDK)", () => {
  const env = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-central-1" };
  assert.equal(configuredRegion({ region: "us-west-2" }, env), "us-west-2");
  assert.equal(configuredRegion({}, env), "eu-west-1");
  assert.equal(configuredRegion({}, { AWS_DEFAULT_REGION: "eu-central-1" }), "eu-central-1");
  assert.equal(configuredRegion({}, { AWS_REGION: "", AWS_DEFAULT_REGION: "eu-central-1" }), "eu-central-1", "an empty variable is unset");
  assert.equal(configuredRegion({}, {}), undefined);
});
