import type { AccessOptions } from "../access/context";
import { withContext } from "../access/context";
import { applyPolicy, inspectPolicy, removePolicy } from "../access/policy";
import type { BaselineOptions, BaselineRecord, BaselineResult } from "../driver";
import { Cloud, JitError, Policy, parsePolicy } from "../model";
import { CheckFailure, POLICY_RESOURCE_INPUTS, PolicyResourceInputs, checkPolicyInputs, containsUnknown, policyOf, providerRegion } from "./inputs";

/**
 * The JitPolicy providers' behaviour. The provider objects Pulumi serialises into state are tiny
 * shims (`shim.ts`) that `require("pulumi-jit/pulumi-runtime")` and call these functions, so the
 * state holds no copy of this code, refresh and destroy run the installed version of pulumi-jit
 * rather than the one the stack was created with, and nothing here can capture a client.
 */
export interface PolicyResourceOutputs extends PolicyResourceInputs {
  cloud: Cloud;
  /** The deny rules placed (Azure) or ingress rules revoked (AWS). */
  rules: BaselineResult["rules"];
  /** Per VM: protected, exposed (and by which rule), or not applicable (and why). */
  vms: BaselineResult["vms"];
  /** Differences between the cloud and the baseline found by the last refresh; `pulumi up` repairs them. */
  drift: string[];
  warnings: string[];
  /** What the baseline changed, as the cloud adapter needs it to inspect and undo it. */
  baseline: BaselineRecord;
}

/** Drivers come from the environment; progress goes where the engine shows it. */
const ACCESS: AccessOptions = { progress: (m) => process.stderr.write(`pulumi-jit: ${m}\n`) };

/**
 * Runs `work` with the policy's ledger (its `ledger` input, else the environment's) and, on AWS,
 * the region the program's stack names (`aws:region`) when the environment names none. A ledger
 * opened here is closed however `work` ends.
 */
async function withAccess<T>(cloud: Cloud, inputs: Pick<PolicyResourceInputs, "region" | "ledger">, work: (access: AccessOptions) => Promise<T>): Promise<T> {
  const region = providerRegion(cloud, inputs);
  const access: AccessOptions = region ? { ...ACCESS, drivers: { aws: (require("../aws") as typeof import("../aws")).createAwsDriver({ region }) } } : ACCESS;
  if (inputs.ledger === undefined) return work(access);
  const ledger = await (require("../ledger") as typeof import("../ledger")).openLedger(inputs.ledger);
  try {
    return await work({ ...access, ledger });
  } finally {
    await ledger.close();
  }
}

const INPUT_KEYS = Object.keys(POLICY_RESOURCE_INPUTS) as (keyof PolicyResourceInputs)[];
/** Inputs that change in place; a new policy name is a new policy (replace). */
const MUTABLE = INPUT_KEYS.filter((k) => k !== "policyName");

export async function check(cloud: Cloud, news: PolicyResourceInputs): Promise<{ inputs: PolicyResourceInputs; failures: CheckFailure[] }> {
  return { inputs: news, failures: checkPolicyInputs(cloud, news).failures };
}

export async function diff(olds: PolicyResourceOutputs, news: PolicyResourceInputs) {
  if (containsUnknown(news)) return { changes: true, replaces: olds.policyName !== news.policyName && news.policyName !== undefined ? ["policyName"] : [] };
  const replaces = olds.policyName === news.policyName ? [] : ["policyName"];
  const changed = MUTABLE.filter((k) => stable(olds[k]) !== stable(news[k]));
  // Drift found by refresh makes `pulumi up` apply again, which puts the deny rules back.
  const drifted = (olds.drift ?? []).length > 0;
  return { changes: replaces.length > 0 || changed.length > 0 || drifted, replaces, deleteBeforeReplace: false };
}

export async function create(cloud: Cloud, inputs: PolicyResourceInputs) {
  const policy = validPolicy(cloud, inputs);
  const result = await withAccess(cloud, inputs, (access) => applyPolicy({ policy, mode: "create", options: baselineOptions(inputs) }, access));
  return { id: policy.name, outs: outputs(cloud, inputs, result) };
}

export async function read(cloud: Cloud, id: string, props: PolicyResourceOutputs) {
  const policy = validPolicy(cloud, props);
  const inspected = await withAccess(cloud, props, (access) => inspectPolicy(policy, props.baseline, access));
  return { id, props: outputs(cloud, props, inspected) };
}

export async function update(cloud: Cloud, olds: PolicyResourceOutputs, news: PolicyResourceInputs) {
  const policy = validPolicy(cloud, news);
  if (olds.ledger !== news.ledger) await requireMoved(cloud, policy.name, olds, news);
  const result = await withAccess(cloud, news, (access) => applyPolicy({ policy, previous: olds.baseline, mode: "update", options: baselineOptions(news) }, access));
  return { outs: outputs(cloud, news, result) };
}

/**
 * Deleting a policy ends its live grants first (see `removePolicy`), so that `pulumi destroy`
 * always leaves the network as it was before the policy.
 */
export async function remove(cloud: Cloud, props: PolicyResourceOutputs): Promise<void> {
  await withAccess(cloud, props, (access) => removePolicy(validPolicy(cloud, props), props.baseline, access));
}

/**
 * A policy moves to another ledger with its grants and audit log (`jit ledger migrate`), not by
 * registering it afresh: that would leave its live grants, and the record of what to close, behind.
 */
async function requireMoved(cloud: Cloud, name: string, olds: PolicyResourceOutputs, news: PolicyResourceInputs): Promise<void> {
  const found = await withAccess(cloud, news, (access) => withContext(access, (ctx) => ctx.ledger.getPolicy(name)));
  if (found) return;
  const { describeLedger } = require("../ledger") as typeof import("../ledger");
  const [from, to] = [describeLedger(olds.ledger), describeLedger(news.ledger)];
  throw new JitError(
    "InvalidInput",
    `policy "${name}" is registered in ${from}, not in ${to}: move the ledger first (jit ledger migrate --from <${from}> --to <${to}>), then run pulumi up again`,
    { field: "ledger" },
  );
}

function baselineOptions(inputs: PolicyResourceInputs): BaselineOptions {
  return { allowSharedSecurityGroups: inputs.allowSharedSecurityGroups === true };
}

function validPolicy(cloud: Cloud, inputs: PolicyResourceInputs): Policy {
  const checked = checkPolicyInputs(cloud, inputs);
  if (checked.failures.length) {
    const [first] = checked.failures;
    throw new JitError("InvalidInput", `${first.reason}${checked.failures.length > 1 ? ` (and ${checked.failures.length - 1} more problem(s))` : ""}`, { field: first.property });
  }
  return checked.policy ?? parsePolicy(policyOf(inputs));
}

function outputs(cloud: Cloud, inputs: PolicyResourceInputs, result: BaselineResult): PolicyResourceOutputs {
  const keep = Object.fromEntries(
    INPUT_KEYS.filter((k) => inputs[k] !== undefined)
      .map((k) => [k, inputs[k]]),
  ) as unknown as PolicyResourceInputs;
  return { ...keep, cloud, rules: result.rules, vms: result.vms, drift: result.drift, warnings: result.warnings, baseline: result.record };
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)) ?? "undefined";
}
export { endBrokerGrants } from "./broker-grants";
