/**
 * Locks by name within this process. Grants and restores on one instance read its grant groups,
 * decide, and write; run side by side they would each create a group where one would do, or
 * delete a group another is just filling. EC2 has no conditional writes to make this safe across
 * processes, so those races are handled where they show (re-read, re-plan, verify); in one
 * process, taking turns avoids them.
 */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` holding every lock in `keys`, taken in sorted order so that two callers cannot deadlock. */
  async with<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const key of sorted) releases.push(await this.take(key));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async take(key: string): Promise<() => void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
