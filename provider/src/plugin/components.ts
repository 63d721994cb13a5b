import type * as pulumi from "@pulumi/pulumi";
import { JitBroker as AwsJitBroker } from "../pulumi/aws-broker";
import { JitBroker as AzureJitBroker } from "../pulumi/azure-broker";
import { JitRolePolicy } from "../roles/aws-component";
import { JitRole } from "../roles/azure-component";
import type { PackageSchema } from "./schema";

/**
 * The component resources the plugin constructs for programs in other languages: the same classes
 * TypeScript programs use, made inside the plugin, whose children register with the engine's
 * resource monitor. What the component hands back is the set of outputs its schema entry lists.
 */
const COMPONENTS: Record<string, (name: string, inputs: pulumi.Inputs, opts: pulumi.ComponentResourceOptions) => pulumi.ComponentResource> = {
  "pulumi-jit:azure:JitRole": (name, inputs, opts) => new JitRole(name, inputs as never, opts),
  "pulumi-jit:aws:JitRolePolicy": (name, inputs, opts) => new JitRolePolicy(name, inputs as never, opts),
  "pulumi-jit:aws:JitBroker": (name, inputs, opts) => new AwsJitBroker(name, inputs as never, opts),
  "pulumi-jit:azure:JitBroker": (name, inputs, opts) => new AzureJitBroker(name, inputs as never, opts),
};

export const COMPONENT_TYPES = Object.keys(COMPONENTS);

export function constructComponent(doc: PackageSchema, name: string, type: string, inputs: pulumi.Inputs, opts: pulumi.ComponentResourceOptions): pulumi.provider.ConstructResult {
  const make = COMPONENTS[type];
  if (!make) throw new Error(`unknown component type ${type}; this plugin constructs ${COMPONENT_TYPES.join(", ")}`);
  const component = make(name, inputs, opts) as pulumi.ComponentResource & Record<string, unknown>;
  const state = Object.fromEntries(Object.keys(doc.resources?.[type]?.properties ?? {}).map((k) => [k, component[k]]));
  return { urn: component.urn, state };
}
