/**
 * Locks by name within this process: the cloud adapters take turns on one NSG, firewall or
 * instance, because their plans read before they write, and two writers of the same thing in one
 * process would only make each other retry (Azure) or race (EC2, which has no conditional writes).
 * Across processes each adapter has its own defence (ETags and retries; re-read and verify).
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
