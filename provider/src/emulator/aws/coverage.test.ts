import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as ec2 from "@aws-sdk/client-ec2";
import * as iam from "@aws-sdk/client-iam";
import * as sts from "@aws-sdk/client-sts";
import { servedOperations } from "./index";

/**
 * Every action the endpoint serves is one the real SDK client has, and is called through that
 * client in this directory's tests (which check every answer against the SDK's schema).
 */
test("every served action has a command in the real SDK and is exercised through it in the endpoint's tests", () => {
  const sdks: Record<string, Record<string, unknown>> = { ec2, sts, iam };
  const sources = readdirSync(__dirname)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => readFileSync(path.join(__dirname, f), "utf8"))
    .join("\n");
  const served = Object.entries(servedOperations).flatMap(([service, operations]) => Object.keys(operations).map((action) => ({ service, action })));
  assert.ok(served.length >= 40, `only ${served.length} actions served`);
  const missing = served.filter(({ service, action }) => typeof sdks[service][`${action}Command`] !== "function" || !sources.includes(`new ${action}Command(`));
  assert.deepEqual(missing, []);
});
