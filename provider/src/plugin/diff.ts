import { isUnknown } from "./secrets";

/** The engine's `PropertyDiff.Kind` values (pulumi/proto/provider.proto). */
export enum DiffKind {
  Add = 0,
  AddReplace = 1,
  Delete = 2,
  DeleteReplace = 3,
  Update = 4,
  UpdateReplace = 5,
}

const REPLACING: Record<number, DiffKind> = { [DiffKind.Add]: DiffKind.AddReplace, [DiffKind.Delete]: DiffKind.DeleteReplace, [DiffKind.Update]: DiffKind.UpdateReplace };

/**
 * A detailed diff between old and new inputs, as native providers report it: one entry per
 * changed leaf (`virtualMachines[0].ports[1].number`), added or removed element or property,
 * marked as a replacement under the top-level keys in `replaces`. An unknown new value (preview)
 * is an update wherever it sits.
 */
export function detailedDiff(olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[], replaces: readonly string[]): Map<string, DiffKind> {
  const out = new Map<string, DiffKind>();
  for (const key of keys) {
    const mark = (path: string, kind: DiffKind) => out.set(path, replaces.includes(key) ? REPLACING[kind] : kind);
    walk(key, olds[key], news[key], mark);
  }
  return out;
}

function walk(path: string, old: unknown, next: unknown, mark: (path: string, kind: DiffKind) => void): void {
  if (old === undefined && next === undefined) return;
  if (old === undefined) return mark(path, DiffKind.Add);
  if (next === undefined) return mark(path, DiffKind.Delete);
  if (isUnknown(next)) return mark(path, DiffKind.Update);
  if (Array.isArray(old) && Array.isArray(next)) {
    for (let i = 0; i < Math.max(old.length, next.length); i++) walk(`${path}[${i}]`, old[i], next[i], mark);
    return;
  }
  if (isObject(old) && isObject(next)) {
    for (const k of new Set([...Object.keys(old), ...Object.keys(next)])) walk(`${path}.${k}`, old[k], next[k], mark);
    return;
  }
  if (JSON.stringify(old) !== JSON.stringify(next)) mark(path, DiffKind.Update);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
