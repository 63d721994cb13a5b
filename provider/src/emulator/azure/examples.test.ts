import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { AzureEmulator, AzureEmulatorOptions, startAzureEmulator } from "./index";
import { Exchange, fast, sdkClients } from "./testing/clients";
import {
  ExampleCase,
  SERVED_SPEC_DIRS,
  SPEC_ROOT,
  walkFiles,
  SpecOperation,
  bodySchema,
  errorsAgainst,
  examples,
  flatten,
  operationFor,
  pathParameters,
  permissiveRefs,
  schemaErrors,
  stripReadOnly,
} from "./testing/spec";

/**
 * Every example of the Azure REST API specification here, replayed through the real SDK clients:
 * the example request is sent as the SDK serialises it and must reach the emulator unchanged and
 * be accepted; the answer must carry everything the example response shows (server-assigned
 * values aside, listed below with the reason); and every response on the wire must validate
 * against the specification's definitions.
 */

/** What exists before an example runs: the world it was written in. */
interface World {
  options?: Partial<AzureEmulatorOptions>;
  seed?(emu: AzureEmulator): void;
}

const vnetWith = (emu: AzureEmulator, vnet: string, space: string, subnet: string, prefix: string) => {
  emu.seed.vnet("rg1", vnet, { addressPrefixes: [space] });
  return emu.seed.subnet("rg1", vnet, subnet, { addressPrefix: prefix });
};
const nicWorld = (emu: AzureEmulator): string => {
  emu.seed.publicIp("rg1", "test-ip");
  return vnetWith(emu, "rg1-vnet", "172.20.0.0/16", "default", "172.20.2.0/24");
};
const firewallWorld: World = {
  seed: (emu) => {
    vnetWith(emu, "vnet2", "10.0.0.0/16", "AzureFirewallSubnet", "10.0.0.0/24");
    emu.seed.publicIp("rg1", "pipName");
  },
};
const permissionsWorld: World = {
  options: { pageSize: 1 },
  seed: (emu) => {
    emu.seed.principal("example", { actions: [] });
    emu.seed.principal("example", { actions: ["Microsoft.Network/networkSecurityGroups/read"] });
  },
};

const WORLDS: Record<string, World> = {
  "NetworkInterfaceCreate.json": { seed: nicWorld },
  "NetworkInterfaceGet.json": {
    seed: (emu) => {
      const subnet = nicWorld(emu);
      emu.seed.nsg("rg1", "nsg");
      emu.seed.vm("rg1", { name: "vm1", os: "Linux", nics: [emu.seed.nic("rg1", "test-nic", { subnet })] });
    },
  },
  "PublicIpAddressGet.json": {
    seed: (emu) => {
      const subnet = vnetWith(emu, "rg1-vnet", "10.0.0.0/16", "default", "10.0.0.0/24");
      emu.seed.publicIp("rg1", "testDNS-ip", { allocation: "Dynamic" });
      emu.seed.nic("rg1", "testDNS649", { subnet, publicIp: "testDNS-ip" });
    },
  },
  "AzureFirewallPut.json": firewallWorld,
  "AzureFirewallGet.json": firewallWorld,
  "NetworkSecurityGroupRuleCreate.json": { seed: (emu) => emu.seed.nsg("rg1", "testnsg") },
  "NetworkSecurityGroupRuleGet.json": { seed: (emu) => emu.seed.nsg("rg1", "testnsg") },
  "NetworkSecurityGroupRuleList.json": { seed: (emu) => emu.seed.nsg("rg1", "testnsg") },
  "NetworkSecurityGroupRuleDelete.json": {
    seed: (emu) => emu.seed.nsg("rg1", "testnsg", { rules: [{ name: "rule1", priority: 130, direction: "Inbound", access: "Allow", protocol: "*" }] }),
  },
  "NetworkSecurityGroupDelete.json": { seed: (emu) => emu.seed.nsg("rg1", "testnsg") },
  "DefaultSecurityRuleGet.json": { seed: (emu) => emu.seed.nsg("testrg", "nsg1") },
  "DefaultSecurityRuleList.json": { seed: (emu) => emu.seed.nsg("testrg", "nsg1") },
  "GetPermissions.json": permissionsWorld,
  "GetResourcePermissions.json": permissionsWorld,
};

/**
 * Where the emulator's answer may differ from an example: `differs` must be there with another
 * value; `absent` may be missing (not modelled).
 */
interface Leeway {
  path: RegExp;
  kind: "differs" | "absent";
  why: string;
}

const EVERYWHERE: Leeway[] = [
  { path: /(^|\.)etag$/, kind: "differs", why: "ETags are new on every write" },
  { path: /(^|\.)resourceGuid$/, kind: "differs", why: "resource GUIDs are random" },
  { path: /^nextLink$/, kind: "differs", why: "a nextLink is an absolute URL of the emulator" },
];
const normalisedLocation: Leeway = { path: /^location$/, kind: "differs", why: "ARM answers the normalised location name (westus for West US)" };
const firewallPrivateIp: Leeway = {
  path: /^properties\.ipConfigurations\[\d+\]\.properties\.privateIPAddress$/,
  kind: "differs",
  why: "the example shows the subnet's network address (10.0.0.0), which Azure never assigns; the emulator assigns the first free host (10.0.0.4)",
};
const LEEWAY: Record<string, Leeway[]> = {
  "AzureFirewallPut.json": [
    normalisedLocation,
    firewallPrivateIp,
    { path: /^properties\.autoscaleConfiguration$/, kind: "absent", why: "the example's 201 answer shows an autoscaleConfiguration its request did not send (its 200 answer does not)" },
  ],
  "AzureFirewallGet.json": [normalisedLocation, firewallPrivateIp],
  "AzureFirewallPutInHub.json": [
    normalisedLocation,
    { path: /^properties\.hubIPAddresses\.publicIPs\.addresses\[\d+\]\.address$/, kind: "differs", why: "public addresses are assigned from the emulator's pool" },
    { path: /^properties\.hubIPAddresses\.privateIPAddress$/, kind: "differs", why: "a hub firewall's private address comes from the (not emulated) virtual hub" },
  ],
  "NetworkInterfaceGet.json": [
    { path: /^properties\.macAddress$/, kind: "differs", why: "MAC addresses are assigned" },
    { path: /^properties\.dnsSettings\.internalDomainNameSuffix$/, kind: "differs", why: "each VNet's internal DNS suffix is random" },
    { path: /^properties\.dscpConfiguration$/, kind: "absent", why: "DSCP (QoS) configurations are not emulated" },
  ],
};

function assertCarries(expected: unknown, actual: unknown, leeway: Leeway[], at = ""): void {
  const rule = leeway.find((l) => l.path.test(at));
  if (rule?.kind === "absent" && actual === undefined) return;
  if (rule) {
    assert.equal(typeof actual, typeof expected, `${at} should be there (${rule.why})`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual) && actual.length === expected.length, `${at}: expected ${expected.length} item(s), got ${JSON.stringify(actual)}`);
    expected.forEach((e, i) => assertCarries(e, (actual as unknown[])[i], leeway, `${at}[${i}]`));
  } else if (expected !== null && typeof expected === "object") {
    assert.ok(actual !== null && typeof actual === "object", `${at}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertCarries(v, (actual as Record<string, unknown>)[k], leeway, at ? `${at}.${k}` : k);
  } else {
    assert.deepEqual(actual, expected, `${at}`);
  }
}

type Clients = ReturnType<typeof sdkClients>;
const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1);

/** Calls the SDK method an operationId names (`NetworkSecurityGroups_Get` → `networkSecurityGroups.get`). */
async function callSdk(clients: Clients, operation: SpecOperation, params: Record<string, unknown>, body?: unknown): Promise<unknown> {
  const [group, method] = operation.operationId.split("_").map(lowerFirst);
  const client = operation.file.includes("Microsoft.Authorization") ? clients.authorization : clients.network;
  const ops = (client as unknown as Record<string, Record<string, (...args: unknown[]) => unknown>>)[group];
  assert.equal(typeof ops?.[method], "function", `the SDK has no ${group}.${method} for ${operation.operationId}`);
  const args: unknown[] = pathParameters(operation).map((p) => params[p]);
  const bodyParam = bodySchema(operation);
  if (bodyParam) args.push(flatten(bodyParam.at, body ?? params[bodyParam.name]));
  const result = ops[method].call(ops, ...args, fast) as AsyncIterable<unknown> | Promise<unknown>;
  if (Symbol.asyncIterator in result) {
    const items: unknown[] = [];
    for await (const item of result) items.push(item);
    return items;
  }
  return await result;
}

const pathOf = (url: string) => new URL(url).pathname;
const parse = (text: string | undefined): unknown => (text ? JSON.parse(text) : undefined);

/** The specification's schema for whatever an exchange was: the operation itself, a poll, or the final GET. */
/**
 * Fields real Azure answers that the specification does not define, as recorded in
 * specs/recordings/ (see docs/emulator-conformance.md): the endpoint answers them too.
 */
const RECORDED_BEYOND_SPEC = ["allowPort25Out", "kind"];
const beyondSpec = (error: string) => RECORDED_BEYOND_SPEC.some((p) => error.endsWith(`{"unevaluatedProperty":"${p}"}`));

function wireErrors(exchange: Exchange): string[] {
  return specErrors(exchange).filter((e) => !beyondSpec(e));
}

function specErrors(exchange: Exchange): string[] {
  const body = parse(exchange.responseBody);
  const p = pathOf(exchange.url);
  if (/\/operations\/[^/]+$/.test(p)) {
    return errorsAgainst(path.join(SPEC_ROOT, "network/resource-manager/Microsoft.Network/stable/2024-05-01/network.json"), "#/definitions/AzureAsyncOperationResult", body);
  }
  if (/\/operationResults\/[^/]+$/.test(p)) return exchange.status === 204 || exchange.status === 202 ? [] : ["unexpected Location answer"];
  const target = operationFor(exchange.method, p);
  assert.ok(target, `no operation in the specification for ${exchange.method} ${p}`);
  return schemaErrors(target.operation, String(exchange.status), body);
}

/** The example's location, for what its world has to have been created in. */
function locationIn(c: ExampleCase): string | undefined {
  return /"location":\s*"([^"]+)"/.exec(JSON.stringify(c.responses))?.[1];
}

function resourceGroupsIn(c: ExampleCase): Set<string> {
  const named = new Set<string>(typeof c.parameters.resourceGroupName === "string" ? [c.parameters.resourceGroupName] : []);
  for (const m of JSON.stringify(c.responses).matchAll(/resourceGroups\/([^/"]+)/gi)) named.add(m[1]);
  return named;
}

/** What a read, list or tag update answers has to exist first: PUT it through the SDK. */
async function arrange(clients: Clients, c: ExampleCase): Promise<void> {
  const success = Object.entries(c.responses).find(([status]) => status.startsWith("2"))?.[1].body as Record<string, unknown> | undefined;
  const items = (Array.isArray(success?.value) ? success.value : success ? [success] : []) as Record<string, unknown>[];
  for (const item of items) {
    const put = typeof item.id === "string" ? operationFor("PUT", item.id) : undefined;
    const target = put && bodySchema(put.operation);
    if (put && target) await callSdk(clients, put.operation, put.params, stripReadOnly(target.at, item));
  }
}

test("every example file in the specification folder is referenced by an operation", () => {
  const present = SERVED_SPEC_DIRS.flatMap(walkFiles).filter((f) => f.split(path.sep).includes("examples")).map((f) => path.relative(SPEC_ROOT, f));
  assert.deepEqual([...new Set(examples.map((e) => e.example))].sort(), present.sort());
});

for (const c of examples) {
  const name = path.basename(c.example);
  test(`${name}: ${c.operation.operationId} (${c.title}) replays through the SDK`, async (t) => {
    const world = WORLDS[name] ?? {};
    const location = locationIn(c);
    // The examples replay wire shapes as any caller; who may call is rbac.test.ts's subject.
    const emu = await startAzureEmulator({ subscriptionId: String(c.parameters.subscriptionId), rbac: false, ...(location ? { location } : {}), ...world.options });
    try {
      for (const rg of resourceGroupsIn(c)) emu.seed.resourceGroup(rg);
      world.seed?.(emu);
      const clients = sdkClients(emu, { principal: "example" });
      if (c.operation.method !== "PUT") await arrange(clients, c);

      const mark = clients.exchanges.length;
      await callSdk(clients, c.operation, c.parameters);
      const wire = clients.exchanges.slice(mark);
      const [first] = wire;

      const bodyParam = bodySchema(c.operation);
      if (bodyParam) assert.deepEqual(parse(first.requestBody), c.parameters[bodyParam.name], "the SDK sends the example request as it is");
      assert.ok(String(first.status) in c.responses, `answered ${first.status}; the example allows ${Object.keys(c.responses).join(", ")}`);
      for (const exchange of wire) assert.deepEqual(wireErrors(exchange), [], `${exchange.method} ${exchange.url} -> ${exchange.status} ${exchange.responseBody}`);

      const expected = c.responses[String(first.status)].body;
      if (expected !== undefined) {
        const last = [...wire].reverse().find((e) => pathOf(e.url) === pathOf(first.url) && e.responseBody);
        assertCarries(expected, parse(c.operation.method === "GET" ? first.responseBody : last?.responseBody), [...EVERYWHERE, ...(LEEWAY[name] ?? [])]);
      }
      if (c.operation.method === "DELETE") {
        const get = operationFor("GET", pathOf(first.url));
        assert.ok(get, "the specification can read what was deleted");
        await assert.rejects(callSdk(clients, get.operation, get.params), (e: { statusCode?: number }) => e.statusCode === 404);
      }
      t.diagnostic(`${wire.length} exchange(s): ${wire.map((e) => `${e.method} ${e.status}`).join(", ")}`);
    } finally {
      await emu.close();
    }
  });
}

test("references to specification files that are not here are validated permissively", (t) => {
  t.diagnostic(`permissive: ${[...permissiveRefs].sort().join(", ")}`);
  for (const ref of permissiveRefs) assert.match(ref, /^\.\.?\//, "only references to other files are made permissive");
});
