import { JitError } from "../model/errors";
import type { Nsg, NsgRule, RuleRef } from "./nsg-types";

/**
 * Priority allocation for the rules pulumi-jit adds to an NSG (docs/priorities.md explains why).
 *
 * - User rules keep their numbers: nothing here renumbers, and a number in use by any inbound rule
 *   (including one of ours that the same plan deletes, since adapters put before they delete) is
 *   never handed out again.
 * - A deny rule takes the lowest free number that is at least DENY_FLOOR (1000) and greater than
 *   every rule already there for its VM and ports, so those keep precedence; with none, 1000. That
 *   leaves 100–999 for allow rules ahead of it.
 * - An allow rule takes the lowest free number, from 100 up, below the first rule that would
 *   otherwise block its flow.
 * - The result depends only on the NSG as read, so two planners racing on one NSG pick the same
 *   number; the write that loses fails on the ETag (or with `SecurityRuleConflict`), and the adapter
 *   re-reads and plans again.
 * - When no number fits, or the NSG already holds 1,000 rules, planning fails with
 *   `CapacityExceeded`, naming the NSG and the rule in the way.
 */
export const MIN_PRIORITY = 100;
export const MAX_PRIORITY = 4096;
export const MAX_RULES_PER_NSG = 1000;
export const DENY_FLOOR = 1000;

export class PrioritySlots {
  private readonly taken = new Set<number>();
  private rules: number;

  constructor(private readonly nsg: Nsg) {
    for (const r of nsg.securityRules) if (r.direction === "Inbound") this.taken.add(r.priority);
    this.rules = nsg.securityRules.length;
  }

  /** Counts one more rule in the NSG, or fails if Azure would refuse it. */
  addRule(): void {
    if (this.rules >= MAX_RULES_PER_NSG) {
      throw new JitError(
        "CapacityExceeded",
        `NSG ${this.nsg.id} already has ${this.rules} rules, the most Azure allows (${MAX_RULES_PER_NSG}); remove unused rules and try again`,
      );
    }
    this.rules++;
  }

  /**
   * The number for a rule written under the name of `existing` (if there is one): its current
   * number while `fits` accepts it, else a new one from `choose`, the old one being given back.
   */
  forRule(existing: NsgRule | undefined, fits: (priority: number) => boolean, choose: () => number): number {
    if (existing?.direction === "Inbound" && fits(existing.priority)) return existing.priority;
    if (existing?.direction === "Inbound") this.taken.delete(existing.priority);
    if (!existing) this.addRule();
    return choose();
  }

  private lowestFree(from: number, to: number): number | undefined {
    for (let p = Math.max(from, MIN_PRIORITY); p <= Math.min(to, MAX_PRIORITY); p++) {
      if (!this.taken.has(p)) {
        this.taken.add(p);
        return p;
      }
    }
    return undefined;
  }

  /** A number for a deny rule that must come after `after` (the last rule already there for its ports). */
  forDeny(after: RuleRef | undefined): number {
    const p = this.lowestFree(Math.max(DENY_FLOOR, (after?.priority ?? 0) + 1), MAX_PRIORITY);
    if (p !== undefined) return p;
    const behind = after && after.priority >= DENY_FLOOR ? ` after rule ${after.name} (${after.priority}), which must keep precedence,` : "";
    throw new JitError(
      "CapacityExceeded",
      `NSG ${this.nsg.id} has no free priority${behind} between ${DENY_FLOOR} and ${MAX_PRIORITY} for a JIT deny rule`,
    );
  }

  /** A number for an allow rule that must come before `before` (the rule that would block its flow). */
  forAllow(before: RuleRef): number {
    const p = this.lowestFree(MIN_PRIORITY, before.priority - 1);
    if (p !== undefined) return p;
    throw new JitError(
      "CapacityExceeded",
      `NSG ${this.nsg.id} has no free priority ahead of rule ${before.name} (${before.priority}) for the grant's allow rule`,
    );
  }
}
