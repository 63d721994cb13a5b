import assert from "node:assert/strict";
import { Readable } from "node:stream";
import * as ec2 from "@aws-sdk/client-ec2";
import * as iam from "@aws-sdk/client-iam";
import * as sts from "@aws-sdk/client-sts";
import { XMLParser } from "fast-xml-parser";
import { AwsEmulator, AwsEmulatorOptions, startAwsEmulator } from "../index";

/**
 * Test set-up for the AWS endpoint: the real SDK clients, each checking every response it gets
 * against the SDK's own published schema of that operation. The SDK silently drops an element it
 * does not know, so a misspelt wire name would otherwise pass unnoticed; here it fails the call.
 */

type Schema = unknown;
type Traits = { xmlName?: string } | number | undefined;

const resolve = (s: Schema): Schema => (typeof s === "function" ? (s as () => Schema)() : s);

/** A member is `schema` or `[schema, traits]`; a simple schema with traits is a 5-tuple `[0, ns, name, traits, base]`. */
function member(entry: Schema): { schema: Schema; traits: Traits } {
  return Array.isArray(entry) && entry.length === 2 ? { schema: entry[0], traits: entry[1] as Traits } : { schema: entry, traits: undefined };
}

function xmlName(name: string, traits: Traits): string {
  return typeof traits === "object" && traits?.xmlName ? traits.xmlName : name;
}

function unknownElements(node: unknown, schema: Schema, path: string, listItem: string): string[] {
  const s = resolve(schema);
  if (!Array.isArray(s) || typeof node !== "object" || node === null) return [];
  if (s[0] === 3) {
    const [, , , , names, types] = s as [number, string, string, unknown, string[], Schema[]];
    const byXmlName = new Map(names.map((n, i) => [xmlName(n, member(types[i]).traits), member(types[i]).schema]));
    return Object.entries(node).flatMap(([key, child]) => {
      const childSchema = byXmlName.get(key);
      if (childSchema === undefined) return [`${path}/${key}`];
      return (Array.isArray(child) ? child : [child]).flatMap((c) => unknownElements(c, childSchema, `${path}/${key}`, listItem));
    });
  }
  if (s[0] === 1) {
    const itemSchema = member(s[4]).schema;
    return Object.entries(node).flatMap(([key, items]) =>
      key !== listItem ? [`${path}/${key}`] : (Array.isArray(items) ? items : [items]).flatMap((i) => unknownElements(i, itemSchema, `${path}/${key}`, listItem)),
    );
  }
  return [];
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

/**
 * The response's elements that the SDK's schema of `operation` does not know, and what is wrong
 * with its envelope (root element, request id header).
 */
function wireProblems(body: string, headers: Record<string, string>, operation: Schema, status: number, ec2Dialect: boolean): string[] {
  const [, , name, , , output] = resolve(operation) as [number, string, string, unknown, Schema, Schema];
  const doc = parser.parse(body) as Record<string, Record<string, unknown>>;
  const problems = headers["x-amzn-requestid"] ? [] : ["no x-amzn-requestid header"];
  if (status >= 300) {
    const ok = ec2Dialect ? doc.Response?.Errors !== undefined && doc.Response?.RequestID !== undefined : doc.ErrorResponse?.Error !== undefined;
    return ok ? problems : [...problems, `unexpected error envelope: ${body}`];
  }
  const root = doc[`${name}Response`];
  if (!root) return [...problems, `no <${name}Response> root: ${body}`];
  if (ec2Dialect) {
    const { requestId, ...members } = root;
    return [...problems, ...(requestId ? [] : ["no <requestId>"]), ...unknownElements(members, output, name, "item")];
  }
  const { ResponseMetadata, [`${name}Result`]: result } = root;
  return [...problems, ...(ResponseMetadata ? [] : ["no <ResponseMetadata>"]), ...unknownElements(result ?? {}, output, name, "member")];
}

interface AnyClient {
  middlewareStack: {
    addRelativeTo(mw: unknown, options: { name: string; relation: "after"; toMiddleware: string }): void;
  };
}

export interface RawResponse {
  /** The SDK command, e.g. `DescribeVpcsCommand`. */
  commandName: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Hands every raw response `client` receives to `inspect` (which may throw to fail the call) before the SDK parses it. */
export function onRawResponse<C extends AnyClient>(client: C, inspect: (response: RawResponse) => void): C {
  type Next = (args: unknown) => Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Readable } }>;
  const capture = (next: Next, context: { commandName: string }) => async (args: unknown) => {
    const result = await next(args);
    const chunks: Buffer[] = [];
    for await (const chunk of result.response.body) chunks.push(Buffer.from(chunk as Buffer));
    const body = Buffer.concat(chunks);
    result.response.body = Readable.from([body]);
    inspect({ commandName: context.commandName, status: result.response.statusCode, headers: result.response.headers, body: body.toString("utf8") });
    return result;
  };
  client.middlewareStack.addRelativeTo(capture, { name: "rawResponse", relation: "after", toMiddleware: "deserializerMiddleware" });
  return client;
}

/** Makes `client` fail any call whose raw response does not fit the SDK's schema of the operation. */
function conforming<C extends AnyClient>(client: C, sdk: Record<string, unknown>): C {
  const ec2Dialect = sdk === ec2;
  return onRawResponse(client, ({ commandName, status, headers, body }) => {
    const operation = sdk[`${commandName.replace(/Command$/, "")}$`];
    const problems = wireProblems(body, headers, operation, status, ec2Dialect);
    assert.deepEqual(problems, [], `${commandName}: the response does not fit the SDK's schema`);
  });
}

export interface Harness {
  emu: AwsEmulator;
  /** Default retry strategy (3 attempts). */
  ec2: ec2.EC2Client;
  /** One attempt: errors surface as they are answered. */
  ec2Once: ec2.EC2Client;
  sts: sts.STSClient;
  iam: iam.IAMClient;
  /** Clients of another principal. */
  as(principal: string): { ec2: ec2.EC2Client; sts: sts.STSClient; iam: iam.IAMClient };
}

/** Runs `body` against a fresh endpoint, and closes it (and the clients) afterwards. */
export async function withEmulator(options: AwsEmulatorOptions, body: (h: Harness) => Promise<void>): Promise<void> {
  const emu = await startAwsEmulator(options);
  const made: { destroy(): void }[] = [];
  const clients = (config: typeof emu.clientConfig, maxAttempts?: number) => {
    const set = {
      ec2: conforming(new ec2.EC2Client({ ...config, maxAttempts }), ec2),
      sts: conforming(new sts.STSClient({ ...config, maxAttempts }), sts),
      iam: conforming(new iam.IAMClient({ ...config, maxAttempts }), iam),
    };
    made.push(set.ec2, set.sts, set.iam);
    return set;
  };
  try {
    await body({
      emu,
      ...clients(emu.clientConfig),
      ec2Once: clients(emu.clientConfig, 1).ec2,
      as: (principal) => clients({ ...emu.clientConfig, credentials: emu.credentialsFor(principal) }, 1),
    });
  } finally {
    for (const client of made) client.destroy();
    await emu.close();
  }
}

/** Awaits a call that must fail, and checks the SDK error's `name` (the service's error code). */
export async function failsWith(call: Promise<unknown>, name: string, message?: RegExp): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await call;
  } catch (err) {
    const e = err as Error & { $metadata: { httpStatusCode?: number; attempts?: number } };
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected the call to fail with ${name}`);
}
