import { readFileSync } from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { AzureEmulator, startAzureEmulator } from "../../provider/src/emulator/azure";

/**
 * Replays exchanges recorded against the real Azure Resource Manager (the Azure SDKs' own test
 * recordings, kept under specs/recordings/) against the local Azure endpoint, and compares each
 * answer with the recorded one by the rules in docs/emulator-conformance.md.
 */
export const RECORDINGS = path.resolve(__dirname, "..", "..", "specs", "recordings");

const Entry = z.object({
  RequestUri: z.string().max(4096),
  RequestMethod: z.enum(["GET", "PUT", "PATCH", "DELETE", "POST"]),
  RequestBody: z.unknown(),
  StatusCode: z.number().int(),
  ResponseHeaders: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  ResponseBody: z.unknown(),
});
const Recording = z.object({ Entries: z.array(Entry) });
export type Entry = z.infer<typeof Entry>;

/** The Python SDK's recordings (vcrpy cassettes): bodies are JSON text, headers lists. */
const Cassette = z.object({
  interactions: z.array(
    z.object({
      request: z.object({ body: z.string().nullable(), method: Entry.shape.RequestMethod, uri: z.string().max(4096) }),
      response: z.object({
        body: z.object({ string: z.string() }),
        headers: z.record(z.string(), z.array(z.string())),
        status: z.object({ code: z.number().int() }),
      }),
    }),
  ),
});

const jsonOrNull = (text: string | null): unknown => (text === null || text === "" ? null : JSON.parse(text));

function entries(file: string): Entry[] {
  const text = readFileSync(path.join(RECORDINGS, file), "utf8");
  if (!file.endsWith(".yaml")) return Recording.parse(JSON.parse(text)).Entries;
  return Cassette.parse(parseYaml(text)).interactions.map(({ request, response }) => ({
    RequestUri: request.uri,
    RequestMethod: request.method,
    RequestBody: jsonOrNull(request.body),
    StatusCode: response.status.code,
    ResponseHeaders: response.headers,
    ResponseBody: jsonOrNull(response.body.string),
  }));
}

/** Recordings replayed in order against one emulator, as the SDK's test suite ran them. */
export interface Scenario {
  name: string;
  files: string[];
}

export const SCENARIOS: Scenario[] = [
  {
    name: "virtual network and subnet lifecycle (azure-sdk-for-js, 2022-07-01 and 2022-09-01)",
    files: [
      "recording_virtualnetworks_create_test.json",
      "recording_subnets_create_test.json",
      "recording_virtualnetworks_updatetags_test.json",
      "recording_subnets_begindeleteandwait_test.json",
      "recording_virtualnetworks_begindeleteandwait_test.json",
    ].map((f) => `azure-sdk-for-js/${f}`),
  },
  { name: "network security group and its rules (azure-sdk-for-go, 2022-07-01)", files: ["azure-sdk-for-go/TestNetworkSecurityGroupTestSuite.json"] },
  { name: "network interface and its collections (azure-sdk-for-go, 2022-07-01)", files: ["azure-sdk-for-go/TestNetworkInterfaceTestSuite.json"] },
  { name: "public IP address (azure-sdk-for-go, 2022-07-01)", files: ["azure-sdk-for-go/TestPublicIpAddressTestSuite.json"] },
  {
    name: "virtual network, subnet and network interface (azure-sdk-for-python, 2019-07-01)",
    files: ["azure-sdk-for-python/test_mgmt_network.test_network_interface_card.yaml"],
  },
];

export interface Outcome {
  scenario: string;
  /** `file#index`, to find the exchange in specs/recordings/. */
  where: string;
  request: string;
  recordedStatus: number;
  status: number;
  differences: string[];
}

/** The subscription placeholders the recordings were sanitised with (the Python ones left it empty). */
const RECORDED_SUBSCRIPTIONS = ["00000000-0000-0000-0000-000000000000", "azure_subscription_id", ""];
const SUBSCRIPTION = /\/subscriptions\/([^/?"]*)/gi;

/** Values that differ on every run of the cloud itself: compared for presence, not value. */
const VOLATILE_KEYS = new Set(["etag", "resourceGuid", "internalDomainNameSuffix"]);

/**
 * Where recordings of the cloud disagree with each other because the API changed between the
 * versions they were made with: the emulator answers as the newer recordings, and an older
 * recording (of an api-version before `until`) is accepted as it is. Keyed by field path without
 * indices (`properties.x`), or `header:name`.
 */
export interface AcceptedDifference {
  until: string;
  /** For a value that changed: the older value accepted. Absent: the field's presence changed. */
  olderValue?: unknown;
  why: string;
}

export const ACCEPTED_DIFFERENCES: Record<string, AcceptedDifference> = {
  "properties.enableVmProtection": { until: "2022-07-01", why: "VNet field that 2019-07-01 answers carry and 2022-07-01 answers no longer do" },
  "properties.privateEndpointNetworkPolicies": { until: "2022-07-01", olderValue: "Enabled", why: "a subnet's default was Enabled in 2019-07-01 answers and is Disabled in 2022 ones" },
  "properties.vnetEncryptionSupported": { until: "2022-07-01", why: "NIC field added after 2019-07-01" },
  "properties.disableTcpStateTracking": { until: "2022-07-01", why: "NIC field added after 2019-07-01" },
  "properties.nicType": { until: "2022-07-01", why: "NIC field added after 2019-07-01" },
  "properties.allowPort25Out": { until: "2022-07-01", why: "NIC field added after 2019-07-01" },
  kind: { until: "2022-07-01", why: "NIC top-level field added after 2019-07-01" },
  "header:retry-after": { until: "2022-07-01", why: "2019-07-01 writes answered without Retry-After; 2022 ones carry it" },
};

function accepted(key: string, apiVersion: string, values?: [unknown, unknown]): boolean {
  const rule = ACCEPTED_DIFFERENCES[key];
  if (!rule || apiVersion >= rule.until) return false;
  return values === undefined ? rule.olderValue === undefined : rule.olderValue !== undefined && values[0] === rule.olderValue;
}

/**
 * Exchanges known to differ: the differences the comparison reports for each, and why. Each is
 * counted as not conforming; the test fails if one of them starts conforming or changes (the list
 * must then follow) or another exchange stops conforming.
 */
export const KNOWN_DIFFERENCES: Record<string, { differences: string[]; why: string }> = {};

function headers(entry: Entry): Record<string, string> {
  return Object.fromEntries(Object.entries(entry.ResponseHeaders).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(",") : v]));
}

const isPoll = (p: string) => /\/providers\/[^/]+\/locations\/[^/]+\/(operations|operationResults)\//i.test(p);

function send(emu: AzureEmulator, token: string, method: string, url: string, body: string | undefined) {
  return new Promise<{ status: number; headers: Record<string, string>; body: unknown }>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: emu.clientOptions.tlsOptions.ca,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
        res.on("end", () => {
          const h = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]));
          resolve({ status: res.statusCode ?? 0, headers: h, body: text === "" ? null : JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Every subscription in ids and URLs becomes the emulator's, so both sides can be compared. */
function resubscribe(value: unknown, subscriptionId: string): unknown {
  return JSON.parse(JSON.stringify(value ?? null).replace(SUBSCRIPTION, (m, sub: string) => (RECORDED_SUBSCRIPTIONS.includes(sub) ? `/subscriptions/${subscriptionId}` : m)));
}

function compareBodies(recorded: unknown, actual: unknown, at: string, apiVersion: string, out: string[]): void {
  const field = at.replace(/\[\d+\]/g, "").replace(/^\$\.?/, "");
  if (Array.isArray(recorded)) {
    if (!Array.isArray(actual)) return void out.push(`${at}: expected an array`);
    if (recorded.length !== actual.length) return void out.push(`${at}: ${recorded.length} item(s) recorded, ${actual.length} answered`);
    recorded.forEach((r, i) => compareBodies(r, actual[i], `${at}[${i}]`, apiVersion, out));
    return;
  }
  if (recorded !== null && typeof recorded === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return void out.push(`${at}: expected an object`);
    const r = recorded as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of new Set([...Object.keys(r), ...Object.keys(a)])) {
      const path = field === "" ? key : `${field}.${key}`;
      if (!(key in a) || !(key in r)) {
        if (!accepted(path, apiVersion)) out.push(`${at}.${key}: ${key in r ? "recorded, not answered" : "answered, not recorded"}`);
        continue;
      }
      if (VOLATILE_KEYS.has(key)) continue;
      if (r[key] !== a[key] && accepted(path, apiVersion, [r[key], a[key]])) continue;
      compareBodies(r[key], a[key], `${at}.${key}`, apiVersion, out);
    }
    return;
  }
  if (recorded !== actual) out.push(`${at}: recorded ${JSON.stringify(recorded)}, answered ${JSON.stringify(actual)}`);
}

/** The presence of the long-running-operation headers, which tells a client how to follow the write. */
const LRO_HEADERS = ["azure-asyncoperation", "location", "retry-after"];

export function compare(entry: Entry, status: number, answered: Record<string, string>, body: unknown, subscriptionId: string): string[] {
  const out: string[] = [];
  const apiVersion = new URL(entry.RequestUri).searchParams.get("api-version") ?? "";
  if (entry.StatusCode !== status) out.push(`status: recorded ${entry.StatusCode}, answered ${status}`);
  const recorded = headers(entry);
  for (const h of LRO_HEADERS) {
    if ((h in recorded) !== (h in answered) && !accepted(`header:${h}`, apiVersion)) out.push(`header ${h}: ${h in recorded ? "recorded, not answered" : "answered, not recorded"}`);
  }
  const recordedBody = resubscribe(entry.ResponseBody, subscriptionId);
  const error = (b: unknown) => (b !== null && typeof b === "object" && "error" in b ? (b as { error: { code?: string } }).error.code : undefined);
  if (entry.StatusCode >= 400) {
    if (error(recordedBody) !== error(body)) out.push(`error code: recorded ${String(error(recordedBody))}, answered ${String(error(body))}`);
  } else {
    compareBodies(recordedBody, body, "$", apiVersion, out);
  }
  return out;
}

async function replayScenario(scenario: Scenario): Promise<Outcome[]> {
  const emu = await startAzureEmulator();
  const token = emu.identity.token(emu.options.principal);
  const outcomes: Outcome[] = [];
  try {
    const exchanges = scenario.files.flatMap((file) => entries(file).map((entry, index) => ({ file, index, entry })));
    // The URLs of the last write's operation, which the recorded polls stand for.
    let polling: Record<string, string> = {};
    for (const [n, { file, index, entry }] of exchanges.entries()) {
      const recordedUrl = new URL(entry.RequestUri);
      const recordedPath = recordedUrl.pathname.replace(SUBSCRIPTION, `/subscriptions/${emu.subscriptionId}`);
      const group = /\/resourceGroups\/([^/]+)/i.exec(recordedPath)?.[1];
      if (group !== undefined && !isPoll(recordedPath)) emu.seed.resourceGroup(group, { location: "westus" });
      let url = `${emu.endpoint}${recordedPath}${recordedUrl.search}`;
      if (isPoll(recordedPath)) {
        const kind = /\/operationResults\//i.test(recordedPath) ? "location" : "azure-asyncoperation";
        url = polling[kind] ?? url;
      } else if (entry.RequestMethod !== "GET") {
        // The write's operation lasts as many polls as the recording shows it InProgress.
        const polls = exchanges.slice(n + 1).findIndex((e) => !isPoll(new URL(e.entry.RequestUri).pathname) || (e.entry.ResponseBody as { status?: string } | null)?.status !== "InProgress");
        emu.options.lroPolls = Math.max(0, polls);
      }
      const body = entry.RequestBody === null || entry.RequestBody === undefined ? undefined : JSON.stringify(resubscribe(entry.RequestBody, emu.subscriptionId));
      const answer = await send(emu, token, entry.RequestMethod, url, body);
      if (entry.RequestMethod !== "GET") {
        polling = Object.fromEntries(["azure-asyncoperation", "location"].filter((h) => answer.headers[h]).map((h) => [h, answer.headers[h]]));
      }
      outcomes.push({
        scenario: scenario.name,
        where: `${file}#${index}`,
        request: `${entry.RequestMethod} ${recordedUrl.pathname}${recordedUrl.search}`,
        recordedStatus: entry.StatusCode,
        status: answer.status,
        differences: compare(entry, answer.status, answer.headers, answer.body, emu.subscriptionId),
      });
    }
  } finally {
    await emu.close();
  }
  return outcomes;
}

/** Every in-scope recorded exchange, replayed; in scenario order. */
export async function replayAll(): Promise<Outcome[]> {
  const all: Outcome[] = [];
  for (const scenario of SCENARIOS) all.push(...(await replayScenario(scenario)));
  return all;
}
