import type { SgGroupChange } from "./baseline";
import { entriesOfPermission, entryKey, permissionOfEntry, sourceKey, type SgEntry } from "./permissions";
import type { IpPermission, Tag } from "./types";

/**
 * Rule identity and rule tags for adapters. EC2 knows a rule by protocol, ports and source (not by
 * its description), and tags each rule on its own; a baseline that splits or puts back rules must
 * carry those tags over, or a user's cost-centre or owner tags would vanish from their rules.
 */

/** One key per source of `permission`, equal for permissions EC2 treats as the same rule. */
export function sgRuleKeys(permission: IpPermission): string[] {
  return entriesOfPermission(permission).map(entryKey);
}

/** A rule as it was read (one source), with its tags. */
export interface TaggedPermission {
  permission: IpPermission;
  tags: readonly Tag[];
}

/** The rule a narrower one was cut from: same source and description, and its protocol and ports cover it. */
function cutFrom(piece: SgEntry, whole: SgEntry): boolean {
  if (sourceKey(piece.source) !== sourceKey(whole.source) || piece.description !== whole.description) return false;
  if (whole.protocol === "-1") return true;
  return whole.protocol === piece.protocol && whole.fromPort <= piece.fromPort && piece.toPort <= whole.toPort;
}

/** EC2's limit of tags per resource, security group rules included. */
const MAX_TAGS = 50;

function tagSetKey(tags: readonly Tag[]): string {
  return JSON.stringify([...tags].map((t) => [t.Key ?? "", t.Value ?? ""]).sort());
}

/**
 * Regroups a baseline change's authorize batches so that every rule gets its own tags: a rule put
 * back gets the tags it had (`known` holds the rules as read and as recorded when revoked), a rule
 * cut from a wider one gets the wider rule's tags; both also get the batch's tags, which win on the
 * same key. TagSpecifications apply to a whole call, so there is one batch per distinct tag set.
 */
export function preserveRuleTags(batches: SgGroupChange["authorize"], known: readonly TaggedPermission[]): SgGroupChange["authorize"] {
  const wholes = known.flatMap((k) => entriesOfPermission(k.permission).map((entry) => ({ entry, tags: k.tags })));
  const exact = new Map(wholes.map((w) => [entryKey(w.entry), w.tags]));
  const out = new Map<string, { permissions: IpPermission[]; tags: Tag[] }>();
  for (const batch of batches) {
    const own = new Set(batch.tags.map((t) => t.Key));
    for (const entry of batch.permissions.flatMap(entriesOfPermission)) {
      const inherited = exact.get(entryKey(entry)) ?? wholes.find((w) => cutFrom(entry, w.entry))?.tags ?? [];
      // EC2 refuses reserved `aws:` keys and more than 50 tags on a rule; the batch's own tags come first.
      const kept = inherited.filter((t) => !own.has(t.Key) && !(t.Key ?? "").toLowerCase().startsWith("aws:"));
      const tags = [...kept.slice(0, Math.max(0, MAX_TAGS - batch.tags.length)), ...batch.tags];
      const key = tagSetKey(tags);
      const target = out.get(key) ?? { permissions: [], tags };
      target.permissions.push(permissionOfEntry(entry));
      out.set(key, target);
    }
  }
  return [...out.values()];
}
