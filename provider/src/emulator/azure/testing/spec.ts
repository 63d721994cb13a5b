import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2019 from "ajv/dist/2019";
import addFormats from "ajv-formats";

/**
 * The Azure REST API specification as test data: its swagger files, the example files they
 * reference, its definitions as JSON Schema (for ajv), and the walks over a payload that its
 * schemas drive (flattening for the SDK, dropping read-only fields).
 *
 * Swagger 2.0 definitions are draft-04 JSON Schema plus extensions. They are loaded into ajv's
 * 2019-09 dialect after a small translation: boolean `exclusiveMinimum`/`exclusiveMaximum` become
 * numbers, `x-nullable` becomes a union with null, and a `$ref` to a file that is not here (see
 * specs/README.md) becomes `{}`, which accepts anything; `permissiveRefs` lists them. Every
 * definition that is not an `allOf` base also gets `unevaluatedProperties: false`, so a response
 * may carry nothing the specification does not define.
 */
/** The published Azure specifications the project keeps as test data (`specs/` at the repository root). */
export const SPEC_ROOT = path.resolve(__dirname, "..", "..", "..", "..", "..", "specs", "azure");

type Schema = Record<string, unknown>;
interface Located {
  file: string;
  schema: Schema;
}

const isSchema = (v: unknown): v is Schema => v !== null && typeof v === "object" && !Array.isArray(v);

export function walkFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walkFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** The services the emulator serves; the Microsoft.Security specification beside them is the model's test data. */
export const SERVED_SPEC_DIRS = ["network", "authorization"].map((d) => path.join(SPEC_ROOT, d));

const swaggers = new Map<string, Schema>(
  SERVED_SPEC_DIRS.flatMap(walkFiles)
    .filter((f) => f.endsWith(".json") && !f.split(path.sep).includes("examples"))
    .map((f) => [f, JSON.parse(fs.readFileSync(f, "utf8")) as Schema]),
);

/** The schema a `$ref` points to, or undefined when its file is not among the specs here. */
function deref(file: string, ref: string): Located | undefined {
  const [target, pointer] = ref.split("#");
  const targetFile = target === "" ? file : path.resolve(path.dirname(file), target);
  let node: unknown = swaggers.get(targetFile);
  for (const part of (pointer ?? "").split("/").filter((p) => p !== "")) node = isSchema(node) ? node[part] : undefined;
  return isSchema(node) ? { file: targetFile, schema: node } : undefined;
}

function resolve(at: Located): Located | undefined {
  let cur: Located | undefined = at;
  while (cur && typeof cur.schema.$ref === "string") cur = deref(cur.file, cur.schema.$ref);
  return cur;
}

/** A schema's properties, its `allOf` bases' included, each with the file its refs are relative to. */
function propertiesOf(at: Located): Map<string, Located> {
  const out = new Map<string, Located>();
  const visit = (loc: Located | undefined) => {
    const s = loc && resolve(loc);
    if (!s) return;
    for (const base of (s.schema.allOf as Schema[] | undefined) ?? []) visit({ file: s.file, schema: base });
    for (const [name, schema] of Object.entries((s.schema.properties as Record<string, Schema> | undefined) ?? {})) out.set(name, { file: s.file, schema });
  };
  visit(at);
  return out;
}

function itemsOf(at: Located): Located | undefined {
  const s = resolve(at);
  return s && isSchema(s.schema.items) ? { file: s.file, schema: s.schema.items } : undefined;
}

/** Rebuilds `value` along its schema; `onProperty` decides what each property becomes. */
function walk(at: Located | undefined, value: unknown, onProperty: (name: string, prop: Located, value: unknown, out: Schema) => void): unknown {
  if (!at) return value;
  if (Array.isArray(value)) {
    const items = itemsOf(at);
    return value.map((v) => walk(items, v, onProperty));
  }
  if (!isSchema(value)) return value;
  const props = propertiesOf(at);
  const out: Schema = {};
  for (const [name, v] of Object.entries(value)) {
    const prop = props.get(name);
    if (prop) onProperty(name, prop, v, out);
    else out[name] = v;
  }
  return out;
}

/** What a client may send: the payload without the properties the specification marks read-only. */
export function stripReadOnly(at: Located, value: unknown): unknown {
  return walk(at, value, (name, prop, v, out) => {
    if (prop.schema.readOnly === true) return;
    out[name] = stripReadOnly(prop, v);
  });
}

/** The SDK's model of a wire payload: `x-ms-client-flatten` properties merged into their parent. */
export function flatten(at: Located, value: unknown): unknown {
  return walk(at, value, (name, prop, v, out) => {
    const converted = flatten(prop, v);
    if (prop.schema["x-ms-client-flatten"] === true && isSchema(converted)) Object.assign(out, converted);
    else out[name] = converted;
  });
}

// ---- JSON Schema validation -------------------------------------------------------------------

const baseUrl = (file: string) => `https://spec.test/${path.relative(SPEC_ROOT, file).split(path.sep).join("/")}`;

export const permissiveRefs = new Set<string>();

/** `https://spec.test/<file>#/definitions/X` for a `$ref` written in `file`. */
function refKey(file: string, ref: string): string {
  const [target, pointer] = ref.split("#");
  return `${baseUrl(target === "" ? file : path.resolve(path.dirname(file), target))}#${pointer ?? ""}`;
}

const allOfBases = new Set<string>(
  [...swaggers].flatMap(([file, doc]) =>
    Object.values((doc.definitions as Record<string, Schema> | undefined) ?? {}).flatMap((def) =>
      ((def.allOf as Schema[] | undefined) ?? []).flatMap((base) => (typeof base.$ref === "string" ? [refKey(file, base.$ref)] : [])),
    ),
  ),
);

function translate(file: string, schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "$ref" && typeof v === "string") {
      if (deref(file, v)) out.$ref = v;
      else permissiveRefs.add(v);
    } else if (k === "properties" && isSchema(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, translate(file, s)]));
    } else if ((k === "items" || k === "additionalProperties") && isSchema(v)) {
      out[k] = translate(file, v);
    } else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) {
      out[k] = v.map((s) => translate(file, s));
    } else if (k === "exclusiveMinimum" || k === "exclusiveMaximum") {
      if (v === true) out[k] = schema[k === "exclusiveMinimum" ? "minimum" : "maximum"];
    } else if (!k.startsWith("x-ms-") && k !== "x-nullable" && k !== "discriminator" && k !== "readOnly") {
      out[k] = v;
    }
  }
  return schema["x-nullable"] === true ? { anyOf: [out, { type: "null" }] } : out;
}

const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
ajv.addFormat("arm-id", true);

for (const [file, doc] of swaggers) {
  const definitions = Object.fromEntries(
    Object.entries((doc.definitions as Record<string, Schema> | undefined) ?? {}).map(([name, def]) => {
      const translated = translate(file, def) as Schema;
      const strict = !allOfBases.has(`${baseUrl(file)}#/definitions/${name}`) && isSchema(translated.properties) && translated.additionalProperties === undefined;
      return [name, strict ? { ...translated, unevaluatedProperties: false } : translated];
    }),
  );
  ajv.addSchema({ $id: baseUrl(file), definitions });
}

/** Errors of `value` against the schema of an operation's response, or [] when it conforms. */
export function schemaErrors(operation: SpecOperation, status: string, value: unknown): string[] {
  const responses = operation.spec.responses as Record<string, { schema?: Schema }>;
  const ref = (responses[status] ?? responses.default)?.schema?.$ref;
  if (typeof ref !== "string") return value === undefined || value === "" ? [] : [`status ${status} has no body in the specification`];
  return errorsAgainst(operation.file, ref, value);
}

export function errorsAgainst(file: string, ref: string, value: unknown): string[] {
  const url = new URL(ref, baseUrl(file)).href;
  const validate = ajv.getSchema(url);
  if (!validate) throw new Error(`no schema ${url}`);
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

// ---- Operations and their examples ------------------------------------------------------------

export interface SpecOperation {
  file: string;
  method: string;
  path: string;
  operationId: string;
  spec: Schema;
}

export interface ExampleCase {
  title: string;
  /** The example's path below SPEC_ROOT. */
  example: string;
  operation: SpecOperation;
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

export const operations: SpecOperation[] = [...swaggers].flatMap(([file, doc]) =>
  Object.entries((doc.paths as Record<string, Record<string, Schema>> | undefined) ?? {}).flatMap(([p, methods]) =>
    Object.entries(methods)
      .filter(([m]) => ["get", "put", "patch", "delete", "post"].includes(m))
      .map(([m, spec]) => ({ file, method: m.toUpperCase(), path: p, operationId: String(spec.operationId), spec })),
  ),
);

/** An example referenced by a swagger file, in its own examples folder or another version's. */
function findExample(swaggerFile: string, ref: string): string | undefined {
  const own = path.resolve(path.dirname(swaggerFile), ref);
  if (fs.existsSync(own)) return own;
  const versions = path.dirname(path.dirname(swaggerFile));
  return fs
    .readdirSync(versions)
    .map((v) => path.join(versions, v, ref))
    .find((candidate) => fs.existsSync(candidate));
}

export const examples: ExampleCase[] = operations.flatMap((operation) =>
  Object.entries((operation.spec["x-ms-examples"] as Record<string, { $ref: string }> | undefined) ?? {}).flatMap(([title, { $ref }]) => {
    const file = findExample(operation.file, $ref);
    if (!file) return [];
    const example = JSON.parse(fs.readFileSync(file, "utf8")) as ExampleCase;
    return [{ title, example: path.relative(SPEC_ROOT, file), operation, parameters: example.parameters, responses: example.responses }];
  }),
);

/** Where a value of the body parameter (or of a response) sits in the specification. */
export function bodySchema(operation: SpecOperation): { name: string; at: Located } | undefined {
  const param = ((operation.spec.parameters as Schema[] | undefined) ?? [])
    .map((p) => (typeof p.$ref === "string" ? deref(operation.file, p.$ref)?.schema : p))
    .find((p): p is Schema => isSchema(p) && p.in === "body");
  return param && isSchema(param.schema) ? { name: String(param.name), at: { file: operation.file, schema: param.schema } } : undefined;
}

/** The operation whose path template matches a concrete path, with the values of its parameters. */
export function operationFor(method: string, concretePath: string): { operation: SpecOperation; params: Record<string, string> } | undefined {
  const parts = concretePath.split("/").filter((p) => p !== "");
  for (const operation of operations) {
    if (operation.method !== method) continue;
    const template = operation.path.split("/").filter((p) => p !== "");
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((t, i) => {
      if (t.startsWith("{")) return (params[t.slice(1, -1)] = parts[i]), true;
      return t.toLowerCase() === parts[i].toLowerCase();
    });
    if (ok) return { operation, params };
  }
  return undefined;
}

/** The path parameters of an operation, in the order they appear in its path: the SDK's argument order. */
export function pathParameters(operation: SpecOperation): string[] {
  return [...operation.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).filter((p) => p !== "subscriptionId");
}
