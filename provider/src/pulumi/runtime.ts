import { openContext, AccessContext } from "../access/context";
import type { BaselineRecord, BaselineResult } from "../driver";
import { LedgerJournal } from "../access/journal";
import { restoreWith } from "../access/restore";
import { Cloud, JitError, Policy, newAuditEvent, parsePolicy, transition } from "../model";
import { CheckFailure, POLICY_RESOURCE_INPUTS, PolicyResourceInputs, checkPolicyInputs, containsUnknown, inputsError, policyOf, providerRegion } from "./inputs";

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
  return withCtx(cloud, inputs, async (ctx) => {
    if (await ctx.ledger.getPolicy(policy.name)) {
      throw new JitError("Conflict", `a policy named "${policy.name}" is already registered in the ledger; policy names are unique per ledger`, { field: "policyName" });
    }
    const driver = await ctx.driver(cloud);
    const result = await driver.applyBaseline(policy, undefined, { allowSharedSecurityGroups: inputs.allowSharedSecurityGroups === true }, ctx.progress);
    await ctx.ledger.putPolicy({ policy, baseline: result.record as never }, { expectedVersion: 0 });
    await audit(ctx, "policy.create", policy, result);
    return { id: policy.name, outs: outputs(cloud, inputs, result) };
  });
}

export async function read(cloud: Cloud, id: string, props: PolicyResourceOutputs) {
  const policy = validPolicy(cloud, props);
  return withCtx(cloud, props, async (ctx) => {
    const driver = await ctx.driver(cloud);
    await endDueGrants(ctx, policy.name);
    const inspected = await driver.inspectBaseline(policy, props.baseline);
    return { id, props: outputs(cloud, props, { ...inspected, record: props.baseline }) };
  });
}

export async function update(cloud: Cloud, olds: PolicyResourceOutputs, news: PolicyResourceInputs) {
  const policy = validPolicy(cloud, news);
  return withCtx(cloud, news, async (ctx) => {
    const driver = await ctx.driver(cloud);
    const result = await driver.applyBaseline(policy, olds.baseline, { allowSharedSecurityGroups: news.allowSharedSecurityGroups === true }, ctx.progress);
    await ctx.ledger.putPolicy({ policy, baseline: result.record as never });
    await audit(ctx, "policy.update", policy, result);
    return { outs: outputs(cloud, news, result) };
  });
}

/**
 * Deleting a policy first revokes its live grants (reason PolicyChanged), then takes the baseline
 * away. We revoke rather than refuse so that `pulumi destroy` always leaves the network as it was
 * before the policy, with nothing of ours left behind.
 */
export async function remove(cloud: Cloud, props: PolicyResourceOutputs): Promise<void> {
  const policy = validPolicy(cloud, props);
  await withCtx(cloud, props, async (ctx) => {
    const driver = await ctx.driver(cloud);
    for (const grant of await ctx.ledger.listGrants({ policy: policy.name, state: ["pending", "applying", "active", "restoring"] })) {
      const journal = new LedgerJournal(ctx.ledger, grant);
      if (grant.state !== "restoring") await journal.edit((g) => transition(g, "restoring", "PolicyChanged"));
      await restoreWith(ctx, driver, journal, "revoked", "pulumi-jit policy delete");
    }
    await driver.removeBaseline(policy, props.baseline, ctx.progress);
    await ctx.ledger.deletePolicy(policy.name);
    await ctx.ledger.appendAudit(newAuditEvent({ actor: "pulumi", action: "policy.delete", target: { policy: policy.name }, outcome: "success" }));
  });
}

async function endDueGrants(ctx: AccessContext, policyName: string): Promise<void> {
  const { sweepWith } = await import("../access/sweep");
  const due = (await ctx.ledger.dueForRestore(ctx.now())).filter((g) => g.policy === policyName);
  if (due.length) await sweepWith(ctx, { scope: {}, repairBaselines: false });
}

function validPolicy(cloud: Cloud, inputs: PolicyResourceInputs): Policy {
  const checked = checkPolicyInputs(cloud, inputs);
  if (checked.failures.length) throw inputsError(checked.failures);
  return checked.policy ?? parsePolicy(policyOf(inputs));
}

function outputs(cloud: Cloud, inputs: PolicyResourceInputs, result: BaselineResult): PolicyResourceOutputs {
  const keep = Object.fromEntries(
    INPUT_KEYS.filter((k) => inputs[k] !== undefined)
      .map((k) => [k, inputs[k]]),
  ) as unknown as PolicyResourceInputs;
  return { ...keep, cloud, rules: result.rules, vms: result.vms, drift: result.drift, warnings: result.warnings, baseline: result.record };
}

async function audit(ctx: AccessContext, action: "policy.create" | "policy.update", policy: Policy, result: BaselineResult): Promise<void> {
  const exposed = result.vms.filter((v) => v.status === "exposed").length;
  await ctx.ledger.appendAudit(
    newAuditEvent({
      actor: "pulumi",
      action,
      target: { policy: policy.name },
      outcome: "success",
      message: `${result.rules.length} rule(s); ${result.vms.length - exposed} VM(s) protected or not applicable, ${exposed} exposed`,
    }),
  );
}

async function withCtx<T>(cloud: Cloud, inputs: PolicyResourceInputs, work: (ctx: AccessContext) => Promise<T>): Promise<T> {
  const region = providerRegion(cloud, inputs);
  const drivers = region ? { aws: (require("../aws") as typeof import("../aws")).createAwsDriver({ region }) } : undefined;
  const ctx = await openContext({ progress: (m) => process.stderr.write(`pulumi-jit: ${m}\n`), ...(drivers ? { drivers } : {}) });
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}

function stable(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)) ?? "undefined";
}
