import { JitError } from "../../model/errors";
import type { FwRuleRef } from "./types";
import type { PortRange } from "../port-ranges";

/**
 * Priorities of the rule collections pulumi-jit adds to a classic Azure Firewall, and the public
 * ports its DNAT rules listen on (docs/priorities.md, "Azure Firewall", explains why).
 *
 * - Collections of one kind (NAT, network) are ordered by priority, 100–65000; DNAT collections all
 *   come before network ones whatever their numbers. A number in use by a collection of the same
 *   kind is never handed out, and no collection of anybody else is renumbered.
 * - A policy's Deny network collection takes the lowest free number that is at least FW_DENY_FLOOR
 *   (10000) and greater than every other network collection with a rule for its VMs' ports, so
 *   those keep precedence; that leaves 100–9999 for grants' Allow collections ahead of it.
 * - A grant's Allow network collection takes the lowest free number, from 100 up, below the first
 *   collection that would otherwise deny its translated traffic.
 * - A grant's DNAT collection takes the lowest free NAT number from 100 up: its rules listen on
 *   ports no other DNAT rule uses, so no other DNAT rule competes with them and the order does not
 *   matter.
 * - Each grant port gets a public port from MAPPED_PORT_FIRST–MAPPED_PORT_LAST: preferably
 *   50000 + (port mod 10000) (22 → 50022, 3389 → 53389), else the next one up (wrapping round) that
 *   no DNAT rule on that public address uses.
 * - All of it depends only on the firewall as read: two writers racing pick the same numbers, the
 *   later whole-firewall PUT fails on its ETag, and the adapter reads again and plans again.
 */
export const MIN_COLLECTION_PRIORITY = 100;
export const MAX_COLLECTION_PRIORITY = 65000;
export const FW_DENY_FLOOR = 10000;
export const MAPPED_PORT_FIRST = 50000;
export const MAPPED_PORT_LAST = 59999;

export class CollectionSlots {
  private readonly taken: Set<number>;

  constructor(
    private readonly firewallId: string,
    private readonly kind: "NAT" | "network",
    collections: ReadonlyArray<{ priority: number }>,
  ) {
    this.taken = new Set(collections.map((c) => c.priority));
  }

  /** The number for a collection written under the name of `existing`: its own while `fits` accepts it, else a new one. */
  forCollection(existing: { priority: number } | undefined, fits: (priority: number) => boolean, choose: () => number): number {
    if (existing && fits(existing.priority)) return existing.priority;
    if (existing) this.taken.delete(existing.priority);
    return choose();
  }

  private lowestFree(from: number, to: number): number | undefined {
    for (let p = Math.max(from, MIN_COLLECTION_PRIORITY); p <= Math.min(to, MAX_COLLECTION_PRIORITY); p++) {
      if (!this.taken.has(p)) {
        this.taken.add(p);
        return p;
      }
    }
    return undefined;
  }

  private full(what: string): never {
    throw new JitError("CapacityExceeded", `Azure Firewall ${this.firewallId} has no free ${this.kind} rule collection priority ${what}`);
  }

  /** For a deny collection that must come after `after` (the last collection already there for its ports). */
  forDeny(after: FwRuleRef | undefined): number {
    const from = Math.max(FW_DENY_FLOOR, (after?.priority ?? 0) + 1);
    return this.lowestFree(from, MAX_COLLECTION_PRIORITY) ?? this.full(`from ${from} to ${MAX_COLLECTION_PRIORITY} for a JIT deny collection${after ? `, after ${after.collection} (${after.priority}), which keeps precedence` : ""}`);
  }

  /** For an allow collection that must come before `before` (the collection that would deny its traffic). */
  forAllow(before: FwRuleRef): number {
    return this.lowestFree(MIN_COLLECTION_PRIORITY, before.priority - 1) ?? this.full(`ahead of ${before.collection} (${before.priority}) for a grant's allow collection`);
  }

  /** For a grant's DNAT collection: any free number, the lowest first. */
  forDnat(): number {
    return this.lowestFree(MIN_COLLECTION_PRIORITY, MAX_COLLECTION_PRIORITY) ?? this.full("for a grant's DNAT collection");
  }
}

/**
 * The public port for a grant's `port`: 50000 + (port mod 10000) when free, else the next free one
 * up, wrapping round within 50000–59999. `CapacityExceeded` when every one is in use.
 */
export function chooseMappedPort(port: number, used: readonly PortRange[], where: string): number {
  const count = MAPPED_PORT_LAST - MAPPED_PORT_FIRST + 1;
  const inUse = (p: number) => used.some((r) => r.from <= p && p <= r.to);
  for (let i = 0; i < count; i++) {
    const candidate = MAPPED_PORT_FIRST + ((port + i) % count);
    if (!inUse(candidate)) return candidate;
  }
  throw new JitError("CapacityExceeded", `every port from ${MAPPED_PORT_FIRST} to ${MAPPED_PORT_LAST} on ${where} is taken by a DNAT rule; none is left to map port ${port} to`);
}
