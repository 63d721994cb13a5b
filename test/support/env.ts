/**
 * Sets `vars` in this process's environment (`undefined` removes one) and returns what puts back
 * the values they had: test files share a process, so what one sets must not outlive its tests.
 */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  assign(vars);
  return () => assign(saved);
}
