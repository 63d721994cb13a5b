/**
 * One writer per NSG at a time within this process. NRP itself runs one write per NSG at a time
 * and refuses the others (409/429), and our plans read the NSG before writing, so two of our own
 * writers on one NSG would only make each other retry. Across processes, ETags and retries keep
 * writers correct; within one, taking turns keeps them fast. Process-wide, so that several drivers
 * in one process (a service, a test) take turns too.
 */
const tails = new Map<string, Promise<void>>();

/** Runs `work` once every earlier holder of `key` is done, and before later ones start. */
export async function withNsgLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = before.then(() => mine);
  tails.set(key, tail);
  await before;
  try {
    return await work();
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
