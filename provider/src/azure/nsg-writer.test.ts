import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { AzureEmulator, SeedRule, startAzureEmulator } from "../emulator/azure";
import { isJitError } from "../model";
import type { Nsg, NsgChange, NsgRule } from "../plan";
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

  it("creates with If-None-Match: *, replaces and deletes with If-Match, and sends neither on reads or polls", async () => {
    headers.length = 0;
    const a = rule("a", 100);
    await writer.apply(nsgId, (nsg) => ({ nsgId, put: nsg.securityRules.some((r) => r.name === "a") ? [] : [a], delete: [] }));
    const etag = emu.state.etag(nsgId);
    await writer.apply(nsgId, (nsg) => ({ nsgId, put: nsg.securityRules.some((r) => r.destinationPortRange === "2222") ? [] : [{ ...a, destinationPortRange: "2222" }], delete: [] }));
    await writer.apply(nsgId, (nsg) => ({ nsgId, put: [], delete: nsg.securityRules.map((r) => r.name) }));
    const writes = headers.filter((h) => h.method !== "GET");
    assert.deepEqual(writes.map((h) => [h.method, h.ifMatch !== undefined, h.ifNoneMatch]), [
      ["PUT", false, "*"],
      ["PUT", true, undefined],
      ["DELETE", true, undefined],
    ]);
    assert.equal(writes[1].ifMatch, etag, "the replace carries the ETag it was planned against");
    assert.ok(headers.filter((h) => h.method === "GET").every((h) => h.ifMatch === undefined && h.ifNoneMatch === undefined));
    assert.ok(messages.some((m) => /^waiting for Azure: rule a to be written in NSG nsg$/.test(m)), messages.join("\n"));
    assert.deepEqual(names(), []);
  });

  it("plans again when another writer takes the chosen priority meanwhile (SecurityRuleConflict)", async () => {
    let calls = 0;
    const plan = putLowestFree(rule("ours", 0));
    await writer.apply(nsgId, (nsg) => {
      if (calls++ === 0) emu.seed.rule("rg", "nsg", rule("theirs", 100));
      return plan(nsg);
    });
    assert.deepEqual(names(), ["ours@101", "theirs@100"]);
    assert.ok(emu.calls.count({ operation: "SecurityRules_CreateOrUpdate", method: "PUT" }) >= 2);
  });

  it("never replaces a rule somebody else created under the same name meanwhile, and never overwrites a change made since its read", async () => {
    let calls = 0;
    const mine = { ...rule("same-name", 0), destinationPortRange: "3389" };
    await writer.apply(nsgId, (nsg) => {
      if (calls++ === 0) emu.seed.rule("rg", "nsg", rule("same-name", 300));
      return putLowestFree(mine)(nsg);
    });
    assert.equal(emu.state.nsgRules("rg", "nsg").find((r) => r.name === "same-name")?.destinationPortRange, "22", "theirs stands");

    calls = 0;
    const stale = await writer.read(nsgId);
    emu.seed.rule("rg", "nsg", rule("changed-since", 400));
    const mark = emu.calls.mark();
    await writer.apply(nsgId, (nsg) => ({ nsgId, put: [], delete: nsg.securityRules.some((r) => r.name === "changed-since") ? [] : ["theirs"] }), {}, stale);
    assert.deepEqual(emu.calls.list({ since: mark, operation: "SecurityRules_Delete" }).map((c) => c.status), [412]);
    assert.ok(names().includes("theirs@100"), "the delete planned on the stale read was refused, and the fresh plan keeps it");
  });

  it("gives up with Conflict after its retries, and reports other refusals as CloudError with ARM's status and code", async () => {
    emu.faults.inject({ operation: "SecurityRules_CreateOrUpdate" }, { kind: "error", status: 409, code: "AnotherOperationInProgress" }, 4);
    await assert.rejects(writer.apply(nsgId, putLowestFree(rule("never", 0))), (e: unknown) => isJitError(e, "Conflict") && /gave up after 4 attempts/.test(String(e)) && /409 AnotherOperationInProgress/.test(String(e)));
    emu.faults.inject({ operation: "SecurityRules_CreateOrUpdate" }, { kind: "error", status: 400, code: "SecurityRuleInvalidAddressPrefix", message: "bad prefix" });
    await assert.rejects(writer.apply(nsgId, putLowestFree(rule("bad", 0))), (e: unknown) => isJitError(e, "CloudError") && /HTTP 400 SecurityRuleInvalidAddressPrefix: bad prefix/.test(String(e)));
    emu.lro.failNext({ operation: "SecurityRules_CreateOrUpdate" }, { code: "AnotherOperationInProgress", message: "superseded" });
    await writer.apply(nsgId, putLowestFree(rule("after-failed-operation", 0)));
    assert.ok(names().some((n) => n.startsWith("after-failed-operation@")), "an operation that failed because another held the NSG is retried");
    assert.equal(emu.faults.pending, 0);
  });

  it("takes turns per NSG within the process, so its own writers never race each other", async () => {
    const mark = emu.calls.mark();
    await Promise.all(Array.from({ length: 8 }, (_, i) => writer.apply(nsgId, putLowestFree(rule(`turn-${i}`, 0)))));
    emu.calls.expect({ since: mark, write: true }, 8, "one write each, no retries");
    assert.equal(new Set(emu.state.nsgRules("rg", "nsg").map((r) => r.priority)).size, emu.state.nsgRules("rg", "nsg").length);
  });
});
