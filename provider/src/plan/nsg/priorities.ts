import { JitError } from "../../model/errors";
import type { Nsg, NsgRule, RuleRef } from "./types";

/**
 * Priority allocation for the rules pulumi-jit adds to an NSG (docs/priorities.md explains why).
 *
 * - User rules keep their numbers: nothing here renumbers, and a number in use by any inbound rule
 *   is never handed out again, unless the same plan deletes that rule (the NSG is written whole,
 *   so its replacement may take the number).
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

  /**
   * `leaving`: rules the same plan deletes. The adapter writes the NSG whole, so their numbers are
   * free for the rules that replace them, and they no longer count against Azure's limit.
   */
  constructor(
    private readonly nsg: Nsg,
    leaving: readonly string[] = [],
  ) {
    const gone = new Set(leaving);
    const staying = nsg.securityRules.filter((r) => !gone.has(r.name));
    for (const r of staying) if (r.direction === "Inbound") this.taken.add(r.priority);
    this.rules = staying.length;
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

  /**
   * A number for a deny rule that must come after `after` (the last allow rule already there for
   * its ports) and, when given, before `before` (an allow rule placed behind the deny rule it
   * replaces, which must stay behind).
   */
  forDeny(after: RuleRef | undefined, before?: RuleRef): number {
    const from = Math.max(DENY_FLOOR, (after?.priority ?? 0) + 1);
    const to = before ? before.priority - 1 : MAX_PRIORITY;
    const p = this.lowestFree(from, to);
    if (p !== undefined) return p;
    const behind = after && after.priority >= DENY_FLOOR ? ` after rule ${after.name} (${after.priority}), which must keep precedence,` : "";
    const ahead = before ? ` ahead of rule ${before.name} (${before.priority}), which must stay behind it,` : "";
    throw new JitError(
      "CapacityExceeded",
      `NSG ${this.nsg.id} has no free priority${behind}${ahead} between ${from} and ${to} for a JIT deny rule`,
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
