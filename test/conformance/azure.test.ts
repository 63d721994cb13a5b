import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ACCEPTED_DIFFERENCES, Entry, KNOWN_DIFFERENCES, Outcome, SCENARIOS, compare, replayAll } from "./replay";

/**
 * The local Azure endpoint against traffic recorded from the real Azure Resource Manager by the
 * Azure SDKs' own tests: at least 95 % of the in-scope exchanges conform, and every one that does
 * not is listed, with its reason, in KNOWN_DIFFERENCES.
 */
describe("conformance of the Azure endpoint to recorded Azure traffic", () => {
  let outcomes: Outcome[];
  before(async () => {
    outcomes = await replayAll();
  });

  it("replays every recorded exchange of every scenario", () => {
    assert.ok(outcomes.length >= 40, `only ${outcomes.length} exchanges replayed`);
    assert.deepEqual(new Set(outcomes.map((o) => o.scenario)), new Set(SCENARIOS.map((s) => s.name)));
  });

  it("at least 95 % conform, and the rest are exactly the listed known differences", () => {
    const failing = outcomes.filter((o) => o.differences.length > 0);
    const report = failing.map((o) => `${o.where} ${o.request}: ${o.differences.join("; ")}`).join("\n");
    assert.deepEqual(failing.map((o) => o.where).sort(), Object.keys(KNOWN_DIFFERENCES).sort(), `differences not (or no longer) listed:\n${report}`);
    const conforming = outcomes.length - failing.length;
    assert.ok(conforming / outcomes.length >= 0.95, `${conforming}/${outcomes.length} conform`);
  });

  it("the known differences are exactly the ones listed for them", () => {
    for (const o of outcomes.filter((x) => x.where in KNOWN_DIFFERENCES)) assert.deepEqual(o.differences, KNOWN_DIFFERENCES[o.where].differences, o.where);
  });
});

describe("the comparison rules", () => {
  const sub = "11111111-2222-3333-4444-555555555555";
  const entry = (apiVersion: string, body: unknown, status = 200, headers: Record<string, string> = {}): Entry => ({
    RequestUri: `https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v?api-version=${apiVersion}`,
    RequestMethod: "GET",
    RequestBody: null,
    StatusCode: status,
    ResponseHeaders: headers,
    ResponseBody: body,
  });
  const vnet = (extra: Record<string, unknown> = {}) => ({
    id: `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v`,
    etag: 'W/"answered"',
    properties: { provisioningState: "Succeeded", resourceGuid: "answered", ...extra },
  });
  const recordedVnet = (extra: Record<string, unknown> = {}) => ({
    id: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
    etag: 'W/"recorded"',
    properties: { provisioningState: "Succeeded", resourceGuid: "recorded", ...extra },
  });

  it("ignores ETags, GUIDs and the sanitised subscription, and nothing else", () => {
    assert.deepEqual(compare(entry("2022-07-01", recordedVnet()), 200, {}, vnet(), sub), []);
    assert.deepEqual(compare(entry("2022-07-01", recordedVnet({ x: 1 })), 200, {}, vnet({ x: 2 }), sub), ["$.properties.x: recorded 1, answered 2"]);
    assert.deepEqual(compare(entry("2022-07-01", recordedVnet()), 201, {}, vnet(), sub), ["status: recorded 200, answered 201"]);
  });

  it("compares the presence of the long-running-operation headers", () => {
    const recorded = entry("2022-07-01", recordedVnet(), 200, { "Azure-AsyncOperation": "https://x", "Retry-After": "3" });
    assert.deepEqual(compare(recorded, 200, { "azure-asyncoperation": "https://y" }, vnet(), sub), ["header retry-after: recorded, not answered"]);
    assert.deepEqual(compare(entry("2022-07-01", recordedVnet()), 200, { location: "https://y" }, vnet(), sub), ["header location: answered, not recorded"]);
  });

  it("compares error codes, not messages", () => {
    const recorded = entry("2022-07-01", { error: { code: "NotFound", message: "recorded" } }, 404);
    assert.deepEqual(compare(recorded, 404, {}, { error: { code: "NotFound", message: "other" } }, sub), []);
    assert.deepEqual(compare(recorded, 404, {}, { error: { code: "ResourceNotFound", message: "recorded" } }, sub), ["error code: recorded NotFound, answered ResourceNotFound"]);
  });

  it("accepts what older recordings show differently only for those older API versions", () => {
    assert.ok(ACCEPTED_DIFFERENCES["properties.enableVmProtection"]);
    assert.deepEqual(compare(entry("2019-07-01", recordedVnet({ enableVmProtection: false })), 200, {}, vnet(), sub), []);
    assert.deepEqual(compare(entry("2022-07-01", recordedVnet({ enableVmProtection: false })), 200, {}, vnet(), sub), [
      "$.properties.enableVmProtection: recorded, not answered",
    ]);
    const policy = (v: string) => ({ privateEndpointNetworkPolicies: v });
    assert.deepEqual(compare(entry("2019-07-01", recordedVnet(policy("Enabled"))), 200, {}, vnet(policy("Disabled")), sub), []);
    assert.equal(compare(entry("2022-09-01", recordedVnet(policy("Enabled"))), 200, {}, vnet(policy("Disabled")), sub).length, 1);
  });
});
