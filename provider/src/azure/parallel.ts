/**
 * `fn` over every item, at most `limit` at a time, results in input order. ARM answers reads in
 * tens of milliseconds each; a policy over hundreds of VMs reads them side by side, but not all at
 * once, which would only earn throttling. After a failure no new item is started, and the first
 * failure is what the call rejects with.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}
