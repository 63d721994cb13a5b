// The round trip every dynamic provider makes before the engine runs it: the program serialises the
// provider object into JavaScript text (`pulumi.dynamic.Resource` stores it as `__provider`), and the
// engine-side host rebuilds an object from that text in another process.
import * as pulumi from "@pulumi/pulumi";
import requireFromString = require("require-from-string");

export type DynamicProvider = pulumi.dynamic.ResourceProvider;

export interface SerializedProvider {
  /** The module text stored as `__provider` in the resource's inputs and outputs. */
  text: string;
  /** True when the closure captured a secret `Output`; the engine then stores the whole text as a secret. */
  containsSecrets: boolean;
}

/**
 * Serialises a provider exactly as `pulumi.dynamic.Resource` does (the same closure and options; the
 * SDK only adds a per-instance cache). Rejects with the serialiser's own explanation, which names the
 * chain of captured variables, when the provider captured something that cannot be serialised.
 */
export async function serializeProvider(provider: DynamicProvider): Promise<SerializedProvider> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text: sf.text, containsSecrets: sf.containsSecrets };
}

/**
 * Rebuilds the provider from its text exactly as the dynamic-provider host does
 * (`requireFromString(text).handler()`). The text's `require` calls resolve from `process.cwd()`, as
 * they do from the project root under the engine, so run tests from the repository root: a provider
 * whose SDK is not resolvable from there fails here as it would for a consumer.
 */
export function reloadProvider(text: string): DynamicProvider {
  return requireFromString(text).handler() as DynamicProvider;
}
