import { KeyedLocks } from "../util/keyed-locks";

/**
 * One writer per NSG, and per firewall, at a time within this process. NRP itself runs one write
 * per resource at a time and refuses the others (409/429), and our plans read the resource before
 * writing, so two of our own writers on one would only make each other retry. Across processes,
 * ETags and retries keep writers correct; within one, taking turns keeps them fast. Process-wide,
 * so that several drivers in one process (a service, a test) take turns too.
 */
const WRITE_LOCKS = new KeyedLocks();

/** Runs `work` once every earlier holder of `key` (a resource id's `idKey`) is done, and before later ones start. */
export function withWriteLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  return WRITE_LOCKS.with([key], work);
}
