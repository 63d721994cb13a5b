import type * as pulumi from "@pulumi/pulumi";
import { withContext } from "../access/context";
import type { Cloud } from "../model";
import { JitError, errorMessage, isJitError } from "../model/errors";
import type { PolicyResourceInputs } from "../pulumi/inputs";
import type { PolicyResourceOutputs } from "../pulumi/runtime";
import { DiffKind, detailedDiff } from "./diff";
import { type PackageSchema, checkResourceInputs, packageRoot, packageSchema } from "./schema";
import { type PropertyMap, rewrapSecrets, unwrapSecrets } from "./secrets";

/**
 * The plugin's resources and functions: `pulumi-jit:<cloud>:JitPolicy` as custom resources whose
 * lifecycle is the TypeScript resources' own (`pulumi/runtime.ts`), the role components, and the
 * read-only functions. This layer only translates: the engine's property maps (secret wrappers,
 * unknowns, URNs) in, the runtime's results out.
 *
 * The runtime, the model, the components and the functions load on first use, not at start: the
 * engine waits for a plugin's port and its schema before anything else, and `pulumi package add`
 * asks for nothing more.
 */
const runtime = () => import("../pulumi/runtime");
const inputKeys = async () => Object.keys((await import("../pulumi/inputs")).POLICY_RESOURCE_INPUTS);

export const POLICY_TYPES: Record<string, Cloud> = { "pulumi-jit:azure:JitPolicy": "azure", "pulumi-jit:aws:JitPolicy": "aws" };

/** Outputs computed from the policy's VMs and name: secret when those are. */
const DERIVED = ["cloud", "rules", "vms", "drift", "warnings", "baseline"];
const DERIVED_FROM = ["policyName", "virtualMachines"];

/** `urn:pulumi:<stack>::<project>::<parent types$>type::<name>` */
function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4) throw new Error(`malformed URN ${urn}`);
  return { type: parts[2].split("$").pop()!, name: parts.slice(3).join("::") };
}

function cloudOf(urn: string): Cloud {
  const { type } = parseUrn(urn);
  const cloud = POLICY_TYPES[type];
  if (!cloud) throw new Error(`unknown resource type ${type}; this plugin manages ${Object.keys(POLICY_TYPES).join(", ")}`);
  return cloud;
}

async function inputsOf(props: PropertyMap): Promise<PropertyMap> {
  return Object.fromEntries((await inputKeys()).filter((k) => props[k] !== undefined).map((k) => [k, props[k]]));
}

/** The runtime's outputs, with secrets put back where the inputs had them. */
function outs(result: PolicyResourceOutputs | PropertyMap, secretKeys: ReadonlySet<string>): PropertyMap {
  return rewrapSecrets(JSON.parse(JSON.stringify(result)) as PropertyMap, secretKeys, DERIVED_FROM, DERIVED);
}

const asInputs = (props: PropertyMap) => props as unknown as PolicyResourceInputs;
const asState = (props: PropertyMap) => props as unknown as PolicyResourceOutputs;

/**
 * "Created, but failed to initialise": the SDK's server turns an error carrying `id` and
 * `properties` into the engine's `ErrorResourceInitFailed`, and the engine then records the
 * resource as existing (so that the next `pulumi up` updates it, or `destroy` removes it).
 */
class InitFailedError extends Error {
  constructor(
    message: string,
    readonly id: string,
    readonly properties: PropertyMap,
    readonly reasons: string[],
  ) {
    super(message);
  }
}

export function jitProvider(doc: PackageSchema = packageSchema().doc, schemaText: string = packageSchema().text): pulumi.provider.Provider {
  const version = (require(`${packageRoot()}/package.json`) as { version: string }).version;
  return {
    version,
    schema: schemaText,

    async check(urn, _olds, news) {
      const cloud = cloudOf(urn);
      const { type, name } = parseUrn(urn);
      // As the TypeScript class does: the policy is named after the resource unless told otherwise.
      const given: PropertyMap = { ...news, policyName: news.policyName ?? name };
      const { plain } = unwrapSecrets(given);
      const failures = checkResourceInputs(doc, type, plain);
      if (failures.length) return { inputs: given, failures };
      const checked = await (await runtime()).check(cloud, asInputs(plain));
      return { inputs: given, failures: checked.failures };
    },

    async create(urn, inputs) {
      const cloud = cloudOf(urn);
      const { plain, secretKeys } = unwrapSecrets(inputs);
      try {
        const created = await (await runtime()).create(cloud, asInputs(plain));
        return { id: created.id, outs: outs(created.outs, secretKeys) };
      } catch (err) {
        throw await partialState(cloud, plain, secretKeys, err);
      }
    },

    async read(id, urn, props) {
      const cloud = cloudOf(urn);
      const { plain, secretKeys } = unwrapSecrets(props ?? {});
      // `pulumi import` sends the id alone: the ledger has the policy and what its baseline changed.
      const state = plain.virtualMachines === undefined ? await stateFromLedger(cloud, id) : plain;
      if (!state) return { id: "", props: {} };
      const read = await (await runtime()).read(cloud, id, asState(state));
      const current = outs(read.props, secretKeys);
      return { id: read.id, props: current, inputs: await inputsOf(current) };
    },

    async update(_id, urn, olds, news) {
      const cloud = cloudOf(urn);
      const { plain, secretKeys } = unwrapSecrets(news);
      const updated = await (await runtime()).update(cloud, asState(unwrapSecrets(olds).plain), asInputs(plain));
      return { outs: outs(updated.outs, secretKeys) };
    },

    async delete(_id, urn, props) {
      await (await runtime()).remove(cloudOf(urn), asState(unwrapSecrets(props).plain));
    },

    async construct(name, type, inputs, opts) {
      return (await import("./components")).constructComponent(doc, name, type, inputs, opts as pulumi.ComponentResourceOptions);
    },

    async invoke(token, args) {
      const { plain, secretKeys } = unwrapSecrets(args);
      const result = await (await import("./invokes")).invoke(doc, token, plain);
      // What a function returns about a secret argument (a policy's name, say) is secret too.
      if (!result.outputs || secretKeys.size === 0) return result;
      return { ...result, outputs: rewrapSecrets(result.outputs, new Set(Object.keys(result.outputs))) };
    },
  };
}

export interface PolicyDiff {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace: boolean;
  /** Top-level keys that differ. */
  diffs: string[];
  detailed: Map<string, DiffKind>;
}

/**
 * Diff for a JitPolicy: whether there are changes and what forces a replacement are the runtime's
 * decision (shared with the TypeScript resources); the per-property detail is computed here for
 * the engine's display. Drift found by a refresh shows as a change to `drift`, which the update
 * repairs.
 */
export async function diffPolicy(urn: string, olds: PropertyMap, news: PropertyMap): Promise<PolicyDiff> {
  cloudOf(urn);
  const old = unwrapSecrets(olds).plain;
  const next = unwrapSecrets(news).plain;
  const decided = await (await runtime()).diff(asState(old), asInputs(next));
  const detailed = detailedDiff(old, next, await inputKeys(), decided.replaces);
  if (decided.changes && detailed.size === 0 && Array.isArray(old.drift) && old.drift.length > 0) detailed.set("drift", DiffKind.Update);
  const diffs = [...new Set([...detailed.keys()].map((p) => p.split(/[.[]/)[0]))];
  return { changes: decided.changes, replaces: decided.replaces, deleteBeforeReplace: decided.deleteBeforeReplace ?? false, diffs, detailed };
}

/** The state of a policy the ledger holds, as a JitPolicy's outputs would carry it (for import). */
async function stateFromLedger(cloud: Cloud, id: string): Promise<PropertyMap | undefined> {
  const record = await withContext({}, (ctx) => ctx.ledger.getPolicy(id));
  if (!record) return undefined;
  const found = (await import("../model")).policyCloud(record.policy);
  if (found !== cloud) throw new JitError("InvalidInput", `policy "${id}" is on ${found}; import it as pulumi-jit:${found}:JitPolicy`, { field: "id" });
  const { name, virtualMachines, ...optional } = record.policy;
  return { policyName: name, virtualMachines, ...optional, baseline: record.baseline };
}

/**
 * A Create that failed after the baseline was laid and recorded (the audit write failed, say)
 * leaves a policy that exists: report it with its id and state, so that the engine records it
 * rather than forgetting it and leaving deny rules nobody manages. A Create refused before anything
 * changed (bad input, a name already taken, a cloud call that failed and was undone) is a plain
 * failure.
 */
async function partialState(cloud: Cloud, inputs: PropertyMap, secretKeys: ReadonlySet<string>, err: unknown): Promise<unknown> {
  if (isJitError(err, "Conflict") || isJitError(err, "InvalidInput")) return err;
  const name = String(inputs.policyName);
  const state = await stateFromLedger(cloud, name).catch(() => undefined);
  if (!state) return err;
  const message = errorMessage(err);
  let props: PropertyMap = { ...inputs, ...state, cloud, rules: [], vms: [], drift: [], warnings: [] };
  try {
    props = (await (await runtime()).read(cloud, name, asState(props))).props as unknown as PropertyMap;
  } catch {
    // The cloud cannot be read either: the recorded baseline is still enough to update or delete it.
  }
  return new InitFailedError(message, name, outs(props, secretKeys), [`the baseline of policy "${name}" is in place, but creating it did not finish: ${message}`]);
}
