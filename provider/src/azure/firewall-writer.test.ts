import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { AzureEmulator, startAzureEmulator } from "../emulator/azure";
import { firewallOf } from "../emulator/azure/planner-view";
import { isJitError } from "../model";
import { type Firewall, type FirewallChange, type NetworkCollection, noFirewallChange } from "../plan";
import { AzureClients } from "./clients";
import { resolveConnection } from "./connection";
import { FirewallWriter } from "./firewall-writer";

const collection = (name: string, priority: number): NetworkCollection => ({
  name,
  priority,
  action: "Allow",
  rules: [{ name, protocols: ["TCP"], sourceAddresses: ["*"], destinationAddresses: ["10.0.0.0/24"], destinationPorts: ["8080"] }],
});

/** Adds `wanted` unless a collection of that name is there. */
const adding = (wanted: NetworkCollection) => (firewall: Firewall): FirewallChange => {
  const change = noFirewallChange(firewall.id);
  if (!firewall.networkRuleCollections.some((c) => c.name === wanted.name)) change.network.put.push(wanted);
  return change;
};

describe("the firewall writer, against the local ARM endpoint", () => {
  let emu: AzureEmulator;
  let firewallId: string;
  let subnet: string;
  let writer: FirewallWriter;
  const ifMatch: Array<{ method: string; ifMatch?: string }> = [];
  const messages: string[] = [];

  before(async () => {
    emu = await startAzureEmulator();
    emu.seed.resourceGroup("rg");
    emu.seed.vnet("rg", "vnet");
    subnet = emu.seed.subnet("rg", "vnet", "AzureFirewallSubnet", { addressPrefix: "10.0.1.0/26" });
    emu.seed.publicIp("rg", "fw-ip");
    firewallId = emu.seed.firewall("rg", "fw", { subnet, publicIp: "fw-ip", networkRuleCollections: [{ name: "theirs", priority: 200, action: "Allow", rules: [] }] });
    const clients = new AzureClients(resolveConnection({ endpoint: emu.endpoint, ca: emu.clientOptions.tlsOptions.ca, credential: emu.credential, pollIntervalMs: 0, backoffMs: 1, conflictRetries: 2, retryOptions: { maxRetries: 0 } }));
    const recorder: PipelinePolicy = {
      name: "recordPreconditions",
      sendRequest: (request, next) => {
        ifMatch.push({ method: request.method, ifMatch: request.headers.get("if-match") });
        return next(request);
      },
    };
    (await clients.network(emu.subscriptionId)).pipeline.addPolicy(recorder, { afterPhase: "Retry" });
    writer = new FirewallWriter(clients, (m) => messages.push(m));
  });
  after(() => emu.close());

  it("writes the whole firewall once, under the ETag it was planned from, and keeps what it did not plan", async () => {
    ifMatch.length = 0;
    const etag = emu.state.etag(firewallId);
    const { before, after } = await writer.apply(firewallId, adding(collection("ours", 300)));
    assert.deepEqual(ifMatch.filter((h) => h.method !== "GET"), [{ method: "PUT", ifMatch: etag }], "one PUT, conditional on the ETag read");
    assert.ok(ifMatch.filter((h) => h.method === "GET").every((h) => h.ifMatch === undefined), "reads and polls carry no precondition");
    assert.deepEqual(before.networkRuleCollections.map((c) => c.name), ["theirs"]);
    assert.deepEqual(after.networkRuleCollections.map((c) => c.name), ["theirs", "ours"]);
    assert.deepEqual(firewallOf(emu, firewallId).networkRuleCollections.map((c) => c.name), ["theirs", "ours"]);
    const mark = emu.calls.mark();
    await writer.apply(firewallId, adding(collection("ours", 300)));
    emu.calls.expect({ since: mark, write: true }, 0, "nothing to change, nothing written");
  });

  it("when the firewall changed since it was read (412), reads it again, plans again, and loses nothing", async () => {
    messages.length = 0;
    const take = emu.faults.take.bind(emu.faults);
    let raced = false;
    // Another writer gets in between our read and our write.
    emu.faults.take = (req) => {
      if (req.operation === "AzureFirewalls_CreateOrUpdate" && !raced) {
        raced = true;
        const current = firewallOf(emu, firewallId);
        emu.seed.firewall("rg", "fw", {
          subnet,
          publicIp: "fw-ip",
          networkRuleCollections: [...current.networkRuleCollections.map((c) => ({ ...c, rules: c.rules as never[] })), { name: "raced-in", priority: 400, action: "Allow", rules: [] }],
        });
        return undefined;
      }
      return take(req);
    };
    try {
      const mark = emu.calls.mark();
      await writer.apply(firewallId, adding(collection("late", 500)));
      const puts = emu.calls.list({ since: mark, operation: "AzureFirewalls_CreateOrUpdate" });
      assert.deepEqual(puts.map((c) => [c.status === 412, c.faulted]), [[true, false], [false, false]], "the endpoint itself refused the stale ETag; the second write, planned afresh, went through");
      assert.deepEqual(firewallOf(emu, firewallId).networkRuleCollections.map((c) => c.name), ["theirs", "ours", "raced-in", "late"]);
      assert.ok(messages.some((m) => /^Azure Firewall fw changed or was busy \(412 PreconditionFailed\); reading it again/.test(m)), messages.join("\n"));
    } finally {
      emu.faults.take = take;
    }
  });

  it("gives up with Conflict once its retries are spent", async () => {
    emu.faults.inject({ operation: "AzureFirewalls_CreateOrUpdate" }, { kind: "error", status: 412, code: "PreconditionFailed", message: "The condition specified using HTTP conditional header(s) is not met." }, 3);
    await assert.rejects(writer.apply(firewallId, adding(collection("never", 600))), (e: unknown) => isJitError(e, "Conflict") && /Azure Firewall .*\/fw kept changing under us \(412 PreconditionFailed\); gave up after 3 attempts/.test((e as Error).message));
    assert.ok(!firewallOf(emu, firewallId).networkRuleCollections.some((c) => c.name === "never"));
  });

  it("refuses to write a firewall under a Firewall Policy", async () => {
    const managed = emu.seed.firewall("rg", "managed", { subnet, firewallPolicy: `/subscriptions/${emu.subscriptionId}/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/central` });
    const mark = emu.calls.mark();
    await assert.rejects(writer.apply(managed, adding(collection("ours", 300))), (e: unknown) => isJitError(e, "Unsupported") && /managed by Firewall Policy central/.test((e as Error).message));
    emu.calls.expect({ since: mark, write: true }, 0);
  });
});
