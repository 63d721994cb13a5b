import type { Ledger } from "../ledger";
import { Change, Grant, JitError, changeKey, isJitError } from "../model";
import type { ChangeJournal } from "../driver";

/**
 * The ledger side of a grant's change journal: each intent and each applied or removed change is
 * written to the grant's record by compare-and-swap before the caller goes on. When another
 * process moved the record meanwhile, we re-read it and apply our edit to the newer version, as
 * long as the grant is still in the state we own it in.
 */
export class LedgerJournal implements ChangeJournal {
  constructor(
    private readonly ledger: Ledger,
    public grant: Grant,
  ) {}

  async intend(changes: Change[]): Promise<void> {
    await this.edit((g) => {
      const known = new Set(g.changes.map(changeKey));
      return { ...g, changes: [...g.changes, ...changes.filter((c) => !known.has(changeKey(c)))] };
    });
  }

  async update(change: Change): Promise<void> {
    const key = changeKey(change);
    await this.edit((g) => {
      if (!g.changes.some((c) => changeKey(c) === key)) {
        throw new JitError("InvalidInput", `grant ${g.id} has no recorded change ${key}; record the intent before applying it`);
      }
      return { ...g, changes: g.changes.map((c) => (changeKey(c) === key ? change : c)) };
    });
  }

  /** Stores `edit(grant)` by compare-and-swap, re-reading on conflict while the grant stays in the same state. */
  async edit(edit: (grant: Grant) => Grant): Promise<Grant> {
    for (let attempt = 0; ; attempt++) {
      const owned = this.grant.state;
      try {
        this.grant = await this.ledger.updateGrant(this.grant.id, this.grant.version, edit(this.grant));
        return this.grant;
      } catch (err) {
        if (!isJitError(err, "VersionConflict") || attempt >= 20) throw err;
        const fresh = await this.ledger.getGrant(this.grant.id);
        if (!fresh) throw new JitError("NotFound", `grant ${this.grant.id} disappeared from the ledger`);
        if (fresh.state !== owned) {
          throw new JitError("Conflict", `grant ${this.grant.id} became ${fresh.state} while this process had it ${owned}`, { cause: err });
        }
        this.grant = fresh;
      }
    }
  }
}
