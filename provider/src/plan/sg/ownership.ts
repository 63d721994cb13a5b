import { GrantRuleInfo, parseGrantTags } from "./grant";
import type { Tag } from "./types";

/**
 * Tags are not ownership: anyone allowed to tag a security group or rule can write ours. What is
 * ours comes from the ledger's records (the baseline's JIT groups by id, each grant's rules by
 * id); tags only help find strays, and a rule's grant tags are believed only as far as pulumi-jit
 * could have written them. No grant lasts longer than a policy allows (one day), so a stamp
 * further ahead than that (with an hour for clocks that differ) was not written by a grant.
 */

export const STAMP_SKEW_MS = 60 * 60_000;
/** The longest grant a policy allows (the model's `MAX_ACCESS_MS`; a test keeps the two equal). */
export const LONGEST_GRANT_MS = 24 * 60 * 60_000;

export type GrantRuleVerdict =
  /** Tagged as a grant's and not over: a grant's, as far as tags can say. */
  | { kind: "grant"; info: GrantRuleInfo }
  /** A grant's whose stamped expiry has passed. */
  | { kind: "expired"; info: GrantRuleInfo }
  /** No grant made it: no complete grant tags, or a stamp no grant could have. */
  | { kind: "foreign"; why: string };

export function judgeGrantRule(tags: readonly Tag[] | undefined, now: Date): GrantRuleVerdict {
  const info = parseGrantTags(tags);
  if (!info) return { kind: "foreign", why: "it carries no grant's tags" };
  if (info.expiresAt.getTime() <= now.getTime()) return { kind: "expired", info };
  if (info.expiresAt.getTime() > now.getTime() + LONGEST_GRANT_MS + STAMP_SKEW_MS) {
    return { kind: "foreign", why: `its stamped expiry ${info.expiresAt.toISOString()} is further ahead than any grant may last` };
  }
  return { kind: "grant", info };
}
