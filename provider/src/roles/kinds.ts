import { JitError } from "../model/errors";

/**
 * The three jobs people do with pulumi-jit, each of which gets its own role:
 * - `configure`: deploy `JitPolicy` resources (lay, inspect and remove the deny baseline) and run
 *   the reconciler (`jit sweep`, `jit daemon`), which restores expired grants and removes orphans;
 * - `request`: call `requestAccess` / `jit request` with one's own credentials;
 * - `read`: look without touching (`jit scan`, inspecting a baseline).
 */
export const ROLE_KINDS = ["configure", "request", "read"] as const;
export type RoleKind = (typeof ROLE_KINDS)[number];

export function parseRoleKind(text: string, field = "kind"): RoleKind {
  const kind = ROLE_KINDS.find((k) => k === text);
  if (!kind) throw new JitError("InvalidInput", `"${text}" is not a role kind; use ${ROLE_KINDS.join(", ")}`, { field });
  return kind;
}
