import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "fs";
import { join } from "path";
import { fromDefenderInitiateRequest, fromDefenderPolicy, toDefenderPolicy, toDefenderRequest } from "./defender";
import { newGrant, parseGrant, transition } from "./grant";
import { checkRequest } from "./request";
import { assertJitError } from "./testing/assert";
import { AZURE_VM, azurePolicy, sampleGrant } from "./testing/fixtures";

const EXAMPLES = join(__dirname, "..", "..", "..", "specs", "azure", "security", "resource-manager", "Microsoft.Security", "stable", "2020-01-01", "examples", "JitNetworkAccessPolicies");
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const read = (file: string): Json => JSON.parse(readFileSync(join(EXAMPLES, file), "utf8"));

/** Every policy resource anywhere in a document: an object whose `properties.virtualMachines` is an array. */
function policyResources(node: unknown, found: Json[] = []): Json[] {
  if (Array.isArray(node)) node.forEach((item) => policyResources(item, found));
  else if (isObject(node)) {
    if (isObject(node.properties) && Array.isArray(node.properties.virtualMachines)) found.push(node);
    else Object.values(node).forEach((value) => policyResources(value, found));
  }
  return found;
}

const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".json"));

test("every policy in every Defender example round-trips through our model without loss", () => {
  assert.equal(files.length, 6, "the six JitNetworkAccessPolicies examples");
  const withPolicies: string[] = [];
  let count = 0;
  for (const file of files) {
    const example = read(file);
    const parameters = example.parameters as Json;
    for (const doc of policyResources(example)) {
      // A PUT body has no name; its name is the URL's.
      const name = typeof doc.name === "string" ? undefined : String(parameters.jitNetworkAccessPolicyName);
      const { policy, envelope } = fromDefenderPolicy(doc, { name });
      assert.deepStrictEqual(toDefenderPolicy(policy, envelope), doc, `${file}: lossless`);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(toDefenderPolicy(policy, envelope))), doc, `${file}: as JSON too`);
      assert.equal(policy.name, "default");
      assert.deepEqual(
        policy.virtualMachines[0].ports.map((p) => [p.number, p.protocol, p.allowedSourceAddressPrefix, p.maxRequestAccessDuration]),
        [
          [22, "*", "*", "PT3H"],
          [3389, "*", "*", "PT3H"],
        ],
      );
      assert.equal(envelope.properties?.requests?.[0].requestor, "barbara@contoso.com", `${file}: the request history is kept`);
      count++;
      if (!withPolicies.includes(file)) withPolicies.push(file);
    }
  }
  assert.equal(count, 5, "Create (body and response), Get, and the two List responses");
  assert.deepEqual(withPolicies.sort(), files.filter((f) => /^(Create|Get)/.test(f)).sort());
});

test("a policy written fresh as a Defender resource matches Defender's own GET response", () => {
  const get = read("GetJitNetworkAccessPolicy_example.json");
  const body = (get.responses as Json)["200"] as Json;
  const expected = structuredClone((body as { body: Json }).body) as Json & { properties: Json };
  const { policy } = fromDefenderPolicy(expected);
  delete expected.properties.requests;
  delete expected.properties.provisioningState;
  const written = toDefenderPolicy(policy, {
    subscriptionId: "20ff7fc3-e762-44dd-bd96-b71116dcdc23",
    resourceGroup: "myRg1",
    location: "westeurope",
    kind: "Basic",
  });
  assert.deepStrictEqual(written, expected);
  assert.deepStrictEqual(toDefenderPolicy(policy), { properties: { virtualMachines: expected.properties.virtualMachines } }, "with nothing else: a PUT body");
  assert.equal(toDefenderPolicy({ ...policy, name: "renamed" }, { name: "default" }).name, "renamed", "the name is always the policy's");
});

test("Defender's initiate example is a request we accept, and the grant reads back as its 202 answer", () => {
  const example = read("InitiateJitNetworkAccessPolicy_example.json");
  const body = (example.parameters as Json).body;
  const answer = ((example.responses as Json)["202"] as Json).body as Json & { virtualMachines: { ports: Json[] }[] };
  const request = fromDefenderInitiateRequest(body);
  assert.deepEqual(request, body);
  const { policy } = fromDefenderPolicy(((read("GetJitNetworkAccessPolicy_example.json").responses as Json)["200"] as Json).body);
  const checked = checkRequest(policy, { ...request, requester: "barbara@contoso.com" }, { now: new Date(String(answer.startTimeUtc)) });
  const history = toDefenderRequest(newGrant(checked));
  // Ours keeps milliseconds; Defender's example has ten-millionths.
  const ms = (t: unknown) => new Date(String(t)).toISOString();
  assert.equal(history.startTimeUtc, ms(answer.startTimeUtc));
  assert.equal(history.requestor, answer.requestor);
  assert.equal(history.justification, answer.justification);
  const [ours, theirs] = [history.virtualMachines[0].ports[0], answer.virtualMachines[0].ports[0]];
  assert.equal(ours.number, theirs.number);
  assert.equal(ours.allowedSourceAddressPrefix, theirs.allowedSourceAddressPrefix);
  assert.equal(ours.endTimeUtc, ms(theirs.endTimeUtc));
  assert.equal(ours.statusReason, theirs.statusReason);
  assert.equal(ours.status, "Initiated", `the spec's enum value (its example says "${theirs.status}")`);
  assert.equal(history.virtualMachines[0].id, (body as { virtualMachines: { id: string }[] }).virtualMachines[0].id);
});

test("a grant's history entry carries the Azure Firewall mapped port and its end state", () => {
  const grant = parseGrant({
    ...sampleGrant(),
    state: "active",
    changes: [
      {
        kind: "azure-firewall-nat-rule",
        status: "applied",
        firewallId: "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Network/azureFirewalls/fw1",
        collectionName: "jit-web",
        ruleName: "jit-22",
        vmId: AZURE_VM.toLowerCase(),
        port: 22,
        mappedPort: 50022,
        rule: {},
      },
    ],
  });
  assert.equal(toDefenderRequest(grant).virtualMachines[0].ports[0].mappedPort, 50022);
  assert.equal(toDefenderRequest({ ...grant, changes: [] }).virtualMachines[0].ports[0].mappedPort, undefined);
  const revoked = transition(transition({ ...grant, changes: [] }, "restoring", "UserRequested"), "revoked");
  assert.deepEqual(
    (({ status, statusReason }) => ({ status, statusReason }))(toDefenderRequest(revoked).virtualMachines[0].ports[0]),
    { status: "Revoked", statusReason: "UserRequested" },
  );
});

test("Defender JSON that does not fit is refused at the field", () => {
  const get = () => structuredClone(((read("GetJitNetworkAccessPolicy_example.json").responses as Json)["200"] as Json).body) as any;
  assertJitError(() => fromDefenderPolicy({}), "InvalidInput", "properties", /invalid Defender policy: Invalid input: expected object, received undefined/);
  const unnamed = get();
  delete unnamed.name;
  assertJitError(() => fromDefenderPolicy(unnamed), "InvalidInput", "name", /the Defender policy has no name \(a PUT body carries it in the URL\); pass it as options.name/);
  const badName = get();
  badName.name = "my policy";
  assertJitError(() => fromDefenderPolicy(badName), "InvalidInput", "name", /invalid policy name: must start with a letter or digit/);
  const badPort = get();
  badPort.properties.virtualMachines[0].ports[1].number = 70000;
  assertJitError(() => fromDefenderPolicy(badPort), "InvalidInput", "properties.virtualMachines[0].ports[1].number", /must be a whole number from 0 to 65535/);
  const badHistory = get();
  badHistory.properties.requests[0].startTimeUtc = "yesterday";
  assertJitError(() => fromDefenderPolicy(badHistory), "InvalidInput", "properties.requests[0].startTimeUtc", /must be an ISO-8601 date-time/);
  assertJitError(() => toDefenderPolicy(azurePolicy(), { subscriptionId: "s", resourceGroup: "rg" }), "InvalidInput", "location", /subscriptionId, resourceGroup and location go together/);
  assertJitError(() => fromDefenderInitiateRequest({ virtualMachines: [{ id: AZURE_VM, ports: [{ number: 22 }] }] }), "InvalidInput", "virtualMachines[0].ports[0]", /give exactly one of endTimeUtc and duration/);
});
