import { JitError } from "../model/errors";

/**
 * The jobs people (and services) do with pulumi-jit, each of which gets its own role:
 * - `configure`: deploy `JitPolicy` resources (lay, inspect and remove the deny baseline) and run
 *   the reconciler (`jit sweep`, `jit daemon`), which restores expired grants and removes orphans;
 * - `request`: ask for access through the broker (`jit request --broker`): exactly Defender's
 *   request role on Azure, no EC2 action at all on AWS, and no network write on either;
 * - `broker`: the identity `jit serve` runs as, the only one that writes grants' rules;
 * - `direct`: request access without a broker, writing the rules with one's own credentials
 *   (pipelines whose identity is meant to hold write rights);
 * - `read`: look without touching (`jit scan`, inspecting a baseline).
 */
export const ROLE_KINDS = ["configure", "request", "broker", "direct", "read"] as const;
export type RoleKind = (typeof ROLE_KINDS)[number];

export function parseRoleKind(text: string, field = "kind"): RoleKind {
  const kind = ROLE_KINDS.find((k) => k === text);
  if (!kind) throw new JitError("InvalidInput", `"${text}" is not a role kind; use ${ROLE_KINDS.join(", ")}`, { field });
  return kind;
}
