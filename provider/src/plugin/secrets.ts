// The SDK's wire module only: the plugin starts without loading all of @pulumi/pulumi.
import { isRpcSecret, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/**
 * The plugin tells the engine it accepts secrets, so values marked secret arrive wrapped
 * (`{<sig key>: <secret sig>, value}`) wherever they sit in a property map. pulumi-jit's code wants
 * plain values; the wrappers are taken off on the way in, and put back on the way out on every
 * output that holds or is derived from a secret input, so that a secret never lands in the state
 * in plain text.
 */
export type PropertyMap = Record<string, unknown>;

export function isSecret(value: unknown): boolean {
  return isRpcSecret(value);
}

export function secret(value: unknown): unknown {
  return isSecret(value) ? value : { [specialSigKey]: specialSecretSig, value };
}

export function isUnknown(value: unknown): boolean {
  return value === unknownValue;
}

/** Removes every secret wrapper; returns the plain map and the top-level keys that were, or held, a secret. */
export function unwrapSecrets(props: PropertyMap): { plain: PropertyMap; secretKeys: Set<string> } {
  const plain: PropertyMap = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(props)) {
    let held = false;
    plain[key] = unwrap(value, () => (held = true));
    if (held) secretKeys.add(key);
  }
  return { plain, secretKeys };
}

function unwrap(value: unknown, saw: () => void): unknown {
  if (isSecret(value)) {
    saw();
    return unwrap((value as { value: unknown }).value, saw);
  }
  if (Array.isArray(value)) return value.map((v) => unwrap(v, saw));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, saw)]));
  return value;
}

/**
 * Marks secret each output whose key is in `secretKeys`, and every key of `derived` when any of
 * `derivedFrom` is: a JitPolicy's rules, VM statuses and baseline record name the VMs and the
 * policy, so a secret VM id or policy name makes them secret too.
 */
export function rewrapSecrets(outputs: PropertyMap, secretKeys: ReadonlySet<string>, derivedFrom: readonly string[] = [], derived: readonly string[] = []): PropertyMap {
  const deriveSecret = derivedFrom.some((k) => secretKeys.has(k));
  return Object.fromEntries(
    Object.entries(outputs).map(([k, v]) => [k, v !== undefined && (secretKeys.has(k) || (deriveSecret && derived.includes(k))) ? secret(v) : v]),
  );
}
