import type { ChangeJournal } from "../driver";
import { Change, Grant, changeKey } from "../model";

/**
 * A grant's journal as the Azure driver keeps it: every change recorded as intended before the
 * write that makes it, and as applied once the write is done, each only once (a run that resumes a
 * partly applied grant finds its earlier entries and does not repeat them).
 */
export class GrantRecorder {
  private readonly recorded: Map<string, Change>;

  constructor(
    grant: Grant,
    private readonly journal: ChangeJournal,
  ) {
    this.recorded = new Map(grant.changes.map((c) => [changeKey(c), c]));
  }

  /** Records the changes not recorded yet, all at once, as they are about to be written. */
  async intend(changes: Change[]): Promise<void> {
    const fresh = changes.filter((c) => !this.recorded.has(changeKey(c)));
    if (fresh.length === 0) return;
    await this.journal.intend(fresh);
    for (const c of fresh) this.recorded.set(changeKey(c), c);
  }

  /** Records a change as written (intending it first if it never was), unless the journal already says exactly that. */
  async applied(change: Change): Promise<void> {
    await this.intend([{ ...change, status: "intended" }]);
    if (JSON.stringify(this.recorded.get(changeKey(change))) === JSON.stringify(change)) return;
    await this.journal.update(change);
    this.recorded.set(changeKey(change), change);
  }
}
