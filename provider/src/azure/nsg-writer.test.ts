import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { AzureEmulator, SeedRule, startAzureEmulator } from "../emulator/azure";
import { isJitError } from "../model";
import { planDenyBaseline, sharedDenyRuleName, type Nsg, type NsgChange, type NsgRule } from "../plan";
import { AzureClients } from "./clients";
import { resolveConnection } from "./connection";
import { NsgWriter } from "./nsg-writer";

const rule = (name: string, priority: number, port = "22"): NsgRule & SeedRule => ({
  name,
  priority,
  direction: "Inbound",
  access: "Allow",
  protocol: "Tcp",
  sourceAddressPrefix: "203.0.113.7",
  sourcePortRange: "*",
  destinationAddressPrefix: "10.0.0.4",
  destinationPortRange: port,
});

/** Puts `wanted` at the lowest priority from 100 that is free, unless a rule of that name is there. */
const putLowestFree = (wanted: Omit<NsgRule, "priority">) => (nsg: Nsg): NsgChange => {
  if (nsg.securityRules.some((r) => r.name === wanted.name)) return { nsgId: nsg.id, put: [], delete: [] };
  let priority = 100;
  while (nsg.securityRules.some((r) => r.priority === priority)) priority++;
  return { nsgId: nsg.id, put: [{ ...wanted, priority } as NsgRule], delete: [] };
};

describe("the NSG writer, against the local ARM endpoint", () => {
  let emu: AzureEmulator;
  let clients: AzureClients;
  let nsgId: string;
  const headers: Array<{ method: string; ifMatch?: string; ifNoneMatch?: string }> = [];
  const messages: string[] = [];
  let writer: NsgWriter;

  before(async () => {
    emu = await startAzureEmulator();
    emu.seed.resourceGroup("rg");
    nsgId = emu.seed.nsg("rg", "nsg");
    clients = new AzureClients(resolveConnection({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential, pollIntervalMs: 0, backoffMs: 1, conflictRetries: 3, busyWaitMs: 0, retryOptions: { maxRetries: 0 } }));
    const recorder: PipelinePolicy = {
      name: "recordPreconditions",
      sendRequest: (request, next) => {
        headers.push({ method: request.method, ifMatch: request.headers.get("if-match"), ifNoneMatch: request.headers.get("if-none-match") });
        return next(request);
      },
    };
    (await clients.network(emu.subscriptionId)).pipeline.addPolicy(recorder, { afterPhase: "Retry" });
    writer = new NsgWriter(clients, (m) => messages.push(m));
  });
  after(() => emu.close());

  const names = () => emu.state.nsgRules("rg", "nsg").map((r) => `${r.name}@${r.priority}`).sort();

  it("writes every put and delete of a plan in one PUT of the whole NSG under If-Match, keeping the rest as read, with no final read", async () => {
    const tagged = emu.seed.nsg("rg", "tagged", { tags: { owner: "netops" }, rules: [{ ...rule("theirs", 200), sourcePortRanges: ["1000-2000"], sourcePortRange: undefined }, rule("old", 300)] });
    headers.length = 0;
    const etag = emu.state.etag(tagged);
    const mark = emu.calls.mark();
    await writer.apply(tagged, (nsg) => ({ nsgId: tagged, put: nsg.securityRules.some((r) => r.name === "a") ? [] : [rule("a", 100), rule("b", 101, "3389")], delete: nsg.securityRules.some((r) => r.name === "old") ? ["old"] : [] }));
    assert.deepEqual(emu.calls.byOperation({ since: mark }), { NetworkSecurityGroups_Get: 1, NetworkSecurityGroups_CreateOrUpdate: 1, AsyncOperation_Get: 2 }, "one read, one write, its polls, and no read after them");
    const writes = headers.filter((h) => h.method !== "GET");
    assert.deepEqual(writes, [{ method: "PUT", ifMatch: etag, ifNoneMatch: undefined }], "the write carries the ETag it was planned against");
    assert.ok(headers.filter((h) => h.method === "GET").every((h) => h.ifMatch === undefined && h.ifNoneMatch === undefined));
    const after = emu.state.nsg("rg", "tagged") as { tags?: Record<string, string> };
    assert.deepEqual(after.tags, { owner: "netops" }, "tags kept");
    const theirs = emu.state.nsgRules("rg", "tagged").find((r) => r.name === "theirs");
    assert.deepEqual(theirs?.sourcePortRanges, ["1000-2000"], "a rule the plan does not touch is sent back as read");
    assert.deepEqual(emu.state.nsgRules("rg", "tagged").map((r) => `${r.name}@${r.priority}`).sort(), ["a@100", "b@101", "theirs@200"]);
    assert.ok(messages.some((m) => /^waiting for Azure: 2 rule\(s\) put and 1 rule\(s\) deleted in NSG tagged$/.test(m)), messages.join("\n"));
  });

  it("plans again on the NSG as it now is when somebody else wrote it since the read (412), losing nothing of theirs", async () => {
    let calls = 0;
    const plan = putLowestFree(rule("ours", 0));
    const mark = emu.calls.mark();
    await writer.apply(nsgId, (nsg) => {
      if (calls++ === 0) emu.seed.rule("rg", "nsg", rule("theirs", 100));
      return plan(nsg);
    });
    assert.deepEqual(names(), ["ours@101", "theirs@100"]);
    assert.deepEqual(emu.calls.list({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" }).map((c) => c.status), [412, 200]);

    const stale = await writer.read(nsgId);
    emu.seed.rule("rg", "nsg", rule("changed-since", 400));
    await writer.apply(nsgId, (nsg) => ({ nsgId, put: [], delete: nsg.securityRules.some((r) => r.name === "changed-since") ? [] : ["theirs"] }), {}, stale);
    assert.ok(names().includes("theirs@100"), "the delete planned on the stale read was refused, and the fresh plan keeps it");
  });

  it("reads the NSG again before its next write: the ETag its own write answered with is stale once the operation completes", async () => {
    await writer.apply(nsgId, putLowestFree(rule("first", 0)));
    const mark = emu.calls.mark();
    await writer.apply(nsgId, putLowestFree(rule("second", 0)));
    assert.deepEqual(emu.calls.byOperation({ since: mark }), { NetworkSecurityGroups_Get: 1, NetworkSecurityGroups_CreateOrUpdate: 1, AsyncOperation_Get: 2 }, "one read, one write that lands at once");
    assert.ok(["first", "second"].every((n) => names().some((x) => x.startsWith(`${n}@`))));
  });

  it("does not write on a caller's read made while another write of ours was under way: it reads again, and earns no 412", async () => {
    const stale = await writer.read(nsgId);
    await writer.apply(nsgId, putLowestFree(rule("third", 0)));
    const mark = emu.calls.mark();
    await writer.apply(nsgId, putLowestFree(rule("fourth", 0)), {}, stale);
    assert.deepEqual(
      emu.calls.list({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" }).map((c) => c.status),
      [200],
      "the read it was handed predates the other write's completion",
    );
    emu.calls.expect({ since: mark, operation: "NetworkSecurityGroups_Get" }, 1);
    assert.ok(["third", "fourth"].every((n) => names().some((x) => x.startsWith(`${n}@`))));
  });

  it("gives up with Conflict after its retries, and reports other refusals as CloudError with ARM's status and code", async () => {
    emu.faults.inject({ operation: "NetworkSecurityGroups_CreateOrUpdate" }, { kind: "error", status: 409, code: "AnotherOperationInProgress" }, 4);
    await assert.rejects(writer.apply(nsgId, putLowestFree(rule("never", 0))), (e: unknown) => isJitError(e, "Conflict") && /gave up after 4 attempts/.test(String(e)) && /409 AnotherOperationInProgress/.test(String(e)));
    emu.faults.inject({ operation: "NetworkSecurityGroups_CreateOrUpdate" }, { kind: "error", status: 400, code: "SecurityRuleInvalidAddressPrefix", message: "bad prefix" });
    await assert.rejects(writer.apply(nsgId, putLowestFree(rule("bad", 0))), (e: unknown) => isJitError(e, "CloudError") && /HTTP 400 SecurityRuleInvalidAddressPrefix: bad prefix/.test(String(e)));
    emu.lro.failNext({ operation: "NetworkSecurityGroups_CreateOrUpdate" }, { code: "AnotherOperationInProgress", message: "superseded" });
    await writer.apply(nsgId, putLowestFree(rule("after-failed-operation", 0)));
    assert.ok(names().some((n) => n.startsWith("after-failed-operation@")), "an operation that failed because another held the NSG is retried");
    emu.lro.failNext({ operation: "NetworkSecurityGroups_CreateOrUpdate" }, { code: "InternalServerError", message: "it broke", outcome: "Failed" });
    await assert.rejects(writer.apply(nsgId, putLowestFree(rule("failed-operation", 0))), (e: unknown) => isJitError(e, "CloudError") && /InternalServerError/.test(String(e)));
    assert.equal(emu.faults.pending, 0);
  });

  it("writes the plans of writers waiting for the same NSG together, each planned on what the ones before it leave", async () => {
    const mark = emu.calls.mark();
    const added: string[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => writer.apply(nsgId, putLowestFree(rule(`turn-${i}`, 0)), { afterPut: async (r) => void added.push(r.name) })));
    assert.equal(emu.calls.list({ since: mark, write: true }).filter((c) => c.status < 300).length, 1, "one write for all eight");
    assert.deepEqual(added.sort(), Array.from({ length: 8 }, (_, i) => `turn-${i}`), "each writer hears of its own rule");
    assert.equal(new Set(emu.state.nsgRules("rg", "nsg").map((r) => r.priority)).size, emu.state.nsgRules("rg", "nsg").length);
  });

  it("when a shared write is refused, writes each plan on its own, so that only the bad one fails", async () => {
    const bad = { ...rule("bad-prefix", 0), sourceAddressPrefix: "not-an-address" };
    const results = await Promise.allSettled([writer.apply(nsgId, putLowestFree(rule("good-1", 0))), writer.apply(nsgId, putLowestFree(bad)), writer.apply(nsgId, putLowestFree(rule("good-2", 0)))]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.ok(names().some((n) => n.startsWith("good-1@")) && names().some((n) => n.startsWith("good-2@")) && !names().some((n) => n.startsWith("bad-prefix@")));
  });

  it("refuses, before writing, a plan that would take the NSG past Azure's 4,000 addresses and ports", async () => {
    const crowded = emu.seed.nsg("rg", "crowded");
    const hosts = Array.from({ length: 3998 }, (_, i) => `10.4.${i >> 8}.${i & 255}`);
    const mark = emu.calls.mark();
    await assert.rejects(
      writer.apply(crowded, (nsg) => ({ nsgId: nsg.id, put: [{ ...rule("wide", 100), destinationAddressPrefix: undefined, destinationAddressPrefixes: hosts }], delete: [] })),
      (e: unknown) => isJitError(e, "CapacityExceeded") && /NSG .*crowded would list 4001 addresses and ports/.test(String(e)),
    );
    assert.equal(emu.calls.count({ since: mark, write: true }), 0, "nothing written");
  });

  it("a shared deny rule planned on a stale read is planned again behind the allow rule another writer added meanwhile", async () => {
    const fleet = emu.seed.nsg("rg", "fleet");
    const vms = ["10.5.0.4", "10.5.0.5"].map((address, i) => ({ name: `vm${i}`, addresses: [address], ports: [{ number: 22, protocol: "TCP" as const }] }));
    let plans = 0;
    const mark = emu.calls.mark();
    await writer.apply(fleet, (nsg) => {
      if (plans++ === 0) emu.seed.rule("rg", "fleet", { ...rule("theirs", 1000), destinationAddressPrefix: "10.5.0.0/24", sourceAddressPrefix: "10.9.0.0/16" });
      return planDenyBaseline({ policy: "web", nsg, vms }).change;
    });
    assert.deepEqual(emu.calls.list({ since: mark, operation: "NetworkSecurityGroups_CreateOrUpdate" }).map((c) => c.status), [412, 200]);
    const rules = emu.state.nsgRules("rg", "fleet");
    const deny = sharedDenyRuleName("web", "22-1001", "TCP");
    assert.deepEqual(rules.map((r) => `${r.name}@${r.priority}`).sort(), [`${deny}@1001`, "theirs@1000"]);
    assert.deepEqual(rules.find((r) => r.name === deny)?.destinationAddressPrefixes, ["10.5.0.4", "10.5.0.5"]);
  });
});
