import type { Ledger } from "../ledger";
import { Change, Grant, JitError, changeKey, isJitError } from "../model";
import type { ChangeJournal } from "../driver";

/**
 * The ledger side of a grant's change journal: each intent and each applied or removed change is
 * written to the grant's record by compare-and-swap before the caller goes on (removals may be
 * held for the grant's next write instead: see `holdRemovals`). When another
 * process moved the record meanwhile, we re-read it and apply our edit to the newer version, as
 * long as the grant is still in the state we own it in.
 */
export class LedgerJournal implements ChangeJournal {
  /** Removals recorded in memory only, by `changeKey`, until the next write (see `holdRemovals`). */
  private readonly held = new Map<string, Change>();
  private holding = false;

  constructor(
    private readonly ledger: Ledger,
    public grant: Grant,
  ) {}

  /**
   * From now on a change's removal is kept in memory (on `grant`) and written with the grant's
   * next edit, or by `flush`: a restore of many grants then writes each grant once, with its
   * final state, instead of once per rule. Safe because a restore is repeatable: a removal lost to
   * a crash is found gone by the next restore and recorded then. Intents and applications are
   * always written before the caller goes on.
   */
  holdRemovals(): void {
    this.holding = true;
  }

  async intend(changes: Change[]): Promise<void> {
    await this.edit((g) => {
      const known = new Set(g.changes.map(changeKey));
      return { ...g, changes: [...g.changes, ...changes.filter((c) => !known.has(changeKey(c)))] };
    });
  }

  async update(change: Change): Promise<void> {
    const key = changeKey(change);
    const replace = (g: Grant): Grant => {
      if (!g.changes.some((c) => changeKey(c) === key)) {
        throw new JitError("InvalidInput", `grant ${g.id} has no recorded change ${key}; record the intent before applying it`);
      }
      return { ...g, changes: g.changes.map((c) => (changeKey(c) === key ? change : c)) };
    };
    if (this.holding && change.status === "removed") {
      this.grant = replace(this.grant);
      this.held.set(key, change);
      return;
    }
    await this.edit(replace);
  }

  /** Writes the removals held in memory, if any. */
  async flush(): Promise<void> {
    if (this.held.size > 0) await this.edit((g) => g);
  }

  /** Stores `edit(grant)` by compare-and-swap, re-reading on conflict while the grant stays in the same state. */
  async edit(edit: (grant: Grant) => Grant): Promise<Grant> {
    for (let attempt = 0; ; attempt++) {
      const owned = this.grant.state;
      try {
        this.grant = await this.ledger.updateGrant(this.grant.id, this.grant.version, edit(this.grant));
        this.held.clear();
        return this.grant;
      } catch (err) {
        if (!isJitError(err, "VersionConflict") || attempt >= 20) throw err;
        const fresh = await this.ledger.getGrant(this.grant.id);
        if (!fresh) throw new JitError("NotFound", `grant ${this.grant.id} disappeared from the ledger`);
        if (fresh.state !== owned) {
          throw new JitError("Conflict", `grant ${this.grant.id} became ${fresh.state} while this process had it ${owned}`, { cause: err });
        }
        this.grant = this.withHeld(fresh);
      }
    }
  }

  /** `grant` with the removals still held in memory. */
  private withHeld(grant: Grant): Grant {
    if (this.held.size === 0) return grant;
    return { ...grant, changes: grant.changes.map((c) => this.held.get(changeKey(c)) ?? c) };
  }
}
