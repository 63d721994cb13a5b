/**
 * Remembers a pure function of a string. Planning and evaluation parse the same few prefixes over
 * and over (every rule, for every flow); strings are immutable, so a memo cannot go stale, and the
 * cap keeps a long-running process from growing it without bound.
 */
export function memoized<T>(fn: (text: string) => T, limit = 10_000): (text: string) => T {
  const memo = new Map<string, T>();
  return (text) => {
    let value = memo.get(text);
    if (value === undefined) {
      if (memo.size >= limit) memo.clear();
      value = fn(text);
      memo.set(text, value);
    }
    return value;
  };
}
