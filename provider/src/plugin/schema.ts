import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isUnknown } from "./secrets";

/**
 * schema.json is the one description of the package's types. The plugin serves it as it is
 * (GetSchema), and checks inputs against it (Check, Invoke) with the validator below, which is
 * driven by the document alone: a property added to or renamed in the schema is checked at once,
 * and a program written against the schema (Pulumi YAML has no SDK to catch mistakes) gets each
 * mistake reported with its path.
 */
export interface PropertySpec {
  type?: "string" | "number" | "integer" | "boolean" | "array" | "object";
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  oneOf?: PropertySpec[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  const?: unknown;
  description?: string;
}
export interface ObjectSpec {
  type?: string;
  description?: string;
  properties?: Record<string, PropertySpec>;
  required?: string[];
  enum?: { name?: string; value: unknown; description?: string }[];
}
export interface ResourceSpec extends ObjectSpec {
  inputProperties?: Record<string, PropertySpec>;
  requiredInputs?: string[];
  isComponent?: boolean;
}
export interface FunctionSpec {
  description?: string;
  inputs?: ObjectSpec;
  outputs?: ObjectSpec;
}
export interface PackageSchema {
  name: string;
  version?: string;
  description?: string;
  keywords?: string[];
  license?: string;
  repository?: string;
  language?: { nodejs?: { packageName?: string } };
  config?: { variables?: Record<string, PropertySpec> };
  provider?: ResourceSpec;
  resources?: Record<string, ResourceSpec>;
  functions?: Record<string, FunctionSpec>;
  types?: Record<string, ObjectSpec>;
  [key: string]: unknown;
}

export interface InputFailure {
  property: string;
  reason: string;
}

/** The package root: the directory of pulumi-jit's package.json, from the sources or from dist/. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "pulumi-jit") return dir;
    if (path.dirname(dir) === dir) throw new Error(`pulumi-jit's package.json is not above ${from}`);
  }
}

let loaded: { text: string; doc: PackageSchema } | undefined;

/** schema.json as shipped in the package: the text served by GetSchema, and the parsed document. */
export function packageSchema(): { text: string; doc: PackageSchema } {
  if (!loaded) {
    const text = readFileSync(path.join(packageRoot(), "schema.json"), "utf8");
    loaded = { text, doc: JSON.parse(text) as PackageSchema };
  }
  return loaded;
}

/** Checks a resource's inputs against its `inputProperties` and `requiredInputs`. */
export function checkResourceInputs(doc: PackageSchema, token: string, inputs: Record<string, unknown>): InputFailure[] {
  const spec = doc.resources?.[token];
  if (!spec) return [{ property: "", reason: `${token} is not a resource of package ${doc.name}` }];
  return checkObject(doc, { properties: spec.inputProperties, required: spec.requiredInputs }, inputs, "", token);
}

/** Checks a function's arguments against its `inputs`. */
export function checkFunctionInputs(doc: PackageSchema, token: string, args: Record<string, unknown>): InputFailure[] {
  const spec = doc.functions?.[token];
  if (!spec) return [{ property: "", reason: `${token} is not a function of package ${doc.name}` }];
  return checkObject(doc, spec.inputs ?? {}, args, "", token);
}

function checkObject(doc: PackageSchema, spec: ObjectSpec, value: unknown, at: string, what: string): InputFailure[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [{ property: at, reason: `must be an object (${what})` }];
  const failures: InputFailure[] = [];
  const object = value as Record<string, unknown>;
  const properties = spec.properties ?? {};
  for (const name of spec.required ?? []) {
    if (object[name] === undefined || object[name] === null) failures.push({ property: join(at, name), reason: `is required by ${what}` });
  }
  for (const [name, child] of Object.entries(object)) {
    const property = properties[name];
    if (!property) {
      failures.push({ property: join(at, name), reason: `is not a property of ${what}; it has ${Object.keys(properties).join(", ")}` });
    } else if (child !== undefined && child !== null) {
      failures.push(...checkValue(doc, property, child, join(at, name)));
    }
  }
  return failures;
}

function checkValue(doc: PackageSchema, spec: PropertySpec, value: unknown, at: string): InputFailure[] {
  if (isUnknown(value)) return [];
  if (spec.oneOf) {
    const tries = spec.oneOf.map((option) => checkValue(doc, option, value, at));
    return tries.some((t) => t.length === 0) ? [] : [{ property: at, reason: `matches none of its forms: ${tries.map((t) => t[0]?.reason).join("; or ")}` }];
  }
  if (spec.$ref) return checkRef(doc, spec.$ref, value, at);
  if (spec.const !== undefined && value !== spec.const) return [{ property: at, reason: `must be ${JSON.stringify(spec.const)}` }];
  switch (spec.type) {
    case "string":
      return typeof value === "string" ? [] : [{ property: at, reason: `must be a string, not ${describe(value)}` }];
    case "boolean":
      return typeof value === "boolean" ? [] : [{ property: at, reason: `must be true or false, not ${describe(value)}` }];
    case "number":
      return typeof value === "number" ? [] : [{ property: at, reason: `must be a number, not ${describe(value)}` }];
    case "integer":
      return Number.isInteger(value) ? [] : [{ property: at, reason: `must be a whole number, not ${describe(value)}` }];
    case "array":
      if (!Array.isArray(value)) return [{ property: at, reason: `must be a list, not ${describe(value)}` }];
      return spec.items ? value.flatMap((item, i) => checkValue(doc, spec.items!, item, `${at}[${i}]`)) : [];
    case "object":
      if (value === null || typeof value !== "object" || Array.isArray(value)) return [{ property: at, reason: `must be an object, not ${describe(value)}` }];
      return spec.additionalProperties ? Object.entries(value).flatMap(([k, v]) => checkValue(doc, spec.additionalProperties!, v, join(at, k))) : [];
    default:
      return [];
  }
}

function checkRef(doc: PackageSchema, ref: string, value: unknown, at: string): InputFailure[] {
  if (!ref.startsWith("#/types/")) return []; // pulumi.json#/Any and other built-ins take anything
  const token = decodeURIComponent(ref.slice("#/types/".length));
  const type = doc.types?.[token];
  if (!type) return [{ property: at, reason: `refers to ${token}, which the schema lacks` }];
  if (type.enum) {
    const allowed = type.enum.map((e) => e.value);
    return allowed.includes(value) ? [] : [{ property: at, reason: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}, not ${describe(value)}` }];
  }
  return checkObject(doc, type, value, at, token);
}

function join(at: string, name: string): string {
  return at ? `${at}.${name}` : name;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}
