import type { z } from "zod";
import type { BaselineOptions, BaselineRecord, BaselineResult } from "../driver";
import { JitError, Policy, newAuditEvent, policyCloud } from "../model";
import { AccessContext, AccessOptions, withContext } from "./context";
import { endGrant } from "./restore";

/**
 * The policy use cases: lay (or bring up to date) a policy's deny baseline and register it, look at
 * it, take it away. The Pulumi resources, `sweep` (which repairs drifted baselines) and tests all
 * come through here, so that "apply, then record, then audit" is written once.
 */
export interface ApplyPolicyArgs {
  policy: Policy;
  /** What an earlier apply recorded (Pulumi state or the ledger); absent for a new policy. */
  previous?: BaselineRecord;
  /** Cloud-specific switches (see `BaselineOptions`). */
  options?: BaselineOptions;
  /**
   * `create`: refuse when a policy of that name is registered already (names are unique per ledger);
   * `update`: register whatever is there; `repair`: only if the record is still at `expectedVersion`.
   */
  mode: "create" | "update" | "repair";
  expectedVersion?: number;
  /** Who to name in the audit log. */
  actor?: string;
}

export function applyPolicy(args: ApplyPolicyArgs, options: AccessOptions = {}): Promise<BaselineResult> {
  return withContext(options, (ctx) => applyPolicyWith(ctx, args));
}

export async function applyPolicyWith(ctx: AccessContext, args: ApplyPolicyArgs): Promise<BaselineResult> {
  const { policy, mode } = args;
  if (mode === "create" && (await ctx.ledger.getPolicy(policy.name))) {
    throw new JitError("Conflict", `a policy named "${policy.name}" is already registered in the ledger; policy names are unique per ledger`, { field: "policyName" });
  }
  const driver = await ctx.driver(policyCloud(policy));
  const result = await driver.applyBaseline(policy, args.previous, args.options ?? {}, ctx.progress);
  const expectedVersion = mode === "create" ? 0 : mode === "repair" ? args.expectedVersion : undefined;
  await ctx.ledger.putPolicy({ policy, baseline: asJson(result.record) }, expectedVersion === undefined ? {} : { expectedVersion });
  // A repair is reported in the sweep's own audit line.
  if (mode !== "repair") {
    const exposed = result.vms.filter((v) => v.status === "exposed").length;
    await ctx.ledger.appendAudit(
      newAuditEvent({
        actor: args.actor ?? "pulumi",
        action: mode === "create" ? "policy.create" : "policy.update",
        target: { policy: policy.name },
        outcome: "success",
        message: `${result.rules.length} rule(s); ${result.vms.length - exposed} VM(s) protected or not applicable, ${exposed} exposed`,
      }),
    );
  }
  return result;
}

/**
 * Compares the cloud with a policy's recorded baseline (read only, apart from ending the policy's
 * grants that are already due, so that their allow rules are not reported as drift).
 */
export function inspectPolicy(policy: Policy, baseline: BaselineRecord, options: AccessOptions = {}): Promise<BaselineResult> {
  return withContext(options, async (ctx) => {
    const driver = await ctx.driver(policyCloud(policy));
    const due = (await ctx.ledger.dueForRestore(ctx.now())).filter((g) => g.policy === policy.name);
    if (due.length) {
      const { sweepWith } = await import("./sweep");
      await sweepWith(ctx, { scope: {}, repairBaselines: false });
    }
    const inspected = await driver.inspectBaseline(policy, baseline);
    return { ...inspected, record: baseline };
  });
}

/**
 * Takes a policy away: first its live grants are ended (reason PolicyChanged), then the baseline is
 * removed and the policy unregistered. Grants are ended rather than the removal refused, so that
 * removing a policy always leaves the network as it was before it, with nothing of ours behind.
 */
export function removePolicy(policy: Policy, baseline: BaselineRecord, options: AccessOptions & { actor?: string } = {}): Promise<void> {
  return withContext(options, async (ctx) => {
    const driver = await ctx.driver(policyCloud(policy));
    const actor = options.actor ?? "pulumi";
    for (const grant of await ctx.ledger.listGrants({ policy: policy.name, state: ["awaiting-approval", "pending", "applying", "active", "restoring"] })) {
      await endGrant(ctx, driver, grant, "PolicyChanged", { actor: "pulumi-jit policy delete" });
    }
    await driver.removeBaseline(policy, baseline, ctx.progress);
    await ctx.ledger.deletePolicy(policy.name);
    await ctx.ledger.appendAudit(newAuditEvent({ actor, action: "policy.delete", target: { policy: policy.name }, outcome: "success" }));
  });
}

/** Baseline records are JSON by the port's contract (`BaselineRecord`); the ledger stores JSON. */
function asJson(record: BaselineRecord): z.JSONType {
  return record as z.JSONType;
}
