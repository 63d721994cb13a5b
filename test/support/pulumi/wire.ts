// Values as the Pulumi engine moves them between a program, itself and a dynamic provider: property maps
// travel as protobuf `Struct`s, unknown values (during preview) as a sentinel string, and secrets as
// signature-tagged wrapper objects that the engine strips before a provider that does not accept secrets
// sees them.
import { createRequire } from "node:module";
import * as pulumi from "@pulumi/pulumi";

/** What the provider's code receives in place of a value that is not known yet (during preview). */
export const UNKNOWN: string = pulumi.runtime.unknownValue;

/** The key under which a dynamic resource carries its serialised provider, in inputs and in outputs. */
export const PROVIDER_KEY = "__provider";

export type PropertyMap = Record<string, unknown>;

export interface SecretWrapper {
  [key: string]: unknown;
  value: unknown;
}

// The dynamic-provider host and the generated message classes load their own copy of google-protobuf
// (nested under @pulumi/pulumi, a different major version from the one at the top of node_modules).
// Messages must be built with that copy (a Struct from the other one breaks `serializeBinary`), and
// converting with it gives exactly the host's conversion rules.
export const sdkRequire = createRequire(require.resolve("@pulumi/pulumi/proto/provider_pb"));
export const { Struct } = sdkRequire(
  "google-protobuf/google/protobuf/struct_pb",
) as typeof import("google-protobuf/google/protobuf/struct_pb");

export function isSecretWrapper(value: unknown): value is SecretWrapper {
  return pulumi.runtime.isRpcSecret(value);
}

export function wrapSecret(value: unknown): SecretWrapper {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/**
 * Removes every secret wrapper, as the engine does before calling a provider that replied
 * `acceptSecrets: false` (the dynamic-provider host always does). Returns the plain map and the
 * top-level keys that were (or contained) secrets, which is all the engine remembers of them.
 */
export function stripSecrets(props: PropertyMap): { plain: PropertyMap; secretKeys: Set<string> } {
  const plain: PropertyMap = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(props)) {
    let wasSecret = false;
    plain[key] = unwrapDeep(value, () => (wasSecret = true));
    if (wasSecret) secretKeys.add(key);
  }
  return { plain, secretKeys };
}

function unwrapDeep(value: unknown, sawSecret: () => void): unknown {
  if (isSecretWrapper(value)) {
    sawSecret();
    return unwrapDeep(value.value, sawSecret);
  }
  if (Array.isArray(value)) return value.map((v) => unwrapDeep(v, sawSecret));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapDeep(v, sawSecret)]));
  }
  return value;
}

/**
 * Re-marks outputs as secret the way the engine does for a provider that cannot return secrets
 * (`annotateSecrets` in the engine's provider plugin): only where the output's top-level key was a
 * secret input. A secret derived into an output under another name stays plaintext.
 */
export function annotateSecrets(outputs: PropertyMap, secretInputKeys: ReadonlySet<string>): PropertyMap {
  const annotated: PropertyMap = {};
  for (const [key, value] of Object.entries(outputs)) {
    annotated[key] = secretInputKeys.has(key) && !isSecretWrapper(value) ? wrapSecret(value) : value;
  }
  return annotated;
}

/** Converts a property map to the `Struct` the engine would send, naming the path of any value it cannot carry. */
export function toStruct(props: PropertyMap, label: string): InstanceType<typeof Struct> {
  const bad = findNonWireValue(props, label);
  if (bad) {
    throw new Error(
      `${bad.path} is ${bad.kind}: the engine moves properties as protobuf Structs, which carry only ` +
        `strings, numbers, booleans, null, arrays and objects`,
    );
  }
  return Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]);
}

/**
 * Sends a property map through the protobuf round trip a value makes between the engine and the host
 * (`Struct.fromJavaScript` then `toJavaScript`), so a provider tested in-process sees what it would see
 * over the wire: no `undefined`, no functions, a `Date` or a class instance reduced to its own fields.
 */
export function throughWire(props: PropertyMap, label: string): PropertyMap {
  return toStruct(props, label).toJavaScript() as PropertyMap;
}

function findNonWireValue(value: unknown, path: string): { path: string; kind: string } | undefined {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return undefined;
  if (typeof value !== "object") return { path, kind: value === undefined ? "undefined" : `a ${typeof value}` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findNonWireValue(value[i], `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const bad = findNonWireValue(child, `${path}.${key}`);
    if (bad) return bad;
  }
  return undefined;
}
