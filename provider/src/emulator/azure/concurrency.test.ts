import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { SecurityRule } from "@azure/arm-network";
import { AzureEmulator, startAzureEmulator } from "./index";
import { armError, fast, lastError, rawRequest, sdkClients } from "./testing/clients";

/** ETags and preconditions, long-running operations, NRP's per-NSG write lock, faults and paging. */
describe("the Azure emulator's concurrency control and long-running operations", () => {
  let emu: AzureEmulator;
  let sdk: ReturnType<typeof sdkClients>;
  const rule = (priority: number, port = "22"): SecurityRule => ({
    protocol: "Tcp",
    access: "Allow",
    direction: "Inbound",
    priority,
    sourceAddressPrefix: "203.0.113.7",
    sourcePortRange: "*",
    destinationAddressPrefix: "10.0.0.4",
    destinationPortRange: port,
  });
  const ifMatch = (etag: string) => ({ ...fast, requestOptions: { headers: { "If-Match": etag } } });
  const stale = 'W/"00000000-0000-0000-0000-000000000000"';

  beforeEach(async () => {
    emu = await startAzureEmulator();
    emu.seed.resourceGroup("rg");
    emu.seed.nsg("rg", "nsg", { rules: [{ name: "existing", priority: 1000, direction: "Inbound", access: "Deny", protocol: "Tcp", destinationPortRange: "3389" }] });
    sdk = sdkClients(emu, { maxRetries: 0 });
  });
  afterEach(() => emu.close());

  it("ETags are W/\"<uuid>\", new on every write, and a rule carries its NSG's", async () => {
    const nsg = await sdk.network.networkSecurityGroups.get("rg", "nsg");
    assert.match(nsg.etag ?? "", /^W\/"[0-9a-f-]{36}"$/);
    assert.equal(nsg.securityRules?.[0].etag, nsg.etag);
    assert.equal((await sdk.network.networkSecurityGroups.get("rg", "nsg")).etag, nsg.etag, "a read changes nothing");
    const added = await sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast);
    const after = await sdk.network.networkSecurityGroups.get("rg", "nsg");
    assert.notEqual(after.etag, nsg.etag, "a rule write is a write of its NSG");
    assert.equal(added.etag, after.etag);
    const tagged = await sdk.network.networkSecurityGroups.updateTags("rg", "nsg", { tags: { owner: "jit" } });
    assert.notEqual(tagged.etag, after.etag);
    assert.deepEqual(tagged.tags, { owner: "jit" });
  });

  it("If-Match with a stale ETag gets 412 on PUT, PATCH and DELETE, and changes nothing", async () => {
    const nsg = await sdk.network.networkSecurityGroups.get("rg", "nsg");
    const before = emu.state.nsgRules("rg", "nsg");
    const refusals = [
      sdk.network.networkSecurityGroups.createOrUpdate("rg", "nsg", { location: nsg.location, securityRules: [] }, ifMatch(stale)),
      sdk.network.networkSecurityGroups.updateTags("rg", "nsg", { tags: { a: "b" } }, ifMatch(stale)),
      sdk.network.networkSecurityGroups.delete("rg", "nsg", ifMatch(stale)),
      sdk.network.securityRules.createOrUpdate("rg", "nsg", "existing", rule(1000), ifMatch(stale)),
      sdk.network.securityRules.delete("rg", "nsg", "existing", ifMatch(stale)),
    ];
    for (const refused of refusals) {
      const err = await armError(refused);
      assert.deepEqual([err.statusCode, err.code], [412, "PreconditionFailed"]);
    }
    assert.deepEqual(emu.state.nsgRules("rg", "nsg"), before);
    assert.equal(emu.state.etag(nsg.id!), nsg.etag);

    // The current ETag passes, on the NSG and on its rules (which share it); a GET ignores If-Match.
    await sdk.network.networkSecurityGroups.get("rg", "nsg", { requestOptions: { headers: { "If-Match": stale } } });
    const updated = await sdk.network.securityRules.createOrUpdate("rg", "nsg", "existing", rule(1000, "3390"), ifMatch(nsg.etag!));
    await sdk.network.securityRules.delete("rg", "nsg", "existing", ifMatch(updated.etag!));
    assert.deepEqual(emu.state.nsgRules("rg", "nsg"), []);
  });

  it("If-None-Match: * only creates; If-Match on what does not exist fails; rule checks can be switched off", async () => {
    const create = { ...fast, requestOptions: { headers: { "If-None-Match": "*" } } };
    assert.equal((await armError(sdk.network.networkSecurityGroups.createOrUpdate("rg", "nsg", { location: "westeurope" }, create))).statusCode, 412);
    await sdk.network.networkSecurityGroups.createOrUpdate("rg", "fresh", { location: "westeurope" }, create);
    assert.equal((await armError(sdk.network.securityRules.createOrUpdate("rg", "nsg", "new", rule(110), ifMatch(stale)))).statusCode, 412);
    emu.options.ifMatchOnSecurityRules = false;
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "existing", rule(1000, "3390"), ifMatch(stale));
    assert.equal(emu.state.nsgRules("rg", "nsg")[0].destinationPortRange, "3390");
  });

  it("a long-running PUT answers 201 Updating with an absolute Azure-AsyncOperation URL, polls InProgress N times, then Succeeded", async () => {
    emu.options.lroPolls = 3;
    const mark = emu.calls.mark();
    const poller = sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast);
    await poller.submitted();
    const put = sdk.exchanges.find((e) => e.method === "PUT")!;
    assert.equal(put.status, 201);
    assert.equal(JSON.parse(put.responseBody!).properties.provisioningState, "Updating");
    const asyncUrl = put.responseHeaders["azure-asyncoperation"];
    assert.ok(asyncUrl.startsWith(`${emu.endpoint}/subscriptions/${emu.subscriptionId}/providers/Microsoft.Network/locations/westeurope/operations/`), asyncUrl);
    assert.match(asyncUrl, /\?api-version=\d{4}-\d{2}-\d{2}/);
    assert.equal(put.responseHeaders["retry-after"], "0");
    assert.equal((await sdk.network.securityRules.get("rg", "nsg", "jit")).provisioningState, "Updating", "the write is visible while it runs");

    const done = await poller;
    assert.equal(done.provisioningState, "Succeeded");
    emu.calls.expect({ since: mark, operation: "AsyncOperation_Get" }, 4, "three InProgress, one Succeeded");
    emu.calls.expect({ since: mark, write: true }, 1, "polls are not writes");
    assert.deepEqual(emu.calls.byOperation({ since: mark }), { SecurityRules_CreateOrUpdate: 1, SecurityRules_Get: 2, AsyncOperation_Get: 4 });
    const polls = sdk.exchanges.filter((e) => e.url.startsWith(asyncUrl.split("?")[0])).map((e) => JSON.parse(e.responseBody!).status);
    assert.deepEqual(polls, ["InProgress", "InProgress", "InProgress", "Succeeded"]);

    const replaced = sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100, "2222"), fast);
    await replaced.submitted();
    assert.equal(sdk.exchanges.filter((e) => e.method === "PUT")[1].status, 200, "a replacement answers 200");
    await replaced;
  });

  it("a long-running DELETE answers 202 with Location; the rule is gone and its NSG Updating until the operation ends", async () => {
    const poller = sdk.network.securityRules.delete("rg", "nsg", "existing", fast);
    await poller.submitted();
    const del = sdk.exchanges.find((e) => e.method === "DELETE")!;
    assert.equal(del.status, 202);
    assert.ok(del.responseHeaders.location.startsWith(`${emu.endpoint}/subscriptions/${emu.subscriptionId}/providers/Microsoft.Network/locations/westeurope/operationResults/`));
    assert.deepEqual(emu.state.nsgRules("rg", "nsg"), []);
    const nsgId = `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg`;
    assert.equal(emu.state.provisioningState(nsgId), "Updating");
    const location = await rawRequest(emu, "GET", new URL(del.responseHeaders.location).pathname + new URL(del.responseHeaders.location).search, { as: "owner" });
    assert.equal(location.status, 202, "the Location URL answers 202 while the operation runs");
    await poller;
    assert.equal(emu.state.provisioningState(nsgId), "Succeeded");
    const finished = await rawRequest(emu, "GET", new URL(del.responseHeaders.location).pathname + new URL(del.responseHeaders.location).search, { as: "owner" });
    assert.equal(finished.status, 204);
    emu.calls.expect({ operation: "Location_Get" }, 2);
  });

  it("a long-running operation can end Failed: the SDK throws, and the resource is left in provisioning state Failed", async () => {
    emu.lro.failNext({ operation: "SecurityRules_CreateOrUpdate" }, { code: "InternalServerError", message: "An error occurred." });
    await assert.rejects(sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast), /InternalServerError|An error occurred/);
    const nsg = emu.state.nsg("rg", "nsg") as { properties: { provisioningState: string; securityRules: { name: string }[] } };
    assert.equal(nsg.properties.provisioningState, "Failed");
    assert.ok(nsg.properties.securityRules.some((r) => r.name === "jit"), "the write was accepted before the operation failed");
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast);
    assert.equal(emu.state.provisioningState(String((emu.state.nsg("rg", "nsg") as { id: string }).id)), "Succeeded");
  });

  it("while one write to an NSG runs, another to it (or to a NIC that references it) gets 429 RetryableError with retry headers", async () => {
    emu.options.lroPolls = 2;
    emu.options.retryAfterMs = 1500;
    emu.seed.typicalVm({ resourceGroup: "rg", name: "vm1", nicNsg: false });
    const first = sdk.network.securityRules.createOrUpdate("rg", "nsg", "first", rule(100), fast);
    await first.submitted();

    const err = await armError(sdk.network.securityRules.createOrUpdate("rg", "nsg", "second", rule(110), fast));
    assert.deepEqual([err.statusCode, err.code], [429, "RetryableError"]);
    assert.equal(err.response?.headers.get("x-ms-retry-after-ms"), "1500");
    assert.equal(err.response?.headers.get("retry-after"), "2");
    const [detail] = lastError(sdk.exchanges).details;
    assert.equal(detail.code, "RetryableErrorDueToAnotherOperation");
    assert.match(detail.message, /^Operation PutSecurityRuleOperation \([0-9a-f-]{36}\) is updating resource \/subscriptions\/.*\/networkSecurityGroups\/nsg\./);

    const nic = await sdk.network.networkInterfaces.get("rg", "vm1-nic");
    const attach = await armError(sdk.network.networkInterfaces.createOrUpdate("rg", "vm1-nic", { ...nic, networkSecurityGroup: { id: (await sdk.network.networkSecurityGroups.get("rg", "nsg")).id } }, fast));
    assert.equal(attach.statusCode, 429, "a NIC write that would attach the busy NSG waits too");
    await sdk.network.networkSecurityGroups.get("rg", "nsg");

    await first;
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "second", rule(110), fast);
  });

  it("or 409 AnotherOperationInProgress, pointing at the running operation, when switched", async () => {
    emu.options.conflictMode = 409;
    const nsg = await sdk.network.networkSecurityGroups.get("rg", "nsg");
    const first = sdk.network.networkSecurityGroups.createOrUpdate("rg", "nsg", { location: nsg.location, securityRules: nsg.securityRules }, fast);
    await first.submitted();
    const asyncUrl = sdk.exchanges.find((e) => e.method === "PUT")!.responseHeaders["azure-asyncoperation"];
    const err = await armError(sdk.network.securityRules.delete("rg", "nsg", "existing", fast));
    assert.deepEqual([err.statusCode, err.code], [409, "AnotherOperationInProgress"]);
    assert.ok(err.message.includes(asyncUrl), err.message);
    await first;
  });

  it("the SDK's own retry rides out a 429 while the other write finishes", async () => {
    const patient = sdkClients(emu);
    const mark = emu.calls.mark();
    await Promise.all([
      sdk.network.securityRules.createOrUpdate("rg", "nsg", "a", rule(100), fast),
      patient.network.securityRules.createOrUpdate("rg", "nsg", "b", rule(110), fast),
    ]);
    assert.deepEqual(
      emu.state.nsgRules("rg", "nsg").map((r) => r.name),
      ["existing", "a", "b"],
    );
    emu.calls.expect({ since: mark, operation: "SecurityRules_CreateOrUpdate", write: true }, (n) => n >= 3, "the second PUT was refused at least once, then retried");
    emu.calls.expect({ since: mark, operation: "SecurityRules_CreateOrUpdate" }, (n) => n === 2 + emu.calls.list({ since: mark }).filter((c) => c.status === 429).length);
  });

  it("an operation nobody polls still ends after lroMaxMs; settle() ends them all at once", async () => {
    emu.options.lroMaxMs = 40;
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "a", rule(100), fast).submitted();
    assert.equal((await armError(sdk.network.securityRules.createOrUpdate("rg", "nsg", "b", rule(110), fast))).statusCode, 429);
    await sleep(50);
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "b", rule(110), fast).submitted();
    assert.deepEqual(
      emu.lro.list().filter((op) => op.status === "InProgress").map((op) => op.name),
      ["PutSecurityRuleOperation"],
    );
    emu.lro.settle();
    assert.deepEqual(emu.lro.list().map((op) => op.status), ["Succeeded", "Succeeded"]);
    await sdk.network.securityRules.createOrUpdate("rg", "nsg", "c", rule(120), fast);
  });

  it("faults from the shared injector answer in ARM's error format, and the SDK retries those with a retry header", async () => {
    emu.faults.inject({ operation: "NetworkSecurityGroups_Get" }, { kind: "error", status: 503, code: "ServerBusy", headers: { "x-ms-retry-after-ms": "1" } });
    const patient = sdkClients(emu);
    await patient.network.networkSecurityGroups.get("rg", "nsg");
    emu.calls.expect({ operation: "NetworkSecurityGroups_Get", faulted: true }, 1);
    emu.calls.expect({ operation: "NetworkSecurityGroups_Get" }, 2);
    assert.deepEqual(JSON.parse(patient.exchanges[0].responseBody!), { error: { code: "ServerBusy", message: "ServerBusy", details: [] } });

    emu.faults.inject({ operation: "SecurityRules_CreateOrUpdate" }, { kind: "error", status: 409, code: "AnotherOperationInProgress", message: "Another operation is in progress." });
    const err = await armError(patient.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast));
    assert.deepEqual([err.statusCode, err.code], [409, "AnotherOperationInProgress"]);
    assert.deepEqual(emu.state.nsgRules("rg", "nsg").map((r) => r.name), ["existing"], "a faulted write is not applied");

    emu.faults.inject({ operation: "SecurityRules_CreateOrUpdate" }, { kind: "drop", after: "after-apply" });
    await assert.rejects(sdk.network.securityRules.createOrUpdate("rg", "nsg", "jit", rule(100), fast));
    assert.deepEqual(emu.state.nsgRules("rg", "nsg").map((r) => r.name), ["existing", "jit"], "dropped after it was applied");
  });

  it("lists are paged with absolute nextLinks that carry the api-version", async () => {
    emu.options.pageSize = 2;
    for (const name of ["b1", "b2", "b3", "b4"]) emu.seed.nsg("rg", name);
    const mark = emu.calls.mark();
    const names: string[] = [];
    for await (const nsg of sdk.network.networkSecurityGroups.list("rg")) names.push(nsg.name!);
    assert.deepEqual(names, ["nsg", "b1", "b2", "b3", "b4"]);
    emu.calls.expect({ since: mark, operation: "NetworkSecurityGroups_List" }, 3);
    const firstPage = JSON.parse(sdk.exchanges[sdk.exchanges.length - 3].responseBody!);
    assert.equal(firstPage.value.length, 2);
    assert.ok(firstPage.nextLink.startsWith(`${emu.endpoint}/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups?api-version=`), firstPage.nextLink);

    emu.seed.rule("rg", "nsg", { name: "r2", priority: 2000, direction: "Inbound", access: "Allow", protocol: "Tcp" });
    emu.seed.rule("rg", "nsg", { name: "r3", priority: 3000, direction: "Inbound", access: "Allow", protocol: "Tcp" });
    const rules: string[] = [];
    for await (const r of sdk.network.securityRules.list("rg", "nsg")) rules.push(r.name!);
    assert.deepEqual(rules, ["existing", "r2", "r3"]);
    let all = 0;
    for await (const page of sdk.network.networkSecurityGroups.listAll().byPage()) all += page.length;
    assert.equal(all, 5);
  });
});
